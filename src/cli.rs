//! Command-line arguments (clap derive types only; behaviour lives in `commands`).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::spec::model::Mode;

/// Compile declarative Redis specs into deterministic Kubernetes manifests for GitOps.
#[derive(Debug, Parser)]
#[command(name = "redis-gitops", version, about, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    /// The project's folders, accepted before the command name as well.
    #[command(flatten)]
    pub paths: Paths,
    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    /// The project's folders: those given after the command name win over
    /// those given before it.
    pub fn paths(&self) -> Paths {
        let sub = match &self.command {
            Command::Build(a) => &a.paths,
            Command::Check(a) => &a.paths,
            Command::Diff(a) => &a.paths,
            Command::Plan(a) => &a.paths,
            Command::Validate(a) => &a.paths,
            Command::Init(a) => &a.paths,
            Command::Completions { .. } | Command::Man | Command::Schema => &self.paths,
        };
        Paths {
            specs: sub.specs.clone().or_else(|| self.paths.specs.clone()),
            output: sub.output.clone().or_else(|| self.paths.output.clone()),
            templates: sub
                .templates
                .clone()
                .or_else(|| self.paths.templates.clone()),
        }
    }
}

/// The folders of a project. Not `global`: `schema`, `man` and
/// `completions` have no project, so their `--help` leaves these out.
#[derive(Debug, Clone, Default, Args)]
pub struct Paths {
    /// Folder of Redis specs [default: specs, in this folder or the
    /// nearest one above that has it].
    #[arg(long)]
    pub specs: Option<PathBuf>,
    /// Folder of rendered manifests [default: output, beside specs].
    #[arg(long)]
    pub output: Option<PathBuf>,
    /// Folder of templates overriding the built-in ones (same file names as `templates/`).
    #[arg(long)]
    pub templates: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct Global {
    /// Colour diagnostics (NO_COLOR is honoured with auto).
    #[arg(long, global = true, value_enum, default_value_t = Color::Auto)]
    pub color: Color,
    /// Print nothing but errors; the exit code tells the result (as with
    /// `git diff --quiet`). `schema` and `init --file -` still print what
    /// they are asked for.
    #[arg(long, short, global = true)]
    pub quiet: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Color {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Render every spec into the output folder.
    #[command(
        after_help = "Exit status: 0 written (or nothing to write), 2 an error or a \
        blocked change (then nothing is written)."
    )]
    Build(BuildArgs),
    /// Compare what would be rendered with the output folder; exit 1 when stale.
    #[command(after_help = "Exit status: 0 fresh, 1 stale, 2 an error.")]
    Check(CheckArgs),
    /// Show, object by object, how the rendered manifests differ from the committed ones.
    #[command(
        after_help = "Exit status: 0, or 1 with --exit-code when there are differences; \
        2 an error."
    )]
    Diff(DiffArgs),
    /// Plan the topology change from the committed state to the specs; exit 1 when blocked.
    #[command(after_help = "Exit status: 0 nothing blocked, 1 a blocked change, 2 an error.")]
    Plan(PlanArgs),
    /// Parse and check every spec; report all errors.
    #[command(after_help = "Exit status: 0 valid, 2 errors.")]
    Validate(ValidateArgs),
    /// Print a shell completion script (e.g. `redis-gitops completions bash >
    /// /etc/bash_completion.d/redis-gitops`).
    #[command(after_help = "Exit status: 0.")]
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page, in roff (e.g. `redis-gitops man > /usr/local/share/man/man1/redis-gitops.1`).
    #[command(after_help = "Exit status: 0.")]
    Man,
    /// Print the JSON Schema of the spec format.
    #[command(after_help = "Exit status: 0.")]
    Schema,
    /// Write a commented starter spec.
    #[command(after_help = "Exit status: 0 written, 2 an error (nothing is written).")]
    Init(InitArgs),
}

