//! A deployment's state as its rendered manifests describe it: read the same
//! way from the committed output and from what the specs render now.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;
use serde_yaml::Value;

use crate::spec::model::{Engine, Mode, Persistence};
use crate::spec::quantity::Quantity;
use crate::spec::validate::{Version, parse_version};
use crate::topology::slots::SlotMap;

/// A deployment's topology as its manifests describe it.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct State {
    pub name: String,
    pub namespace: String,
    pub mode: Option<Mode>,
    pub engine: Option<Engine>,
    pub version: Option<Version>,
    /// Cluster: shards; other modes: 1.
    pub shards: u32,
    /// Cluster: shards that own slots.
    pub serving: u32,
    /// Pods per shard (cluster), Redis pods (sentinel), 1 (standalone).
    pub pods: u32,
    pub sentinels: u32,
    pub quorum: Option<u32>,
    pub storage: Option<Quantity>,
    pub storage_class: Option<String>,
    pub cpu_limit: Option<Quantity>,
    pub memory_limit: Option<Quantity>,
    pub maxmemory: Option<u64>,
    /// As redis.conf's `save` / `appendonly` say.
    pub persistence: Option<Persistence>,
    #[serde(skip)]
    pub slots: Option<SlotMap>,
    /// The StatefulSets' names, for the manual steps.
    #[serde(skip)]
    pub statefulsets: Vec<(String, u32)>,
}

/// Reads every deployment's state out of output files (path -> bytes).
pub fn states<'a>(
    files: impl IntoIterator<Item = (&'a Path, &'a [u8])>,
) -> BTreeMap<String, State> {
    let mut out: BTreeMap<String, State> = BTreeMap::new();
    for (path, bytes) in files {
        let Some(dir) = path.parent() else { continue };
        if dir
            .components()
            .any(|c| crate::names::is_entry_folder(&c.as_os_str().to_string_lossy()))
        {
            continue;
        }
        let Ok(value) = serde_yaml::from_slice::<Value>(bytes) else {
            continue;
        };
        let deployment = slash(dir);
        let state = out.entry(deployment).or_default();
        read_object(state, &value);
    }
    out.retain(|_, s| s.mode.is_some());
    out
}

pub(super) fn slash(p: &Path) -> String {
    p.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

fn quantity(v: &Value) -> Option<Quantity> {
    text(v).and_then(|t| Quantity::parse(&t).ok())
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn read_object(state: &mut State, v: &Value) {
    let labels = &v["metadata"]["labels"];
    let name = v["metadata"]["name"].as_str().unwrap_or_default();
    match v["kind"].as_str() {
        Some("StatefulSet") => {
            let component = labels["app.kubernetes.io/component"]
                .as_str()
                .unwrap_or_default();
            let replicas = v["spec"]["replicas"]
                .as_u64()
                .and_then(|r| u32::try_from(r).ok())
                .unwrap_or(1);
            state.statefulsets.push((name.to_owned(), replicas));
            state.statefulsets.sort();
            if component == "sentinel" {
                state.sentinels = replicas;
                return;
            }
            state.name = labels["app.kubernetes.io/instance"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            state.namespace = v["metadata"]["namespace"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            state.engine = match labels["app.kubernetes.io/name"].as_str() {
                Some("redis") => Some(Engine::Redis),
                Some("valkey") => Some(Engine::Valkey),
                _ => None,
            };
            state.version = labels["app.kubernetes.io/version"]
                .as_str()
                .and_then(parse_version);
            state.pods = replicas;
            match component {
                "shard" => {
                    state.mode = Some(Mode::Cluster);
                    state.shards += 1;
                }
                _ if state.mode.is_none() => {
                    state.mode = Some(Mode::Standalone);
                    state.shards = 1;
                }
                _ => {}
            }
            let claim = &v["spec"]["volumeClaimTemplates"][0]["spec"];
            state.storage = quantity(&claim["resources"]["requests"]["storage"]);
            state.storage_class = text(&claim["storageClassName"]);
            let limits = &v["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"];
            state.cpu_limit = quantity(&limits["cpu"]);
            state.memory_limit = quantity(&limits["memory"]);
        }
        Some("ConfigMap") => {
            let data = &v["data"];
            if let Some(conf) = data["redis.conf"].as_str() {
                state.maxmemory = conf
                    .lines()
                    .find_map(|l| l.strip_prefix("maxmemory "))
                    .and_then(|n| n.trim().parse().ok());
                let rdb = conf
                    .lines()
                    .any(|l| l.starts_with("save ") && l.trim() != "save \"\"");
                let aof = conf.lines().any(|l| l.trim() == "appendonly yes");
                state.persistence = Some(match (rdb, aof) {
                    (true, true) => Persistence::RdbAof,
                    (true, false) => Persistence::Rdb,
                    (false, true) => Persistence::Aof,
                    (false, false) => Persistence::None,
                });
            }
            if let Some(conf) = data["sentinel.conf"].as_str() {
                state.mode = Some(Mode::Sentinel);
                state.shards = 1;
                state.quorum = conf
                    .lines()
                    .find_map(|l| l.strip_prefix("sentinel monitor "))
                    .and_then(|rest| rest.split_whitespace().nth(3))
                    .and_then(|q| q.parse().ok());
            }
            if let Some(slots) = data[crate::topology::SLOTS_KEY].as_str() {
                state.slots = SlotMap::parse(slots).ok();
                if let Some(env) = data["cluster.env"].as_str() {
                    state.serving = env
                        .lines()
                        .find_map(|l| l.strip_prefix("serving="))
                        .and_then(|n| n.parse().ok())
                        .unwrap_or(0);
                }
            }
        }
        _ => {}
    }
}
