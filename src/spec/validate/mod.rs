//! Checking merged specs into [`Redis`] values that rendering can trust.
//!
//! Every rule reports a located [`Diagnostic`]; all rules run on all specs so
//! a user sees every problem in one run. Only this module constructs a
//! [`Redis`], so rendering never sees an unchecked spec.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::directives;
use super::load::LoadedSpec;
use super::model::{
    self, Engine, KubeText, MaxmemoryPolicy, Mode, Persistence, S, SMap, ScalarString,
};
use super::quantity::Quantity;
use crate::diag::Diagnostic;
use crate::names::label;
use crate::source::{Sources, Span};

pub const API_VERSION: &str = "redis-gitops/v1";
pub const SLOTS: u32 = 16384;
/// Kubernetes adds `-<10 chars>` to a StatefulSet name for the
/// controller-revision-hash label, which must stay within 63 characters.
const MAX_STATEFULSET_NAME: usize = 52;
const MAX_NAME: usize = 63;
/// Labels the compiler sets for selectors; a spec may not override them.
const RESERVED_LABELS: &[&str] = &[
    label::NAME,
    label::INSTANCE,
    label::COMPONENT,
    label::MANAGED_BY,
    label::SHARD,
];
pub const DEFAULT_EXPORTER_IMAGE: &str = "oliver006/redis_exporter:v1.67.0";

mod backup;
mod engine;
mod gitops;
mod identity;
mod k8s;
mod memory;
mod network;
mod placement;
mod resolved;
mod scheduling;
mod security;
mod storage;
mod topology;

pub use backup::DEFAULT_BACKUP_IMAGE;
pub use k8s::{DEFAULT_REPAIR_SCHEDULE, is_dns1035_label, is_dns1123_label, is_dns1123_subdomain};
use k8s::{is_cidr, is_cron_schedule, is_label_key, is_label_value};
pub use placement::{K8s, Placement};
pub use resolved::*;
pub use topology::{
    MAX_CLUSTER_NODES, MAX_REPLICAS_PER_SHARD, MAX_SENTINEL_MODE_PODS, MAX_SENTINELS, MAX_SHARDS,
};

/// Validates every loaded spec; returns the valid ones and every diagnostic.
pub fn validate_all(specs: &[LoadedSpec], sources: &Sources) -> (Vec<Redis>, Vec<Diagnostic>) {
    let mut out = Vec::new();
    let mut diags = Vec::new();
    let mut seen: BTreeMap<(String, String), Span> = BTreeMap::new();
    let mut dirs: BTreeMap<PathBuf, Span> = BTreeMap::new();
    for spec in specs {
        let mut cx = Cx {
            diags: Vec::new(),
            spec,
        };
        let redis = cx.spec();
        if let Some(redis) = &redis {
            let name_span = spec
                .doc
                .metadata
                .as_ref()
                .and_then(|m| m.value.name.as_ref())
                .map_or(spec.span, |n| n.span);
            let key = (redis.namespace.clone(), redis.name.clone());
            if let Some(first) = seen.get(&key) {
                cx.diags.push(
                    Diagnostic::error(
                        name_span,
                        format!("'{}' in namespace '{}' is defined twice", key.1, key.0),
                    )
                    .with_help(format!(
                        "the first definition is at {}:{}:{}",
                        sources.path(first.file).display(),
                        first.line,
                        first.column
                    )),
                );
            } else {
                seen.insert(key, name_span);
            }
            let dir = redis.dir.join(&redis.name);
            if let Some(first) = dirs.get(&dir) {
                if first != &name_span {
                    cx.diags.push(Diagnostic::error(
                        name_span,
                        format!(
                            "another spec in this folder is also named '{}'; both would render into '{}'",
                            redis.name,
                            dir.display()
                        ),
                    ));
                }
            } else {
                dirs.insert(dir, name_span);
            }
        }
        let failed = cx
            .diags
            .iter()
            .any(|d| d.severity == crate::diag::Severity::Error);
        diags.append(&mut cx.diags);
        if let (Some(redis), false) = (redis, failed) {
            out.push(redis);
        }
    }
    (out, diags)
}

