//! The semantic diff: rendered objects against committed ones.
//!
//! Objects are matched by apiVersion, kind, namespace and name, whatever
//! file holds them, so moving an object between files is no change. Both
//! sides are compared as parsed values with every mapping's keys sorted, so
//! key order, quoting and indentation never show; a changed object gets a
//! unified diff (3 lines of context) of its canonical YAML. Values under
//! keys that look secret are masked before any text is made.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::ffi::OsStr;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::Serialize;
use serde_yaml::Value;
use sha2::{Digest, Sha256};
use similar::TextDiff;

use crate::names::slash;
use crate::output::File;
use crate::plan::Facts;

#[derive(Debug, thiserror::Error)]
pub enum DiffError {
    #[error("{path}: not valid YAML: {message}")]
    Parse { path: PathBuf, message: String },
}

/// What identifies an object in a cluster.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectKey {
    pub api_version: String,
    pub kind: String,
    pub namespace: String,
    pub name: String,
}

impl std::fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ", self.kind)?;
        if !self.namespace.is_empty() {
            write!(f, "{}/", self.namespace)?;
        }
        write!(f, "{} ({})", self.name, self.api_version)
    }
}

/// An object as found in a file: where, and a digest of what it holds.
/// No parsed value is kept (a fleet-wide change parses tens of thousands).
#[derive(Debug, Clone)]
struct Located {
    file: PathBuf,
    /// The index of its document in the file.
    doc: usize,
    deployment: String,
    sync_wave: Option<i32>,
    /// SHA-256 of its canonical JSON (keys sorted): equal digests, equal objects.
    digest: [u8; 32],
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Change {
    Changed,
    Added,
    Removed,
}

impl Change {
    pub fn as_str(self) -> &'static str {
        match self {
            Change::Changed => "changed",
            Change::Added => "added",
            Change::Removed => "removed",
        }
    }
}

/// One object that differs.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectDiff {
    pub change: Change,
    #[serde(flatten)]
    pub key: ObjectKey,
    /// The file holding it, relative to the output folder (the rendered
    /// file, or the committed one for a removed object).
    pub file: PathBuf,
    /// The deployment's folder, relative to the output folder.
    pub deployment: String,
    /// The object's Argo CD sync wave (rendered side; committed for a removed object).
    pub sync_wave: Option<i32>,
    /// Unified diff of the canonical YAML, secret-looking values masked;
    /// empty until [`with_texts`] makes it (only what is printed needs it).
    pub diff: String,
    /// Where the object is on each side: (file, document index).
    #[serde(skip)]
    committed_at: Option<(PathBuf, usize)>,
    #[serde(skip)]
    rendered_at: Option<(PathBuf, usize)>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub changed: usize,
    pub added: usize,
    pub removed: usize,
    pub deployments: usize,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} changed, {} added, {} removed in {} deployment{}",
            self.changed,
            self.added,
            self.removed,
            self.deployments,
            if self.deployments == 1 { "" } else { "s" }
        )
    }
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    pub summary: Summary,
    pub objects: Vec<ObjectDiff>,
}

impl Report {
    pub fn is_empty(&self) -> bool {
        self.objects.is_empty()
    }
}

/// What [`compare`] found: the report, and the planner's facts of the
/// objects it read on each side (deployment, file, facts), in file order.
pub struct Compared {
    pub report: Report,
    pub committed: Vec<(String, PathBuf, Facts)>,
    pub rendered: Vec<(String, PathBuf, Facts)>,
}

/// One object as the diff knows it: its key, where it is, its digest, and
/// the planner's facts when it carries state.
#[derive(Debug, Clone)]
pub struct ObjectSummary {
    key: ObjectKey,
    located: Located,
    facts: Option<Facts>,
}

/// Diffs the rendered files against committed ones (path -> bytes, relative
/// to the output folder). Only a committed file that is not YAML is an error.
pub fn diff(
    rendered: &[File],
    committed: &BTreeMap<PathBuf, Vec<u8>>,
) -> Result<Report, DiffError> {
    compare(rendered, committed).map(|c| c.report)
}

