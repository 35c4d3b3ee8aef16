//! The commands: each wires the pipeline stages together and reports.
//!
//! Exit codes follow the contract: 0 success, 1 "no" (stale output), 2 error.

use std::fmt::Write as _;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use crate::cli::{Cli, Color, Command, DiffArgs, DiffFormat, InitArgs, PlanArgs, PlanFormat};
use crate::diag::{self, Diagnostic, Severity};
use crate::diff;
use crate::output;
use crate::output::File;
use crate::render::{self, templates, templates::Templates};
use crate::source::Sources;
use crate::spec::model::Mode;
use crate::spec::validate::{self, Redis};

/// Runs the command; `Err` is an unexpected failure (exit 2).
pub fn run(cli: &Cli) -> anyhow::Result<u8> {
    let g = &cli.global;
    // Like git and cargo, from any folder of the project: without --specs
    // and --output, the nearest folder (this one or above, within the git
    // work tree) that holds `specs/` is where both are.
    if g.specs.is_none() && g.output.is_none() {
        if let Some(root) = project_root() {
            std::env::set_current_dir(&root)
                .with_context(|| format!("cannot enter '{}'", root.display()))?;
        }
    }
    let specs = g.specs.clone().unwrap_or_else(|| PathBuf::from("specs"));
    let output = g.output.clone().unwrap_or_else(|| PathBuf::from("output"));
    let (color_choice, quiet) = (g.color, g.quiet);
    let g = &Resolved {
        specs,
        output,
        templates: g.templates.clone(),
    };
    let color = match color_choice {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => {
            std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::io::stderr().is_terminal()
        }
    };
    let reporter = Reporter { color, quiet };
    match &cli.command {
        Command::Build(args) => build(
            &g.specs,
            &g.output,
            g.templates.as_deref(),
            &args.allow_blocked,
            &reporter,
        ),
        Command::Check => check(&g.specs, &g.output, g.templates.as_deref(), &reporter),
        Command::Diff(args) => {
            let color = match color_choice {
                Color::Always => true,
                Color::Never => false,
                Color::Auto => {
                    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                        && std::io::stdout().is_terminal()
                }
            };
            diff_command(
                &g.specs,
                &g.output,
                g.templates.as_deref(),
                args,
                color,
                &reporter,
            )
        }
        Command::Plan(args) => {
            plan_command(&g.specs, &g.output, g.templates.as_deref(), args, &reporter)
        }
        Command::Validate => {
            let Some((_, specs)) = load_and_validate(&g.specs, &reporter) else {
                return Ok(2);
            };
            reporter.say(&format!("{} spec(s) valid", specs.len()));
            Ok(0)
        }
        Command::Schema => {
            emit(&format!("{}\n", schema_json()));
            Ok(0)
        }
        Command::Init(args) => init(&g.specs, args, &reporter),
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
}

impl Reporter {
    fn say(&self, line: &str) {
        if !self.quiet {
            emit(&format!("{line}\n"));
        }
    }

    fn diagnostics(&self, sources: &Sources, diags: &mut [Diagnostic]) -> bool {
        diag::sort(diags, sources);
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
            eprintln!("error: {errors} error(s); nothing was written");
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

/// The committed output the slot maps derive from. In a git repository each
/// topology ConfigMap counts as committed at HEAD: a map that was built but
/// never committed was never applied, so there is nothing to preserve (a new
/// 3-shard spec edited to 6 before its first commit gets the even 6-shard
/// split, not a fragmented one), and a map built twice since the last commit
/// derives from the deployed one. Outside git (or when git cannot read the
/// output), the output folder as it is: `None`.
fn slot_state(out: &Path, on_disk: &output::Existing) -> Option<output::Existing> {
    let is_topology = |p: &Path| {
        p.file_name()
            .is_some_and(|n| crate::names::is_topology_file(&n.to_string_lossy()))
    };
    if !git_head() {
        return None;
    }
    let at_head = output::read_git_where(out, "HEAD", is_topology).ok()?;
    let mut state = output::Existing {
        generated: on_disk
            .generated
            .iter()
            .filter(|(p, _)| !is_topology(p))
            .map(|(p, b)| (p.clone(), b.clone()))
            .collect(),
        foreign: on_disk.foreign.clone(),
    };
    state.generated.extend(at_head.generated);
    Some(state)
}

/// Whether the working directory is in a git repository with a commit.
fn git_head() -> bool {
    std::process::Command::new("git")
        .args(["rev-parse", "--verify", "--quiet", "HEAD^{commit}"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
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

/// Renders validated specs in memory, with the built-in or overriding templates.
pub fn compile(
    specs: &[Redis],
    templates: Option<&Path>,
    output: &Path,
    committed: &output::Existing,
) -> anyhow::Result<render::Rendered> {
    let templates = Templates::new(&read_templates(templates)?)?;
    let output_path = repo_path(output);
    let cache = crate::cache::Cache::open();
    crate::cache::render_all(
        specs,
        &render::Inputs {
            templates: &templates,
            output_path: output_path.as_deref(),
            committed: &committed.generated,
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

/// The paths a command works on, defaults resolved.
struct Resolved {
    specs: PathBuf,
    output: PathBuf,
    templates: Option<PathBuf>,
}

/// The nearest folder, from the working directory up, that holds `specs/`,
/// not above the git work tree's top (when there is one); `None` when the
/// working directory has it or none does.
fn project_root() -> Option<PathBuf> {
    let cwd = std::env::current_dir().ok()?;
    if cwd.join("specs").is_dir() {
        return None;
    }
    let top = git_toplevel();
    let mut dir = cwd.as_path();
    while let Some(parent) = dir.parent() {
        if top.as_deref().is_some_and(|t| !parent.starts_with(t)) {
            return None;
        }
        if parent.join("specs").is_dir() {
            return Some(parent.to_path_buf());
        }
        dir = parent;
    }
    None
}

/// The top folder of the git work tree around the working directory.
fn git_toplevel() -> Option<PathBuf> {
    let out = std::process::Command::new("git")
        .args(["rev-parse", "--show-toplevel"])
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim_end()))
}

/// The output folder as the Argo CD / Flux entry points name it: a path
/// with forward slashes relative to the git work tree's top (a monorepo's
/// subfolder included), or outside git relative to the working directory;
/// `None` when it is neither.
fn repo_path(output: &Path) -> Option<String> {
    if let Some(top) = git_toplevel() {
        let abs = crate::source::lexical_absolute(output);
        let rel = abs
            .strip_prefix(crate::source::lexical_absolute(&top))
            .ok()?;
        let parts: Option<Vec<&str>> = rel.components().map(|c| c.as_os_str().to_str()).collect();
        return Some(parts?.join("/"));
    }
    let mut parts = Vec::new();
    for c in output.components() {
        match c {
            std::path::Component::Normal(p) => parts.push(p.to_str()?.to_owned()),
            std::path::Component::CurDir => {}
            _ => return None,
        }
    }
    Some(parts.join("/"))
}

/// The specs, the committed output they render against, and what they render.
struct Rendered {
    specs: Vec<Redis>,
    committed: output::Existing,
    files: Vec<File>,
    /// Per spec: shards removed while owning slots (see [`render::Rendered`]).
    stranded: Vec<Vec<crate::topology::Stranded>>,
}

/// Loads and validates the specs, reads the output folder and renders
/// against it, as `build` writes; `None` when the specs have errors, which
/// are reported already.
fn load_and_render(
    specs_dir: &Path,
    out: &Path,
    templates: Option<&Path>,
    reporter: &Reporter,
) -> anyhow::Result<Option<Rendered>> {
    let Some((_, specs)) = load_and_validate(specs_dir, reporter) else {
        return Ok(None);
    };
    let committed = output::read(out)?;
    let state = slot_state(out, &committed);
    let render::Rendered { files, stranded } =
        compile(&specs, templates, out, state.as_ref().unwrap_or(&committed))?;
    Ok(Some(Rendered {
        specs,
        committed,
        stranded,
        files,
    }))
}

fn build(
    specs_dir: &Path,
    out: &Path,
    templates: Option<&Path>,
    allow_blocked: &[String],
    reporter: &Reporter,
) -> anyhow::Result<u8> {
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
    let Some(Rendered {
        specs,
        committed: existing,
        files,
        stranded,
    }) = load_and_render(specs_dir, out, templates, reporter)?
    else {
        return Ok(2);
    };
    refuse_stranded_slots(&specs, &stranded)?;
    // Blocked is relative to what is deployed: in git, the output at HEAD.
    let at_head = git_head()
        .then(|| output::read_git(out, "HEAD").ok())
        .flatten();
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
    let plan = crate::plan::plan(specs, files, &existing.generated)?;
    let normalise = |d: &str| d.trim_matches('/').replace('\\', "/");
    let allowed: Vec<String> = allow.iter().map(|a| normalise(a)).collect();
    let known: Vec<&str> = plan
        .deployments
        .iter()
        .map(|d| d.deployment.as_str())
        .collect();
    for a in &allowed {
        if !known.contains(&a.as_str()) {
            bail!(
                "--allow-blocked {a}: no deployment of that name (deployments are named by their output folder, e.g. {})",
                known.first().unwrap_or(&"payments/orders")
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

fn check(
    specs_dir: &Path,
    out: &Path,
    templates: Option<&Path>,
    reporter: &Reporter,
) -> anyhow::Result<u8> {
    let Some(Rendered {
        specs,
        committed: existing,
        files,
        ..
    }) = load_and_render(specs_dir, out, templates, reporter)?
    else {
        return Ok(2);
    };
    output::check_ownership(&files, &existing)?;
    let changes = output::compare(&files, &existing);
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

fn diff_command(
    specs_dir: &Path,
    out: &Path,
    templates: Option<&Path>,
    args: &DiffArgs,
    color: bool,
    reporter: &Reporter,
) -> anyhow::Result<u8> {
    // Rendered as `build` would render now; compared with the work tree or a revision.
    let Some(Rendered {
        committed: existing,
        files,
        ..
    }) = load_and_render(specs_dir, out, templates, reporter)?
    else {
        return Ok(2);
    };
    let committed = match (&args.from_git, args.working_tree) {
        (Some(rev), _) => output::read_git(out, rev)?,
        (None, false) if at_head(out, "diff", reporter) => output::read_git(out, "HEAD")?,
        _ => existing,
    };
    let report = diff::diff(&files, &committed.generated)?;
    let format = match args.format {
        DiffFormat::Text => diff::Format::Text { color },
        DiffFormat::Markdown => diff::Format::Markdown {
            max_chars: args.max_chars,
        },
        DiffFormat::Json => diff::Format::Json,
        DiffFormat::Github => diff::Format::Github,
    };
    let text = diff::format(&report, format, out);
    if !reporter.quiet {
        emit(&text);
    }
    Ok(u8::from(args.exit_code && !report.is_empty()))
}

/// In a git repository with a commit, `plan` and `diff` compare with the
/// output committed at HEAD, so a `build` run first cannot hide a change
/// from review; says so on stderr (not with --quiet).
fn at_head(out: &Path, command: &str, reporter: &Reporter) -> bool {
    let head = git_head();
    if head && !reporter.quiet {
        eprintln!(
            "{command}: comparing with {} as committed at HEAD (--working-tree: as it is on disk)",
            out.display()
        );
    }
    head
}

fn plan_command(
    specs_dir: &Path,
    out: &Path,
    templates: Option<&Path>,
    args: &PlanArgs,
    reporter: &Reporter,
) -> anyhow::Result<u8> {
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
        (None, None) if !args.working_tree && at_head(out, "plan", reporter) => {
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
    }) = load_and_render(specs_dir, out, templates, reporter)?
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

fn init(specs_dir: &Path, args: &InitArgs, reporter: &Reporter) -> anyhow::Result<u8> {
    if !validate::is_dns1035_label(&args.name) {
        bail!(
            "'{}' is not a valid name: use lower-case letters, digits and '-', starting with a letter",
            args.name
        );
    }
    if let Some(ns) = args
        .namespace
        .as_deref()
        .filter(|ns| !validate::is_dns1123_label(ns))
    {
        bail!("'{ns}' is not a valid namespace");
    }
    let path = args
        .file
        .clone()
        .unwrap_or_else(|| specs_dir.join(format!("{}.yaml", args.name)));
    let (inherited, from) = if path == Path::new("-") {
        (std::collections::BTreeSet::new(), Vec::new())
    } else {
        inherited_defaults(specs_dir, &path)
    };
    let text = starter(
        &args.name,
        args.namespace.as_deref(),
        args.mode.into(),
        &inherited,
        &from,
    );
    if path == Path::new("-") {
        emit(&text);
        return Ok(0);
    }
    if path.exists() {
        bail!("'{}' already exists; not overwriting it", path.display());
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create '{}'", dir.display()))?;
    }
    std::fs::write(&path, text).with_context(|| format!("cannot write '{}'", path.display()))?;
    reporter.say(&format!("wrote {}", path.display()));
    Ok(0)
}

/// A commented starter spec that validates as written.
/// The fields that the `_defaults.yaml` files applying to `path` set
/// (`metadata.namespace`, `spec.version`, ...), and those files.
fn inherited_defaults(
    specs_dir: &Path,
    path: &Path,
) -> (std::collections::BTreeSet<String>, Vec<PathBuf>) {
    let root = crate::source::lexical_absolute(specs_dir);
    let mut fields = std::collections::BTreeSet::new();
    let mut files = Vec::new();
    let mut dir = crate::source::lexical_absolute(path);
    while dir.pop() && dir.starts_with(&root) {
        let file = dir.join(crate::spec::load::DEFAULTS_FILE);
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        let Ok(v) = serde_yaml::from_str::<serde_yaml::Value>(&text) else {
            continue;
        };
        for section in ["metadata", "spec"] {
            if let Some(m) = v[section].as_mapping() {
                fields.extend(
                    m.keys()
                        .filter_map(|k| k.as_str())
                        .map(|k| format!("{section}.{k}")),
                );
            }
        }
        let shown = dir
            .strip_prefix(root.parent().unwrap_or(&root))
            .map_or_else(
                |_| file.clone(),
                |rel| rel.join(crate::spec::load::DEFAULTS_FILE),
            );
        files.push(shown);
    }
    (fields, files)
}

/// A commented starter spec; fields that `inherited` names (set by the
/// folder's defaults files, `from`) are left out, so they keep applying.
pub fn starter(
    name: &str,
    namespace: Option<&str>,
    mode: Mode,
    inherited: &std::collections::BTreeSet<String>,
    from: &[PathBuf],
) -> String {
    let full = starter_text(name, namespace.unwrap_or("default-redis"), mode);
    let mut out = String::new();
    let mut left_out = Vec::new();
    let mut dropping = false;
    for line in full.lines() {
        // The lines below a field that is left out go with it.
        if line.starts_with("    ") && dropping {
            continue;
        }
        let field = line.trim_start().split(':').next().unwrap_or_default();
        let section = if line.starts_with("  ") && !line.starts_with("  #") {
            // metadata.* lines come before `spec:`.
            if out.contains("\nspec:\n") {
                "spec"
            } else {
                "metadata"
            }
        } else {
            ""
        };
        let key = format!("{section}.{field}");
        let keep = match key.as_str() {
            "metadata.name" | "spec.mode" => true,
            "metadata.namespace" if namespace.is_some() => true,
            k => section.is_empty() || !inherited.contains(k),
        };
        dropping = !keep;
        if keep {
            out.push_str(line);
            out.push('\n');
        } else {
            left_out.push(key);
        }
    }
    if !left_out.is_empty() {
        let files: Vec<String> = from.iter().map(|f| f.display().to_string()).collect();
        out.push_str(&format!(
            "  # from {}: {}\n",
            files.join(", "),
            left_out.join(", ")
        ));
    }
    out
}

fn starter_text(name: &str, namespace: &str, mode: Mode) -> String {
    let topology = match mode {
        Mode::Standalone => "  mode: standalone            # standalone | sentinel | cluster\n".to_owned(),
        Mode::Sentinel => "  mode: sentinel              # standalone | sentinel | cluster\n  replicas: 3                 # Redis pods: 1 primary + 2 replicas\n  sentinel: {replicas: 3, quorum: 2}\n".to_owned(),
        Mode::Cluster => "  mode: cluster               # standalone | sentinel | cluster\n  shards: 3                   # serving shards, at least 3\n  replicasPerShard: 1\n".to_owned(),
    };
    format!(
        "# A Redis deployment for redis-gitops. Reference: `redis-gitops schema`, README.\n\
apiVersion: redis-gitops/v1\n\
kind: Redis\n\
metadata:\n\
\x20 name: {name}\n\
\x20 namespace: {namespace}\n\
spec:\n\
{topology}\
\x20 engine: redis               # redis | valkey\n\
\x20 version: \"7.2.5\"             # tag of the official image\n\
\x20 resources:                  # the memory limit is required; maxmemory is derived from it\n\
\x20   requests: {{cpu: 500m, memory: 1Gi}}\n\
\x20   limits: {{cpu: \"1\", memory: 1Gi}}\n\
\x20 maxmemory: 75%              # of the memory limit, or a quantity such as 768Mi\n\
\x20 maxmemoryPolicy: noeviction\n\
\x20 storage: {{size: 5Gi}}        # omit for a cache without persistence\n\
\x20 persistence: rdb            # rdb | aof | rdb+aof | none\n\
\x20 # auth: {{secretName: {name}-auth, secretKey: password}}   # an existing Secret\n\
\x20 # metrics: {{enabled: true, serviceMonitor: true, prometheusRule: true}}\n"
    )
}