struct Cx<'a> {
    diags: Vec<Diagnostic>,
    spec: &'a LoadedSpec,
}

fn val<T: Clone>(field: &Option<S<T>>) -> Option<T> {
    field.as_ref().map(|f| f.value.clone())
}

impl Cx<'_> {
    fn err(&mut self, span: Span, msg: impl Into<String>) -> &mut Diagnostic {
        self.diags.push(Diagnostic::error(span, msg));
        self.diags.last_mut().expect("just pushed")
    }
    /// A required field: reports where it should be when missing.
    fn required<'f, T>(
        &mut self,
        field: &'f Option<S<T>>,
        at: Span,
        what: &str,
    ) -> Option<&'f S<T>> {
        if field.is_none() && !self.spec.broken_defaults {
            self.err(at, format!("missing required field '{what}'"));
        }
        field.as_ref()
    }
    /// A field set in the spec's own file (not inherited) that its mode ignores.
    fn not_for_mode<T>(&mut self, field: &Option<S<T>>, name: &str, mode: Mode, applies: &str) {
        if let Some(f) = field {
            if f.span.file == self.spec.file {
                self.err(f.span, format!("'{name}' does not apply to {mode} mode"))
                    .help = Some(format!("'{name}' is for {applies} mode; remove it"));
            }
        }
    }
    fn quantity(&mut self, field: &S<ScalarString>, what: &str) -> Option<Quantity> {
        match Quantity::parse(&field.value.0) {
            Ok(q) if q.is_negative() => {
                self.err(field.span, format!("{what} cannot be negative"));
                None
            }
            Ok(q) => Some(q),
            Err(e) => {
                let text = field.value.0.trim();
                let digits = text
                    .find(|c: char| !(c.is_ascii_digit() || c == '.'))
                    .unwrap_or(text.len());
                let (number, unit) = text.split_at(digits);
                // 1GB, 1gb, 1gi: the binary unit is what memory and disks are sized in.
                let meant = match unit.to_ascii_lowercase().as_str() {
                    "kb" | "ki" | "kib" => Some("Ki"),
                    "mb" | "mi" | "mib" => Some("Mi"),
                    "gb" | "gi" | "gib" => Some("Gi"),
                    "tb" | "ti" | "tib" => Some("Ti"),
                    _ => None,
                };
                self.err(field.span, format!("invalid {what}: {e}")).help =
                    Some(match meant.filter(|_| !number.is_empty()) {
                        Some(unit) => format!(
                            "did you mean {number}{unit}? Kubernetes units are Ki, Mi, Gi, Ti \
                             (powers of 2) and k, M, G, T (powers of 10), case-sensitive"
                        ),
                        None => "use a Kubernetes quantity such as 512Mi, 4Gi or 500m".into(),
                    });
                None
            }
        }
    }
    /// A quantity of bytes (memory, storage, a dataset): a bare number is
    /// bytes to Kubernetes, which is almost never what was meant, and less
    /// than 1Mi holds no Redis data.
    fn bytes(&mut self, field: &S<ScalarString>, what: &str) -> Option<Quantity> {
        let q = self.quantity(field, what)?;
        let text = field.value.0.trim();
        if q.is_zero() {
            return Some(q);
        }
        if text.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
            self.err(
                field.span,
                format!("{what} '{text}' has no unit: that is {text} bytes"),
            )
            .help = Some(format!(
                "Kubernetes reads a bare number as bytes; write {text}Gi or {text}Mi"
            ));
            return None;
        }
        if q.whole_units() < 1 << 20 {
            self.err(field.span, format!("{what} {q} is below 1Mi"))
                .help = Some("write the size with a binary unit, such as 512Mi or 4Gi".into());
            return None;
        }
        Some(q)
    }
    /// The checks of single values, for a document with a value that could
    /// not be read: quantities, and the values of config directives each
    /// engine knows (whether a directive exists depends on the engine and
    /// version, which may be the value that did not read).
    fn single_values(&mut self) {
        let Some(spec) = self.spec.doc.spec.as_ref().map(|s| s.value.clone()) else {
            return;
        };
        if let Some(r) = &spec.resources {
            for list in [&r.value.requests, &r.value.limits].into_iter().flatten() {
                if let Some(cpu) = &list.value.cpu {
                    self.quantity(cpu, "cpu");
                }
                if let Some(memory) = &list.value.memory {
                    self.bytes(memory, "memory");
                }
            }
        }
        if let Some(size) = spec.storage.as_ref().and_then(|s| s.value.size.as_ref()) {
            self.bytes(size, "storage size");
        }
        if let Some(m) = spec
            .maxmemory
            .as_ref()
            .filter(|m| !m.value.0.trim().ends_with('%'))
        {
            self.bytes(m, "maxmemory");
        }
        if let Some(d) = spec
            .capacity
            .as_ref()
            .and_then(|c| c.value.dataset_size.as_ref())
        {
            self.bytes(d, "dataset size");
        }
        let engine = val(&spec.engine).unwrap_or(Engine::Redis);
        let (major, minor) = directives::newest(engine);
        let version = val(&spec.version)
            .and_then(|v| parse_version(&v.0))
            .unwrap_or(Version {
                major,
                minor,
                patch: 0,
            });
        self.config(spec.config.as_ref(), engine, version, false);
    }

    fn spec(&mut self) -> Option<Redis> {
        if self.spec.damaged {
            self.single_values();
            return None;
        }
        let doc = &self.spec.doc;
        let at = self.spec.span;
        match &doc.api_version {
            Some(v) if v.value == API_VERSION => {}
            Some(v) => {
                self.err(v.span, format!("unsupported apiVersion '{}'", v.value))
                    .help = Some(format!("use '{API_VERSION}'"));
            }
            None => {
                self.err(at, "missing required field 'apiVersion'").help =
                    Some(format!("add 'apiVersion: {API_VERSION}'"));
            }
        }
        match &doc.kind {
            Some(k) if k.value == "Redis" => {}
            Some(k) => {
                self.err(k.span, format!("unsupported kind '{}'", k.value))
                    .help = Some("use 'Redis'".into());
            }
            None => {
                self.err(at, "missing required field 'kind'").help =
                    Some("add 'kind: Redis'".into());
            }
        }
        let meta = self
            .required(&doc.metadata, at, "metadata")
            .map(|m| m.value.clone())
            .unwrap_or_default();
        let spec_s = self.required(&doc.spec, at, "spec").cloned();
        let spec = spec_s.as_ref().map(|s| s.value.clone()).unwrap_or_default();
        let spec_at = spec_s.as_ref().map_or(at, |s| s.span);
        let meta_at = doc.metadata.as_ref().map_or(at, |m| m.span);

        let mode = val(&spec.mode).unwrap_or(Mode::Standalone);
        let engine = val(&spec.engine).unwrap_or(Engine::Redis);
        let topology = self.topology(&spec, mode, spec_at);

        let name = self.required(&meta.name, meta_at, "metadata.name").cloned();
        let name = name.and_then(|n| self.name(&n, &topology).then_some(n.value));
        let namespace = self
            .required(&meta.namespace, meta_at, "metadata.namespace")
            .cloned();
        let namespace = namespace.and_then(|ns| {
            if is_dns1123_label(&ns.value) {
                Some(ns.value)
            } else {
                self.err(
                    ns.span,
                    format!("namespace '{}' is not a valid DNS-1123 label", ns.value),
                )
                .help = Some("lower-case letters, digits and '-', at most 63 characters".into());
                None
            }
        });
        let labels = self.labels(meta.labels.as_ref());

        let version = self.version(&spec, engine, mode, spec_at);
        let image = self.image(&spec, engine, version);
        let resources = self.resources(&spec, spec_at);
        let limit = resources.as_ref().map(|r| r.limits.memory);
        let maxmemory_bytes = limit.and_then(|l| self.maxmemory(&spec, l));
        let maxmemory_policy = self.policy(&spec, engine, version);
        let storage = self.storage(&spec);
        // Storage written but unreadable is reported where it is written:
        // persistence is judged as if it were there, so no echo follows.
        let persistence = self.persistence(&spec, spec.storage.is_some(), mode);
        let save_points = self.save_points(&spec, persistence);
        let dataset = match (&spec.capacity, maxmemory_bytes) {
            (Some(cap), Some(maxmem)) => self.capacity(&cap.value, &topology, maxmem),
            _ => None,
        };
        let auth = spec.auth.as_ref().and_then(|a| self.auth(a));
        let tls = spec.tls.as_ref().and_then(|t| self.tls(t));
        let metrics = spec.metrics.as_ref().and_then(|m| self.metrics(m));
        let allow_from = self.allow_from(&spec);
        let scheduling = self.scheduling(&spec);
        let config = match version {
            Some(v) => Some(self.config(spec.config.as_ref(), engine, v, false)),
            None => {
                // Still checked, against the newest version known, so that a
                // missing version does not hide the config's own errors.
                let (major, minor) = directives::newest(engine);
                let newest = Version {
                    major,
                    minor,
                    patch: 0,
                };
                self.config(spec.config.as_ref(), engine, newest, true);
                None
            }
        };
        let gitops = self.gitops(&spec);
        let repair_schedule = if mode == Mode::Cluster {
            self.repair(&spec)
        } else {
            None
        };
        let backup = spec
            .backup
            .as_ref()
            .and_then(|b| self.backup(b, name.as_deref(), namespace.as_deref()));
        let restore = self.restore(
            &spec,
            backup.as_ref(),
            name.as_deref(),
            namespace.as_deref(),
        );

        let image_pull_secrets = self.image_pull_secrets(&spec);
        let pod_annotations = self.annotations(spec.pod_annotations.as_ref());
        let pod_labels = self.labels(spec.pod_labels.as_ref());
        let service_annotations = spec
            .service_annotations
            .as_ref()
            .map(|s| ServiceAnnotations {
                client: self.annotations(s.value.client.as_ref()),
                headless: self.annotations(s.value.headless.as_ref()),
            })
            .unwrap_or_default();

        let source = self.spec.source.clone();
        let redis = Redis {
            name: name?,
            namespace: namespace?,
            labels: labels?,
            source,
            dir: self.spec.dir.clone(),
            engine,
            version: version?,
            image: image?,
            topology: topology?,
            resources: resources?,
            maxmemory_bytes: maxmemory_bytes?,
            maxmemory_policy,
            storage,
            persistence,
            save_points,
            dataset,
            auth,
            tls,
            metrics,
            allow_from,
            scheduling,
            config: config?,
            gitops,
            repair_schedule,
            backup,
            restore,
            image_pull_secrets,
            pod_annotations,
            pod_labels: pod_labels?,
            service_annotations,
        };
        self.placement_conflicts(&spec, &redis);
        Some(redis)
    }
}