/// [`diff`], with the planner's facts of every object it reads (so that
/// nothing is parsed twice).
pub fn compare(
    rendered: &[File],
    committed: &BTreeMap<PathBuf, Vec<u8>>,
) -> Result<Compared, DiffError> {
    // A file with the same bytes on both sides holds the same objects on
    // both sides: they cancel out, so only differing files are parsed.
    // Keyed by the path's bytes: hashing a Path walks its components.
    let lookup: HashMap<&OsStr, &Vec<u8>> =
        committed.iter().map(|(p, b)| (p.as_os_str(), b)).collect();
    let identical: HashSet<&OsStr> = rendered
        .iter()
        .filter(|f| {
            lookup
                .get(f.path.as_os_str())
                .is_some_and(|c| c.as_slice() == f.contents.as_bytes())
        })
        .map(|f| f.path.as_os_str())
        .collect();
    let (new, rendered_facts) = index(
        rendered
            .iter()
            .filter(|f| !identical.contains(f.path.as_os_str()))
            .map(|f| {
                (
                    f.path.as_path(),
                    f.contents.as_bytes(),
                    f.summaries.0.as_deref(),
                )
            })
            .collect(),
    )?;
    let (old, committed_facts) = index(
        committed
            .iter()
            .filter(|(p, _)| !identical.contains(p.as_os_str()))
            .map(|(p, b)| (p.as_path(), b.as_slice(), None))
            .collect(),
    )?;
    let mut objects = Vec::new();
    for (key, n) in &new {
        match old.get(key) {
            None => objects.push(object_diff(Change::Added, key, None, Some(n))),
            Some(o) if o.digest != n.digest => {
                objects.push(object_diff(Change::Changed, key, Some(o), Some(n)));
            }
            Some(_) => {}
        }
    }
    for (key, o) in &old {
        if !new.contains_key(key) {
            objects.push(object_diff(Change::Removed, key, Some(o), None));
        }
    }
    objects.sort_by(|a, b| (&a.deployment, &a.file, &a.key).cmp(&(&b.deployment, &b.file, &b.key)));
    let mut summary = Summary::default();
    for o in &objects {
        *match o.change {
            Change::Changed => &mut summary.changed,
            Change::Added => &mut summary.added,
            Change::Removed => &mut summary.removed,
        } += 1;
    }
    summary.deployments = objects
        .iter()
        .map(|o| o.deployment.as_str())
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    Ok(Compared {
        report: Report { summary, objects },
        committed: committed_facts,
        rendered: rendered_facts,
    })
}

fn object_diff(
    change: Change,
    key: &ObjectKey,
    old: Option<&Located>,
    new: Option<&Located>,
) -> ObjectDiff {
    // The rendered side describes the object, unless it is gone.
    let shown = new.or(old).expect("an object is on one side at least");
    ObjectDiff {
        change,
        key: key.clone(),
        file: shown.file.clone(),
        deployment: shown.deployment.clone(),
        sync_wave: shown.sync_wave,
        diff: String::new(),
        committed_at: old.map(|o| (o.file.clone(), o.doc)),
        rendered_at: new.map(|n| (n.file.clone(), n.doc)),
    }
}

/// Fills in each object's unified diff (secret-looking values masked),
/// reading its two documents again: only a report that is printed pays.
pub fn with_texts(report: &mut Report, rendered: &[File], committed: &BTreeMap<PathBuf, Vec<u8>>) {
    let rendered: HashMap<&OsStr, &[u8]> = rendered
        .iter()
        .map(|f| (f.path.as_os_str(), f.contents.as_bytes()))
        .collect();
    let document = |bytes: Option<&[u8]>, doc: usize| {
        let de = serde_yaml::Deserializer::from_slice(bytes?).nth(doc)?;
        let value: Value = serde::Deserialize::deserialize(de).ok()?;
        Some(canonical(value))
    };
    report.objects.par_iter_mut().for_each(|o| {
        let old = o
            .committed_at
            .as_ref()
            .and_then(|(file, doc)| document(committed.get(file).map(Vec::as_slice), *doc));
        let new = o
            .rendered_at
            .as_ref()
            .and_then(|(file, doc)| document(rendered.get(file.as_os_str()).copied(), *doc));
        let (old_text, new_text) = match (&old, &new) {
            (None, Some(n)) => (String::new(), yaml(&masked_object(n, None, false))),
            (Some(o), None) => (yaml(&masked_object(o, None, false)), String::new()),
            (Some(o), Some(n)) => (
                yaml(&masked_object(o, Some(n), false)),
                yaml(&masked_object(n, Some(o), true)),
            ),
            (None, None) => (String::new(), String::new()),
        };
        o.diff = TextDiff::from_lines(&old_text, &new_text)
            .unified_diff()
            .context_radius(3)
            .header("committed", "rendered")
            .to_string();
    });
}

