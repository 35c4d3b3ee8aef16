//! GitOps entry points: one Argo CD `Application` and one Flux `Kustomization`
//! per spec, when its `gitops` settings ask for them.
//!
//! They live beside the deployments, in `<dir>/_argocd/` and `<dir>/_flux/`,
//! each folder with a `kustomization.yaml` of its own so that one app-of-apps
//! (or one Flux Kustomization) can point at the folder and pick up every
//! deployment of it, including ones added later.

use serde_json::{Value, json};

use super::workload::shard_name;
use super::{Component, Object, labels};
use crate::spec::validate::{ArgoCd, Flux, Redis, Topology};

pub const ARGOCD_DIR: &str = "_argocd";
pub const FLUX_DIR: &str = "_flux";

/// Name of both entry points: unique in the one namespace Argo CD or Flux
/// keeps them in, even when two deployments share a name.
pub fn entry_name(redis: &Redis) -> String {
    format!("{}-{}", redis.namespace, redis.name)
}

/// The path of a deployment's folder inside the repository, as Argo CD and
/// Flux want it: forward slashes, relative to the repository root.
pub fn source_path(output_path: &str, redis: &Redis) -> String {
    let mut parts: Vec<String> = output_path
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .map(str::to_owned)
        .collect();
    parts.extend(
        redis
            .dir
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    parts.push(redis.name.clone());
    parts.join("/")
}

fn entry_meta(redis: &Redis, namespace: &str) -> Value {
    json!({
        "name": entry_name(redis),
        "namespace": namespace,
        "labels": labels(redis, Component::Deployment),
    })
}

/// The Argo CD Application that syncs the deployment's folder.
pub fn application(redis: &Redis, argo: &ArgoCd, output_path: &str) -> Object {
    let mut metadata = entry_meta(redis, &argo.namespace);
    // App-of-apps ordering: the deployment's base wave.
    metadata["annotations"] =
        json!({"argocd.argoproj.io/sync-wave": redis.gitops.sync_wave.to_string()});
    // When the app-of-apps prunes this Application (its spec was removed),
    // Argo CD deletes its objects first, as Flux does with `prune`; the
    // StatefulSets' PersistentVolumeClaims stay (retention policy Retain).
    metadata["finalizers"] = json!(["resources-finalizer.argocd.argoproj.io"]);
    Object::custom(json!({
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": metadata,
        "spec": {
            "project": argo.project,
            "source": {
                "repoURL": argo.repo_url,
                "targetRevision": argo.target_revision,
                "path": source_path(output_path, redis),
            },
            "destination": {"server": argo.destination_server, "namespace": redis.namespace},
            "syncPolicy": {
                "automated": {"prune": true, "selfHeal": true},
                // Prune after the new objects are healthy; apply only what changed.
                "syncOptions": ["PruneLast=true", "ApplyOutOfSyncOnly=true"],
                "retry": {
                    "limit": 5,
                    "backoff": {"duration": "10s", "factor": 2, "maxDuration": "3m"},
                },
            },
            "revisionHistoryLimit": 10,
        },
    }))
}

/// The Flux Kustomization that applies the deployment's folder and gates
/// readiness on every StatefulSet (and, in cluster mode, on the reconcile Job).
pub fn kustomization(
    redis: &Redis,
    flux: &Flux,
    output_path: &str,
    workloads: &[(&str, String)],
) -> Object {
    let health: Vec<Value> = workloads
        .iter()
        .map(|(kind, name)| {
            json!({
                "apiVersion": if *kind == "Job" { "batch/v1" } else { "apps/v1" },
                "kind": kind,
                "name": name,
                "namespace": redis.namespace,
            })
        })
        .collect();
    Object::custom(json!({
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
        "kind": "Kustomization",
        "metadata": entry_meta(redis, &flux.source_namespace),
        "spec": {
            "interval": flux.interval,
            "retryInterval": "1m",
            // A large dataset loads slowly; the health checks may take this long.
            "timeout": "15m",
            "path": format!("./{}", source_path(output_path, redis)),
            "prune": true,
            // `wait: true` would make Flux ignore healthChecks; these are explicit.
            "wait": false,
            "healthChecks": health,
            "sourceRef": {
                "kind": flux.source_kind,
                "name": flux.source_name,
                "namespace": flux.source_namespace,
            },
        },
    }))
}

/// The StatefulSets a deployment runs, as (kind, name).
pub fn statefulsets(redis: &Redis) -> Vec<(&'static str, String)> {
    match redis.topology {
        Topology::Standalone => vec![("StatefulSet", redis.name.clone())],
        Topology::Sentinel { .. } => vec![
            ("StatefulSet", redis.name.clone()),
            ("StatefulSet", crate::names::sentinel(&redis.name)),
        ],
        Topology::Cluster { shards, .. } => (0..shards)
            .map(|i| ("StatefulSet", shard_name(redis, i)))
            .collect(),
    }
}
