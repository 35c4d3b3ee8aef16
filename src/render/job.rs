//! Cluster mode's reconcile Job: runs `reconcile.sh` (from the topology
//! ConfigMap) with the engine image, after the workloads are synced and
//! healthy, to converge the live cluster to the committed slot map.
//!
//! Its name carries the topology hash, so a new map (or new pods, or a new
//! script) is a new Job. Argo CD runs it as a PostSync hook and deletes the
//! previous one first; Flux recreates it (force) and health-checks it.

use std::collections::BTreeMap;

use k8s_openapi::api::batch::v1::{CronJob, CronJobSpec, Job, JobSpec, JobTemplateSpec};
use k8s_openapi::api::core::v1::{Container, EnvVar, PodSpec, PodTemplateSpec};
use k8s_openapi::api::networking::v1::{
    NetworkPolicy, NetworkPolicyEgressRule, NetworkPolicyPeer, NetworkPolicyPort, NetworkPolicySpec,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::workload::{
    config_map_volume, container_security, empty_dir, fixed_resources, mount, pod_security,
    pull_policy, secret_volumes,
};
use super::{Component, REDIS_PORT, Wave, meta, selector};
use crate::spec::validate::Redis;

pub fn name(redis: &Redis, topology_hash: &str) -> String {
    crate::names::reconcile_job(&redis.name, topology_hash)
}

fn policy_name(redis: &Redis) -> String {
    crate::names::reconcile_policy(&redis.name)
}

pub fn render(redis: &Redis, topology_hash: &str) -> Job {
    let mut metadata = meta(
        redis,
        name(redis, topology_hash),
        Component::Reconcile,
        Wave::Reconcile,
    );
    let annotations = metadata.annotations.get_or_insert_with(BTreeMap::new);
    for (k, v) in [
        // After every object is synced and healthy; the previous Job goes first.
        ("argocd.argoproj.io/hook", "PostSync"),
        (
            "argocd.argoproj.io/hook-delete-policy",
            "BeforeHookCreation",
        ),
        // Jobs are immutable: Flux replaces it rather than patching it.
        ("kustomize.toolkit.fluxcd.io/force", "enabled"),
    ] {
        annotations.insert(k.into(), v.into());
    }
    Job {
        metadata,
        spec: Some(JobSpec {
            backoff_limit: Some(3),
            // Waiting for nodes (10 min at most) plus moving a large keyspace.
            active_deadline_seconds: Some(6 * 3600),
            ttl_seconds_after_finished: Some(7 * 24 * 3600),
            template: pod(redis, Vec::new()),
            ..JobSpec::default()
        }),
        ..Job::default()
    }
}

pub fn repair_name(redis: &Redis) -> String {
    crate::names::repair(&redis.name)
}

/// The repair CronJob: the same script and pod as the reconcile Job, in
/// repair mode. It meets nodes and re-attaches replicas of the committed
/// topology, forgets nodes outside it, and moves no slot; it skips its run
/// while the reconcile Job holds the lock (see reconcile.sh).
pub fn repair(redis: &Redis, schedule: &str) -> CronJob {
    let env = |name: &str, value: &str| EnvVar {
        name: name.into(),
        value: Some(value.into()),
        ..EnvVar::default()
    };
    CronJob {
        metadata: meta(
            redis,
            repair_name(redis),
            Component::Reconcile,
            Wave::Reconcile,
        ),
        spec: Some(CronJobSpec {
            schedule: schedule.into(),
            concurrency_policy: Some("Forbid".into()),
            // A missed run is not made up later: the next one does the same.
            starting_deadline_seconds: Some(300),
            successful_jobs_history_limit: Some(1),
            failed_jobs_history_limit: Some(3),
            job_template: JobTemplateSpec {
                metadata: None,
                spec: Some(JobSpec {
                    backoff_limit: Some(0),
                    active_deadline_seconds: Some(1800),
                    ttl_seconds_after_finished: Some(24 * 3600),
                    template: pod(
                        redis,
                        vec![
                            env("RECONCILE_MODE", "repair"),
                            // A pod that is down is a finding for this run,
                            // not a reason to hold the lock for 10 minutes.
                            env("WAIT_SECONDS", "120"),
                        ],
                    ),
                    ..JobSpec::default()
                }),
            },
            ..CronJobSpec::default()
        }),
        ..CronJob::default()
    }
}

/// The pod of the reconcile Job and of the repair CronJob: the engine image
/// running `reconcile.sh` from the topology ConfigMap.
fn pod(redis: &Redis, extra_env: Vec<EnvVar>) -> PodTemplateSpec {
    let mut volumes = vec![
        config_map_volume("topology", super::topology::name(redis)),
        empty_dir("tmp", false, "256Mi"),
    ];
    let mut mounts = vec![
        mount("topology", "/topology", true),
        mount("tmp", "/tmp", false),
    ];
    volumes.extend(secret_volumes(redis));
    if redis.auth.is_some() {
        mounts.push(mount("auth", "/secrets/auth", true));
    }
    if redis.tls.is_some() {
        mounts.push(mount("tls", "/tls", true));
    }
    let mut env = vec![EnvVar {
        name: "TOPOLOGY_DIR".into(),
        value: Some("/topology".into()),
        ..EnvVar::default()
    }];
    env.extend(extra_env);
    PodTemplateSpec {
        metadata: Some(ObjectMeta {
            labels: Some(super::labels(redis, Component::Reconcile)),
            ..ObjectMeta::default()
        }),
        spec: Some(PodSpec {
            restart_policy: Some("Never".into()),
            service_account_name: Some(redis.name.clone()),
            automount_service_account_token: Some(false),
            enable_service_links: Some(false),
            security_context: Some(pod_security()),
            image_pull_secrets: super::image_pull_secrets(redis),
            priority_class_name: redis.scheduling.priority_class_name.clone(),
            containers: vec![Container {
                name: "reconcile".into(),
                image: Some(redis.image.clone()),
                image_pull_policy: pull_policy(&redis.image),
                command: Some(vec!["sh".into(), "/topology/reconcile.sh".into()]),
                env: Some(env),
                resources: Some(fixed_resources("100m", "128Mi", "500m")),
                security_context: Some(container_security()),
                volume_mounts: Some(mounts),
                ..Container::default()
            }],
            volumes: Some(volumes),
            ..PodSpec::default()
        }),
    }
}

/// The Job may reach the Redis port of the deployment's pods and DNS, and
/// nothing else; nothing may reach it.
pub fn network_policy(redis: &Redis) -> NetworkPolicy {
    egress_only(redis, policy_name(redis), Component::Reconcile, &[])
}

/// A policy for the pods of `component` (Jobs): they may reach the Redis
/// port of the deployment's pods, DNS, and TCP `other_ports` anywhere;
/// nothing may reach them.
pub(super) fn egress_only(
    redis: &Redis,
    name: String,
    component: Component,
    other_ports: &[i32],
) -> NetworkPolicy {
    let port = |p: i32, protocol: &str| NetworkPolicyPort {
        port: Some(IntOrString::Int(p)),
        protocol: Some(protocol.into()),
        ..NetworkPolicyPort::default()
    };
    let mut anywhere = vec![port(53, "UDP"), port(53, "TCP")];
    anywhere.extend(other_ports.iter().map(|p| port(*p, "TCP")));
    NetworkPolicy {
        metadata: meta(redis, name, component, Wave::Prerequisite),
        spec: Some(NetworkPolicySpec {
            pod_selector: Some(LabelSelector {
                match_labels: Some(selector(redis, component)),
                ..LabelSelector::default()
            }),
            policy_types: Some(vec!["Ingress".into(), "Egress".into()]),
            egress: Some(vec![
                NetworkPolicyEgressRule {
                    to: Some(vec![NetworkPolicyPeer {
                        pod_selector: Some(LabelSelector {
                            match_labels: Some(selector(redis, Component::Deployment)),
                            ..LabelSelector::default()
                        }),
                        ..NetworkPolicyPeer::default()
                    }]),
                    ports: Some(vec![port(REDIS_PORT, "TCP")]),
                },
                NetworkPolicyEgressRule {
                    // DNS, wherever the cluster runs it: pod hostnames resolve.
                    to: None,
                    ports: Some(anywhere),
                },
            ]),
            ..NetworkPolicySpec::default()
        }),
    }
}
