//! Finding and reading spec files, and applying the `_defaults.yaml` cascade.
//!
//! This is one of the two places that touch the file system on the way in
//! (the other reads committed output). Files are visited in sorted order so
//! that everything downstream is independent of directory listing order.

use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::model::{Document, Merge, S, with_file};
use crate::diag::{Diagnostic, did_you_mean};
use crate::source::{FileId, Sources, Span};

/// The name of a defaults file.
pub const DEFAULTS_FILE: &str = "_defaults.yaml";

/// One spec document with its defaults already merged in.
#[derive(Debug, Clone)]
pub struct LoadedSpec {
    pub doc: Document,
    /// The file it came from.
    pub file: FileId,
    /// Its folder relative to the specs root (the output goes to the same folder).
    pub dir: PathBuf,
    /// The file as generated headers name it: the specs folder's own name
    /// and the path below it, however the folder was spelled on the
    /// command line (`specs/cache/pinned.yaml` for `./specs`, `specs/` or
    /// an absolute path alike).
    pub source: PathBuf,
    /// A defaults file that applies to it did not parse (and is reported):
    /// a field it lacks may be one that file sets.
    pub broken_defaults: bool,
    /// Where the document starts (for errors about the whole document).
    pub span: Span,
    /// A value in it could not be read (and is reported): only the checks
    /// of single values run on it, since the checks that relate fields
    /// would report that value's echoes (a misspelt `mode` read as
    /// standalone, a misspelt `resources` as a missing memory limit).
    pub damaged: bool,
}

