//! The commands, one file each: each wires the pipeline stages together and
//! reports. This file holds what they share: the resolved paths, the
//! reporter, loading, validating and rendering as `build` renders.
//!
//! Exit codes follow the contract: 0 success, 1 "no" (stale output, a
//! blocked plan, differences with `--exit-code`), 2 error.

mod build;
mod check;
mod diff;
mod init;
mod plan;
mod project;

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};

use clap::CommandFactory as _;

use crate::cli::{Cli, Color, Command, ReportFormat};
use crate::diag::{self, Diagnostic, Severity};
use crate::output::{self, File};
use crate::render::{self, templates, templates::Templates};
use crate::source::Sources;
use crate::spec::validate::{self, Redis};

/// Runs the command; `Err` is an unexpected failure (exit 2).
pub fn run(cli: &Cli) -> anyhow::Result<u8> {
    let g = &cli.global;
    let paths = cli.paths();
    let invoked = std::env::current_dir().context("cannot read the working directory")?;
    let files: &[PathBuf] = match &cli.command {
        Command::Build(args) => &args.files,
        Command::Check(args) => &args.files,
        _ => &[],
    };
    if !files.is_empty() {
        // The projects of these files (the pre-commit hooks pass them), each
        // run from its own folder; the worst exit code wins.
        if paths.specs.is_some() || paths.output.is_some() {
            bail!("FILE arguments pick the projects: leave out --specs and --output");
        }
        let cwd = &invoked;
        let roots = project::roots_of(cwd, files);
        if roots.is_empty() && !g.quiet {
            eprintln!(
                "no redis-gitops project (a folder holding specs/ and output/) holds these files"
            );
        }
        let mut code = 0;
        for root in roots {
            std::env::set_current_dir(&root)
                .with_context(|| format!("cannot enter '{}'", root.display()))?;
            if !g.quiet {
                let shown = root.strip_prefix(cwd).unwrap_or(&root);
                eprintln!("in {}:", shown.display());
            }
            code = code.max(run_here(cli, &invoked)?);
        }
        return Ok(code);
    }
    // Like git and cargo, from any folder of the project: without --specs
    // and --output, the nearest folder (this one or above, within the git
    // work tree) that holds `specs/` is where both are.
    if paths.specs.is_none() && paths.output.is_none() {
        if let Some(root) = project::root() {
            std::env::set_current_dir(&root)
                .with_context(|| format!("cannot enter '{}'", root.display()))?;
        } else if !invoked.join("specs").is_dir()
            && matches!(
                cli.command,
                Command::Build(_)
                    | Command::Check(_)
                    | Command::Diff(_)
                    | Command::Plan(_)
                    | Command::Validate(_)
            )
        {
            // At the top of a monorepo, say where the projects are.
            let below = project::below(&invoked);
            if !below.is_empty() {
                let list: Vec<String> = below.iter().map(|p| p.display().to_string()).collect();
                bail!(
                    "no specs/ folder here or above; the projects below are: {} (run \
                     redis-gitops in one of them, or name a file of it: `redis-gitops check {}/specs`)",
                    list.join(", "),
                    list[0]
                );
            }
        }
    }
    run_here(cli, &invoked)
}

