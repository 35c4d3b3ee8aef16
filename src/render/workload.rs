//! StatefulSets: the Redis servers (one per cluster shard) and the sentinels.
//!
//! Every pod runs non-root with a high UID, a read-only root filesystem
//! (writable emptyDirs only where Redis writes), no capabilities, the
//! RuntimeDefault seccomp profile and no service account token. Pods spread
//! over zones and nodes; the pod template carries a checksum of the
//! configuration so that a config change rolls the pods.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{
    StatefulSet, StatefulSetPersistentVolumeClaimRetentionPolicy, StatefulSetSpec,
};
use k8s_openapi::api::core::v1::{
    Affinity, Capabilities, ConfigMapVolumeSource, Container, ContainerPort, EmptyDirVolumeSource,
    EnvVar, EnvVarSource, ExecAction, HTTPGetAction, KeyToPath, Lifecycle, LifecycleHandler,
    ObjectFieldSelector, PersistentVolumeClaim, PersistentVolumeClaimSpec, PodAffinityTerm,
    PodAntiAffinity, PodSecurityContext, PodSpec, PodTemplateSpec, Probe, ProjectedVolumeSource,
    ResourceRequirements, SeccompProfile, SecretProjection, SecretVolumeSource, SecurityContext,
    Toleration, TopologySpreadConstraint, Volume, VolumeMount, VolumeProjection,
    VolumeResourceRequirements, WeightedPodAffinityTerm,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::config::config_map_name;
use super::{
    BUS_PORT, Component, METRICS_PORT, REDIS_PORT, SENTINEL_PORT, Wave, headless_name, meta,
    selector,
};
use crate::names::label;
use crate::spec::validate::{Redis, Topology};

/// UID and GID of every container: non-root and above the host's user range.
pub const RUN_AS: i64 = 10001;
pub const CHECKSUM_ANNOTATION: &str = "redis-gitops.io/config-checksum";

/// The rate a shutdown save is assumed to write at (bytes per second): a
/// conservative figure for a network disk; the grace period allows a save
/// of `maxmemory` bytes at it.
pub const SAVE_RATE: u64 = 100 * 1024 * 1024;

/// Seconds a Redis pod gets to stop: the preStop handover (sentinel and
/// cluster mode),
/// then a shutdown save of `maxmemory` bytes at [`SAVE_RATE`], plus 10 s;
/// never below Kubernetes' default of 30 s.
pub fn grace_seconds(redis: &Redis) -> i64 {
    let handover = match redis.topology {
        Topology::Sentinel { .. } => {
            i64::from(super::config::CATCH_UP_S + super::config::HANDOVER_WAIT_S)
        }
        Topology::Cluster { .. } => i64::from(super::config::HANDOVER_WAIT_S),
        Topology::Standalone => 0,
    };
    let save = redis.maxmemory_bytes.div_ceil(SAVE_RATE);
    (handover + i64::try_from(save).unwrap_or(i64::MAX / 2) + 10).max(30)
}

/// Size of a sentinel's volume: its state file is a few KiB.
pub const SENTINEL_VOLUME: &str = "100Mi";

pub fn render(redis: &Redis, checksums: &super::config::Checksums) -> Vec<StatefulSet> {
    let checksum = checksums.redis.as_str();
    match redis.topology {
        Topology::Standalone => vec![statefulset(
            redis,
            redis.name.clone(),
            Component::Server,
            1,
            checksum,
        )],
        Topology::Sentinel {
            replicas,
            sentinels,
            ..
        } => vec![
            statefulset(
                redis,
                redis.name.clone(),
                Component::Server,
                replicas,
                checksum,
            ),
            statefulset(
                redis,
                crate::names::sentinel(&redis.name),
                Component::Sentinel,
                sentinels,
                &checksums.sentinel,
            ),
        ],
        Topology::Cluster {
            shards,
            replicas_per_shard,
            ..
        } => (0..shards)
            .map(|i| {
                statefulset(
                    redis,
                    shard_name(redis, i),
                    Component::Shard(i),
                    1 + replicas_per_shard,
                    checksum,
                )
            })
            .collect(),
    }
}

pub fn shard_name(redis: &Redis, shard: u32) -> String {
    crate::names::shard(&redis.name, shard)
}

fn statefulset(
    redis: &Redis,
    name: String,
    component: Component,
    replicas: u32,
    checksum: &str,
) -> StatefulSet {
    let sentinel = component == Component::Sentinel;
    let select = selector(redis, component);
    // The spec's pod labels and annotations, then the compiler's own (the
    // selector's keys are refused in podLabels; its prefix in podAnnotations).
    let mut pod_labels = redis.labels.clone();
    pod_labels.extend(redis.pod_labels.clone());
    let pod_labels = super::with_labels(pod_labels, redis, component);
    let mut annotations = redis.pod_annotations.clone();
    annotations.insert(CHECKSUM_ANNOTATION.to_owned(), checksum.to_owned());
    let pod_meta = ObjectMeta {
        labels: Some(pod_labels),
        annotations: Some(annotations),
        ..ObjectMeta::default()
    };
    // Sentinels keep their state (the primary they know, epochs) on a
    // volume of their own, whatever the spec's storage.
    let persistent = redis.storage.is_some() || sentinel;
    let mut metadata = meta(redis, name, component, Wave::Workload);
    // The engine version, for people and for `plan` (not in the selector).
    if let Some(labels) = metadata.labels.as_mut() {
        labels.insert(label::VERSION.into(), redis.version.to_string());
    }
    StatefulSet {
        metadata,
        spec: Some(StatefulSetSpec {
            replicas: Some(i32::try_from(replicas).unwrap_or(i32::MAX)),
            service_name: Some(headless_name(redis)),
            // Peers must see each other to elect, replicate and form a cluster.
            pod_management_policy: Some("Parallel".into()),
            selector: LabelSelector {
                match_labels: Some(select.clone()),
                ..LabelSelector::default()
            },
            persistent_volume_claim_retention_policy: persistent.then(|| {
                StatefulSetPersistentVolumeClaimRetentionPolicy {
                    // Data outlives a deleted or scaled-down StatefulSet; delete PVCs deliberately.
                    when_deleted: Some("Retain".into()),
                    when_scaled: Some("Retain".into()),
                }
            }),
            volume_claim_templates: persistent.then(|| vec![volume_claim(redis, component)]),
            template: PodTemplateSpec {
                metadata: Some(pod_meta),
                spec: Some(pod_spec(redis, component, &select)),
            },
            ..StatefulSetSpec::default()
        }),
        ..StatefulSet::default()
    }
}

fn volume_claim(redis: &Redis, component: Component) -> PersistentVolumeClaim {
    let (size, class) = match (component, &redis.storage) {
        (Component::Sentinel, s) => (
            SENTINEL_VOLUME.to_owned(),
            s.as_ref().and_then(|s| s.class.clone()),
        ),
        (_, Some(s)) => (s.size.to_string(), s.class.clone()),
        (_, None) => unreachable!("only called with storage"),
    };
    PersistentVolumeClaim {
        metadata: ObjectMeta {
            name: Some("data".into()),
            labels: Some(selector(redis, component)),
            ..ObjectMeta::default()
        },
        spec: Some(PersistentVolumeClaimSpec {
            access_modes: Some(vec!["ReadWriteOnce".into()]),
            storage_class_name: class,
            volume_mode: Some("Filesystem".into()),
            resources: Some(VolumeResourceRequirements {
                requests: Some(BTreeMap::from([("storage".to_owned(), Quantity(size))])),
                ..VolumeResourceRequirements::default()
            }),
            ..PersistentVolumeClaimSpec::default()
        }),
        ..PersistentVolumeClaim::default()
    }
}

fn pod_spec(redis: &Redis, component: Component, select: &BTreeMap<String, String>) -> PodSpec {
    let sentinel = component == Component::Sentinel;
    let mut containers = vec![if sentinel {
        sentinel_container(redis)
    } else {
        redis_container(redis, component)
    }];
    let mut init_containers = Vec::new();
    if !sentinel {
        init_containers.extend(super::backup::restore_container(redis));
    }
    if let Some(metrics) = &redis.metrics {
        // The exporter serves Sentinel's metrics too (it detects the mode):
        // the alerts on sentinels that disagree need them.
        let port = if sentinel { SENTINEL_PORT } else { REDIS_PORT };
        containers.push(exporter_container(redis, &metrics.image, port));
        if redis.auth.is_some() {
            init_containers.push(exporter_auth_container(redis, port));
        }
    }
    let s = &redis.scheduling;
    PodSpec {
        service_account_name: Some(redis.name.clone()),
        automount_service_account_token: Some(false),
        enable_service_links: Some(false),
        // Redis writes its RDB on SIGTERM; give a large dataset time to
        // finish, after a primary's handover.
        termination_grace_period_seconds: Some(if sentinel { 30 } else { grace_seconds(redis) }),
        security_context: Some(pod_security()),
        node_selector: (!s.node_selector.is_empty()).then(|| s.node_selector.clone()),
        tolerations: (!s.tolerations.is_empty()).then(|| {
            s.tolerations
                .iter()
                .map(|t| Toleration {
                    key: t.key.clone(),
                    operator: t.operator.clone(),
                    value: t.value.clone(),
                    effect: t.effect.clone(),
                    toleration_seconds: t.toleration_seconds,
                })
                .collect()
        }),
        priority_class_name: s.priority_class_name.clone(),
        image_pull_secrets: super::image_pull_secrets(redis),
        affinity: Some(affinity(redis, component, select)),
        topology_spread_constraints: topology_spread(redis, component, select),
        init_containers: (!init_containers.is_empty()).then_some(init_containers),
        containers,
        volumes: Some(volumes(redis, sentinel)),
        ..PodSpec::default()
    }
}

fn term(topology_key: &str, labels: &BTreeMap<String, String>) -> PodAffinityTerm {
    PodAffinityTerm {
        topology_key: topology_key.into(),
        label_selector: Some(LabelSelector {
            match_labels: Some(labels.clone()),
            ..LabelSelector::default()
        }),
        ..PodAffinityTerm::default()
    }
}

/// Pods that hold the same data on distinct nodes: a shard's pods never
/// share a node (unless `shardAntiAffinity: preferred`), so losing a node
/// costs a shard one copy at most; other pods avoid it where possible.
fn affinity(redis: &Redis, component: Component, select: &BTreeMap<String, String>) -> Affinity {
    let required = matches!(component, Component::Shard(_))
        && redis.scheduling.shard_anti_affinity == crate::spec::model::AntiAffinity::Required;
    let mut preferred = Vec::new();
    if !required {
        preferred.push(WeightedPodAffinityTerm {
            weight: 100,
            pod_affinity_term: term("kubernetes.io/hostname", select),
        });
    }
    if matches!(component, Component::Shard(_)) {
        // All primaries on one node would leave no majority to fail over.
        preferred.push(WeightedPodAffinityTerm {
            weight: 50,
            pod_affinity_term: term(
                "kubernetes.io/hostname",
                &selector(redis, Component::Deployment),
            ),
        });
    }
    let mut required: Vec<PodAffinityTerm> = required
        .then(|| term("kubernetes.io/hostname", select))
        .into_iter()
        .collect();
    // The spec's own rules: its anti-affinity terms join ours, the rest is
    // its alone (the compiler renders no node or pod affinity).
    let mine = redis.scheduling.placement.affinity.as_ref().map(|a| &a.0);
    if let Some(anti) = mine.and_then(|a| a.pod_anti_affinity.as_ref()) {
        required.extend(
            anti.required_during_scheduling_ignored_during_execution
                .iter()
                .flatten()
                .cloned(),
        );
        preferred.extend(
            anti.preferred_during_scheduling_ignored_during_execution
                .iter()
                .flatten()
                .cloned(),
        );
    }
    Affinity {
        node_affinity: mine.and_then(|a| a.node_affinity.clone()),
        pod_affinity: mine.and_then(|a| a.pod_affinity.clone()),
        pod_anti_affinity: Some(PodAntiAffinity {
            required_during_scheduling_ignored_during_execution: (!required.is_empty())
                .then_some(required),
            preferred_during_scheduling_ignored_during_execution: (!preferred.is_empty())
                .then_some(preferred),
        }),
    }
}

/// Spread (`zoneSpread`): the pods of the StatefulSet over zones and, in
/// cluster mode, every pod of the deployment over nodes, so no node holds
/// most primaries.
fn topology_spread(
    redis: &Redis,
    component: Component,
    select: &BTreeMap<String, String>,
) -> Option<Vec<TopologySpreadConstraint>> {
    let spread = |key: &str, labels: &BTreeMap<String, String>| TopologySpreadConstraint {
        max_skew: 1,
        topology_key: key.into(),
        when_unsatisfiable: "ScheduleAnyway".into(),
        label_selector: Some(LabelSelector {
            match_labels: Some(labels.clone()),
            ..LabelSelector::default()
        }),
        ..TopologySpreadConstraint::default()
    };
    let mut out = Vec::new();
    if redis.scheduling.zone_spread {
        out.push(spread("topology.kubernetes.io/zone", select));
        if matches!(component, Component::Shard(_)) {
            // (A second constraint may not repeat the zone key.)
            out.push(spread(
                "kubernetes.io/hostname",
                &selector(redis, Component::Deployment),
            ));
        }
    }
    // The spec's own: one on a key of ours replaces ours; without a label
    // selector it counts the pods of the same StatefulSet, as ours do.
    let mine = &redis.scheduling.placement.spread;
    out.retain(|c| !mine.iter().any(|m| m.0.topology_key == c.topology_key));
    out.extend(mine.iter().map(|m| {
        let mut c = m.0.clone();
        c.label_selector.get_or_insert_with(|| LabelSelector {
            match_labels: Some(select.clone()),
            ..LabelSelector::default()
        });
        c
    }));
    (!out.is_empty()).then_some(out)
}

pub(super) fn pod_security() -> PodSecurityContext {
    PodSecurityContext {
        run_as_user: Some(RUN_AS),
        run_as_group: Some(RUN_AS),
        run_as_non_root: Some(true),
        fs_group: Some(RUN_AS),
        fs_group_change_policy: Some("OnRootMismatch".into()),
        seccomp_profile: Some(SeccompProfile {
            type_: "RuntimeDefault".into(),
            ..SeccompProfile::default()
        }),
        ..PodSecurityContext::default()
    }
}

pub(super) fn container_security() -> SecurityContext {
    SecurityContext {
        run_as_user: Some(RUN_AS),
        run_as_group: Some(RUN_AS),
        run_as_non_root: Some(true),
        read_only_root_filesystem: Some(true),
        allow_privilege_escalation: Some(false),
        privileged: Some(false),
        capabilities: Some(Capabilities {
            drop: Some(vec!["ALL".into()]),
            ..Capabilities::default()
        }),
        seccomp_profile: Some(SeccompProfile {
            type_: "RuntimeDefault".into(),
            ..SeccompProfile::default()
        }),
        ..SecurityContext::default()
    }
}

fn field_env(name: &str, path: &str) -> EnvVar {
    EnvVar {
        name: name.into(),
        value_from: Some(EnvVarSource {
            field_ref: Some(ObjectFieldSelector {
                field_path: path.into(),
                ..ObjectFieldSelector::default()
            }),
            ..EnvVarSource::default()
        }),
        ..EnvVar::default()
    }
}

fn exec_probe(port: i32, kind: &str, initial: i32, period: i32, failures: i32) -> Probe {
    Probe {
        exec: Some(ExecAction {
            command: Some(vec![
                "sh".into(),
                "/config/probe.sh".into(),
                port.to_string(),
                kind.into(),
            ]),
        }),
        initial_delay_seconds: (initial > 0).then_some(initial),
        period_seconds: Some(period),
        timeout_seconds: Some(5),
        failure_threshold: Some(failures),
        ..Probe::default()
    }
}

pub(super) fn mount(name: &str, path: &str, read_only: bool) -> VolumeMount {
    VolumeMount {
        name: name.into(),
        mount_path: path.into(),
        read_only: read_only.then_some(true),
        ..VolumeMount::default()
    }
}

fn mounts(redis: &Redis) -> Vec<VolumeMount> {
    let mut m = vec![
        mount("config", "/config", true),
        mount("data", "/data", false),
        mount("run", "/run/redis", false),
        mount("tmp", "/tmp", false),
    ];
    if redis.auth.is_some() {
        m.push(mount("auth", "/secrets/auth", true));
    }
    if redis.tls.is_some() {
        m.push(mount("tls", "/tls", true));
    }
    m
}

fn port(name: &str, port: i32) -> ContainerPort {
    ContainerPort {
        name: Some(name.into()),
        container_port: port,
        protocol: Some("TCP".into()),
        ..ContainerPort::default()
    }
}

fn resources(list: &crate::spec::validate::ResourceList) -> Option<BTreeMap<String, Quantity>> {
    let q = |v: &crate::spec::quantity::Quantity| Quantity(v.to_string());
    let mut out = BTreeMap::from([("memory".to_owned(), q(&list.memory))]);
    if let Some(cpu) = &list.cpu {
        out.insert("cpu".to_owned(), q(cpu));
    }
    Some(out)
}

pub(super) fn fixed_resources(cpu_req: &str, mem: &str, cpu_lim: &str) -> ResourceRequirements {
    let q = |s: &str| Quantity(s.into());
    ResourceRequirements {
        requests: Some(BTreeMap::from([
            ("cpu".into(), q(cpu_req)),
            ("memory".into(), q(mem)),
        ])),
        limits: Some(BTreeMap::from([
            ("cpu".into(), q(cpu_lim)),
            ("memory".into(), q(mem)),
        ])),
        ..ResourceRequirements::default()
    }
}

/// A digest is immutable, so a cached copy is the image; a tag can move, so
/// the kubelet must ask the registry (which also re-checks pull credentials).
pub(super) fn pull_policy(image: &str) -> Option<String> {
    Some(
        if image.contains("@sha256:") {
            "IfNotPresent"
        } else {
            "Always"
        }
        .into(),
    )
}

fn redis_container(redis: &Redis, component: Component) -> Container {
    let mut ports = vec![port("redis", REDIS_PORT)];
    if matches!(component, Component::Shard(_)) {
        ports.push(port("cluster-bus", BUS_PORT));
    }
    Container {
        name: super::app_name(redis.engine).into(),
        image: Some(redis.image.clone()),
        image_pull_policy: pull_policy(&redis.image),
        command: Some(vec!["sh".into(), "/config/start-redis.sh".into()]),
        env: Some(vec![
            field_env("POD_NAME", "metadata.name"),
            field_env("POD_IP", "status.podIP"),
        ]),
        ports: Some(ports),
        resources: Some(ResourceRequirements {
            requests: resources(&redis.resources.requests),
            limits: resources(&redis.resources.limits),
            ..ResourceRequirements::default()
        }),
        // Loading a large dataset can take minutes: the startup probe allows 10.
        startup_probe: Some(exec_probe(REDIS_PORT, "live", 5, 10, 60)),
        liveness_probe: Some(exec_probe(REDIS_PORT, "live", 0, 10, 6)),
        readiness_probe: Some(exec_probe(REDIS_PORT, "ready", 0, 5, 2)),
        // A primary hands over to a replica before it stops.
        lifecycle: (!matches!(redis.topology, Topology::Standalone)).then(|| Lifecycle {
            pre_stop: Some(LifecycleHandler {
                exec: Some(ExecAction {
                    command: Some(vec!["sh".into(), "/config/prestop.sh".into()]),
                }),
                ..LifecycleHandler::default()
            }),
            ..Lifecycle::default()
        }),
        security_context: Some(container_security()),
        volume_mounts: Some(mounts(redis)),
        ..Container::default()
    }
}

fn sentinel_container(redis: &Redis) -> Container {
    Container {
        name: "sentinel".into(),
        image: Some(redis.image.clone()),
        image_pull_policy: pull_policy(&redis.image),
        command: Some(vec!["sh".into(), "/config/start-sentinel.sh".into()]),
        env: Some(vec![field_env("POD_NAME", "metadata.name")]),
        ports: Some(vec![port("sentinel", SENTINEL_PORT)]),
        resources: Some(fixed_resources("50m", "64Mi", "250m")),
        liveness_probe: Some(exec_probe(SENTINEL_PORT, "live", 10, 10, 6)),
        readiness_probe: Some(exec_probe(SENTINEL_PORT, "ready", 5, 5, 2)),
        security_context: Some(container_security()),
        volume_mounts: Some(mounts(redis)),
        ..Container::default()
    }
}

fn exporter_container(redis: &Redis, image: &str, server_port: i32) -> Container {
    let scheme = if redis.tls.is_some() {
        "rediss"
    } else {
        "redis"
    };
    let mut env = vec![EnvVar {
        name: "REDIS_ADDR".into(),
        value: Some(format!("{scheme}://localhost:{server_port}")),
        ..EnvVar::default()
    }];
    let mut volume_mounts = Vec::new();
    if redis.auth.is_some() {
        // Its own user, with the password the init container made for
        // this pod's start (from a file, not env): a rotation of the
        // deployment's password never reaches it.
        env.push(EnvVar {
            name: "REDIS_USER".into(),
            value: Some(EXPORTER_USER.into()),
            ..EnvVar::default()
        });
        env.push(EnvVar {
            name: "REDIS_PASSWORD_FILE".into(),
            value: Some("/run/redis/exporter-passwords.json".into()),
            ..EnvVar::default()
        });
        volume_mounts.push(mount("run", "/run/redis", true));
    }
    if redis.tls.is_some() {
        env.push(EnvVar {
            name: "REDIS_EXPORTER_TLS_CA_CERT_FILE".into(),
            value: Some("/tls/ca.crt".into()),
            ..EnvVar::default()
        });
        volume_mounts.push(mount("tls", "/tls", true));
    }
    let http_probe = |initial: i32| Probe {
        http_get: Some(HTTPGetAction {
            path: Some("/health".into()),
            port: IntOrString::String("metrics".into()),
            ..HTTPGetAction::default()
        }),
        initial_delay_seconds: Some(initial),
        period_seconds: Some(10),
        timeout_seconds: Some(5),
        ..Probe::default()
    };
    Container {
        name: "metrics".into(),
        image: Some(image.into()),
        image_pull_policy: pull_policy(image),
        env: Some(env),
        ports: Some(vec![port("metrics", METRICS_PORT)]),
        resources: Some(fixed_resources("10m", "64Mi", "100m")),
        liveness_probe: Some(http_probe(10)),
        readiness_probe: Some(http_probe(5)),
        security_context: Some(container_security()),
        volume_mounts: (!volume_mounts.is_empty()).then_some(volume_mounts),
        ..Container::default()
    }
}

/// The exporter's ACL user (the start scripts create it).
const EXPORTER_USER: &str = "redis-gitops-exporter";

/// Makes the exporter's password for this pod's start (random, in the
/// in-memory run volume, never in git or env) and its password file
/// (`{"redis://localhost:6379": "..."}`); the start script gives the
/// exporter's ACL user that password.
fn exporter_auth_container(redis: &Redis, port: i32) -> Container {
    let script = format!(
        "set -eu; umask 077; p=\"$(od -An -N24 -tx1 /dev/urandom | tr -d ' \\n')\"; \
         [ ${{#p}} -eq 48 ]; printf '%s' \"$p\" > /run/redis/exporter-password; \
         printf '{{\"%s://localhost:{port}\": \"%s\"}}\\n' {scheme} \"$p\" > /run/redis/exporter-passwords.json",
        scheme = if redis.tls.is_some() {
            "rediss"
        } else {
            "redis"
        },
    );
    Container {
        name: "exporter-auth".into(),
        image: Some(redis.image.clone()),
        image_pull_policy: pull_policy(&redis.image),
        command: Some(vec!["sh".into(), "-c".into(), script]),
        resources: Some(fixed_resources("10m", "16Mi", "50m")),
        security_context: Some(container_security()),
        volume_mounts: Some(vec![mount("run", "/run/redis", false)]),
        ..Container::default()
    }
}

pub(super) fn empty_dir(name: &str, memory: bool, size: &str) -> Volume {
    Volume {
        name: name.into(),
        empty_dir: Some(EmptyDirVolumeSource {
            medium: memory.then(|| "Memory".into()),
            size_limit: Some(Quantity(size.into())),
        }),
        ..Volume::default()
    }
}

/// A ConfigMap's files as a read-only volume.
pub(super) fn config_map_volume(name: &str, config_map: String) -> Volume {
    Volume {
        name: name.into(),
        config_map: Some(ConfigMapVolumeSource {
            name: config_map,
            default_mode: Some(0o444),
            ..ConfigMapVolumeSource::default()
        }),
        ..Volume::default()
    }
}

fn volumes(redis: &Redis, sentinel: bool) -> Vec<Volume> {
    let mut v = vec![
        config_map_volume("config", config_map_name(redis)),
        // The runtime config holds the password: keep it in memory only.
        empty_dir("run", true, "16Mi"),
        empty_dir("tmp", false, "64Mi"),
    ];
    if !sentinel && redis.storage.is_none() {
        // Room for an RDB snapshot and an AOF rewrite of a full dataset.
        let limit = redis.resources.limits.memory.whole_units();
        let size = crate::spec::quantity::Quantity::from_bytes(
            u64::try_from(limit.saturating_mul(2)).unwrap_or(u64::MAX),
        );
        v.push(empty_dir("data", false, &size.to_string()));
    }
    if !sentinel {
        v.extend(super::backup::restore_volumes(redis));
    }
    v.extend(secret_volumes(redis));
    v
}

/// The password file (`auth`) and the certificates (`tls`), from Secrets,
/// as the pods and the reconcile Job mount them.
pub(super) fn secret_volumes(redis: &Redis) -> Vec<Volume> {
    let mut v = Vec::new();
    if let Some(auth) = &redis.auth {
        if let Some(previous) = &auth.previous_secret_key {
            // The previous password may be missing (dropped when a rotation
            // ends): an optional source of its own, the current one required.
            let source = |key: &str, path: &str, optional: bool| VolumeProjection {
                secret: Some(SecretProjection {
                    name: auth.secret_name.clone(),
                    items: Some(vec![KeyToPath {
                        key: key.into(),
                        path: path.into(),
                        mode: None,
                    }]),
                    optional: optional.then_some(true),
                }),
                ..VolumeProjection::default()
            };
            v.push(Volume {
                name: "auth".into(),
                projected: Some(ProjectedVolumeSource {
                    default_mode: Some(0o440),
                    sources: Some(vec![
                        source(&auth.secret_key, "password", false),
                        source(previous, "previous", true),
                    ]),
                }),
                ..Volume::default()
            });
        } else {
            v.push(Volume {
                name: "auth".into(),
                secret: Some(SecretVolumeSource {
                    secret_name: Some(auth.secret_name.clone()),
                    items: Some(vec![KeyToPath {
                        key: auth.secret_key.clone(),
                        path: "password".into(),
                        mode: None,
                    }]),
                    default_mode: Some(0o440),
                    ..SecretVolumeSource::default()
                }),
                ..Volume::default()
            });
        }
    }
    if let Some(tls) = &redis.tls {
        v.push(Volume {
            name: "tls".into(),
            secret: Some(SecretVolumeSource {
                secret_name: Some(super::secrets::tls_secret_name(redis, tls)),
                default_mode: Some(0o440),
                ..SecretVolumeSource::default()
            }),
            ..Volume::default()
        });
    }
    v
}
