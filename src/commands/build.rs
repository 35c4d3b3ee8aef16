//! `build`: render every spec and write the output folder, refusing every
//! change `plan` blocks against what is deployed.

use std::ffi::OsStr;
use std::path::Path;

use anyhow::bail;

use super::{Against, Cx, Rendered, Reporter, load_and_render, project};
use crate::output::{self, File};
use crate::spec::validate::Redis;

pub(super) fn run(cx: &Cx, allow_blocked: &[String]) -> anyhow::Result<u8> {
    let (specs_dir, out, reporter) = (&cx.specs, &cx.output, &cx.reporter);
    let (s, o) = (
        crate::source::lexical_absolute(specs_dir),
        crate::source::lexical_absolute(out),
    );
    if o.starts_with(&s) || s.starts_with(&o) {
        bail!(
            "the output folder '{}' and the specs folder '{}' are inside one another: \
             generated files would be read as specs or specs pruned as output; nothing was written",
            out.display(),
            specs_dir.display()
        );
    }
    // Blocked is relative to what is deployed: in git, the output at HEAD.
    let at_head = project::head()
        .then(|| output::read_git(out, "HEAD").ok())
        .flatten();
    let against = at_head
        .as_ref()
        .map_or(Against::Disk, |h| Against::These(&h.generated));
    let Some(Rendered {
        specs,
        committed: existing,
        files,
        stranded,
    }) = load_and_render(cx, against)?
    else {
        return Ok(2);
    };
    refuse_stranded_slots(&specs, &stranded)?;
    if refuse_blocked(
        &specs,
        &files,
        at_head.as_ref().unwrap_or(&existing),
        allow_blocked,
        reporter,
    )? {
        return Ok(2);
    }
    let changes = output::apply(out, &files, &existing)?;
    reporter.say(&format!(
        "{} deployment(s): {} written, {} unchanged, {} removed",
        specs.len(),
        changes.stale.len() + changes.missing.len(),
        changes.unchanged,
        changes.extra.len()
    ));
    Ok(0)
}

/// Refuses a build that removes shards still owning slots: their
/// StatefulSets would be pruned with the data. `plan` explains the safe way.
fn refuse_stranded_slots(
    specs: &[Redis],
    stranded: &[Vec<crate::topology::Stranded>],
) -> anyhow::Result<()> {
    for (redis, stranded) in specs.iter().zip(stranded) {
        if !stranded.is_empty() {
            let (shards, slots) = crate::topology::Stranded::describe(stranded);
            bail!(
                "{}: removing shard(s) {} of '{}' would lose the {slots} slot(s) they own; \
                 drain first: set drainShards so that they own nothing, build, sync, \
                 then lower shards (see `redis-gitops plan`); nothing was written",
                redis.source.display(),
                shards,
                redis.name,
            );
        }
    }
    Ok(())
}

/// Refuses (prints why and returns true) a build that writes a change
/// `plan` blocks against the committed output, unless the user allowed it
/// for that deployment; `plan` and `build` share the one rule book.
fn refuse_blocked(
    specs: &[Redis],
    files: &[File],
    existing: &output::Existing,
    allow: &[String],
    reporter: &Reporter,
) -> anyhow::Result<bool> {
    // Only a deployment on both sides can be blocked: a new one is created,
    // a removed one pruned (its volumes kept). The others are not planned.
    let rendered_in: std::collections::HashSet<_> =
        files.iter().filter_map(|f| folder(&f.path)).collect();
    let committed_in: std::collections::HashSet<_> = existing
        .generated
        .keys()
        .filter_map(|p| folder(p))
        .collect();
    let plan = if rendered_in == committed_in {
        // The usual case: the same deployments on both sides; no copies.
        crate::plan::plan(specs, files, &existing.generated)?
    } else {
        let both: Vec<File> = files
            .iter()
            .filter(|f| folder(&f.path).is_some_and(|d| committed_in.contains(d)))
            .cloned()
            .collect();
        let committed: std::collections::BTreeMap<_, _> = existing
            .generated
            .iter()
            .filter(|(p, _)| folder(p).is_some_and(|d| rendered_in.contains(d)))
            .map(|(p, b)| (p.clone(), b.clone()))
            .collect();
        crate::plan::plan(specs, &both, &committed)?
    };
    let normalise = |d: &str| d.trim_matches('/').replace('\\', "/");
    let allowed: Vec<String> = allow.iter().map(|a| normalise(a)).collect();
    // Deployments are named by their output folder: the specs' and the committed ones.
    let known: Vec<String> = specs
        .iter()
        .map(|r| crate::names::deployment(&r.dir, &r.name))
        .chain(plan.deployments.iter().map(|d| d.deployment.clone()))
        .collect();
    for a in &allowed {
        if !known.contains(a) {
            bail!(
                "--allow-blocked {a}: no deployment of that name (deployments are named by their output folder, e.g. {})",
                known.first().map_or("payments/orders", String::as_str)
            );
        }
    }
    let mut refused = false;
    for d in &plan.deployments {
        let blocked: Vec<_> = d
            .findings
            .iter()
            .filter(|f| f.verdict == crate::plan::Verdict::Blocked)
            .collect();
        if blocked.is_empty() {
            continue;
        }
        if allowed.contains(&d.deployment) {
            if !reporter.quiet {
                for f in &blocked {
                    eprintln!(
                        "warning: {}: writing a blocked change as asked (--allow-blocked): {}",
                        d.deployment, f.change
                    );
                }
            }
            continue;
        }
        refused = true;
        for f in &blocked {
            eprintln!(
                "error: {}: blocked: {}: {}",
                d.deployment, f.change, f.detail
            );
        }
        eprintln!(
            "  = help: `redis-gitops plan` shows the whole plan; to write it anyway (a deliberate \
             recreation, the data safe elsewhere): build --allow-blocked {}",
            d.deployment
        );
    }
    if refused {
        eprintln!("error: blocked change(s); nothing was written");
    }
    Ok(refused)
}

/// The folder of an output file.
fn folder(path: &Path) -> Option<&OsStr> {
    path.parent().map(Path::as_os_str)
}