/// Every object of the files (in parallel; in file order): the renderer's
/// summaries where it made them, else read from the text.
#[allow(clippy::type_complexity)]
fn index(
    files: Vec<(&Path, &[u8], Option<&[ObjectSummary]>)>,
) -> Result<(BTreeMap<ObjectKey, Located>, Vec<(String, PathBuf, Facts)>), DiffError> {
    let per_file = files
        .into_par_iter()
        .map(|(path, bytes, summaries)| match summaries {
            Some(summaries) => Ok(summaries.to_vec()),
            None => objects(path, bytes),
        })
        .collect::<Result<Vec<_>, DiffError>>()?;
    let mut out = BTreeMap::new();
    let mut facts = Vec::new();
    for ObjectSummary {
        key,
        located,
        facts: fact,
    } in per_file.into_iter().flatten()
    {
        if let Some(fact) = fact {
            facts.push((located.deployment.clone(), located.file.clone(), fact));
        }
        out.insert(key, located);
    }
    Ok((out, facts))
}

/// The objects of one file, read from its text.
fn objects(path: &Path, bytes: &[u8]) -> Result<Vec<ObjectSummary>, DiffError> {
    let mut out = Vec::new();
    if path.extension().is_none_or(|e| e != "yaml" && e != "yml") {
        return Ok(out);
    }
    for (doc, de) in serde_yaml::Deserializer::from_slice(bytes).enumerate() {
        // A JSON value: its maps keep their keys sorted, so it is canonical
        // as read; Kubernetes objects are JSON whatever their spelling.
        let value: serde_json::Value =
            serde::Deserialize::deserialize(de).map_err(|e| DiffError::Parse {
                path: path.to_path_buf(),
                message: e.to_string(),
            })?;
        if value.is_null() {
            continue;
        }
        out.push(summarise(path, doc, value));
    }
    Ok(out)
}

/// One object (document `doc` of the file at `path`), summarised. A
/// `kustomization.yaml` (build configuration for kustomize, Argo CD and
/// Flux, with no name of its own) is keyed by its folder: a hand edit that
/// drops a resource from it shows.
pub fn summarise(path: &Path, doc: usize, value: serde_json::Value) -> ObjectSummary {
    let text = |k: &str| value[k].as_str().unwrap_or_default().to_owned();
    let meta = |k: &str| value["metadata"][k].as_str().unwrap_or_default().to_owned();
    let mut key = ObjectKey {
        api_version: text("apiVersion"),
        kind: text("kind"),
        namespace: meta("namespace"),
        name: meta("name"),
    };
    let deployment = if key.api_version.starts_with("kustomize.config.k8s.io/") {
        key.name = slash(path.parent().unwrap_or(Path::new("")));
        key.name.clone()
    } else {
        deployment_of(path, &value)
    };
    let sync_wave = value["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"]
        .as_str()
        .and_then(|w| w.parse().ok());
    let mut hasher = HashWriter(Sha256::new());
    serde_json::to_writer(&mut hasher, &value).expect("a JSON value serialises");
    let located = Located {
        file: path.to_path_buf(),
        doc,
        deployment,
        sync_wave,
        digest: hasher.0.finalize().into(),
    };
    let facts = crate::plan::facts(&key, value);
    ObjectSummary {
        key,
        located,
        facts,
    }
}

/// The planner's facts of each object of one file, with the object's
/// deployment: for files that [`compare`] did not read (the same on both sides).
pub fn extract(path: &Path, bytes: &[u8]) -> Result<Vec<(String, Facts)>, DiffError> {
    Ok(objects(path, bytes)?
        .into_iter()
        .filter_map(|s| Some((s.located.deployment, s.facts?)))
        .collect())
}

/// Feeds what is written into a SHA-256.
struct HashWriter(Sha256);

impl std::io::Write for HashWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The deployment an object belongs to: its folder, or for an Argo CD / Flux
/// entry point (in a `_`-folder beside the deployments) the folder it points at.
fn deployment_of(path: &Path, value: &serde_json::Value) -> String {
    let dir = path.parent().unwrap_or(Path::new(""));
    let is_entry = dir
        .file_name()
        .is_some_and(|n| crate::names::is_entry_folder(&n.to_string_lossy()));
    if is_entry {
        let part_of = value["metadata"]["labels"][crate::names::label::PART_OF]
            .as_str()
            .unwrap_or_default();
        slash(&dir.parent().unwrap_or(Path::new("")).join(part_of))
    } else {
        slash(dir)
    }
}

