//! A deployment's state as its rendered manifests describe it: read the same
//! way from the committed output and from what the specs render now, from
//! typed sources only: the StatefulSets as k8s-openapi objects, the slot map
//! of the topology ConfigMap, and the record the renderer keeps for the
//! planner in the config ConfigMap's annotation
//! ([`crate::render::config::Recorded`]). No configuration text is read back,
//! so templates that format redis.conf differently plan alike.

use std::collections::BTreeMap;
use std::path::Path;

use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::ConfigMap;
use serde::Serialize;

use crate::names::{component, label};
use crate::render::config::Recorded;
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
    pub persistence: Option<Persistence>,
    pub tls: Option<bool>,
    pub auth: Option<bool>,
    #[serde(skip)]
    pub slots: Option<SlotMap>,
    /// The StatefulSets, for the manual steps, by name.
    #[serde(skip)]
    pub statefulsets: Vec<Workload>,
}

/// A StatefulSet as the manual steps need it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Workload {
    pub name: String,
    pub replicas: u32,
    /// Its volumeClaimTemplates: name, storage request and class.
    pub claims: Vec<(String, Option<String>, Option<String>)>,
}

impl Workload {
    /// The PersistentVolumeClaims its pods have, claim by claim.
    pub fn pvcs(&self) -> impl Iterator<Item = String> + '_ {
        self.claims.iter().flat_map(move |(claim, _, _)| {
            (0..self.replicas).map(move |i| crate::names::pvc(claim, &self.name, i))
        })
    }
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
        let file = path.file_name().unwrap_or_default().to_string_lossy();
        if file.starts_with(KIND_STATEFULSET) {
            if let Ok(sts) = serde_yaml::from_slice::<StatefulSet>(bytes) {
                read_statefulset(out.entry(slash(dir)).or_default(), sts);
            }
        } else if file.starts_with(KIND_CONFIGMAP) {
            if let Ok(cm) = serde_yaml::from_slice::<ConfigMap>(bytes) {
                read_config_map(out.entry(slash(dir)).or_default(), &cm);
            }
        }
    }
    for state in out.values_mut() {
        state.statefulsets.sort();
        // The shards that own slots: `shards - drainShards`, as the map
        // gives draining shards none and every serving shard some.
        if let Some(slots) = &state.slots {
            state.serving =
                u32::try_from(slots.counts().values().filter(|n| **n > 0).count()).unwrap_or(0);
        }
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

/// The file name prefixes of the kinds that carry state.
pub(super) const KIND_STATEFULSET: &str = "statefulset-";
pub(super) const KIND_CONFIGMAP: &str = "configmap-";

fn quantity(q: &k8s_openapi::apimachinery::pkg::api::resource::Quantity) -> Option<Quantity> {
    Quantity::parse(&q.0).ok()
}

fn read_statefulset(state: &mut State, sts: StatefulSet) {
    let labels = sts.metadata.labels.unwrap_or_default();
    let name = sts.metadata.name.unwrap_or_default();
    let spec = sts.spec.unwrap_or_default();
    let replicas = spec
        .replicas
        .and_then(|r| u32::try_from(r).ok())
        .unwrap_or(1);
    let claims: Vec<_> = spec
        .volume_claim_templates
        .unwrap_or_default()
        .into_iter()
        .map(|c| {
            let spec = c.spec.unwrap_or_default();
            let size = spec
                .resources
                .and_then(|r| r.requests)
                .and_then(|r| r.get("storage").map(|q| q.0.clone()));
            (
                c.metadata.name.unwrap_or_default(),
                size,
                spec.storage_class_name,
            )
        })
        .collect();
    let component = labels.get(label::COMPONENT).map(String::as_str);
    state.statefulsets.push(Workload {
        name,
        replicas,
        claims,
    });
    if component == Some(component::SENTINEL) {
        state.mode = Some(Mode::Sentinel);
        state.shards = 1;
        state.sentinels = replicas;
        return;
    }
    let label = |key: &str| labels.get(key).cloned().unwrap_or_default();
    state.name = label(label::INSTANCE);
    state.namespace = sts.metadata.namespace.unwrap_or_default();
    state.engine = match label(label::NAME).as_str() {
        "redis" => Some(Engine::Redis),
        "valkey" => Some(Engine::Valkey),
        _ => None,
    };
    state.version = parse_version(&label(label::VERSION));
    state.pods = replicas;
    match component {
        Some(component::SHARD) => {
            state.mode = Some(Mode::Cluster);
            state.shards += 1;
        }
        _ if state.mode.is_none() => {
            state.mode = Some(Mode::Standalone);
            state.shards = 1;
        }
        _ => {}
    }
    let data = state
        .statefulsets
        .last()
        .and_then(|w| w.claims.first())
        .cloned();
    state.storage = data
        .as_ref()
        .and_then(|(_, size, _)| size.as_deref())
        .and_then(|s| Quantity::parse(s).ok());
    state.storage_class = data.and_then(|(_, _, class)| class);
    let limits = spec
        .template
        .spec
        .and_then(|p| p.containers.into_iter().next())
        .and_then(|c| c.resources)
        .and_then(|r| r.limits)
        .unwrap_or_default();
    state.cpu_limit = limits.get("cpu").and_then(quantity);
    state.memory_limit = limits.get("memory").and_then(quantity);
}

fn read_config_map(state: &mut State, cm: &ConfigMap) {
    let recorded = cm
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(crate::names::STATE_ANNOTATION))
        .and_then(|json| serde_json::from_str::<Recorded>(json).ok());
    if let Some(r) = recorded {
        state.maxmemory = Some(r.maxmemory);
        state.persistence = Some(r.persistence);
        state.quorum = r.quorum;
        state.tls = r.tls;
        state.auth = r.auth;
    }
    if let Some(slots) = cm
        .data
        .as_ref()
        .and_then(|d| d.get(crate::topology::SLOTS_KEY))
    {
        state.slots = SlotMap::parse(slots).ok();
    }
}
