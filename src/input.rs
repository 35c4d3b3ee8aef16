//! Reading the specs folder: discovery (walkdir, hidden entries skipped,
//! sorted) and reading, in parallel. The only file-system access of the
//! front end; parsing and merging happen in [`crate::spec::load`], on bytes.

use std::path::Path;

use rayon::prelude::*;
use walkdir::WalkDir;

use crate::diag::Diagnostic;
use crate::spec::load::{Loaded, load_files};

/// Reads every `*.yaml` / `*.yml` below `root`, parses it, and merges defaults.
pub fn load_dir(root: &Path) -> Loaded {
    let mut loaded = Loaded::default();
    if !root.is_dir() {
        loaded.diagnostics.push(Diagnostic::error(
            None,
            format!("specs folder '{}' does not exist", root.display()),
        ));
        return loaded;
    }
    let mut files = Vec::new();
    let walker = WalkDir::new(root)
        .follow_links(true)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.'));
    for entry in walker {
        match entry {
            Ok(e) if e.file_type().is_file() && is_yaml(e.path()) => {
                files.push(e.into_path());
            }
            Ok(_) => {}
            Err(err) => loaded
                .diagnostics
                .push(Diagnostic::error(None, format!("cannot read specs: {err}"))),
        }
    }
    let read: Vec<_> = files
        .into_par_iter()
        .map(|path| match std::fs::read(&path) {
            Ok(bytes) => Ok((path, bytes)),
            Err(err) => Err((path, err)),
        })
        .collect();
    let mut inputs = Vec::with_capacity(read.len());
    for result in read {
        match result {
            Ok(input) => inputs.push(input),
            Err((path, err)) => loaded.diagnostics.push(Diagnostic::error(
                None,
                format!("cannot read '{}': {err}", path.display()),
            )),
        }
    }
    let mut parsed = load_files(root, inputs);
    // Discovery problems first, then what parsing found.
    loaded.diagnostics.append(&mut parsed.diagnostics);
    parsed.diagnostics = loaded.diagnostics;
    parsed
}

fn is_yaml(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml")
    )
}
