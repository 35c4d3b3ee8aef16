//! Backups and restores: the backup CronJob (snapshot with the engine's
//! CLI, upload with rclone), its ServiceAccount and NetworkPolicy, and the
//! restore init container of the Redis pods.

use std::collections::BTreeMap;

use k8s_openapi::api::batch::v1::{CronJob, CronJobSpec, JobSpec, JobTemplateSpec};
use k8s_openapi::api::core::v1::{
    Container, EnvVar, EnvVarSource, KeyToPath, PodSpec, PodTemplateSpec, SecretVolumeSource,
    ServiceAccount, Volume,
};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::config::config_map_name;
use super::workload::{
    config_map_volume, container_security, empty_dir, fixed_resources, mount, pod_security,
    pull_policy, secret_volumes,
};
use super::{Component, Wave, meta};
use crate::spec::validate::{Redis, S3, Topology};

pub fn name(redis: &Redis) -> String {
    crate::names::backup(&redis.name)
}

fn env(name: &str, value: &str) -> EnvVar {
    EnvVar {
        name: name.into(),
        value: Some(value.into()),
        ..EnvVar::default()
    }
}

/// rclone's remote `store:` for the bucket. The credentials come from the
/// files of the Secret the spec names (`s3_volume`, read by the scripts),
/// else from the pod's cloud identity (env_auth reads IRSA's and workload
/// identity's variables). HOME on the writable /tmp.
pub fn s3_env(s3: &S3) -> Vec<EnvVar> {
    let mut v = vec![
        env("HOME", "/tmp"),
        // No config file: the remote is all in the environment.
        env("RCLONE_CONFIG", "/dev/null"),
        env("RCLONE_CONFIG_STORE_TYPE", "s3"),
        env(
            "RCLONE_CONFIG_STORE_PROVIDER",
            if s3.endpoint.is_some() {
                "Other"
            } else {
                "AWS"
            },
        ),
        env("RCLONE_CONFIG_STORE_ENV_AUTH", "true"),
        env("RCLONE_CONFIG_STORE_REGION", &s3.region),
    ];
    if let Some(endpoint) = &s3.endpoint {
        v.push(env("RCLONE_CONFIG_STORE_ENDPOINT", endpoint));
        v.push(env("RCLONE_CONFIG_STORE_FORCE_PATH_STYLE", "true"));
    }
    v
}

/// Where the scripts read the bucket's credentials from.
const S3_SECRET_DIR: &str = "/secrets/s3";

/// The credentials Secret as files (`AWS_ACCESS_KEY_ID`,
/// `AWS_SECRET_ACCESS_KEY`), when the spec names one: files, not env, so
/// they are in no process listing or pod description.
fn s3_volume(name: &str, s3: &S3) -> Option<Volume> {
    let secret = s3.credentials_secret.as_ref()?;
    Some(Volume {
        name: name.into(),
        secret: Some(SecretVolumeSource {
            secret_name: Some(secret.clone()),
            items: Some(
                ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]
                    .map(|k| KeyToPath {
                        key: k.into(),
                        path: k.into(),
                        mode: None,
                    })
                    .to_vec(),
            ),
            default_mode: Some(0o440),
            ..SecretVolumeSource::default()
        }),
        ..Volume::default()
    })
}

