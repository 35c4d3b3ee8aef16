//! Cluster mode's committed topology: the ConfigMap `<name>-topology` with
//! the slot map, the pods of every shard and the shard counts, in plain
//! line formats that the reconcile script (POSIX sh) reads as they are.
//!
//! Pods do not mount it, so a new map rolls no pod; the reconcile Job does.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::ConfigMap;

use super::config;
use super::templates::{TemplateError, Templates};
use super::workload::shard_name;
use super::{Component, Object, REDIS_PORT, Wave, meta, pod_host};
use crate::spec::validate::{Redis, Topology};
use crate::topology::SLOTS_KEY;
use crate::topology::slots::SlotMap;

pub fn name(redis: &Redis) -> String {
    crate::names::topology(&redis.name)
}

/// `nodes`: one line per pod, `<shard> <pod> <host> <port>`, shard order,
/// pod 0 of each shard first (the primary of a new shard).
pub fn nodes(redis: &Redis) -> String {
    let Topology::Cluster {
        shards,
        replicas_per_shard,
        ..
    } = redis.topology
    else {
        return String::new();
    };
    let mut out = String::from("# One line per pod: \"<shard> <pod> <host> <port>\".\n");
    for shard in 0..shards {
        for i in 0..=replicas_per_shard {
            let pod = format!("{}-{i}", shard_name(redis, shard));
            out.push_str(&format!(
                "{shard} {pod} {} {REDIS_PORT}\n",
                pod_host(redis, &pod)
            ));
        }
    }
    out
}

/// The topology ConfigMap and its hash (over the map, the pods and the
/// scripts: whatever the reconcile Job acts on), `None` outside cluster mode.
pub fn render(
    redis: &Redis,
    map: &SlotMap,
    templates: &Templates,
) -> Result<Option<(Object, String)>, TemplateError> {
    let Topology::Cluster {
        shards,
        replicas_per_shard,
        drain_shards,
    } = redis.topology
    else {
        return Ok(None);
    };
    let mut data = BTreeMap::from([
        ("nodes".to_owned(), nodes(redis)),
        (SLOTS_KEY.to_owned(), map.to_text()),
        (
            "reconcile.sh".to_owned(),
            config::render_one(redis, templates, "reconcile.sh.j2")?,
        ),
        (
            "common.sh".to_owned(),
            config::render_one(redis, templates, "common.sh.j2")?,
        ),
    ]);
    let hash: String = config::sha256_hex(&data).chars().take(8).collect();
    data.insert(
        "cluster.env".to_owned(),
        format!(
            "# Sourced by the reconcile script.\nshards={shards}\nserving={}\n\
             replicas_per_shard={replicas_per_shard}\ntopology_hash={hash}\n",
            shards - drain_shards,
        ),
    );
    let cm = ConfigMap {
        metadata: meta(
            redis,
            name(redis),
            Component::Deployment,
            Wave::Prerequisite,
        ),
        data: Some(data),
        ..ConfigMap::default()
    };
    Ok(Some((Object::typed(cm), hash)))
}
