//! Checking merged specs into [`Redis`] values that rendering can trust.
//!
//! Every rule reports a located [`Diagnostic`]; all rules run on all specs so
//! a user sees every problem in one run. Only this module constructs a
//! [`Redis`], so rendering never sees an unchecked spec.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::directives;
use super::load::LoadedSpec;
use super::model::{self, Engine, Mode, Persistence, S, SMap, ScalarString};
use super::quantity::Quantity;
use crate::diag::{Diagnostic, did_you_mean};
use crate::source::{Sources, Span};

pub const API_VERSION: &str = "redis-gitops/v1";
pub const SLOTS: u32 = 16384;
/// Kubernetes adds `-<10 chars>` to a StatefulSet name for the
/// controller-revision-hash label, which must stay within 63 characters.
const MAX_STATEFULSET_NAME: usize = 52;
const MAX_NAME: usize = 63;
/// Labels the compiler sets for selectors; a spec may not override them.
const RESERVED_LABELS: &[&str] = &[
    "app.kubernetes.io/name",
    "app.kubernetes.io/instance",
    "app.kubernetes.io/component",
    "app.kubernetes.io/managed-by",
    "redis-gitops.io/shard",
];
pub const MAXMEMORY_POLICIES: &[&str] = &[
    "noeviction",
    "allkeys-lru",
    "allkeys-lfu",
    "allkeys-random",
    "volatile-lru",
    "volatile-lfu",
    "volatile-random",
    "volatile-ttl",
];
pub const DEFAULT_EXPORTER_IMAGE: &str = "oliver006/redis_exporter:v1.67.0";

/// A checked, complete deployment: every default applied, every value valid.
#[derive(Debug, Clone, PartialEq)]
pub struct Redis {
    pub name: String,
    pub namespace: String,
    pub labels: BTreeMap<String, String>,
    /// The spec file, relative to the working directory, for generated headers.
    pub source: PathBuf,
    /// Output folder relative to the output root.
    pub dir: PathBuf,
    pub engine: Engine,
    pub version: Version,
    pub image: String,
    pub topology: Topology,
    pub resources: Resources,
    pub maxmemory_bytes: u64,
    pub maxmemory_policy: String,
    pub storage: Option<Storage>,
    pub persistence: Persistence,
    pub dataset: Option<Quantity>,
    pub auth: Option<Auth>,
    pub tls: Option<Tls>,
    pub metrics: Option<Metrics>,
    pub allow_from: Vec<Peer>,
    pub scheduling: Scheduling,
    pub config: BTreeMap<String, String>,
    pub gitops: Gitops,
    /// Cluster mode: the repair CronJob's schedule, when it is on.
    pub repair_schedule: Option<String>,
}