/// The backup CronJob: `backup.sh` (engine image) takes the snapshots into
/// an emptyDir, `backup-upload.sh` (rclone) uploads them, the manifest last,
/// and applies the retention. One run at a time; a failed run is not retried
/// (the next scheduled one is the retry) and stays visible for the alert.
pub fn cron_job(redis: &Redis) -> Option<CronJob> {
    let backup = redis.backup.as_ref()?;
    let cluster = matches!(redis.topology, Topology::Cluster { .. });
    // Room for every shard's snapshot: the memory limit twice per shard.
    let shards = match redis.topology {
        Topology::Cluster {
            shards,
            drain_shards,
            ..
        } => u64::from(shards - drain_shards),
        _ => 1,
    };
    let limit = u64::try_from(redis.resources.limits.memory.whole_units()).unwrap_or(u64::MAX);
    let room = crate::spec::quantity::Quantity::from_bytes(limit.saturating_mul(2 * shards));
    let mut volumes = vec![
        config_map_volume("config", config_map_name(redis)),
        empty_dir("backup", false, &room.to_string()),
        empty_dir("tmp", false, "64Mi"),
    ];
    let mut snapshot_mounts = vec![
        mount("config", "/config", true),
        mount("backup", "/backup", false),
        mount("tmp", "/tmp", false),
    ];
    if cluster {
        volumes.push(config_map_volume("topology", super::topology::name(redis)));
        snapshot_mounts.push(mount("topology", "/topology", true));
    }
    volumes.extend(secret_volumes(redis));
    let mut upload_mounts = vec![
        mount("config", "/config", true),
        mount("backup", "/backup", true),
        mount("tmp", "/tmp", false),
    ];
    if let Some(v) = s3_volume("s3", &backup.s3) {
        volumes.push(v);
        upload_mounts.push(mount("s3", S3_SECRET_DIR, true));
    }
    if redis.auth.is_some() {
        snapshot_mounts.push(mount("auth", "/secrets/auth", true));
    }
    if redis.tls.is_some() {
        snapshot_mounts.push(mount("tls", "/tls", true));
    }
    let snapshot = Container {
        name: "snapshot".into(),
        image: Some(redis.image.clone()),
        image_pull_policy: pull_policy(&redis.image),
        command: Some(vec!["sh".into(), "/config/backup.sh".into()]),
        env: Some(vec![env("POD_NAME", "backup")]),
        resources: Some(fixed_resources("100m", "128Mi", "500m")),
        security_context: Some(container_security()),
        volume_mounts: Some(snapshot_mounts),
        ..Container::default()
    };
    let upload = Container {
        name: "upload".into(),
        image: Some(backup.image.clone()),
        image_pull_policy: pull_policy(&backup.image),
        command: Some(vec!["sh".into(), "/config/backup-upload.sh".into()]),
        env: Some(s3_env(&backup.s3)),
        resources: Some(fixed_resources("100m", "128Mi", "1")),
        security_context: Some(container_security()),
        volume_mounts: Some(upload_mounts),
        ..Container::default()
    };
    let with_identity = !backup.service_account_annotations.is_empty();
    Some(CronJob {
        metadata: meta(redis, name(redis), Component::Backup, Wave::Workload),
        spec: Some(CronJobSpec {
            schedule: backup.schedule.clone(),
            concurrency_policy: Some("Forbid".into()),
            starting_deadline_seconds: Some(600),
            successful_jobs_history_limit: Some(1),
            failed_jobs_history_limit: Some(3),
            job_template: JobTemplateSpec {
                metadata: None,
                spec: Some(JobSpec {
                    backoff_limit: Some(0),
                    active_deadline_seconds: Some(6 * 3600),
                    ttl_seconds_after_finished: Some(7 * 24 * 3600),
                    template: PodTemplateSpec {
                        metadata: Some(ObjectMeta {
                            labels: Some(super::labels(redis, Component::Backup)),
                            ..ObjectMeta::default()
                        }),
                        spec: Some(PodSpec {
                            restart_policy: Some("Never".into()),
                            service_account_name: Some(if with_identity {
                                name(redis)
                            } else {
                                redis.name.clone()
                            }),
                            // A cloud identity's webhook mounts its own token.
                            automount_service_account_token: Some(false),
                            enable_service_links: Some(false),
                            security_context: Some(pod_security()),
                            image_pull_secrets: super::image_pull_secrets(redis),
                            priority_class_name: redis.scheduling.priority_class_name.clone(),
                            init_containers: Some(vec![snapshot]),
                            containers: vec![upload],
                            volumes: Some(volumes),
                            ..PodSpec::default()
                        }),
                    },
                    ..JobSpec::default()
                }),
            },
            ..CronJobSpec::default()
        }),
        ..CronJob::default()
    })
}

