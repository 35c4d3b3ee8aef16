//! `check`: render in memory and compare with the output folder, byte for
//! byte; writes nothing.

use std::fmt::Write as _;
use std::path::PathBuf;

use super::{Against, Cx, Rendered, emit, load_and_render};
use crate::cli::ReportFormat;
use crate::output;

pub(super) fn run(cx: &Cx) -> anyhow::Result<u8> {
    let (out, reporter) = (&cx.output, &cx.reporter);
    let Some(Rendered {
        specs,
        committed: existing,
        files,
        ..
    }) = load_and_render(cx, Against::Nothing)?
    else {
        if reporter.format == ReportFormat::Json {
            emit(&format!(
                "{}\n",
                serde_json::json!({
                    "version": 1,
                    "fresh": false,
                    "diagnostics": *reporter.json.borrow(),
                })
            ));
        }
        return Ok(2);
    };
    output::check_ownership(&files, &existing)?;
    let changes = output::compare(&files, &existing);
    let path = |p: &PathBuf| out.join(p).display().to_string();
    match reporter.format {
        ReportFormat::Text => {}
        ReportFormat::Json => {
            let list = |l: &[PathBuf]| l.iter().map(path).collect::<Vec<_>>();
            emit(&format!(
                "{}\n",
                serde_json::json!({
                    "version": 1,
                    "fresh": changes.is_fresh(),
                    "diagnostics": *reporter.json.borrow(),
                    "stale": list(&changes.stale),
                    "missing": list(&changes.missing),
                    "extra": list(&changes.extra),
                    "unchanged": changes.unchanged,
                })
            ));
            return Ok(u8::from(!changes.is_fresh()));
        }
        ReportFormat::Github => {
            use crate::diag::{github_data, github_property};
            let mut text = String::new();
            for (list, what) in [
                (&changes.stale, "stale: run `redis-gitops build`"),
                (&changes.missing, "missing: `redis-gitops build` writes it"),
                (
                    &changes.extra,
                    "extra: no spec renders it; `redis-gitops build` removes it",
                ),
            ] {
                for p in list {
                    let _ = writeln!(
                        text,
                        "::error file={},title={}::{}",
                        github_property(&path(p)),
                        github_property("redis-gitops check"),
                        github_data(what)
                    );
                }
            }
            emit(&text);
            return Ok(u8::from(!changes.is_fresh()));
        }
    }
    if changes.is_fresh() {
        reporter.say(&format!(
            "{} is fresh: {} file(s) of {} deployment(s)",
            out.display(),
            changes.unchanged,
            specs.len()
        ));
        return Ok(0);
    }
    // A short diff of each stale file: its first lines of unified diff.
    let mut report_text = String::new();
    let stale: std::collections::BTreeSet<&PathBuf> = changes.stale.iter().collect();
    for file in files.iter().filter(|f| stale.contains(&f.path)) {
        let _ = writeln!(report_text, "stale    {}", out.join(&file.path).display());
        let old = String::from_utf8_lossy(&existing.generated[&file.path]);
        let diff = similar::TextDiff::from_lines(old.as_ref(), file.contents.as_str())
            .unified_diff()
            .context_radius(3)
            .to_string();
        let lines: Vec<&str> = diff.lines().collect();
        for line in lines.iter().take(CHECK_DIFF_LINES) {
            let _ = writeln!(report_text, "    {line}");
        }
        if lines.len() > CHECK_DIFF_LINES {
            let _ = writeln!(
                report_text,
                "    ... {} more line(s)",
                lines.len() - CHECK_DIFF_LINES
            );
        }
    }
    for p in &changes.missing {
        let _ = writeln!(
            report_text,
            "missing  {} (new; `build` writes it)",
            out.join(p).display()
        );
    }
    for p in &changes.extra {
        let _ = writeln!(
            report_text,
            "extra    {} (no spec renders it; `build` removes it)",
            out.join(p).display()
        );
    }
    let _ = writeln!(
        report_text,
        "{} is stale: {} stale, {} missing, {} extra; run `redis-gitops build`",
        out.display(),
        changes.stale.len(),
        changes.missing.len(),
        changes.extra.len()
    );
    if !reporter.quiet {
        emit(&report_text);
    }
    Ok(1)
}

/// Lines of diff `check` shows per stale file.
const CHECK_DIFF_LINES: usize = 20;
