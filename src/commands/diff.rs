//! `diff`: the object-level diff of what the specs render against the
//! committed output.

use std::io::IsTerminal;
use std::path::Path;

use super::{Against, Cx, Rendered, Reporter, colored, emit, load_and_render, project};
use crate::cli::{DiffArgs, DiffFormat};
use crate::{diff, output};

pub(super) fn run(cx: &Cx, args: &DiffArgs) -> anyhow::Result<u8> {
    let (out, reporter) = (&cx.output, &cx.reporter);
    // The diff goes to stdout: coloured when stdout is a terminal.
    let color = colored(cx.color, std::io::stdout().is_terminal());
    // Compared with a revision, or the work tree.
    let revision = match (&args.from_git, args.working_tree) {
        (Some(rev), _) => Some(output::read_git(out, rev)?),
        (None, false) if at_head(out, "diff", reporter) => Some(output::read_git(out, "HEAD")?),
        _ => None,
    };
    // Rendered as `build` would render now.
    let against = revision
        .as_ref()
        .map_or(Against::Disk, |r| Against::These(&r.generated));
    let Some(Rendered {
        committed: existing,
        files,
        ..
    }) = load_and_render(cx, against)?
    else {
        return Ok(2);
    };
    let committed = revision.unwrap_or(existing);
    let mut report = diff::diff(&files, &committed.generated)?;
    if reporter.quiet {
        return Ok(u8::from(args.exit_code && !report.is_empty()));
    }
    diff::with_texts(&mut report, &files, &committed.generated);
    let format = match args.format {
        DiffFormat::Text => diff::Format::Text { color },
        DiffFormat::Markdown => diff::Format::Markdown {
            max_chars: args.max_chars,
        },
        DiffFormat::Json => diff::Format::Json,
        DiffFormat::Github => diff::Format::Github,
    };
    emit(&diff::format(&report, format, out));
    Ok(u8::from(args.exit_code && !report.is_empty()))
}

/// In a git repository with a commit, `plan` and `diff` compare with the
/// output committed at HEAD, so a `build` run first cannot hide a change
/// from review; says so on stderr (not with --quiet).
pub(super) fn at_head(out: &Path, command: &str, reporter: &Reporter) -> bool {
    let head = project::head();
    if !reporter.quiet {
        let out = out.display();
        if head {
            eprintln!(
                "{command}: comparing with {out} as committed at HEAD (--working-tree: as it is on disk)"
            );
        } else if project::toplevel().is_some() {
            eprintln!("{command}: no commit yet: comparing with {out} as it is on disk");
        } else {
            eprintln!("{command}: not in a git repository: comparing with {out} as it is on disk");
        }
    }
    head
}