/// Runs the command in the working directory's project; `invoked` is the
/// folder the command was run from.
fn run_here(cli: &Cli, invoked: &Path) -> anyhow::Result<u8> {
    let g = &cli.global;
    let paths = cli.paths();
    let cx = &Cx {
        invoked: invoked.to_path_buf(),
        specs: paths.specs.unwrap_or_else(|| PathBuf::from("specs")),
        output: paths.output.unwrap_or_else(|| PathBuf::from("output")),
        templates: paths.templates,
        color: g.color,
        reporter: Reporter {
            color: colored(g.color, std::io::stderr().is_terminal()),
            quiet: g.quiet,
            format: match &cli.command {
                Command::Validate(args) => args.format,
                Command::Check(args) => args.format,
                _ => ReportFormat::Text,
            },
            json: std::cell::RefCell::default(),
        },
    };
    match &cli.command {
        Command::Build(args) => build::run(cx, &args.allow_blocked),
        Command::Check(_) => check::run(cx),
        Command::Completions { shell } => {
            let mut out = Vec::new();
            clap_complete::generate(*shell, &mut Cli::command(), "redis-gitops", &mut out);
            emit(&String::from_utf8_lossy(&out));
            Ok(0)
        }
        Command::Man => {
            let mut out = Vec::new();
            clap_mangen::Man::new(Cli::command())
                .render(&mut out)
                .context("cannot render the man page")?;
            emit(&String::from_utf8_lossy(&out));
            Ok(0)
        }
        Command::Diff(args) => diff::run(cx, args),
        Command::Plan(args) => plan::run(cx, args),
        Command::Validate(_) => {
            let valid = load_and_validate(&cx.specs, &cx.reporter).map(|(_, specs)| specs.len());
            match cx.reporter.format {
                ReportFormat::Text => {
                    if let Some(n) = valid {
                        cx.reporter.say(&format!("{n} spec(s) valid"));
                    }
                }
                ReportFormat::Json => emit(&format!(
                    "{}\n",
                    serde_json::json!({
                        "version": 1,
                        "valid": valid.is_some(),
                        "specs": valid,
                        "diagnostics": *cx.reporter.json.borrow(),
                    })
                )),
                ReportFormat::Github => {
                    if let Some(n) = valid {
                        emit(&format!(
                            "::notice title=redis-gitops validate::{n} spec(s) valid\n"
                        ));
                    }
                }
            }
            Ok(if valid.is_some() { 0 } else { 2 })
        }
        Command::Schema => {
            emit(&format!("{}\n", schema_json()));
            Ok(0)
        }
        Command::Init(args) => init::run(cx, args),
    }
}

/// What every command works with: the paths (defaults resolved) and how to report.
struct Cx {
    /// The folder the command was run from (before finding the project).
    invoked: PathBuf,
    specs: PathBuf,
    output: PathBuf,
    templates: Option<PathBuf>,
    color: Color,
    reporter: Reporter,
}

/// Whether to colour a stream: `--color`, then `NO_COLOR`, then whether
/// the stream is a terminal.
fn colored(choice: Color, terminal: bool) -> bool {
    match choice {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && terminal,
    }
}

/// The JSON Schema of the spec format, generated from the serde types.
pub fn schema_json() -> String {
    let schema = schemars::schema_for!(crate::spec::model::Document);
    serde_json::to_string_pretty(&schema).expect("schemas serialise")
}

/// Writes to stdout; a reader that went away (`| head`) is not an error.
fn emit(text: &str) {
    use std::io::Write;
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}

struct Reporter {
    color: bool,
    quiet: bool,
    /// How `validate` and `check` report (text for the other commands).
    format: ReportFormat,
    /// The diagnostics of a JSON report, until the command prints it.
    json: std::cell::RefCell<Vec<serde_json::Value>>,
}

impl Reporter {
    fn say(&self, line: &str) {
        if !self.quiet {
            emit(&format!("{line}\n"));
        }
    }

    fn diagnostics(&self, sources: &Sources, diags: &mut [Diagnostic]) -> bool {
        diag::sort(diags, sources);
        match self.format {
            ReportFormat::Text => {}
            ReportFormat::Json => {
                // Printed by the command, in its one JSON document.
                self.json
                    .borrow_mut()
                    .extend(diags.iter().map(|d| d.to_json(sources)));
                return diags.iter().any(|d| d.severity == Severity::Error);
            }
            ReportFormat::Github => {
                for d in diags.iter() {
                    emit(&format!("{}\n", d.to_github(sources)));
                }
                return diags.iter().any(|d| d.severity == Severity::Error);
            }
        }
        let mut errors = 0;
        for d in diags.iter() {
            if d.severity == Severity::Error {
                errors += 1;
            } else if self.quiet {
                continue;
            }
            eprint!("{}", d.render(sources, self.color));
        }
        if errors > 0 {
            let errors = if errors == 1 {
                "1 error".to_owned()
            } else {
                format!("{errors} errors")
            };
            eprintln!("error: {errors}; nothing was written");
        }
        errors > 0
    }
}

/// Loads and validates; prints diagnostics; `None` when there were errors.
fn load_and_validate(specs: &Path, reporter: &Reporter) -> Option<(Sources, Vec<Redis>)> {
    let loaded = crate::input::load_dir(specs);
    let (valid, mut diags) = validate::validate_all(&loaded.specs, &loaded.sources);
    let mut all = loaded.diagnostics;
    all.append(&mut diags);
    if reporter.diagnostics(&loaded.sources, &mut all) {
        return None;
    }
    Some((loaded.sources, valid))
}