/// The backup job's own ServiceAccount, when it gets a cloud identity from
/// annotations (IRSA, workload identity): the Redis pods do not get it.
pub fn service_account(redis: &Redis) -> Option<ServiceAccount> {
    let backup = redis.backup.as_ref()?;
    if backup.service_account_annotations.is_empty() {
        return None;
    }
    let mut metadata = meta(redis, name(redis), Component::Backup, Wave::Prerequisite);
    metadata
        .annotations
        .get_or_insert_with(BTreeMap::new)
        .extend(backup.service_account_annotations.clone());
    Some(ServiceAccount {
        metadata,
        automount_service_account_token: Some(false),
        ..ServiceAccount::default()
    })
}

/// The backup job may reach the deployment's Redis port, DNS and HTTPS
/// (or the endpoint's port) anywhere: the object store's address is not
/// known to the compiler. Nothing may reach it.
pub fn network_policy(redis: &Redis) -> Option<NetworkPolicy> {
    let backup = redis.backup.as_ref()?;
    Some(super::job::egress_only(
        redis,
        name(redis),
        Component::Backup,
        &[endpoint_port(&backup.s3)],
    ))
}

/// The object store's port: the endpoint's, else HTTPS.
pub fn endpoint_port(s3: &S3) -> i32 {
    let Some(endpoint) = &s3.endpoint else {
        return 443;
    };
    let rest = endpoint
        .split_once("://")
        .map_or(endpoint.as_str(), |(_, r)| r);
    let host = rest.split('/').next().unwrap_or(rest);
    host.rsplit_once(':')
        .and_then(|(_, p)| p.parse().ok())
        .unwrap_or(if endpoint.starts_with("http://") {
            80
        } else {
            443
        })
}

/// The Redis pods' restore init container (restore.sh from the config
/// ConfigMap, in the uploader's image): it seeds an empty volume once.
pub fn restore_container(redis: &Redis) -> Option<Container> {
    let restore = redis.restore.as_ref()?;
    let image = redis
        .backup
        .as_ref()
        .map_or(crate::spec::validate::DEFAULT_BACKUP_IMAGE, |b| {
            b.image.as_str()
        })
        .to_owned();
    let mut env = vec![EnvVar {
        name: "POD_NAME".into(),
        value_from: Some(EnvVarSource {
            field_ref: Some(k8s_openapi::api::core::v1::ObjectFieldSelector {
                field_path: "metadata.name".into(),
                api_version: None,
            }),
            ..EnvVarSource::default()
        }),
        ..EnvVar::default()
    }];
    env.extend(s3_env(&restore.s3));
    let mut mounts = vec![
        mount("config", "/config", true),
        mount("data", "/data", false),
        mount("tmp", "/tmp", false),
    ];
    if matches!(redis.topology, Topology::Cluster { .. }) {
        mounts.push(mount("topology", "/topology", true));
    }
    if restore.s3.credentials_secret.is_some() {
        mounts.push(mount("restore-s3", S3_SECRET_DIR, true));
    }
    Some(Container {
        name: "restore".into(),
        image_pull_policy: pull_policy(&image),
        image: Some(image),
        command: Some(vec!["sh".into(), "/config/restore.sh".into()]),
        env: Some(env),
        resources: Some(fixed_resources("100m", "128Mi", "1")),
        security_context: Some(container_security()),
        volume_mounts: Some(mounts),
        ..Container::default()
    })
}

/// The restore init container's volumes in the Redis pods: the bucket's
/// credentials, and in cluster mode the topology ConfigMap (the backup's
/// slots are compared with the committed map; a new map rolls no pod).
pub fn restore_volumes(redis: &Redis) -> Vec<Volume> {
    let Some(restore) = &redis.restore else {
        return Vec::new();
    };
    let mut v: Vec<Volume> = s3_volume("restore-s3", &restore.s3).into_iter().collect();
    if matches!(redis.topology, Topology::Cluster { .. }) {
        v.push(config_map_volume("topology", super::topology::name(redis)));
    }
    v
}
