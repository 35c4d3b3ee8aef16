//! The ConfigMap of a deployment: redis.conf, sentinel.conf and the scripts,
//! rendered from the templates, and the checksum that rolls pods on change.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::ConfigMap;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::templates::{TemplateError, Templates};
use super::{
    BUS_PORT, Component, Object, REDIS_PORT, SENTINEL_PORT, Wave, headless_name, meta, pod_host,
};
use crate::spec::model::{Engine, Persistence};
use crate::spec::validate::{Redis, Topology};

/// The rendered ConfigMap and the checksums that roll pods on change.
pub struct Rendered {
    pub object: Object,
    pub checksums: Checksums,
}

/// Checksums of the files each kind of pod reads: a change to sentinel.conf
/// rolls only the sentinels, a change to redis.conf only the Redis pods.
pub struct Checksums {
    pub redis: String,
    pub sentinel: String,
}

/// What `plan` needs of a deployment beyond its typed objects, recorded by
/// the renderer as JSON in the config ConfigMap's annotation
/// [`crate::names::STATE_ANNOTATION`]: the planner never reads the rendered
/// configuration's text back, so a `--templates` override that formats
/// redis.conf differently changes no finding. Unknown keys are ignored when
/// read, so a newer tool's record reads with an older one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Recorded {
    /// Bytes.
    pub maxmemory: u64,
    pub persistence: Persistence,
    /// Sentinel mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quorum: Option<u32>,
    /// Whether clients must speak TLS. `None` in a record written before
    /// the field existed: no finding either way.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<bool>,
    /// Whether clients must send a password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<bool>,
}

impl Recorded {
    pub fn of(redis: &Redis) -> Recorded {
        Recorded {
            maxmemory: redis.maxmemory_bytes,
            persistence: redis.persistence,
            quorum: match redis.topology {
                Topology::Sentinel { quorum, .. } => Some(quorum),
                _ => None,
            },
            tls: Some(redis.tls.is_some()),
            auth: Some(redis.auth.is_some()),
        }
    }
}

/// Files only the sentinel pods read.
const SENTINEL_FILES: &[&str] = &["sentinel.conf", "start-sentinel.sh"];
/// Files only the Redis pods read.
const REDIS_FILES: &[&str] = &["redis.conf", "start-redis.sh", "prestop.sh", "restore.sh"];
/// Files only the backup job reads: a change rolls no pod.
const JOB_FILES: &[&str] = &["backup.sh", "backup-upload.sh"];

/// How long a primary's preStop waits for another pod to take over (the
/// sentinels to name it, or a cluster replica to hold its slots), and in
/// sentinel mode for a replica to have every write (see prestop.sh).
pub const HANDOVER_WAIT_S: u32 = 20;
pub const CATCH_UP_S: u32 = 10;

pub fn config_map_name(redis: &Redis) -> String {
    crate::names::config(&redis.name)
}

#[derive(Serialize)]
struct Ports {
    redis: i32,
    bus: i32,
    sentinel: i32,
}

/// Where backups go (backup-upload.sh).
#[derive(Serialize)]
struct BackupCtx {
    bucket: String,
    prefix: String,
    /// Complete backups kept.
    keep: u32,
    /// Serving shards (1 outside cluster mode).
    shards: u32,
}

/// Where a restore comes from (restore.sh).
#[derive(Serialize)]
struct RestoreCtx {
    bucket: String,
    prefix: String,
    /// `latest` or a backup's name.
    from: String,
    /// Serving shards (1 outside cluster mode).
    shards: u32,
}

#[derive(Serialize)]
struct SentinelCtx {
    first_primary: String,
    quorum: u32,
    down_after_ms: u32,
    failover_timeout_ms: u32,
    /// Name prefix of the sentinel pods (`<name>-sentinel`): the scripts
    /// find the pods that exist at run time, so no file holds a count.
    sentinel_prefix: String,
    /// How long the preStop handover pauses writes at most.
    handover_ms: u32,
    handover_wait_s: u32,
}

/// What the templates see. Documented in the README ("Templates").
#[derive(Serialize)]
struct Ctx<'a> {
    name: &'a str,
    namespace: &'a str,
    source: String,
    engine: &'static str,
    server: &'static str,
    cli: &'static str,
    /// The server's RDB checker (the same binary under another name, in
    /// the official images).
    check_rdb: &'static str,
    mode: &'static str,
    headless: String,
    tls: bool,
    auth: bool,
    /// An exporter runs beside the server (its own ACL user).
    metrics: bool,
    ports: Ports,
    maxmemory: u64,
    maxmemory_policy: &'static str,
    rdb: bool,
    save_points: Vec<(u32, u32)>,
    aof: bool,
    config: Vec<(String, String)>,
    sentinel: Option<SentinelCtx>,
    /// How long a primary's preStop waits for a replica to take over.
    handover_wait_s: u32,
    version: String,
    backup: Option<BackupCtx>,
    restore: Option<RestoreCtx>,
}