/// The value with every mapping's keys in sorted order.
fn canonical(value: Value) -> Value {
    match value {
        Value::Mapping(map) => {
            let mut entries: Vec<(Value, Value)> =
                map.into_iter().map(|(k, v)| (k, canonical(v))).collect();
            entries.sort_by_key(|e| sort_key(&e.0));
            Value::Mapping(entries.into_iter().collect())
        }
        Value::Sequence(items) => Value::Sequence(items.into_iter().map(canonical).collect()),
        Value::Tagged(t) => Value::Tagged(Box::new(serde_yaml::value::TaggedValue {
            tag: t.tag,
            value: canonical(t.value),
        })),
        other => other,
    }
}

fn sort_key(key: &Value) -> String {
    match key {
        Value::String(s) => s.clone(),
        other => serde_yaml::to_string(other).unwrap_or_default(),
    }
}

fn yaml(value: &Value) -> String {
    serde_yaml::to_string(value).unwrap_or_default()
}

/// Whether a key's value can hold a secret: its words (split at
/// punctuation and camelCase) name a password, token or credentials, or a
/// private, API or access key. A bare `key` (`topologyKey`, a Secret item's
/// `key`, ExternalSecret's `secretKey`) names something, it holds nothing.
pub fn looks_secret(key: &str) -> bool {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut prev_lower = false;
    for c in key.chars() {
        if !c.is_alphanumeric() || (c.is_uppercase() && prev_lower) {
            words.push(std::mem::take(&mut word));
        }
        if c.is_alphanumeric() {
            word.extend(c.to_lowercase());
        }
        prev_lower = c.is_lowercase() || c.is_ascii_digit();
    }
    words.push(word);
    words.retain(|w| !w.is_empty());
    // A path to a secret (REDIS_PASSWORD_FILE) is no secret.
    if words
        .last()
        .is_some_and(|w| matches!(w.as_str(), "file" | "path" | "dir" | "ref" | "name"))
    {
        return false;
    }
    let secret_word = words.iter().any(|w| {
        matches!(
            w.as_str(),
            "password" | "passwd" | "pass" | "token" | "credentials" | "apikey"
        )
    });
    let secret_key = words
        .windows(2)
        .any(|p| p[1] == "key" && matches!(p[0].as_str(), "private" | "api" | "access"));
    secret_word || secret_key
}

pub const MASK: &str = "***";
pub const MASK_CHANGED: &str = "*** (changed)";

/// [`masked`], and every value of a Secret's `data` and `stringData`.
fn masked_object(value: &Value, other: Option<&Value>, is_new: bool) -> Value {
    let mut value = value.clone();
    if value["kind"].as_str() == Some("Secret") {
        for field in ["data", "stringData"] {
            let theirs = other.and_then(|o| o.get(field));
            if let Some(Value::Mapping(m)) = value.get_mut(field) {
                for (k, v) in m.iter_mut() {
                    let changed = is_new && theirs.and_then(|t| t.get(k)).is_some_and(|o| o != v);
                    *v = Value::String(if changed { MASK_CHANGED } else { MASK }.to_owned());
                }
            }
        }
    }
    masked(&value, other, is_new)
}