/// Everything read from a specs tree.
#[derive(Debug, Default)]
pub struct Loaded {
    pub sources: Sources,
    pub specs: Vec<LoadedSpec>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Parses and merges files already in memory: `(path, bytes)` with paths
/// below `root`. Pure apart from the input; the property tests call it.
pub fn load_files(root: &Path, inputs: Vec<(PathBuf, Vec<u8>)>) -> Loaded {
    let mut loaded = Loaded::default();
    let label = folder_name(root);
    // (folder relative to root, document) of every defaults file.
    let mut defaults: Vec<(PathBuf, Document)> = Vec::new();
    let mut specs = Vec::new();
    // Sources are registered in input order, then parsed in parallel (each
    // parse stamps spans from its own thread), then handled in order again.
    let mut texts = Vec::with_capacity(inputs.len());
    for (path, bytes) in inputs {
        let rel = path.strip_prefix(root).unwrap_or(&path).to_path_buf();
        let text = match String::from_utf8(bytes) {
            Ok(t) => t,
            Err(e) => {
                let valid = e.utf8_error().valid_up_to();
                let bytes = e.into_bytes();
                let prefix = String::from_utf8_lossy(&bytes[..valid]).into_owned();
                let line = u32::try_from(prefix.matches('\n').count() + 1).unwrap_or(u32::MAX);
                let column =
                    u32::try_from(prefix.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1)
                        .unwrap_or(u32::MAX);
                let file = loaded.sources.add(&path, prefix);
                loaded.diagnostics.push(Diagnostic::error(
                    Span {
                        file,
                        line,
                        column,
                        start: valid,
                        len: 0,
                    },
                    "file is not valid UTF-8",
                ));
                continue;
            }
        };
        texts.push((loaded.sources.add(&path, text), rel));
    }
    let sources = &loaded.sources;
    let parsed: Vec<_> = texts
        .par_iter()
        .map(|(file, _)| parse_file(*file, &sources.get(*file).text))
        .collect();
    // Folders whose defaults file did not parse: what it would have given
    // the specs below is unknown, so their missing fields are not reported.
    let mut broken_defaults: Vec<PathBuf> = Vec::new();
    for ((file, rel), parsed) in texts.into_iter().zip(parsed) {
        let dir = rel.parent().map(Path::to_path_buf).unwrap_or_default();
        let is_defaults = rel.file_name().is_some_and(|n| n == DEFAULTS_FILE);
        let failed = !parsed.errors.is_empty();
        let mut errors = parsed.errors;
        if failed && is_defaults {
            loaded.diagnostics.extend(errors);
            broken_defaults.push(dir);
            continue;
        }
        let Some(docs) = parsed.docs else {
            loaded.diagnostics.extend(errors);
            continue;
        };
        let docs: Vec<S<Document>> = docs.into_iter().flatten().collect();
        let mut damaged = Vec::new();
        if failed {
            // A document with a value it could not read gets only the
            // checks of single values: the others would report that
            // value's consequences. Document i holds the errors from where
            // it starts (the file's start for the first) to where the next
            // one does.
            let mut bounds: Vec<usize> = docs.iter().skip(1).map(|d| d.span.start).collect();
            bounds.insert(0, 0);
            bounds.push(usize::MAX);
            let ranges: Vec<std::ops::Range<usize>> =
                bounds.windows(2).map(|w| w[0]..w[1]).collect();
            let within = |r: &std::ops::Range<usize>, e: &Diagnostic| {
                e.span.is_some_and(|s| r.contains(&s.start))
            };
            let counts: Vec<usize> = ranges
                .iter()
                .map(|r| errors.iter().filter(|e| within(r, e)).count())
                .collect();
            // Say so under each such document's last error.
            for (r, &n) in ranges.iter().zip(&counts).filter(|(_, n)| **n > 0) {
                let these = if n == 1 { "this is" } else { "these are" };
                if let Some(last) = errors
                    .iter_mut()
                    .rfind(|e| within(r, e))
                    .filter(|e| e.help.is_none())
                {
                    last.help = Some(format!(
                        "the checks that relate this spec's fields to each other run once {these} fixed"
                    ));
                }
            }
            loaded.diagnostics.extend(errors);
            damaged = counts.iter().map(|&n| n > 0).collect();
        }
        if is_defaults {
            let mut docs = docs.into_iter();
            if let Some(doc) = docs.next() {
                check_defaults(&doc, &mut loaded.diagnostics);
                defaults.push((dir.clone(), doc.value));
            }
            if let Some(extra) = docs.next() {
                loaded.diagnostics.push(Diagnostic::error(
                    extra.span,
                    "a defaults file holds one document",
                ));
            }
            continue;
        }
        if docs.is_empty() {
            loaded.diagnostics.push(Diagnostic::warning(
                Span::file_start(file),
                "file holds no spec",
            ));
        }
        for (i, doc) in docs.into_iter().enumerate() {
            specs.push(LoadedSpec {
                doc: doc.value,
                file,
                dir: dir.clone(),
                source: label.join(&rel),
                broken_defaults: false,
                span: doc.span,
                damaged: damaged.get(i).copied().unwrap_or(false),
            });
        }
    }
    // Nearest defaults first: a nearer file's values win over a farther one's.
    defaults.sort_by_key(|d| std::cmp::Reverse(d.0.components().count()));
    for spec in &mut specs {
        for (dir, doc) in &defaults {
            if spec.dir.starts_with(dir) {
                spec.doc.merge_from(doc);
            }
        }
    }
    for spec in &mut specs {
        spec.broken_defaults = broken_defaults.iter().any(|d| spec.dir.starts_with(d));
    }
    loaded.specs = specs;
    loaded
}

/// The last component of `root`'s absolute path, `.` and `..` resolved
/// lexically (`./specs`, `specs/`, `a/../specs`, `/abs/specs` and `.` inside
/// it are all `specs`). Symlinks are not followed: the name is the one the
/// user sees.
fn folder_name(root: &Path) -> PathBuf {
    crate::source::lexical_absolute(root)
        .file_name()
        .map_or_else(|| PathBuf::from("specs"), PathBuf::from)
}

/// A defaults file may not name a deployment.
fn check_defaults(doc: &S<Document>, diags: &mut Vec<Diagnostic>) {
    if let Some(name) = doc
        .value
        .metadata
        .as_ref()
        .and_then(|m| m.value.name.as_ref())
    {
        diags.push(
            Diagnostic::error(name.span, "a defaults file cannot set metadata.name")
                .with_help("defaults apply to every spec in this folder and below; name each spec in its own file"),
        );
    }
}

/// At most this many values of the wrong kind are reported per file.
const MAX_ERRORS_PER_FILE: usize = 20;
/// Each error read past costs up to three parses of the file: files larger
/// than any spec report their first error only.
const MAX_RECOVERY_BYTES: usize = 64 * 1024;

/// A file's documents, when it could be read to the end, and every error met
/// on the way.
struct Parsed {
    docs: Option<Vec<Option<S<Document>>>>,
    errors: Vec<Diagnostic>,
}

/// Parses a file, reading on past values of the wrong kind (see `recover`).
fn parse_file(file: FileId, text: &str) -> Parsed {
    use super::recover::{At, blank_node};
    use serde_saphyr::Error as E;
    let mut work = text.to_owned();
    let mut out = Parsed {
        docs: None,
        errors: Vec::new(),
    };
    loop {
        let err = match with_file(file, text.len(), || {
            serde_saphyr::from_multiple::<Option<S<Document>>>(&work)
        }) {
            Ok(docs) => {
                out.docs = Some(docs);
                return out;
            }
            Err(err) => err,
        };
        let diag = parse_error(file, text, &err);
        let Some(offset) = diag.span.map(|s| s.start) else {
            out.errors.push(diag);
            return out;
        };
        let again = out
            .errors
            .iter()
            .any(|e| e.span.is_some_and(|s| s.start == offset));
        if !again {
            out.errors.push(diag);
        }
        let at = match err.without_snippet() {
            E::SerdeUnknownField { .. } | E::DuplicateMappingKey { .. } => At::Key,
            E::SerdeMissingField { .. } => return out,
            other if other.to_string().contains("duplicate mapping key") => At::Key,
            _ => At::Value,
        };
        if again
            || out.errors.len() >= MAX_ERRORS_PER_FILE
            || text.len() > MAX_RECOVERY_BYTES
            || (out.errors.len() == 1 && !well_formed(text))
        {
            return out;
        }
        // Blanking must leave well-formed YAML; where it would not, stop.
        if !blank_node(&mut work, offset, at) || !well_formed(&work) {
            return out;
        }
    }
}

/// Well-formed YAML: it parses into anything, repeated keys allowed (they
/// are reported, and blanked, like values of the wrong kind).
fn well_formed(text: &str) -> bool {
    let mut options = serde_saphyr::Options::default();
    options.duplicate_keys = serde_saphyr::DuplicateKeyPolicy::FirstWins;
    serde_saphyr::from_multiple_with_options::<serde::de::IgnoredAny>(text, options).is_ok()
}

/// Turns a YAML or serde error into a diagnostic with a did-you-mean where it helps.
fn parse_error(file: FileId, text: &str, err: &serde_saphyr::Error) -> Diagnostic {
    use serde_saphyr::Error as E;
    let err = err.without_snippet();
    let span = err
        .location()
        .filter(|l| l.line() > 0)
        .map_or(Span::file_start(file), |l| {
            Span::from_location(file, &l, text.len(), |line, col| {
                crate::source::line_col_to_offset(text, line, col)
            })
        });
    match err {
        E::SerdeUnknownField {
            field, expected, ..
        } => {
            let mut d = Diagnostic::error(span, format!("unknown field '{field}'"));
            if let Some(best) = did_you_mean(field, expected.iter().copied()) {
                d.message.push_str(&format!("; did you mean '{best}'?"));
            } else if let Some(place) = elsewhere(field, expected) {
                d.message.push_str(&format!("; it goes in {place}"));
            } else if !expected.is_empty() {
                d = d.with_help(format!("expected one of: {}", expected.join(", ")));
            }
            d
        }
        E::SerdeUnknownVariant {
            variant, expected, ..
        } => {
            let mut d = Diagnostic::error(span, format!("unknown value '{variant}'"));
            if let Some(best) = did_you_mean(variant, expected.iter().copied()) {
                d.message.push_str(&format!("; did you mean '{best}'?"));
            }
            d.with_help(format!("expected one of: {}", expected.join(", ")))
        }
        other => Diagnostic::error(
            span,
            in_user_words(&first_line(&other.to_string()), scalar_at(text, span.start)),
        ),
    }
}

/// Where a field that Kubernetes puts in a pod spec or object metadata goes
/// in a spec, when it is written directly under `spec:`.
fn elsewhere(field: &str, expected: &[&str]) -> Option<&'static str> {
    if !expected.contains(&"scheduling") {
        return None;
    }
    Some(match field {
        "affinity" => "scheduling.affinity",
        "topologySpreadConstraints" => "scheduling.topologySpreadConstraints",
        "nodeSelector" => "scheduling.nodeSelector",
        "tolerations" => "scheduling.tolerations",
        "priorityClassName" => "scheduling.priorityClassName",
        "labels" => "metadata.labels (every object) or spec.podLabels (the pods)",
        "annotations" => "spec.podAnnotations (the pods) or spec.serviceAnnotations (the Services)",
        _ => return None,
    })
}