fn context(redis: &Redis) -> Ctx<'_> {
    let (server, cli, check_rdb) = match redis.engine {
        Engine::Redis => ("redis-server", "redis-cli", "redis-check-rdb"),
        Engine::Valkey => ("valkey-server", "valkey-cli", "valkey-check-rdb"),
    };
    let sentinel = match redis.topology {
        Topology::Sentinel {
            quorum,
            down_after_ms,
            failover_timeout_ms,
            ..
        } => Some(SentinelCtx {
            first_primary: pod_host(redis, &format!("{}-0", redis.name)),
            quorum,
            down_after_ms,
            failover_timeout_ms,
            sentinel_prefix: crate::names::sentinel(&redis.name),
            handover_ms: (CATCH_UP_S + HANDOVER_WAIT_S + 5) * 1000,
            handover_wait_s: HANDOVER_WAIT_S,
        }),
        _ => None,
    };
    // Values arrive written as redis.conf reads them (directives::conf_value).
    let config = redis
        .config
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let shards = match redis.topology {
        Topology::Cluster {
            shards,
            drain_shards,
            ..
        } => shards - drain_shards,
        _ => 1,
    };
    let backup = redis.backup.as_ref().map(|b| BackupCtx {
        bucket: b.s3.bucket.clone(),
        prefix: b.s3.prefix.clone(),
        keep: b.keep,
        shards,
    });
    let restore = redis.restore.as_ref().map(|r| RestoreCtx {
        bucket: r.s3.bucket.clone(),
        prefix: r.s3.prefix.clone(),
        from: r.from.clone(),
        shards,
    });
    Ctx {
        name: &redis.name,
        namespace: &redis.namespace,
        source: redis.source.display().to_string(),
        engine: super::app_name(redis.engine),
        server,
        cli,
        check_rdb,
        mode: redis.mode().as_str(),
        headless: headless_name(redis),
        tls: redis.tls.is_some(),
        auth: redis.auth.is_some(),
        metrics: redis.metrics.is_some(),
        ports: Ports {
            redis: REDIS_PORT,
            bus: BUS_PORT,
            sentinel: SENTINEL_PORT,
        },
        maxmemory: redis.maxmemory_bytes,
        maxmemory_policy: redis.maxmemory_policy.as_str(),
        rdb: matches!(redis.persistence, Persistence::Rdb | Persistence::RdbAof),
        save_points: redis.save_points.clone(),
        aof: matches!(redis.persistence, Persistence::Aof | Persistence::RdbAof),
        config,
        sentinel,
        handover_wait_s: HANDOVER_WAIT_S,
        version: redis.version.to_string(),
        backup,
        restore,
    }
}

/// The configuration files of a deployment, by file name.
pub fn files(
    redis: &Redis,
    templates: &Templates,
) -> Result<BTreeMap<String, String>, TemplateError> {
    let ctx = context(redis);
    let mut data = BTreeMap::new();
    let mut add = |file: &str, template: &str| -> Result<(), TemplateError> {
        data.insert(file.to_owned(), templates.render(template, &ctx)?);
        Ok(())
    };
    add("redis.conf", "redis.conf.j2")?;
    add("common.sh", "common.sh.j2")?;
    add("start-redis.sh", "start-redis.sh.j2")?;
    add("probe.sh", "probe.sh.j2")?;
    if ctx.sentinel.is_some() {
        add("sentinel.conf", "sentinel.conf.j2")?;
        add("start-sentinel.sh", "start-sentinel.sh.j2")?;
    }
    if redis.mode() != crate::spec::model::Mode::Standalone {
        add("prestop.sh", "prestop.sh.j2")?;
    }
    if redis.backup.is_some() {
        add("backup.sh", "backup.sh.j2")?;
        add("backup-upload.sh", "backup-upload.sh.j2")?;
    }
    if redis.restore.is_some() {
        add("restore.sh", "restore.sh.j2")?;
    }
    Ok(data)
}

/// One template rendered with the deployment's context.
pub fn render_one(
    redis: &Redis,
    templates: &Templates,
    template: &str,
) -> Result<String, TemplateError> {
    templates.render(template, &context(redis))
}

pub fn render(redis: &Redis, templates: &Templates) -> Result<Rendered, TemplateError> {
    let data = files(redis, templates)?;
    let only = |skip: &[&str]| -> BTreeMap<String, String> {
        data.iter()
            .filter(|(k, _)| !skip.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    };
    let checksums = Checksums {
        redis: sha256_hex(&only(&[SENTINEL_FILES, JOB_FILES].concat())),
        sentinel: sha256_hex(&only(&[REDIS_FILES, JOB_FILES].concat())),
    };
    let mut metadata = meta(
        redis,
        config_map_name(redis),
        Component::Deployment,
        Wave::Prerequisite,
    );
    metadata.annotations.get_or_insert_default().insert(
        crate::names::STATE_ANNOTATION.to_owned(),
        serde_json::to_string(&Recorded::of(redis)).expect("the record serialises"),
    );
    let cm = ConfigMap {
        metadata,
        data: Some(data),
        ..ConfigMap::default()
    };
    Ok(Rendered {
        object: Object::typed(cm),
        checksums,
    })
}

/// SHA-256 over the files, in name order, each framed by its name and length.
pub fn sha256_hex(data: &BTreeMap<String, String>) -> String {
    let mut hasher = Sha256::new();
    for (k, v) in data {
        hasher.update(k.as_bytes());
        hasher.update((v.len() as u64).to_be_bytes());
        hasher.update(v.as_bytes());
    }
    crate::digest::hex(&hasher.finalize())
}