/// In-process checks of single rules: the messages validation gives a
/// small inline spec.
#[cfg(test)]
pub(super) mod testing {
    use std::path::{Path, PathBuf};

    /// The messages for a whole spec document.
    pub fn messages_of(text: &str) -> Vec<String> {
        let loaded = crate::spec::load::load_files(
            Path::new("specs"),
            vec![(PathBuf::from("specs/t.yaml"), text.as_bytes().to_vec())],
        );
        let (_, diags) = super::validate_all(&loaded.specs, &loaded.sources);
        loaded
            .diagnostics
            .iter()
            .chain(&diags)
            .map(|d| d.message.clone())
            .collect()
    }

    /// The messages for a spec with a version and a memory limit and
    /// `body` (lines under `spec:`, indented by two spaces).
    pub fn messages(body: &str) -> Vec<String> {
        messages_of(&format!(
            "apiVersion: redis-gitops/v1\nkind: Redis\nmetadata: {{name: t, namespace: t}}\nspec:\n  \
             version: \"7.2.5\"\n  resources: {{limits: {{memory: 1Gi}}}}\n{body}"
        ))
    }

    /// Asserts that exactly one message contains `part`.
    pub fn says(body: &str, part: &str) {
        let m = messages(body);
        assert_eq!(
            m.iter().filter(|x| x.contains(part)).count(),
            1,
            "'{part}' in {m:?}"
        );
    }

    #[test]
    fn a_plain_spec_has_no_message() {
        assert_eq!(messages(""), Vec::<String>::new());
    }
}
