//! The ConfigMap of a deployment: redis.conf, sentinel.conf and the scripts,
//! rendered from the templates, and the checksum that rolls pods on change.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::ConfigMap;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::templates::{TemplateError, Templates};
use super::{
    BUS_PORT, Component, Object, REDIS_PORT, SENTINEL_PORT, Wave, headless_name, meta, pod_host,
};
use crate::spec::model::{Engine, Persistence};
use crate::spec::validate::{Redis, Topology};

/// The rendered ConfigMap and the checksum of its data.
pub struct Rendered {
    pub object: Object,
    pub checksum: String,
}

pub fn config_map_name(redis: &Redis) -> String {
    format!("{}-config", redis.name)
}

#[derive(Serialize)]
struct Ports {
    redis: i32,
    bus: i32,
    sentinel: i32,
}

#[derive(Serialize)]
struct SentinelCtx {
    first_primary: String,
    quorum: u32,
    down_after_ms: u32,
    failover_timeout_ms: u32,
    sentinel_hosts: Vec<String>,
    redis_hosts: Vec<String>,
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
    mode: &'static str,
    headless: String,
    tls: bool,
    auth: bool,
    ports: Ports,
    maxmemory: u64,
    maxmemory_policy: &'a str,
    rdb: bool,
    aof: bool,
    config: Vec<(String, String)>,
    sentinel: Option<SentinelCtx>,
}

fn context(redis: &Redis) -> Ctx<'_> {
    let (server, cli) = match redis.engine {
        Engine::Redis => ("redis-server", "redis-cli"),
        Engine::Valkey => ("valkey-server", "valkey-cli"),
    };
    let sentinel = match redis.topology {
        Topology::Sentinel {
            replicas,
            sentinels,
            quorum,
            down_after_ms,
            failover_timeout_ms,
        } => {
            let redis_hosts: Vec<String> = (0..replicas)
                .map(|i| pod_host(redis, &format!("{}-{i}", redis.name)))
                .collect();
            Some(SentinelCtx {
                first_primary: redis_hosts[0].clone(),
                quorum,
                down_after_ms,
                failover_timeout_ms,
                sentinel_hosts: (0..sentinels)
                    .map(|i| pod_host(redis, &format!("{}-sentinel-{i}", redis.name)))
                    .collect(),
                redis_hosts,
            })
        }
        _ => None,
    };
    let config = redis
        .config
        .iter()
        .map(|(k, v)| {
            (
                k.clone(),
                if v.is_empty() {
                    "\"\"".to_owned()
                } else {
                    v.clone()
                },
            )
        })
        .collect();
    Ctx {
        name: &redis.name,
        namespace: &redis.namespace,
        source: redis.source.display().to_string(),
        engine: super::app_name(redis.engine),
        server,
        cli,
        mode: redis.mode().as_str(),
        headless: headless_name(redis),
        tls: redis.tls.is_some(),
        auth: redis.auth.is_some(),
        ports: Ports {
            redis: REDIS_PORT,
            bus: BUS_PORT,
            sentinel: SENTINEL_PORT,
        },
        maxmemory: redis.maxmemory_bytes,
        maxmemory_policy: &redis.maxmemory_policy,
        rdb: matches!(redis.persistence, Persistence::Rdb | Persistence::RdbAof),
        aof: matches!(redis.persistence, Persistence::Aof | Persistence::RdbAof),
        config,
        sentinel,
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
    let checksum = sha256_hex(&data);
    let cm = ConfigMap {
        metadata: meta(
            redis,
            config_map_name(redis),
            Component::Deployment,
            Wave::Prerequisite,
        ),
        data: Some(data),
        ..ConfigMap::default()
    };
    Ok(Rendered {
        object: Object::typed(&cm),
        checksum,
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
    crate::cache::hex(&hasher.finalize())
}