/// The override templates of `--templates DIR` (file name -> source). A
/// missing folder, or a file in it whose name is no template's, is an error
/// naming it: a typo must not silently fall back to the built-in template.
fn read_templates(
    dir: Option<&Path>,
) -> anyhow::Result<std::collections::BTreeMap<String, String>> {
    let mut out = std::collections::BTreeMap::new();
    let Some(dir) = dir else {
        return Ok(out);
    };
    let entries = std::fs::read_dir(dir).map_err(|e| {
        anyhow::anyhow!(
            "--templates {}: {}",
            dir.display(),
            if e.kind() == std::io::ErrorKind::NotFound {
                "no such folder".to_owned()
            } else {
                e.to_string()
            }
        )
    })?;
    let names: Vec<&str> = templates::BUILTIN.iter().map(|(n, _)| *n).collect();
    let mut unknown = Vec::new();
    for entry in entries {
        let entry = entry.with_context(|| format!("--templates {}", dir.display()))?;
        let path = entry.path();
        if !path.is_file() {
            continue;
        }
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        if !names.contains(&name.as_str()) {
            let hint = diag::did_you_mean(&name, names.iter().copied())
                .map_or_else(String::new, |n| format!("; did you mean '{n}'?"));
            unknown.push(format!("'{}' is not a template{hint}", path.display()));
            continue;
        }
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read template '{}'", path.display()))?;
        out.insert(name, text);
    }
    if !unknown.is_empty() {
        unknown.sort();
        bail!(
            "{} (the templates are: {}); nothing was written",
            unknown.join("; "),
            names.join(", ")
        );
    }
    Ok(out)
}

/// Renders validated specs in memory, with the built-in or overriding
/// templates; summarised where they differ from `compare_with`.
pub fn compile(
    specs: &[Redis],
    templates: Option<&Path>,
    output: &Path,
    committed: &output::Existing,
    slot_maps: Option<&std::collections::BTreeMap<PathBuf, Vec<u8>>>,
    compare_with: Option<&std::collections::BTreeMap<PathBuf, Vec<u8>>>,
) -> anyhow::Result<render::Rendered> {
    let templates = Templates::new(&read_templates(templates)?)?;
    let output_path = project::repo_path(output);
    let cache = crate::cache::Cache::open();
    crate::cache::render_all(
        specs,
        &render::Inputs {
            templates: &templates,
            output_path: output_path.as_deref(),
            committed: &committed.generated,
            slot_maps,
            compare_with,
        },
        cache.as_ref(),
    )
    .map_err(|err| match err {
        // Name the committed file as the user finds it, under the output folder.
        render::RenderError::Topology { path, message } => render::RenderError::Topology {
            path: output.join(path),
            message,
        },
        other => other,
    })
    .map_err(Into::into)
}

/// The specs, the committed output they render against, and what they render.
struct Rendered {
    specs: Vec<Redis>,
    committed: output::Existing,
    files: Vec<File>,
    /// Per spec: shards removed while owning slots (see [`render::Rendered`]).
    stranded: Vec<Vec<crate::topology::Stranded>>,
}

/// What the rendered output is about to be compared with.
enum Against<'a> {
    /// Nothing object by object (`check` compares bytes).
    Nothing,
    /// The output folder as it is on disk.
    Disk,
    /// These files (path -> bytes), e.g. the output at a git revision.
    These(&'a std::collections::BTreeMap<PathBuf, Vec<u8>>),
}

/// Loads and validates the specs, reads the output folder and renders
/// against it, as `build` writes; `None` when the specs have errors, which
/// are reported already.
fn load_and_render(cx: &Cx, against: Against<'_>) -> anyhow::Result<Option<Rendered>> {
    let (out, templates) = (&cx.output, cx.templates.as_deref());
    let Some((_, specs)) = load_and_validate(&cx.specs, &cx.reporter) else {
        return Ok(None);
    };
    let committed = output::read(out)?;
    let slot_maps = project::slot_state(out);
    let compare_with = match against {
        Against::Nothing => None,
        Against::Disk => Some(&committed.generated),
        Against::These(files) => Some(files),
    };
    let render::Rendered { files, stranded } = compile(
        &specs,
        templates,
        out,
        &committed,
        slot_maps.as_ref(),
        compare_with,
    )?;
    Ok(Some(Rendered {
        specs,
        committed,
        stranded,
        files,
    }))
}