/// The scalar that starts at `offset`, as written (up to the end of the
/// line, a comment, or a flow separator).
fn scalar_at(text: &str, offset: usize) -> &str {
    let rest = text.get(offset..).unwrap_or_default();
    let end = rest.find(['\n', ',', '}', ']', '#']).unwrap_or(rest.len());
    rest[..end].trim()
}

/// The parser's wording, for the messages a user meets, in the user's words.
fn in_user_words(message: &str, scalar: &str) -> String {
    let got = if scalar.is_empty() {
        String::new()
    } else if scalar.starts_with('{') {
        ", got a mapping".to_owned()
    } else if scalar.starts_with('[') {
        ", got a list".to_owned()
    } else {
        format!(", got '{scalar}'")
    };
    if let Some((found, expected)) = message
        .strip_prefix("invalid type: ")
        .and_then(|rest| rest.split_once(", expected "))
    {
        let found = match found {
            "sequence" => "a list".to_owned(),
            "map" => "a mapping".to_owned(),
            "unit value" | "null" => "nothing".to_owned(),
            other => other.replace("string ", "").replace('"', "'"),
        };
        return format!("expected {expected}, got {found}");
    }
    if let Some(rest) = message.strip_prefix("duplicate mapping key: ") {
        let key = rest.split(',').next().unwrap_or(rest).trim();
        return format!("'{key}' is given twice in this mapping; keep one");
    }
    match message {
        "invalid u8" | "invalid u16" | "invalid u32" | "invalid u64" | "invalid usize" => {
            format!("expected a whole number, 0 or more{got}")
        }
        "invalid i8" | "invalid i16" | "invalid i32" | "invalid i64" => {
            format!("expected a whole number{got}")
        }
        "expected mapping start" => {
            format!(
                "expected a mapping of fields (`{{field: value}}` or one `field: value` per line){got}"
            )
        }
        "expected sequence start" => {
            format!("expected a list (`[a, b]` or one `- item` per line){got}")
        }
        "expected string scalar" => format!("expected a string{got}"),
        other => other.to_owned(),
    }
}

/// serde-saphyr's rendering starts with its own "line N column M: "; the
/// diagnostic already names the place, so keep only the message.
fn first_line(rendered: &str) -> String {
    let line = rendered.lines().next().unwrap_or("invalid YAML").trim();
    let line = line.strip_prefix("error: ").unwrap_or(line);
    let without_place = line
        .strip_prefix("line ")
        .and_then(|rest| rest.split_once(": "))
        .filter(|(place, _)| {
            place
                .split(' ')
                .all(|w| w == "column" || w.bytes().all(|b| b.is_ascii_digit()))
        })
        .map(|(_, msg)| msg);
    let msg = without_place.unwrap_or(line);
    msg.find(" at line ").map_or(msg, |i| &msg[..i]).to_owned()
}
