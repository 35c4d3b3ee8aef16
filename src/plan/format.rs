//! The plan for people (text, markdown) and for programs (json).

use std::fmt::Write as _;

use super::{Plan, State, Verdict, share};
use crate::spec::model::{Engine, Mode};

/// Output formats of `plan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Markdown,
    Json,
}

pub fn format(plan: &Plan, format: Format) -> String {
    match format {
        Format::Json => {
            let mut s = serde_json::to_string_pretty(plan).expect("plain data serialises");
            s.push('\n');
            s
        }
        Format::Text => render_text(plan, false),
        Format::Markdown => render_text(plan, true),
    }
}

/// Bytes for people: 2.4Gi, 512Mi.
fn gib(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["", "Ki", "Mi", "Gi", "Ti"];
    let mut v = bytes as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    let text = format!("{v:.1}");
    format!("{}{}", text.trim_end_matches(".0"), UNITS[unit])
}

fn topology_line(s: Option<&State>) -> String {
    let Some(s) = s else {
        return "(none)".into();
    };
    let mut parts = vec![format!(
        "{} {} {}",
        s.mode.map_or("?", Mode::as_str),
        s.engine.map_or("?", Engine::as_str),
        s.version.map_or_else(|| "?".to_owned(), |v| v.to_string())
    )];
    match s.mode {
        Some(Mode::Cluster) => parts.push(format!(
            "{} shards ({} serving) x {} pods",
            s.shards, s.serving, s.pods
        )),
        Some(Mode::Sentinel) => parts.push(format!(
            "{} pods, {} sentinels, quorum {}",
            s.pods,
            s.sentinels,
            s.quorum.unwrap_or(0)
        )),
        _ => parts.push("1 pod".into()),
    }
    parts.push(match (&s.storage, &s.storage_class) {
        (Some(size), Some(class)) => format!("storage {size} {class}"),
        (Some(size), None) => format!("storage {size}"),
        _ => "no storage".into(),
    });
    parts.push(format!(
        "limits cpu {} memory {}",
        s.cpu_limit
            .map_or_else(|| "-".to_owned(), |q| q.to_string()),
        s.memory_limit
            .map_or_else(|| "-".to_owned(), |q| q.to_string())
    ));
    if let Some(m) = s.maxmemory {
        parts.push(format!("maxmemory {}", gib(m)));
    }
    parts.join(", ")
}

fn render_text(plan: &Plan, markdown: bool) -> String {
    let mut out = String::new();
    if markdown {
        out.push_str("### redis-gitops plan\n\n");
    }
    let (mut changed, mut blocked, mut manual) = (0, 0, 0);
    for d in &plan.deployments {
        if !d.changed && d.findings.is_empty() {
            let line = format!("= {}: unchanged", d.deployment);
            let _ = writeln!(
                out,
                "{}",
                if markdown {
                    format!("- `{line}`")
                } else {
                    line
                }
            );
            continue;
        }
        changed += 1;
        let verdict = d.verdict();
        blocked += usize::from(verdict == Verdict::Blocked);
        manual += usize::from(verdict == Verdict::Manual);
        let mark = match verdict {
            Verdict::Safe => "~",
            Verdict::Manual => "!",
            Verdict::Blocked => "x",
        };
        if markdown {
            let _ = writeln!(
                out,
                "\n#### {mark} {} ({})\n\n```text",
                d.deployment,
                verdict.as_str()
            );
        } else {
            let _ = writeln!(out, "{mark} {} ({})", d.deployment, verdict.as_str());
        }
        let _ = writeln!(out, "  before: {}", topology_line(d.before.as_ref()));
        let _ = writeln!(out, "  after:  {}", topology_line(d.after.as_ref()));
        if d.moved_slots > 0 {
            let _ = write!(
                out,
                "  slots: {} move ({}% of the keyspace)",
                d.moved_slots,
                share(d.moved_slots)
            );
            match d.moved_data {
                Some(b) => {
                    let _ = writeln!(out, ", about {} of data", gib(b));
                }
                None => out.push_str(" (set capacity.datasetSize to see the data)\n"),
            }
            for m in &d.moves {
                let range = if m.first == m.last {
                    m.first.to_string()
                } else {
                    format!("{}-{}", m.first, m.last)
                };
                let _ = writeln!(
                    out,
                    "    {range:>11}  shard {} -> shard {}  {} slot{} ({}%)",
                    m.from,
                    m.to,
                    m.count,
                    if m.count == 1 { "" } else { "s" },
                    m.share
                );
            }
        }
        if let Some(m) = &d.memory {
            let side = |need: Option<u64>, max: Option<u64>| match (need, max) {
                (Some(n), Some(x)) if x > 0 => {
                    format!("{} of {} ({}%)", gib(n), gib(x), (n * 100).div_ceil(x))
                }
                (Some(n), _) => gib(n),
                _ => "-".into(),
            };
            let _ = writeln!(
                out,
                "  memory per shard (datasetSize / serving shards vs maxmemory): before {}, after {}",
                side(m.per_shard_before, m.maxmemory_before),
                side(m.per_shard_after, m.maxmemory_after)
            );
        }
        if !d.rollout.is_empty() {
            out.push_str("  rollout:\n");
            for (i, s) in d.rollout.iter().enumerate() {
                let wave = s
                    .sync_wave
                    .map_or_else(String::new, |w| format!("wave {w}: "));
                let _ = writeln!(out, "    {}. {wave}{}", i + 1, s.what);
            }
        }
        if !d.restarts.is_empty() || !d.keep_running.is_empty() {
            // Grouped by reason: "configuration: a, b, c".
            let mut groups: Vec<(String, Vec<&str>)> = Vec::new();
            for r in &d.restarts {
                let why = r.because.join(", ");
                match groups.iter_mut().find(|(w, _)| *w == why) {
                    Some((_, sets)) => sets.push(&r.statefulset),
                    None => groups.push((why, vec![&r.statefulset])),
                }
            }
            for (why, sets) in &groups {
                let _ = writeln!(out, "  pods roll ({why}): {}", sets.join(", "));
            }
            if !d.keep_running.is_empty() {
                let _ = writeln!(out, "  pods keep running: {}", d.keep_running.join(", "));
            }
        }
        for f in &d.findings {
            let _ = writeln!(
                out,
                "  {:<7}  {}: {}",
                f.verdict.as_str(),
                f.change,
                f.detail
            );
            for c in &f.commands {
                let _ = writeln!(out, "             $ {c}");
            }
        }
        if markdown {
            out.push_str("```\n");
        }
    }
    let summary = format!(
        "{} deployment(s): {changed} changed, {} unchanged; {blocked} blocked, {manual} need a manual step",
        plan.deployments.len(),
        plan.deployments.len() - changed
    );
    if markdown {
        let _ = writeln!(out, "\n**{summary}**");
    } else {
        let _ = writeln!(out, "{summary}");
    }
    out
}
