//! The checked deployment rendering works from: every value resolved,
//! every default applied.

use super::*;

/// A checked, complete deployment: every default applied, every value valid.
#[derive(Debug, Clone, PartialEq, Hash)]
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
    pub maxmemory_policy: MaxmemoryPolicy,
    pub storage: Option<Storage>,
    pub persistence: Persistence,
    /// The snapshot points (seconds, changes) when persistence takes RDB snapshots.
    pub save_points: Vec<(u32, u32)>,
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
    pub backup: Option<Backup>,
    pub restore: Option<Restore>,
    /// Registry credentials of every pod.
    pub image_pull_secrets: Vec<String>,
    /// The Redis and Sentinel pods' own annotations and labels.
    pub pod_annotations: BTreeMap<String, String>,
    pub pod_labels: BTreeMap<String, String>,
    pub service_annotations: ServiceAnnotations,
}

/// Annotations of each kind of Service.
#[derive(Debug, Clone, PartialEq, Default, Hash)]
pub struct ServiceAnnotations {
    pub client: BTreeMap<String, String>,
    pub headless: BTreeMap<String, String>,
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
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

/// Written as `7.2.5` (`plan --format json`).
impl serde::Serialize for Version {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl Version {
    pub fn at_least(&self, major: u32, minor: u32) -> bool {
        (self.major, self.minor) >= (major, minor)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
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

/// The Redis container's resources: memory always set (the request is the
/// limit unless the spec asks for less), CPU only when the spec sets it.
#[derive(Debug, Clone, PartialEq, Hash)]
pub struct Resources {
    pub requests: ResourceList,
    pub limits: ResourceList,
}

#[derive(Debug, Clone, Copy, PartialEq, Hash)]
pub struct ResourceList {
    pub cpu: Option<Quantity>,
    pub memory: Quantity,
}

#[derive(Debug, Clone, PartialEq, Hash)]
pub struct Storage {
    pub size: Quantity,
    pub class: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Hash)]
pub struct Auth {
    pub secret_name: String,
    pub secret_key: String,
    /// The key of the previous password during a rotation.
    pub previous_secret_key: Option<String>,
    pub external: Option<ExternalSecret>,
}

#[derive(Debug, Clone, PartialEq, Hash)]
pub struct ExternalSecret {
    pub store_name: String,
    pub store_kind: String,
    pub remote_key: String,
    pub remote_property: Option<String>,
    pub previous_version: Option<String>,
    pub refresh_interval: String,
}

#[derive(Debug, Clone, PartialEq, Hash)]
pub struct Tls {
    pub secret_name: String,
    pub cert_manager: Option<CertManager>,
}

#[derive(Debug, Clone, PartialEq, Hash)]
pub struct CertManager {
    pub issuer_name: String,
    pub issuer_kind: String,
    pub issuer_group: String,
    pub duration: String,
    pub renew_before: String,
}

#[derive(Debug, Clone, PartialEq, Hash)]
pub struct Metrics {
    pub image: String,
    pub service_monitor: bool,
    pub prometheus_rule: bool,
    /// Extra labels of the ServiceMonitor and PrometheusRule.
    pub monitor_labels: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Default, Hash)]
pub struct Peer {
    pub pod_labels: Option<BTreeMap<String, String>>,
    pub namespace_labels: Option<BTreeMap<String, String>>,
    pub ip_block: Option<(String, Vec<String>)>,
}

#[derive(Debug, Clone, PartialEq, Default, Hash)]
pub struct Toleration {
    pub key: Option<String>,
    pub operator: Option<String>,
    pub value: Option<String>,
    pub effect: Option<String>,
    pub toleration_seconds: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Default, Hash)]
pub struct Scheduling {
    pub node_selector: BTreeMap<String, String>,
    pub tolerations: Vec<Toleration>,
    pub priority_class_name: Option<String>,
    pub zone_spread: bool,
    /// Cluster mode: never two pods of one shard on one node.
    pub shard_anti_affinity: model::AntiAffinity,
    /// The spec's own affinity and spread constraints.
    pub placement: Placement,
}

#[derive(Debug, Clone, PartialEq, Default, Hash)]
pub struct Gitops {
    pub sync_wave: i32,
    pub argocd: Option<ArgoCd>,
    pub flux: Option<Flux>,
}

#[derive(Debug, Clone, PartialEq, Hash)]
pub struct ArgoCd {
    pub project: String,
    pub repo_url: String,
    pub target_revision: String,
    pub destination_server: String,
    pub namespace: String,
}

#[derive(Debug, Clone, PartialEq, Hash)]
pub struct Flux {
    pub source_kind: String,
    pub source_name: String,
    pub source_namespace: String,
    pub interval: String,
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

/// Scheduled backups (`spec.backup`).
#[derive(Debug, Clone, PartialEq, Hash)]
pub struct Backup {
    pub schedule: String,
    pub keep: u32,
    pub s3: S3,
    pub service_account_annotations: BTreeMap<String, String>,
    pub image: String,
}

/// An S3-compatible bucket and where in it.
#[derive(Debug, Clone, PartialEq, Hash)]
pub struct S3 {
    pub bucket: String,
    pub prefix: String,
    pub endpoint: Option<String>,
    pub region: String,
    pub credentials_secret: Option<String>,
}

/// Where a new deployment's data comes from (`spec.restore`).
#[derive(Debug, Clone, PartialEq, Hash)]
pub struct Restore {
    /// `latest` or a backup's name.
    pub from: String,
    pub s3: S3,
}
