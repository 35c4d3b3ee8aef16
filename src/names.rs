//! Every name derived from a deployment's name, in one place: validation
//! checks their lengths, rendering names the objects, the planner and the
//! commands recognise them in committed files.

use std::path::{Path, PathBuf};

/// Sentinel mode: the Sentinel StatefulSet.
pub fn sentinel(name: &str) -> String {
    format!("{name}{SENTINEL_SUFFIX}")
}

/// The suffix of the Sentinel StatefulSet's name.
pub const SENTINEL_SUFFIX: &str = "-sentinel";

/// The headless Service that publishes every pod's DNS name.
pub fn headless(name: &str) -> String {
    format!("{name}-headless")
}

/// Cluster mode: the StatefulSet of shard `shard`.
pub fn shard(name: &str, shard: u32) -> String {
    format!("{name}-shard-{shard}")
}

/// The ConfigMap of redis.conf, sentinel.conf and the scripts.
pub fn config(name: &str) -> String {
    format!("{name}-config")
}

/// Cluster mode: the ConfigMap of the committed slot map.
pub fn topology(name: &str) -> String {
    format!("{name}-topology")
}

/// The metrics Service.
pub fn metrics(name: &str) -> String {
    format!("{name}-metrics")
}

/// Cluster mode: the reconcile Job of one topology.
pub fn reconcile_job(name: &str, topology_hash: &str) -> String {
    format!("{name}-reconcile-{topology_hash}")
}

/// Cluster mode: the NetworkPolicy of the reconcile Job and repair CronJob.
pub fn reconcile_policy(name: &str) -> String {
    format!("{name}-reconcile")
}

/// Cluster mode: the repair CronJob.
pub fn repair(name: &str) -> String {
    format!("{name}-repair")
}

/// The backup CronJob, its NetworkPolicy and (with a cloud identity) its ServiceAccount.
pub fn backup(name: &str) -> String {
    format!("{name}-backup")
}

/// The cert-manager Certificate's Secret.
pub fn tls(name: &str) -> String {
    format!("{name}-tls")
}

/// The label keys of every generated object (the first three select pods).
pub mod label {
    pub const NAME: &str = "app.kubernetes.io/name";
    pub const INSTANCE: &str = "app.kubernetes.io/instance";
    pub const COMPONENT: &str = "app.kubernetes.io/component";
    pub const VERSION: &str = "app.kubernetes.io/version";
    pub const MANAGED_BY: &str = "app.kubernetes.io/managed-by";
    pub const PART_OF: &str = "app.kubernetes.io/part-of";
    pub const SHARD: &str = "redis-gitops.io/shard";
}

/// The values of [`label::COMPONENT`].
pub mod component {
    pub const SERVER: &str = "server";
    pub const SENTINEL: &str = "sentinel";
    pub const SHARD: &str = "shard";
    pub const RECONCILE: &str = "reconcile";
    pub const BACKUP: &str = "backup";
    pub const DEPLOYMENT: &str = "deployment";
}

/// The annotation of the config ConfigMap that records, as JSON, what the
/// planner needs beyond the typed objects (see `render::config::Recorded`).
pub const STATE_ANNOTATION: &str = "redis-gitops.io/state";

/// The PersistentVolumeClaim a StatefulSet makes for pod `ordinal` from its
/// volumeClaimTemplate `claim` (Kubernetes' rule).
/// A deployment's name in plans and `--allow-blocked`: its output folder,
/// relative to the output folder, with `/` between components.
pub fn deployment(dir: &Path, name: &str) -> String {
    slash(&dir.join(name))
}

/// A path with `/` between its components, whatever the platform.
pub fn slash(path: &Path) -> String {
    path.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

pub fn pvc(claim: &str, statefulset: &str, ordinal: u32) -> String {
    format!("{claim}-{statefulset}-{ordinal}")
}

/// The file of an object in a deployment folder: `<kind>-<name>.yaml`.
pub fn object_file(kind: &str, object: &str) -> String {
    format!("{}-{object}.yaml", kind.to_ascii_lowercase())
}

/// The topology ConfigMap's file, relative to the output folder.
pub fn topology_file(dir: &Path, name: &str) -> PathBuf {
    dir.join(name)
        .join(object_file("ConfigMap", &topology(name)))
}

/// Whether a file name is a topology ConfigMap's.
pub fn is_topology_file(file_name: &str) -> bool {
    file_name.starts_with("configmap-") && file_name.ends_with("-topology.yaml")
}

/// A folder whose name starts with `_` holds entry points (Argo CD, Flux),
/// not a deployment.
pub fn is_entry_folder(folder_name: &str) -> bool {
    folder_name.starts_with('_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_topology_file_is_recognised_as_one() {
        let f = topology_file(Path::new("payments"), "orders");
        assert_eq!(
            f,
            Path::new("payments/orders/configmap-orders-topology.yaml")
        );
        assert!(is_topology_file(&f.file_name().unwrap().to_string_lossy()));
        assert!(!is_topology_file(&object_file(
            "ConfigMap",
            &config("a-topology")
        )));
    }
}