/// `value` with every scalar under a secret-looking key replaced by a mask,
/// and the `value` of a `{name, value}` pair (an env var) whose name looks secret.
/// `other` is the same object on the other side: on the rendered side
/// (`is_new`), a masked value that differs from it says so, so that a change
/// of a secret shows without showing the secret.
fn masked(value: &Value, other: Option<&Value>, is_new: bool) -> Value {
    match value {
        Value::Mapping(map) => {
            let secret_pair = map
                .get("name")
                .and_then(Value::as_str)
                .is_some_and(looks_secret);
            Value::Mapping(
                map.iter()
                    .map(|(k, v)| {
                        let o = other.and_then(|o| o.get(k));
                        let secret_key = k
                            .as_str()
                            .is_some_and(|k| looks_secret(k) || (secret_pair && k == "value"));
                        // A boolean holds no secret (automountServiceAccountToken).
                        let secret = secret_key
                            && !matches!(
                                v,
                                Value::Mapping(_) | Value::Sequence(_) | Value::Bool(_)
                            );
                        let v = if secret {
                            let changed = is_new && o.is_some_and(|o| o != v);
                            Value::String(if changed { MASK_CHANGED } else { MASK }.to_owned())
                        } else {
                            masked(v, o, is_new)
                        };
                        (k.clone(), v)
                    })
                    .collect(),
            )
        }
        Value::Sequence(items) => Value::Sequence(
            items
                .iter()
                .enumerate()
                .map(|(i, v)| masked(v, other.and_then(|o| o.get(i)), is_new))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Output formats of `diff`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text {
        color: bool,
    },
    /// A pull-request comment of at most `max_chars` characters.
    Markdown {
        max_chars: usize,
    },
    Json,
    Github,
}

/// The default budget of a markdown diff: under GitHub's 65,536-character
/// limit for a comment, with room for a plan beside it.
pub const MARKDOWN_MAX_CHARS: usize = 60_000;

/// The report as the format wants it; `root` prefixes file paths.
pub fn format(report: &Report, format: Format, root: &Path) -> String {
    match format {
        Format::Text { color } => text(report, color, root),
        Format::Markdown { max_chars } => markdown(report, root, max_chars),
        Format::Json => json(report, root),
        Format::Github => github(report, root),
    }
}

fn file(root: &Path, o: &ObjectDiff) -> String {
    root.join(&o.file).display().to_string()
}

fn text(report: &Report, color: bool, root: &Path) -> String {
    let paint = |code: &str, s: &str| {
        if color {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_owned()
        }
    };
    let mut out = String::new();
    for o in &report.objects {
        let (mark, code) = match o.change {
            Change::Changed => ("~", "1;33"),
            Change::Added => ("+", "1;32"),
            Change::Removed => ("-", "1;31"),
        };
        let head = format!("{mark} {} {} ({})", o.change.as_str(), o.key, file(root, o));
        let _ = writeln!(out, "{}", paint(code, &head));
        for line in o.diff.lines() {
            let code = match line.as_bytes().first() {
                _ if line.starts_with("+++") || line.starts_with("---") => "1",
                Some(b'+') => "32",
                Some(b'-') => "31",
                Some(b'@') => "36",
                _ => "",
            };
            let _ = writeln!(
                out,
                "{}",
                if code.is_empty() {
                    line.to_owned()
                } else {
                    paint(code, line)
                }
            );
        }
        out.push('\n');
    }
    let _ = writeln!(out, "{}", report.summary);
    out
}

fn markdown(report: &Report, root: &Path, max_chars: usize) -> String {
    let mut out = String::from("### redis-gitops diff\n\n");
    if report.is_empty() {
        out.push_str("No changes to the rendered manifests.\n");
        return out;
    }
    let _ = writeln!(out, "**{}**\n", report.summary);
    let sections: Vec<String> = report
        .objects
        .iter()
        .map(|o| {
            format!(
                "<details><summary>{}: <code>{}</code> in <code>{}</code></summary>\n\n```diff\n{}```\n\n</details>\n\n",
                o.change.as_str(),
                html_escape(&o.key.to_string()),
                html_escape(&file(root, o)),
                o.diff.replace("```", "`\u{200b}``"),
            )
        })
        .collect();
    let chars = |s: &str| s.chars().count();
    let total = chars(&out) + sections.iter().map(|s| chars(s)).sum::<usize>();
    if total <= max_chars {
        for s in &sections {
            out.push_str(s);
        }
        return out;
    }
    // Over budget: the objects a reviewer must see first (changed before
    // added before removed; workloads and configuration before the rest),
    // as many as fit; the others are named at the end.
    let rank = |o: &ObjectDiff| {
        let change = match o.change {
            Change::Changed => 0,
            Change::Added => 1,
            Change::Removed => 2,
        };
        let kind = match o.key.kind.as_str() {
            "StatefulSet" => 0,
            "ConfigMap" => 1,
            "Job" | "CronJob" => 2,
            "Service" | "NetworkPolicy" | "PodDisruptionBudget" => 3,
            _ => 4,
        };
        (change, kind)
    };
    let mut order: Vec<usize> = (0..sections.len()).collect();
    order.sort_by_key(|i| rank(&report.objects[*i]));
    // Room for the list of what is left out.
    let reserve = 200
        + report
            .objects
            .iter()
            .map(|o| chars(&o.key.to_string()) + 8)
            .sum::<usize>()
            .min(max_chars / 4);
    let mut used = chars(&out);
    let mut shown = vec![false; sections.len()];
    for i in order {
        let n = chars(&sections[i]);
        if used + n + reserve <= max_chars {
            shown[i] = true;
            used += n;
        }
    }
    for (i, s) in sections.iter().enumerate() {
        if shown[i] {
            out.push_str(s);
        }
    }
    let left: Vec<&ObjectDiff> = report
        .objects
        .iter()
        .zip(&shown)
        .filter(|(_, s)| !**s)
        .map(|(o, _)| o)
        .collect();
    let _ = writeln!(
        out,
        "**{} object(s) not shown** (the comment would exceed {max_chars} characters; `redis-gitops diff` shows every one):\n",
        left.len()
    );
    let mut list = String::new();
    for o in left {
        let line = format!("- {}: `{}`\n", o.change.as_str(), o.key);
        if chars(&out) + chars(&list) + chars(&line) + 40 > max_chars {
            list.push_str("- ...\n");
            break;
        }
        list.push_str(&line);
    }
    out.push_str(&list);
    out
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The JSON document `diff --format json` prints (documented in the README).
#[derive(Serialize)]
struct JsonReport<'a> {
    version: u32,
    summary: &'a Summary,
    objects: Vec<JsonObject<'a>>,
}

#[derive(Serialize)]
struct JsonObject<'a> {
    #[serde(flatten)]
    object: &'a ObjectDiff,
    path: String,
}

fn json(report: &Report, root: &Path) -> String {
    let doc = JsonReport {
        version: 1,
        summary: &report.summary,
        objects: report
            .objects
            .iter()
            .map(|o| JsonObject {
                object: o,
                path: file(root, o),
            })
            .collect(),
    };
    let mut s = serde_json::to_string_pretty(&doc).expect("plain data serialises");
    s.push('\n');
    s
}

/// GitHub Actions workflow commands: one annotation per object, on its file.
fn github(report: &Report, root: &Path) -> String {
    use crate::diag::{github_data as data, github_property as property};
    let mut out = String::new();
    for o in &report.objects {
        let level = if o.change == Change::Removed {
            "warning"
        } else {
            "notice"
        };
        let title = format!("redis-gitops: {} {}", o.change.as_str(), o.key);
        let _ = writeln!(
            out,
            "::{level} file={},title={}::{}",
            property(&file(root, o)),
            property(&title),
            data(&o.diff)
        );
    }
    let _ = writeln!(
        out,
        "::notice title={}::{}",
        property("redis-gitops diff"),
        data(&report.summary.to_string())
    );
    out
}

#[cfg(test)]
mod tests {
    use super::{Value, looks_secret, masked_object, yaml};

    #[test]
    fn secret_looking_keys() {
        for k in [
            "password",
            "token",
            "REDIS_PASSWORD",
            "authToken",
            "apiKey",
            "privateKey",
            "secretAccessKey",
            "credentials",
        ] {
            assert!(looks_secret(k), "{k}");
        }
        for k in [
            "name",
            "keyspace",
            "monkey",
            "secretName",
            "passive",
            "key",
            "secretKey",
            "topologyKey",
            "tls.key",
            "ca-cert",
            "REDIS_PASSWORD_FILE",
            "passwordSecretRef",
        ] {
            assert!(!looks_secret(k), "{k}");
        }
    }

    #[test]
    fn secret_data_and_secret_values_are_masked_names_and_booleans_are_not() {
        let v: Value = serde_yaml::from_str(
            "kind: Secret\ndata: {tls.key: c2VjcmV0}\nspec:\n  automountServiceAccountToken: false\n  \
             topologyKey: kubernetes.io/hostname\n  items: [{key: password, path: password}]\n  \
             env: [{name: REDIS_PASSWORD_FILE, value: /secrets/auth/password}, {name: REDIS_PASSWORD, value: hunter2}]\n",
        )
        .unwrap();
        let text = yaml(&masked_object(&v, None, false));
        for shown in [
            "automountServiceAccountToken: false",
            "topologyKey: kubernetes.io/hostname",
            "key: password",
            "value: /secrets/auth/password",
        ] {
            assert!(text.contains(shown), "{shown}:\n{text}");
        }
        assert!(!text.contains("c2VjcmV0"), "{text}");
        assert!(!text.contains("hunter2"), "{text}");
    }
}