impl Redis {
    pub fn mode(&self) -> Mode {
        match self.topology {
            Topology::Standalone => Mode::Standalone,
            Topology::Sentinel { .. } => Mode::Sentinel,
            Topology::Cluster { .. } => Mode::Cluster,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

impl Version {
    pub fn at_least(&self, major: u32, minor: u32) -> bool {
        (self.major, self.minor) >= (major, minor)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Topology {
    Standalone,
    Sentinel {
        replicas: u32,
        sentinels: u32,
        quorum: u32,
        down_after_ms: u32,
        failover_timeout_ms: u32,
    },
    Cluster {
        shards: u32,
        replicas_per_shard: u32,
        drain_shards: u32,
    },
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Resources {
    pub requests: BTreeMap<String, Quantity>,
    pub limits: BTreeMap<String, Quantity>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Storage {
    pub size: Quantity,
    pub class: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Auth {
    pub secret_name: String,
    pub secret_key: String,
    pub external: Option<ExternalSecret>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ExternalSecret {
    pub store_name: String,
    pub store_kind: String,
    pub remote_key: String,
    pub remote_property: Option<String>,
    pub refresh_interval: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Tls {
    pub secret_name: String,
    pub cert_manager: Option<CertManager>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CertManager {
    pub issuer_name: String,
    pub issuer_kind: String,
    pub issuer_group: String,
    pub duration: String,
    pub renew_before: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Metrics {
    pub image: String,
    pub service_monitor: bool,
    pub prometheus_rule: bool,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Peer {
    pub pod_labels: Option<BTreeMap<String, String>>,
    pub namespace_labels: Option<BTreeMap<String, String>>,
    pub ip_block: Option<(String, Vec<String>)>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Toleration {
    pub key: Option<String>,
    pub operator: Option<String>,
    pub value: Option<String>,
    pub effect: Option<String>,
    pub toleration_seconds: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Scheduling {
    pub node_selector: BTreeMap<String, String>,
    pub tolerations: Vec<Toleration>,
    pub priority_class_name: Option<String>,
    pub zone_spread: bool,
    /// Cluster mode: never two pods of one shard on one node.
    pub shard_anti_affinity: model::AntiAffinity,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Gitops {
    pub sync_wave: i32,
    pub argocd: Option<ArgoCd>,
    pub flux: Option<Flux>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ArgoCd {
    pub project: String,
    pub repo_url: String,
    pub target_revision: String,
    pub destination_server: String,
    pub namespace: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Flux {
    pub source_kind: String,
    pub source_name: String,
    pub source_namespace: String,
    pub interval: String,
}

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
                self.err(field.span, format!("invalid {what}: {e}")).help =
                    Some("use a Kubernetes quantity such as 512Mi, 4Gi or 500m".into());
                None
            }
        }
    }

    fn spec(&mut self) -> Option<Redis> {
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
        let limit = resources
            .as_ref()
            .and_then(|r| r.limits.get("memory").copied());
        let maxmemory_bytes = limit.and_then(|l| self.maxmemory(&spec, l));
        let maxmemory_policy = self.policy(&spec);
        let storage = self.storage(&spec);
        let persistence = self.persistence(&spec, storage.is_some(), mode);
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

        let source = self.spec.source.clone();
        Some(Redis {
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
            dataset,
            auth,
            tls,
            metrics,
            allow_from,
            scheduling,
            config: config?,
            gitops,
            repair_schedule,
        })
    }

    /// The repair CronJob's schedule, or None when `repair.enabled: false`.
    fn repair(&mut self, spec: &model::Spec) -> Option<String> {
        let r = spec.repair.as_ref().map(|r| &r.value);
        if !r.and_then(|r| val(&r.enabled)).unwrap_or(true) {
            return None;
        }
        let Some(s) = r.and_then(|r| r.schedule.as_ref()) else {
            return Some(DEFAULT_REPAIR_SCHEDULE.into());
        };
        if !is_cron_schedule(&s.value) {
            self.err(s.span, format!("'{}' is not a cron schedule", s.value))
                .help = Some(format!(
                "five fields: minute hour day-of-month month day-of-week, e.g. \"{DEFAULT_REPAIR_SCHEDULE}\", or @hourly / @daily"
            ));
        }
        Some(s.value.clone())
    }

    fn name(&mut self, name: &S<String>, topology: &Option<Topology>) -> bool {
        if !is_dns1035_label(&name.value) {
            self.err(name.span, format!("name '{}' is not a valid DNS-1035 label", name.value))
                .help = Some("start with a lower-case letter; then lower-case letters, digits and '-'; end with a letter or digit".into());
            return false;
        }
        // The longest name derived from it, and that name's limit.
        let (longest, limit) = match topology {
            Some(Topology::Cluster { shards, .. }) => (
                crate::names::shard(&name.value, shards.saturating_sub(1)),
                MAX_STATEFULSET_NAME,
            ),
            Some(Topology::Sentinel { .. }) => {
                (crate::names::sentinel(&name.value), MAX_STATEFULSET_NAME)
            }
            _ => (crate::names::headless(&name.value), MAX_NAME),
        };
        let job = crate::names::reconcile_job(&name.value, "12345678");
        let (longest, limit) = if longest.len() > limit || job.len() <= MAX_NAME {
            (longest, limit)
        } else {
            (job, MAX_NAME)
        };
        if longest.len() > limit {
            let over = longest.len() - limit;
            self.err(name.span, format!(
                "name '{}' is too long: the derived name '{}' would have {} characters, more than Kubernetes' {}",
                name.value, longest, longest.len(), limit
            ))
            .help = Some(format!("shorten the name by at least {over} characters"));
            return false;
        }
        true
    }

    fn labels(
        &mut self,
        labels: Option<&S<SMap<ScalarString>>>,
    ) -> Option<BTreeMap<String, String>> {
        let mut out = BTreeMap::new();
        let mut ok = true;
        for (k, v) in labels
            .map(|l| l.value.entries.as_slice())
            .unwrap_or_default()
        {
            if RESERVED_LABELS.contains(&k.value.as_str()) {
                self.err(
                    k.span,
                    format!("label '{}' is set by redis-gitops", k.value),
                )
                .help = Some("the compiler uses it in selectors; choose another key".into());
                ok = false;
            } else if !is_label_key(&k.value) {
                self.err(k.span, format!("'{}' is not a valid label key", k.value));
                ok = false;
            } else if !is_label_value(&v.value.0) {
                self.err(v.span, format!("'{}' is not a valid label value", v.value.0))
                    .help = Some("at most 63 characters: letters, digits, '-', '_' and '.', starting and ending with a letter or digit".into());
                ok = false;
            } else {
                out.insert(k.value.clone(), v.value.0.clone());
            }
        }
        ok.then_some(out)
    }

    fn topology(&mut self, spec: &model::Spec, mode: Mode, at: Span) -> Option<Topology> {
        match mode {
            Mode::Standalone => {
                self.not_for_mode(&spec.replicas, "replicas", mode, "sentinel");
                self.not_for_mode(&spec.shards, "shards", mode, "cluster");
                self.not_for_mode(
                    &spec.replicas_per_shard,
                    "replicasPerShard",
                    mode,
                    "cluster",
                );
                self.not_for_mode(&spec.drain_shards, "drainShards", mode, "cluster");
                self.not_for_mode(&spec.repair, "repair", mode, "cluster");
                self.not_for_mode(&spec.sentinel, "sentinel", mode, "sentinel");
                Some(Topology::Standalone)
            }
            Mode::Sentinel => {
                self.not_for_mode(&spec.shards, "shards", mode, "cluster");
                self.not_for_mode(
                    &spec.replicas_per_shard,
                    "replicasPerShard",
                    mode,
                    "cluster",
                );
                self.not_for_mode(&spec.drain_shards, "drainShards", mode, "cluster");
                self.not_for_mode(&spec.repair, "repair", mode, "cluster");
                let replicas = val(&spec.replicas).unwrap_or(3);
                if let Some(r) = spec
                    .replicas
                    .as_ref()
                    .filter(|r| r.value > MAX_SENTINEL_MODE_PODS)
                {
                    self.err(
                        r.span,
                        format!("at most {MAX_SENTINEL_MODE_PODS} Redis pods in sentinel mode, got {}", r.value),
                    )
                    .help = Some("every replica copies the whole dataset; for more capacity use cluster mode".into());
                }
                if let Some(r) = spec.replicas.as_ref().filter(|r| r.value < 2) {
                    self.err(
                        r.span,
                        format!("sentinel mode needs at least 2 Redis pods, got {}", r.value),
                    )
                    .help = Some("one primary and at least one replica to fail over to".into());
                }
                let s = spec
                    .sentinel
                    .as_ref()
                    .map(|s| s.value.clone())
                    .unwrap_or_default();
                let sentinels = val(&s.replicas).unwrap_or(3);
                if let Some(r) = s.replicas.as_ref().filter(|r| r.value < 1) {
                    self.err(r.span, "at least 1 sentinel is needed");
                }
                if let Some(r) = s.replicas.as_ref().filter(|r| r.value > MAX_SENTINELS) {
                    self.err(
                        r.span,
                        format!("at most {MAX_SENTINELS} sentinels, got {}", r.value),
                    )
                    .help = Some("3 or 5 sentinels tolerate one or two failures".into());
                }
                let quorum = val(&s.quorum).unwrap_or(sentinels / 2 + 1);
                if let Some(q) = &s.quorum {
                    if q.value < 1 || q.value > sentinels {
                        self.err(q.span, format!(
                            "quorum {} must be between 1 and the number of sentinels ({sentinels})",
                            q.value
                        ))
                        .help = Some(format!("a majority of {sentinels} sentinels is {}", sentinels / 2 + 1));
                    }
                }
                let down_after_ms = val(&s.down_after_milliseconds).unwrap_or(5000);
                let failover_timeout_ms = val(&s.failover_timeout).unwrap_or(60000);
                for f in [&s.down_after_milliseconds, &s.failover_timeout]
                    .into_iter()
                    .flatten()
                {
                    if f.value == 0 {
                        self.err(f.span, "must be greater than 0");
                    }
                }
                Some(Topology::Sentinel {
                    replicas,
                    sentinels,
                    quorum,
                    down_after_ms,
                    failover_timeout_ms,
                })
            }
            Mode::Cluster => {
                self.not_for_mode(&spec.replicas, "replicas", mode, "sentinel");
                self.not_for_mode(&spec.sentinel, "sentinel", mode, "sentinel");
                let shards = val(&spec.shards).unwrap_or(3);
                let drain_shards = val(&spec.drain_shards).unwrap_or(0);
                let replicas_per_shard = val(&spec.replicas_per_shard).unwrap_or(1);
                let span = spec.shards.as_ref().map_or(at, |s| s.span);
                if drain_shards > shards {
                    let d = spec.drain_shards.as_ref().map_or(at, |d| d.span);
                    self.err(
                        d,
                        format!("drainShards {drain_shards} is more than shards {shards}"),
                    );
                    return None;
                }
                if shards > MAX_SHARDS {
                    self.err(span, format!("at most {MAX_SHARDS} shards, got {shards}"))
                        .help = Some(format!(
                        "Redis Cluster is built for up to {MAX_CLUSTER_NODES} nodes (primaries and replicas)"
                    ));
                    return None;
                }
                if let Some(r) = spec
                    .replicas_per_shard
                    .as_ref()
                    .filter(|r| r.value > MAX_REPLICAS_PER_SHARD)
                {
                    self.err(
                        r.span,
                        format!(
                            "at most {MAX_REPLICAS_PER_SHARD} replicas per shard, got {}",
                            r.value
                        ),
                    );
                    return None;
                }
                let nodes = u64::from(shards) * (1 + u64::from(replicas_per_shard));
                if nodes > u64::from(MAX_CLUSTER_NODES) {
                    self.err(
                        span,
                        format!(
                            "{shards} shards x {} pods is {nodes} nodes; Redis Cluster is built for up to {MAX_CLUSTER_NODES}",
                            1 + replicas_per_shard
                        ),
                    )
                    .help = Some("fewer shards with more memory each, or fewer replicas per shard".into());
                    return None;
                }
                if shards - drain_shards < 3 {
                    let serving = shards - drain_shards;
                    self.err(span, format!(
                        "Redis Cluster needs at least 3 serving shards, this spec has {serving} ({shards} shards, {drain_shards} draining)"
                    ))
                    .help = Some("a cluster of fewer than 3 primaries cannot reach a failover majority".into());
                    return None;
                }
                if let Some(r) = spec.replicas_per_shard.as_ref().filter(|r| r.value > 5) {
                    self.diags.push(Diagnostic::warning(
                        r.span,
                        format!("{} replicas per shard is unusual", r.value),
                    ));
                }
                Some(Topology::Cluster {
                    shards,
                    replicas_per_shard,
                    drain_shards,
                })
            }
        }
    }

    fn version(
        &mut self,
        spec: &model::Spec,
        engine: Engine,
        mode: Mode,
        at: Span,
    ) -> Option<Version> {
        let v = self.required(&spec.version, at, "spec.version")?.clone();
        let parsed = parse_version(&v.value.0);
        let Some(version) = parsed else {
            let what = match v.value.0.as_str() {
                // `true` / `false` arrive as yes / no (see ScalarString).
                "yes" | "no" => "a boolean is not a version".to_owned(),
                other => format!("'{other}' is not a version"),
            };
            self.err(v.span, what).help =
                Some("use the image tag's version, e.g. \"7.2.5\"".into());
            return None;
        };
        let (min_major, min_minor) = match engine {
            Engine::Redis => (7, 0),
            Engine::Valkey => (7, 2),
        };
        if !version.at_least(min_major, min_minor) {
            let why = if mode == Mode::Cluster {
                "cluster mode's reconcile Job relies on CLUSTER SHARDS and ADDSLOTSRANGE"
            } else {
                "the rendered configuration uses 7.x directives"
            };
            self.err(v.span, format!(
                "{engine} {} is not supported; {engine} {min_major}.{min_minor} or newer is needed",
                v.value.0
            ))
            .help = Some(why.into());
            return None;
        }
        Some(version)
    }

    fn image(
        &mut self,
        spec: &model::Spec,
        engine: Engine,
        version: Option<Version>,
    ) -> Option<String> {
        if let Some(img) = &spec.image {
            let value = img.value.trim();
            if value.is_empty() {
                // An empty image means "the official one" (as in the contract's example).
            } else if let Some((_, digest)) = value.split_once('@') {
                let ok = digest.strip_prefix("sha256:").is_some_and(|h| {
                    h.len() == 64
                        && h.bytes()
                            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
                });
                if !ok {
                    self.err(img.span, format!("'{value}' has an invalid digest"))
                        .help = Some("a digest is '@sha256:' and 64 lower-case hex digits".into());
                    return None;
                }
                return Some(value.to_owned());
            } else if value.contains(char::is_whitespace)
                || value.ends_with(":latest")
                || !value.rsplit('/').next().unwrap_or("").contains(':')
            {
                self.err(
                    img.span,
                    format!("image '{value}' must name a tag or digest, not latest"),
                )
                .help = Some("pin the image, e.g. redis:7.2.5 or redis@sha256:...".into());
                return None;
            } else {
                return Some(value.to_owned());
            }
        }
        let v = version?;
        let repo = match engine {
            Engine::Redis => "redis",
            Engine::Valkey => "valkey/valkey",
        };
        let tag = spec
            .version
            .as_ref()
            .map(|s| s.value.0.clone())
            .unwrap_or_else(|| format!("{}.{}.{}", v.major, v.minor, v.patch));
        Some(format!("{repo}:{tag}"))
    }

    fn resources(&mut self, spec: &model::Spec, at: Span) -> Option<Resources> {
        let r = spec
            .resources
            .as_ref()
            .map(|r| r.value.clone())
            .unwrap_or_default();
        let r_at = spec.resources.as_ref().map_or(at, |r| r.span);
        let mut out = Resources::default();
        let mut ok = true;
        for (list, target) in [
            (&r.requests, &mut out.requests),
            (&r.limits, &mut out.limits),
        ] {
            let list = list.as_ref().map(|l| l.value.clone()).unwrap_or_default();
            for (key, field) in [("cpu", &list.cpu), ("memory", &list.memory)] {
                if let Some(f) = field {
                    match self.quantity(f, key) {
                        Some(q) if q.is_zero() => {
                            self.err(f.span, format!("{key} cannot be 0"));
                            ok = false;
                        }
                        Some(q) => {
                            target.insert(key.to_owned(), q);
                        }
                        None => ok = false,
                    }
                }
            }
        }
        let written = r.limits.as_ref().is_some_and(|l| l.value.memory.is_some());
        let Some(limit) = out.limits.get("memory").copied() else {
            if written || self.spec.broken_defaults {
                // Present but invalid: already reported where it is written;
                // or perhaps in a defaults file that did not parse.
                return None;
            }
            let limits_at = r.limits.as_ref().map_or(r_at, |l| l.span);
            self.err(limits_at, "missing required field 'resources.limits.memory'")
                .help = Some("Redis needs a memory limit: maxmemory is derived from it, and an unbounded Redis is killed by the node, not by its eviction policy".into());
            return None;
        };
        // Guaranteed memory: a Redis pod whose request is below its limit is the first evicted.
        out.requests.entry("memory".into()).or_insert(limit);
        for key in ["cpu", "memory"] {
            if let (Some(req), Some(lim)) = (out.requests.get(key), out.limits.get(key)) {
                if req.millis() > lim.millis() {
                    let span = r
                        .requests
                        .as_ref()
                        .and_then(|l| {
                            if key == "cpu" {
                                l.value.cpu.as_ref()
                            } else {
                                l.value.memory.as_ref()
                            }
                        })
                        .map_or(r_at, |f| f.span);
                    self.err(
                        span,
                        format!("{key} request {req} is above the limit {lim}"),
                    );
                    ok = false;
                }
            }
        }
        ok.then_some(out)
    }

    fn maxmemory(&mut self, spec: &model::Spec, limit: Quantity) -> Option<u64> {
        let bytes = self.maxmemory_bytes(spec, limit)?;
        // Redis reads `maxmemory 0` as no limit at all, and below a few
        // MiB it cannot even hold its own buffers.
        if bytes < MIN_MAXMEMORY {
            let at = spec
                .maxmemory
                .as_ref()
                .map(|m| m.span)
                .or_else(|| spec.resources.as_ref().map(|r| r.span))
                .unwrap_or(self.spec.span);
            self.err(
                at,
                format!(
                    "maxmemory would be {bytes} bytes (from the memory limit {limit}); at least 1Mi is needed"
                ),
            )
            .help = Some(
                "a memory limit is in bytes unless it has a unit: write 256Mi or 1Gi, not 256".into(),
            );
            return None;
        }
        Some(bytes)
    }

    fn maxmemory_bytes(&mut self, spec: &model::Spec, limit: Quantity) -> Option<u64> {
        let limit_bytes = u64::try_from(limit.whole_units()).ok()?;
        let Some(m) = &spec.maxmemory else {
            return Some(limit_bytes / 100 * 75 + limit_bytes % 100 * 75 / 100);
        };
        let text = m.value.0.trim();
        if let Some(pct) = text.strip_suffix('%') {
            match pct.trim().parse::<u64>() {
                Ok(p) if (1..100).contains(&p) => {
                    Some(limit_bytes / 100 * p + limit_bytes % 100 * p / 100)
                }
                _ => {
                    self.err(m.span, format!("maxmemory '{text}' must be a whole percentage from 1% to 99% of the memory limit"))
                        .help = Some("leave headroom for fragmentation, replication buffers and fork copy-on-write; 75% is the default".into());
                    None
                }
            }
        } else {
            let q = self.quantity(m, "maxmemory")?;
            let bytes = u64::try_from(q.whole_units()).unwrap_or(u64::MAX);
            if bytes == 0 || bytes >= limit_bytes {
                self.err(
                    m.span,
                    format!("maxmemory {q} must be above 0 and below the memory limit {limit}"),
                )
                .help = Some(
                    "Redis needs headroom above maxmemory; use a percentage such as 75%".into(),
                );
                return None;
            }
            Some(bytes)
        }
    }

    fn policy(&mut self, spec: &model::Spec) -> String {
        let Some(p) = &spec.maxmemory_policy else {
            return "noeviction".into();
        };
        if !MAXMEMORY_POLICIES.contains(&p.value.as_str()) {
            let d = self.err(p.span, format!("unknown maxmemory policy '{}'", p.value));
            d.help = Some(
                match did_you_mean(&p.value, MAXMEMORY_POLICIES.iter().copied()) {
                    Some(best) => format!("did you mean '{best}'?"),
                    None => format!("expected one of: {}", MAXMEMORY_POLICIES.join(", ")),
                },
            );
        }
        p.value.clone()
    }

    fn storage(&mut self, spec: &model::Spec) -> Option<Storage> {
        let s = spec.storage.as_ref()?;
        let size = self
            .required(&s.value.size, s.span, "storage.size")?
            .clone();
        let size = self.quantity(&size, "storage size").filter(|q| {
            let ok = !q.is_zero();
            if !ok {
                self.err(size.span, "storage size cannot be 0");
            }
            ok
        })?;
        let class = s.value.storage_class.clone().and_then(|c| {
            if is_dns1123_subdomain(&c.value) {
                Some(c.value)
            } else {
                self.err(
                    c.span,
                    format!("'{}' is not a valid StorageClass name", c.value),
                );
                None
            }
        });
        Some(Storage { size, class })
    }

    fn persistence(&mut self, spec: &model::Spec, has_storage: bool, mode: Mode) -> Persistence {
        let default = if has_storage {
            Persistence::Rdb
        } else {
            Persistence::None
        };
        let Some(p) = &spec.persistence else {
            if !has_storage && mode == Mode::Cluster {
                self.diags.push(Diagnostic::warning(
                    spec.mode.as_ref().map_or(self.spec.span, |m| m.span),
                    "cluster mode without spec.storage: a restarted pod loses nodes.conf and its data, and must be re-added by the reconcile Job",
                ));
            }
            return default;
        };
        if p.value != Persistence::None && !has_storage {
            self.err(p.span, format!("persistence '{}' needs spec.storage", p.value))
                .help = Some("without a volume the files are lost with the pod; add storage: {size: ...} or use persistence: none".into());
        }
        p.value
    }

    fn capacity(
        &mut self,
        cap: &model::Capacity,
        topology: &Option<Topology>,
        maxmemory: u64,
    ) -> Option<Quantity> {
        let size = cap.dataset_size.as_ref()?;
        let q = self.quantity(size, "dataset size")?;
        let total = u64::try_from(q.whole_units()).unwrap_or(u64::MAX);
        let serving = match topology {
            Some(Topology::Cluster {
                shards,
                drain_shards,
                ..
            }) => u64::from(shards - drain_shards),
            Some(_) => 1,
            None => return Some(q),
        };
        let per_shard = total.div_ceil(serving);
        if per_shard > maxmemory {
            let needed = total.div_ceil(maxmemory);
            let help = if matches!(topology, Some(Topology::Cluster { .. })) {
                format!(
                    "{needed} serving shards would fit it at this maxmemory, or raise the memory limit"
                )
            } else {
                format!(
                    "raise the memory limit so that maxmemory is at least {}, or use cluster mode with {needed} shards",
                    Quantity::from_bytes(total)
                )
            };
            self.err(size.span, format!(
                "dataset of {q} does not fit: {serving} serving shard(s) x maxmemory {} = {}, so each shard would hold {} of it",
                Quantity::from_bytes(maxmemory),
                Quantity::from_bytes(maxmemory.saturating_mul(serving)),
                Quantity::from_bytes(per_shard)
            ))
            .help = Some(help);
        }
        Some(q)
    }

    fn auth(&mut self, a: &S<model::Auth>) -> Option<Auth> {
        let name = self
            .required(&a.value.secret_name, a.span, "auth.secretName")?
            .clone();
        if !is_dns1123_subdomain(&name.value) {
            self.err(
                name.span,
                format!("'{}' is not a valid Secret name", name.value),
            );
            return None;
        }
        let secret_key = val(&a.value.secret_key).unwrap_or_else(|| "password".into());
        let external = match &a.value.external_secret {
            None => None,
            Some(e) => {
                let store = self
                    .required(
                        &e.value.secret_store_ref,
                        e.span,
                        "externalSecret.secretStoreRef",
                    )?
                    .clone();
                let store_name = self
                    .required(&store.value.name, store.span, "secretStoreRef.name")?
                    .value
                    .clone();
                let store_kind = match &store.value.kind {
                    None => "SecretStore".to_owned(),
                    Some(k) if k.value == "SecretStore" || k.value == "ClusterSecretStore" => {
                        k.value.clone()
                    }
                    Some(k) => {
                        self.err(k.span, format!("unknown store kind '{}'", k.value))
                            .help = Some("SecretStore or ClusterSecretStore".into());
                        return None;
                    }
                };
                let remote_key = self
                    .required(&e.value.remote_key, e.span, "externalSecret.remoteKey")?
                    .value
                    .clone();
                Some(ExternalSecret {
                    store_name,
                    store_kind,
                    remote_key,
                    remote_property: val(&e.value.remote_property),
                    refresh_interval: val(&e.value.refresh_interval).unwrap_or_else(|| "1h".into()),
                })
            }
        };
        Some(Auth {
            secret_name: name.value,
            secret_key,
            external,
        })
    }

    fn tls(&mut self, t: &S<model::Tls>) -> Option<Tls> {
        match (&t.value.secret_name, &t.value.cert_manager) {
            (Some(_), Some(cm)) => {
                self.err(
                    cm.span,
                    "set either tls.secretName or tls.certManager, not both",
                );
                None
            }
            (None, None) => {
                self.err(
                    t.span,
                    "tls needs secretName (an existing Secret) or certManager",
                );
                None
            }
            (Some(name), None) => {
                if !is_dns1123_subdomain(&name.value) {
                    self.err(
                        name.span,
                        format!("'{}' is not a valid Secret name", name.value),
                    );
                    return None;
                }
                Some(Tls {
                    secret_name: name.value.clone(),
                    cert_manager: None,
                })
            }
            (None, Some(cm)) => {
                let issuer = self
                    .required(&cm.value.issuer_ref, cm.span, "certManager.issuerRef")?
                    .clone();
                let issuer_name = self
                    .required(&issuer.value.name, issuer.span, "issuerRef.name")?
                    .value
                    .clone();
                let issuer_kind = val(&issuer.value.kind).unwrap_or_else(|| "Issuer".into());
                Some(Tls {
                    secret_name: String::new(),
                    cert_manager: Some(CertManager {
                        issuer_name,
                        issuer_kind,
                        issuer_group: val(&issuer.value.group)
                            .unwrap_or_else(|| "cert-manager.io".into()),
                        duration: val(&cm.value.duration).unwrap_or_else(|| "2160h".into()),
                        renew_before: val(&cm.value.renew_before).unwrap_or_else(|| "360h".into()),
                    }),
                })
            }
        }
    }

    fn metrics(&mut self, m: &S<model::Metrics>) -> Option<Metrics> {
        let enabled = val(&m.value.enabled).unwrap_or(false);
        let service_monitor = val(&m.value.service_monitor).unwrap_or(false);
        let prometheus_rule = val(&m.value.prometheus_rule).unwrap_or(false);
        if !enabled {
            for (f, n) in [
                (&m.value.service_monitor, "serviceMonitor"),
                (&m.value.prometheus_rule, "prometheusRule"),
            ] {
                if let Some(f) = f.as_ref().filter(|f| f.value) {
                    self.err(f.span, format!("{n} needs metrics.enabled: true"));
                }
            }
            return None;
        }
        Some(Metrics {
            image: val(&m.value.image).unwrap_or_else(|| DEFAULT_EXPORTER_IMAGE.into()),
            service_monitor,
            prometheus_rule,
        })
    }

    fn selector(
        &mut self,
        sel: &Option<S<model::LabelSelector>>,
    ) -> Option<BTreeMap<String, String>> {
        let sel = sel.as_ref()?;
        let mut out = BTreeMap::new();
        if let Some(ml) = &sel.value.match_labels {
            for (k, v) in &ml.value.entries {
                if !is_label_key(&k.value) || !is_label_value(&v.value.0) {
                    self.err(
                        k.span,
                        format!("'{}: {}' is not a valid label", k.value, v.value.0),
                    );
                }
                out.insert(k.value.clone(), v.value.0.clone());
            }
        }
        Some(out)
    }

    fn allow_from(&mut self, spec: &model::Spec) -> Vec<Peer> {
        let Some(np) = &spec.network_policy else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for peer in np
            .value
            .allow_from
            .as_ref()
            .map(|a| a.value.as_slice())
            .unwrap_or_default()
        {
            let p = Peer {
                pod_labels: self.selector(&peer.pod_selector),
                namespace_labels: self.selector(&peer.namespace_selector),
                ip_block: peer.ip_block.as_ref().map(|b| {
                    if !is_cidr(&b.value.cidr.value) {
                        self.err(
                            b.value.cidr.span,
                            format!("'{}' is not a CIDR", b.value.cidr.value),
                        );
                    }
                    (
                        b.value.cidr.value.clone(),
                        b.value.except.iter().map(|e| e.value.clone()).collect(),
                    )
                }),
            };
            if p.ip_block.is_some() && (p.pod_labels.is_some() || p.namespace_labels.is_some()) {
                let span = np.value.allow_from.as_ref().map_or(np.span, |a| a.span);
                self.err(span, "a peer with ipBlock cannot also have selectors");
            }
            if p == Peer::default() {
                let span = np.value.allow_from.as_ref().map_or(np.span, |a| a.span);
                self.err(span, "an empty peer would allow everyone; name a podSelector, namespaceSelector or ipBlock");
            }
            out.push(p);
        }
        out
    }

    fn scheduling(&mut self, spec: &model::Spec) -> Scheduling {
        let Some(s) = &spec.scheduling else {
            return Scheduling {
                zone_spread: true,
                shard_anti_affinity: model::AntiAffinity::Required,
                ..Scheduling::default()
            };
        };
        let s = &s.value;
        let mut node_selector = BTreeMap::new();
        for (k, v) in s
            .node_selector
            .as_ref()
            .map(|n| n.value.entries.as_slice())
            .unwrap_or_default()
        {
            if !is_label_key(&k.value) || !is_label_value(&v.value.0) {
                self.err(
                    k.span,
                    format!("'{}: {}' is not a valid node label", k.value, v.value.0),
                );
            }
            node_selector.insert(k.value.clone(), v.value.0.clone());
        }
        let mut tolerations = Vec::new();
        for t in s
            .tolerations
            .as_ref()
            .map(|t| t.value.as_slice())
            .unwrap_or_default()
        {
            if let Some(op) = t
                .operator
                .as_ref()
                .filter(|o| o.value != "Exists" && o.value != "Equal")
            {
                self.err(
                    op.span,
                    format!("unknown toleration operator '{}'", op.value),
                )
                .help = Some("Exists or Equal".into());
            }
            if let Some(e) = t.effect.as_ref().filter(|e| {
                !["NoSchedule", "PreferNoSchedule", "NoExecute"].contains(&e.value.as_str())
            }) {
                self.err(e.span, format!("unknown taint effect '{}'", e.value))
                    .help = Some("NoSchedule, PreferNoSchedule or NoExecute".into());
            }
            tolerations.push(Toleration {
                key: val(&t.key),
                operator: val(&t.operator),
                value: val(&t.value),
                effect: val(&t.effect),
                toleration_seconds: val(&t.toleration_seconds),
            });
        }
        Scheduling {
            node_selector,
            tolerations,
            priority_class_name: val(&s.priority_class_name).filter(|p| !p.is_empty()),
            zone_spread: val(&s.zone_spread).unwrap_or(true),
            shard_anti_affinity: val(&s.shard_anti_affinity)
                .unwrap_or(model::AntiAffinity::Required),
        }
    }

    fn config(
        &mut self,
        config: Option<&S<SMap<ScalarString>>>,
        engine: Engine,
        version: Version,
        assumed: bool,
    ) -> BTreeMap<String, String> {
        let entries = config
            .map(|c| c.value.entries.as_slice())
            .unwrap_or_default();
        let mut out = BTreeMap::new();
        if entries.is_empty() {
            return out;
        }
        let known = directives::known(engine, (version.major, version.minor));
        for (k, v) in entries {
            let key = k.value.to_ascii_lowercase();
            if let Some(reason) = directives::owned_reason(&key) {
                self.err(
                    k.span,
                    format!("'{key}' is set by redis-gitops and cannot be overridden"),
                )
                .help = Some(reason.into());
            } else if known.binary_search(&key.as_str()).is_err() {
                let d = self.err(
                    k.span,
                    if assumed {
                        format!(
                            "'{}' is not a {engine} directive (checked against {engine} {}.{}, the newest known, as spec.version is missing)",
                            k.value, version.major, version.minor
                        )
                    } else {
                        format!(
                            "'{}' is not a {engine} {}.{} directive",
                            k.value, version.major, version.minor
                        )
                    },
                );
                if let Some(best) = directives::suggest(&key, &known) {
                    d.message.push_str(&format!("; did you mean '{best}'?"));
                    if let Some(reason) = directives::owned_reason(best) {
                        d.help = Some(format!("'{best}' is set by redis-gitops: {reason}"));
                    }
                }
            } else if v.value.0.contains(['\n', '\r']) {
                self.err(v.span, "a directive's value cannot contain a line break");
            } else {
                out.insert(key, v.value.0.clone());
            }
        }
        out
    }

    fn gitops(&mut self, spec: &model::Spec) -> Gitops {
        let Some(g) = &spec.gitops else {
            return Gitops::default();
        };
        let g = &g.value;
        let argocd = g.argocd.as_ref().and_then(|a| {
            let repo_url = self
                .required(&a.value.repo_url, a.span, "argocd.repoURL")?
                .value
                .clone();
            Some(ArgoCd {
                project: val(&a.value.project).unwrap_or_else(|| "default".into()),
                repo_url,
                target_revision: val(&a.value.target_revision).unwrap_or_else(|| "HEAD".into()),
                destination_server: val(&a.value.destination_server)
                    .unwrap_or_else(|| "https://kubernetes.default.svc".into()),
                namespace: val(&a.value.namespace).unwrap_or_else(|| "argocd".into()),
            })
        });
        let flux = g.flux.as_ref().and_then(|f| {
            let src = self
                .required(&f.value.source_ref, f.span, "flux.sourceRef")?
                .clone();
            let name = self
                .required(&src.value.name, src.span, "sourceRef.name")?
                .value
                .clone();
            Some(Flux {
                source_kind: val(&src.value.kind).unwrap_or_else(|| "GitRepository".into()),
                source_name: name,
                source_namespace: val(&src.value.namespace).unwrap_or_else(|| "flux-system".into()),
                interval: val(&f.value.interval).unwrap_or_else(|| "10m".into()),
            })
        });
        Gitops {
            sync_wave: val(&g.sync_wave).unwrap_or(0),
            argocd,
            flux,
        }
    }
}

/// Parses "7.2.5", "7.2", "8.0.1-alpine" (the numeric prefix counts).
pub fn parse_version(text: &str) -> Option<Version> {
    let numeric = text.split(['-', '+']).next()?;
    let mut parts = numeric.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    let patch = match parts.next() {
        Some(p) => p.parse().ok()?,
        None => 0,
    };
    if parts.next().is_some() {
        return None;
    }
    Some(Version {
        major,
        minor,
        patch,
    })
}

pub fn is_dns1035_label(s: &str) -> bool {
    is_dns1123_label(s) && s.starts_with(|c: char| c.is_ascii_lowercase())
}

pub fn is_dns1123_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

pub fn is_dns1123_subdomain(s: &str) -> bool {
    !s.is_empty() && s.len() <= 253 && s.split('.').all(is_dns1123_label)
}

fn is_label_value(s: &str) -> bool {
    s.is_empty()
        || (s.len() <= 63
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
            && s.starts_with(|c: char| c.is_ascii_alphanumeric())
            && s.ends_with(|c: char| c.is_ascii_alphanumeric()))
}

fn is_label_key(s: &str) -> bool {
    let (prefix, name) = match s.rsplit_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, s),
    };
    prefix.is_none_or(is_dns1123_subdomain) && !name.is_empty() && is_label_value(name)
}

fn is_cidr(s: &str) -> bool {
    let Some((ip, bits)) = s.split_once('/') else {
        return false;
    };
    match ip.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(_)) => bits.parse::<u8>().is_ok_and(|b| b <= 32),
        Ok(std::net::IpAddr::V6(_)) => bits.parse::<u8>().is_ok_and(|b| b <= 128),
        Err(_) => false,
    }
}

/// Upper bounds, so that no spec renders for minutes or into objects the
/// API server refuses: Redis Cluster is designed for up to 1000 nodes, and
/// the topology ConfigMap of the largest cluster stays far below 1 MiB.
pub const MAX_CLUSTER_NODES: u32 = 1000;
pub const MAX_SHARDS: u32 = 500;
pub const MAX_REPLICAS_PER_SHARD: u32 = 10;
pub const MAX_SENTINEL_MODE_PODS: u32 = 100;
pub const MAX_SENTINELS: u32 = 15;

/// The smallest maxmemory rendered: 0 would mean unlimited to Redis.
const MIN_MAXMEMORY: u64 = 1 << 20;

/// Every ten minutes: a replaced replica waits at most that long for its
/// shard, and a converged cluster costs one short pod run.
pub const DEFAULT_REPAIR_SCHEDULE: &str = "*/10 * * * *";

/// A schedule the CronJob controller accepts: five fields of digits, names,
/// `*`, `?`, `,`, `-` and `/`, or one of its macros.
fn is_cron_schedule(s: &str) -> bool {
    const MACROS: [&str; 7] = [
        "@yearly",
        "@annually",
        "@monthly",
        "@weekly",
        "@daily",
        "@midnight",
        "@hourly",
    ];
    if MACROS.contains(&s.trim()) {
        return true;
    }
    let fields: Vec<&str> = s.split_whitespace().collect();
    fields.len() == 5
        && fields.iter().all(|f| {
            f.chars()
                .all(|c| c.is_ascii_alphanumeric() || "*?,-/".contains(c))
        })
}

#[cfg(test)]
mod tests {
    use super::is_cron_schedule;

    #[test]
    fn cron_schedules() {
        for ok in [
            "*/10 * * * *",
            "0 3 * * MON-FRI",
            "5,35 */2 1-15 * ?",
            "@hourly",
        ] {
            assert!(is_cron_schedule(ok), "{ok}");
        }
        for bad in [
            "",
            "every 10 minutes",
            "* * * *",
            "*/10 * * * * *",
            "@often",
            "0 3 * * $",
        ] {
            assert!(!is_cron_schedule(bad), "{bad}");
        }
    }
}