#[derive(Debug, Args)]
pub struct BuildArgs {
    #[command(flatten)]
    pub paths: Paths,
    /// Write a change that `plan` blocks for this deployment anyway (its
    /// output folder, e.g. `payments/orders`; repeatable): for a deliberate
    /// recreation, once its data is safe elsewhere.
    #[arg(long, value_name = "DEPLOYMENT")]
    pub allow_blocked: Vec<String>,
    /// Build the projects these files belong to (as the pre-commit hook passes them).
    #[arg(value_name = "FILE", long_help = FILES_HELP)]
    pub files: Vec<PathBuf>,
}

/// How `validate` and `check` report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// For people: compiler-style errors, the stale files with a diff.
    Text,
    /// One JSON document (`version: 1`) on stdout.
    Json,
    /// GitHub Actions workflow annotations on stdout.
    Github,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    #[command(flatten)]
    pub paths: Paths,
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub paths: Paths,
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
    /// Check the projects these files belong to (as the pre-commit hook passes them).
    #[arg(value_name = "FILE", long_help = FILES_HELP)]
    pub files: Vec<PathBuf>,
}

const FILES_HELP: &str = "Work on the projects these files belong to: for each file, the \
    nearest folder above it that holds both specs/ and output/, each project once. \
    This is how the pre-commit hooks find a project in any subfolder of a monorepo. \
    Files outside every project are ignored. Cannot be combined with --specs or --output.";

#[derive(Debug, Args)]
pub struct DiffArgs {
    #[command(flatten)]
    pub paths: Paths,
    /// Output format.
    #[arg(long, value_enum, default_value_t = DiffFormat::Text)]
    pub format: DiffFormat,
    /// Exit 1 when there are differences (like `git diff --exit-code`).
    #[arg(long)]
    pub exit_code: bool,
    /// Compare with the output committed at this git revision (in a git
    /// repository the default is HEAD).
    #[arg(long, value_name = "REF")]
    pub from_git: Option<String>,
    /// Compare with the output folder as it is on disk, not as committed.
    #[arg(long, conflicts_with = "from_git")]
    pub working_tree: bool,
    /// Markdown: the most characters to print (a pull-request comment is at
    /// most 65,536); the most important objects are kept and the others named.
    #[arg(long, value_name = "N", default_value_t = crate::diff::MARKDOWN_MAX_CHARS)]
    pub max_chars: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    /// Unified diffs per object, coloured on a terminal.
    Text,
    /// A pull-request comment, one collapsible section per object.
    Markdown,
    /// A stable JSON document (see the README).
    Json,
    /// GitHub Actions workflow annotations.
    Github,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub paths: Paths,
    /// Output format.
    #[arg(long, value_enum, default_value_t = PlanFormat::Text)]
    pub format: PlanFormat,
    /// The committed state: an output folder.
    #[arg(long, value_name = "DIR", conflicts_with = "from_git")]
    pub from: Option<PathBuf>,
    /// The committed state: the output folder at this git revision (in a
    /// git repository the default is HEAD).
    #[arg(long, value_name = "REF")]
    pub from_git: Option<String>,
    /// The committed state: the output folder as it is on disk.
    #[arg(long, conflicts_with_all = ["from", "from_git"])]
    pub working_tree: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PlanFormat {
    Text,
    Markdown,
    Json,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    #[command(flatten)]
    pub paths: Paths,
    /// Name of the deployment (metadata.name).
    pub name: String,
    /// Topology.
    #[arg(long, value_enum, default_value_t = InitMode::Standalone)]
    pub mode: InitMode,
    /// Namespace to write into the spec; needed unless a `_defaults.yaml`
    /// of the spec's folder or above sets metadata.namespace.
    #[arg(long)]
    pub namespace: Option<String>,
    /// Where to write; default `<name>.yaml` in the folder it is run from
    /// when that is below the specs folder, else in the specs folder. `-`
    /// prints to stdout.
    #[arg(long)]
    pub file: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InitMode {
    Standalone,
    Sentinel,
    Cluster,
}

impl From<InitMode> for Mode {
    fn from(m: InitMode) -> Mode {
        match m {
            InitMode::Standalone => Mode::Standalone,
            InitMode::Sentinel => Mode::Sentinel,
            InitMode::Cluster => Mode::Cluster,
        }
    }
}
