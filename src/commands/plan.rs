//! `plan`: the topology change from the committed state to the specs, per
//! deployment, with a verdict per change.

use anyhow::bail;

use super::{Against, Cx, Rendered, emit, load_and_render};
use crate::cli::{PlanArgs, PlanFormat};
use crate::output;

pub(super) fn run(cx: &Cx, args: &PlanArgs) -> anyhow::Result<u8> {
    let (out, reporter) = (&cx.output, &cx.reporter);
    // The state the plan starts from.
    let source = match (&args.from_git, &args.from) {
        (Some(rev), _) => Some(output::read_git(out, rev)?),
        (None, Some(dir)) if !dir.is_dir() => {
            bail!(
                "plan --from {}: no such folder (an empty state would plan every deployment as new)",
                dir.display()
            )
        }
        (None, Some(dir)) => Some(output::read(dir)?),
        (None, None) if !args.working_tree && super::diff::at_head(out, "plan", reporter) => {
            Some(output::read_git(out, "HEAD")?)
        }
        (None, None) => None,
    };
    // Rendered exactly as `build` renders: the new slot maps derive from the
    // output folder on disk, whatever state the plan compares with.
    let Some(Rendered {
        specs,
        committed,
        files,
        ..
    }) = load_and_render(
        cx,
        source
            .as_ref()
            .map_or(Against::Disk, |s| Against::These(&s.generated)),
    )?
    else {
        return Ok(2);
    };
    let committed = source.unwrap_or(committed);
    let plan = crate::plan::plan(&specs, &files, &committed.generated)?;
    let format = match args.format {
        PlanFormat::Text => crate::plan::Format::Text,
        PlanFormat::Markdown => crate::plan::Format::Markdown,
        PlanFormat::Json => crate::plan::Format::Json,
    };
    if !reporter.quiet {
        emit(&crate::plan::format(&plan, format));
    }
    Ok(u8::from(plan.blocked()))
}
