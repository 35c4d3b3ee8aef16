//! `init`: a commented starter spec that validates as written, from the
//! template `starter.yaml.j2`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};

use serde::Serialize;

use super::{Cx, emit, read_templates};
use crate::cli::InitArgs;
use crate::render::templates::{TemplateError, Templates};
use crate::spec::model::Mode;
use crate::spec::validate;

/// The template of the starter spec (overridable with `--templates`).
const STARTER: &str = "starter.yaml.j2";

/// What the starter template sees.
#[derive(Serialize)]
struct Starter<'a> {
    name: &'a str,
    namespace: &'a str,
    mode: &'static str,
}

pub(super) fn run(cx: &Cx, args: &InitArgs) -> anyhow::Result<u8> {
    let (specs_dir, reporter) = (&cx.specs, &cx.reporter);
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
    // Into the folder it is run from when that is below the specs folder
    // (its defaults then apply), else the specs folder; --file is relative
    // to where it is run from.
    let cwd = std::env::current_dir().context("cannot read the working directory")?;
    let relative = |p: &Path| {
        p.strip_prefix(&cwd)
            .map_or_else(|_| p.to_path_buf(), Path::to_path_buf)
    };
    let path = match &args.file {
        Some(f) if f == Path::new("-") => f.clone(),
        Some(f) => relative(&crate::source::lexical_absolute(&cx.invoked.join(f))),
        None => {
            let specs_abs = crate::source::lexical_absolute(specs_dir);
            let dir = if cx.invoked.starts_with(&specs_abs) {
                relative(&cx.invoked)
            } else {
                specs_dir.clone()
            };
            dir.join(format!("{}.yaml", args.name))
        }
    };
    let (inherited, from) = if path == Path::new("-") {
        (BTreeSet::new(), Vec::new())
    } else {
        inherited_defaults(specs_dir, &path)
    };
    if args.namespace.is_none() && !inherited.contains("metadata.namespace") {
        bail!(
            "no namespace for '{}': pass --namespace NAMESPACE, or set metadata.namespace in a \
             _defaults.yaml of its folder or above (every spec needs one)",
            args.name
        );
    }
    let templates = Templates::new(&read_templates(cx.templates.as_deref())?)?;
    let text = starter(
        &templates,
        &args.name,
        args.namespace.as_deref(),
        args.mode.into(),
        &inherited,
        &from,
    )?;
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
fn inherited_defaults(specs_dir: &Path, path: &Path) -> (BTreeSet<String>, Vec<PathBuf>) {
    let root = crate::source::lexical_absolute(specs_dir);
    let mut fields = BTreeSet::new();
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
fn starter(
    templates: &Templates,
    name: &str,
    namespace: Option<&str>,
    mode: Mode,
    inherited: &BTreeSet<String>,
    from: &[PathBuf],
) -> Result<String, TemplateError> {
    let full = templates.render(
        STARTER,
        &Starter {
            name,
            // Left out below when the defaults set it (checked by `run`).
            namespace: namespace.unwrap_or_default(),
            mode: mode.as_str(),
        },
    )?;
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
    Ok(out)
}
