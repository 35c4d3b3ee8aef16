//! Where the project is and what git holds: the project root found from a
//! subfolder, the work tree's top, whether there is a commit, repository
//! paths for the entry points, and the committed slot maps.

use std::path::{Path, PathBuf};

use crate::output;

/// The committed topology files the slot maps derive from. In a git repository each
/// topology ConfigMap counts as committed at HEAD: a map that was built but
/// never committed was never applied, so there is nothing to preserve (a new
/// 3-shard spec edited to 6 before its first commit gets the even 6-shard
/// split, not a fragmented one), and a map built twice since the last commit
/// derives from the deployed one. Outside git (or when git cannot read the
/// output), those of the output folder as it is: `None`.
pub(super) fn slot_state(out: &Path) -> Option<std::collections::BTreeMap<PathBuf, Vec<u8>>> {
    let is_topology = |p: &Path| {
        p.file_name()
            .is_some_and(|n| crate::names::is_topology_file(&n.to_string_lossy()))
    };
    if !head() {
        return None;
    }
    Some(
        output::read_git_where(out, "HEAD", is_topology)
            .ok()?
            .generated,
    )
}

/// Whether the working directory is in a git repository with a commit.
pub(super) fn head() -> bool {
    std::process::Command::new("git")
        .args(["rev-parse", "--verify", "--quiet", "HEAD^{commit}"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The nearest folder, from the working directory up, that holds `specs/`,
/// not above the git work tree's top (when there is one); `None` when the
/// working directory has it or none does.
pub(super) fn root() -> Option<PathBuf> {
    let cwd = std::env::current_dir().ok()?;
    if cwd.join("specs").is_dir() {
        return None;
    }
    let top = toplevel();
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
pub(super) fn toplevel() -> Option<PathBuf> {
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
pub(super) fn repo_path(output: &Path) -> Option<String> {
    if let Some(top) = toplevel() {
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

/// The projects of `files` (relative to `cwd`, or absolute): for each, the
/// nearest folder above it, not above the git work tree's top, that holds
/// both `specs/` and `output/`; each once, in path order. A folder of
/// another tool's `specs/` without an `output/` beside it is no project.
pub(super) fn roots_of(cwd: &Path, files: &[PathBuf]) -> std::collections::BTreeSet<PathBuf> {
    let top = toplevel().map(|t| crate::source::lexical_absolute(&t));
    files
        .iter()
        .filter_map(|file| {
            let abs = crate::source::lexical_absolute(&cwd.join(file));
            abs.ancestors()
                .skip(1)
                .take_while(|dir| top.as_deref().is_none_or(|t| dir.starts_with(t)))
                .find(|dir| dir.join("specs").is_dir() && dir.join("output").is_dir())
                .map(Path::to_path_buf)
        })
        .collect()
}

/// Folders below `dir` (up to four levels, hidden folders and build
/// output skipped) that hold both `specs/` and `output/`, relative to it.
pub(super) fn below(dir: &Path) -> Vec<PathBuf> {
    walkdir::WalkDir::new(dir)
        .min_depth(1)
        .max_depth(4)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| {
            let name = e.file_name().to_string_lossy();
            e.file_type().is_dir()
                && !name.starts_with('.')
                && !matches!(
                    name.as_ref(),
                    "node_modules" | "target" | "specs" | "output"
                )
        })
        .filter_map(Result::ok)
        .filter(|e| e.path().join("specs").is_dir() && e.path().join("output").is_dir())
        .filter_map(|e| e.path().strip_prefix(dir).ok().map(Path::to_path_buf))
        .collect()
}
