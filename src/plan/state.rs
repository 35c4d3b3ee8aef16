//! A deployment's state as its rendered manifests describe it: read the same
//! way from the committed output and from what the specs render now, from
//! typed sources only: the StatefulSets as k8s-openapi objects, the slot map
//! of the topology ConfigMap, and the record the renderer keeps for the
//! planner in the config ConfigMap's annotation
//! ([`crate::render::config::Recorded`]). No configuration text is read back,
//! so templates that format redis.conf differently plan alike.

use std::collections::BTreeMap;
use std::path::Path;

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

/// What the planner takes from an object as it is parsed (once, by the
/// diff): no parsed object is kept.
#[derive(Debug, Clone)]
pub enum Facts {
    StatefulSet(Box<StatefulSetFacts>),
    ConfigMap(ConfigMapFacts),
}

/// What a ConfigMap records for the planner: the renderer's record and the
/// slot map.
#[derive(Debug, Clone)]
pub struct ConfigMapFacts {
    recorded: Option<Recorded>,
    slots: Option<SlotMap>,
}

#[derive(Debug, Clone)]
pub struct StatefulSetFacts {
    pub name: String,
    namespace: Option<String>,
    labels: BTreeMap<String, String>,
    replicas: u32,
    claims: Vec<(String, Option<String>, Option<String>)>,
    limits: BTreeMap<String, k8s_openapi::apimachinery::pkg::api::resource::Quantity>,
    pub template: Template,
}

/// A pod template, in the parts a reviewer asks about when pods roll.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    checksum: Option<String>,
    labels: serde_json::Value,
    images: Vec<serde_json::Value>,
    resources: [u8; 32],
    /// Everything else in the template.
    rest: [u8; 32],
}

const CONFIG_CHECKSUM: &str = "redis-gitops.io/config-checksum";

fn digest(value: &impl Serialize) -> [u8; 32] {
    use sha2::Digest as _;
    let json = serde_json::to_vec(value).expect("plain data serialises");
    sha2::Sha256::digest(&json).into()
}

impl Template {
    /// The parts of a pod template (taken, not copied: it is large).
    fn of(mut t: serde_json::Value) -> Template {
        use serde_json::Value;
        let each = |t: &mut Value, field: &str| -> Vec<Value> {
            let mut out = Vec::new();
            for k in ["initContainers", "containers"] {
                if let Some(cs) = t["spec"].get_mut(k).and_then(Value::as_array_mut) {
                    out.extend(
                        cs.iter_mut()
                            .filter_map(Value::as_object_mut)
                            .map(|c| c.remove(field).unwrap_or(Value::Null)),
                    );
                }
            }
            out
        };
        let images = each(&mut t, "image");
        let resources = digest(&each(&mut t, "resources"));
        let mut checksum = None;
        let mut labels = Value::Null;
        if let Some(m) = t.get_mut("metadata").and_then(Value::as_object_mut) {
            labels = m.remove("labels").unwrap_or(Value::Null);
            if let Some(a) = m.get_mut("annotations").and_then(Value::as_object_mut) {
                checksum = a
                    .remove(CONFIG_CHECKSUM)
                    .and_then(|c| c.as_str().map(str::to_owned));
            }
        }
        Template {
            checksum,
            labels,
            images,
            resources,
            // What is left: the pod spec as such.
            rest: digest(&t),
        }
    }

    /// What differs between two pod templates, in the words a reviewer uses.
    pub fn changes(&self, new: &Template) -> Vec<String> {
        let mut because = Vec::new();
        if self.checksum != new.checksum {
            because.push("configuration");
        }
        if self.labels != new.labels {
            because.push("labels");
        }
        if self.images != new.images {
            because.push("image");
        }
        if self.resources != new.resources {
            because.push("resources");
        }
        if self.rest != new.rest {
            because.push("pod spec");
        }
        because.into_iter().map(str::to_owned).collect()
    }
}

/// The diff's extractor: the facts of the objects that carry state. Only
/// the parts read are made typed (k8s-openapi), not the whole pod template.
pub fn facts(key: &crate::diff::ObjectKey, mut value: serde_json::Value) -> Option<Facts> {
    use k8s_openapi::api::core::v1::PersistentVolumeClaim;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
    fn typed<T: serde::de::DeserializeOwned>(v: &mut serde_json::Value) -> Option<T> {
        serde_json::from_value(v.take()).ok()
    }
    match key.kind.as_str() {
        "StatefulSet" => {
            let spec = value.get_mut("spec")?;
            let replicas = spec["replicas"].as_i64();
            let claims: Vec<PersistentVolumeClaim> =
                typed(&mut spec["volumeClaimTemplates"]).unwrap_or_default();
            let template = spec["template"].take();
            // Read before the template is taken apart.
            let limits = serde_json::from_value(
                template["spec"]["containers"][0]["resources"]["limits"].clone(),
            )
            .unwrap_or_default();
            let template = Template::of(template);
            let meta: ObjectMeta = typed(&mut value["metadata"]).unwrap_or_default();
            Some(Facts::StatefulSet(Box::new(StatefulSetFacts {
                name: meta.name.unwrap_or_default(),
                namespace: meta.namespace,
                labels: meta.labels.unwrap_or_default(),
                replicas: replicas.and_then(|r| u32::try_from(r).ok()).unwrap_or(1),
                claims: claims.into_iter().map(claim).collect(),
                limits,
                template,
            })))
        }
        "ConfigMap" => {
            let cm: ConfigMap = serde_json::from_value(value).ok()?;
            let facts = ConfigMapFacts {
                recorded: cm
                    .metadata
                    .annotations
                    .as_ref()
                    .and_then(|a| a.get(crate::names::STATE_ANNOTATION))
                    .and_then(|json| serde_json::from_str::<Recorded>(json).ok()),
                slots: cm
                    .data
                    .as_ref()
                    .and_then(|d| d.get(crate::topology::SLOTS_KEY))
                    .and_then(|slots| SlotMap::parse(slots).ok()),
            };
            (facts.recorded.is_some() || facts.slots.is_some()).then_some(Facts::ConfigMap(facts))
        }
        _ => None,
    }
}

/// A volume claim template: name, storage request and class.
fn claim(
    c: k8s_openapi::api::core::v1::PersistentVolumeClaim,
) -> (String, Option<String>, Option<String>) {
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
}

/// Every deployment's state from the facts of its objects (deployment,
/// facts), in file order.
pub fn states_of<'a>(
    facts: impl IntoIterator<Item = (&'a str, &'a Facts)>,
) -> BTreeMap<String, State> {
    let mut out: BTreeMap<String, State> = BTreeMap::new();
    for (deployment, facts) in facts {
        let state = out.entry(deployment.to_owned()).or_default();
        match facts {
            Facts::StatefulSet(sts) => read_statefulset(state, sts),
            Facts::ConfigMap(cm) => read_config_map(state, cm),
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

/// Reads every deployment's state out of output files (path -> bytes).
pub fn states<'a>(
    files: impl IntoIterator<Item = (&'a Path, &'a [u8])>,
) -> BTreeMap<String, State> {
    let facts: Vec<(String, Facts)> = files
        .into_iter()
        .flat_map(|(path, bytes)| crate::diff::extract(path, bytes).unwrap_or_default())
        .collect();
    states_of(facts.iter().map(|(d, f)| (d.as_str(), f)))
}

fn quantity(q: &k8s_openapi::apimachinery::pkg::api::resource::Quantity) -> Option<Quantity> {
    Quantity::parse(&q.0).ok()
}

fn read_statefulset(state: &mut State, sts: &StatefulSetFacts) {
    let labels = &sts.labels;
    let replicas = sts.replicas;
    let component = labels.get(label::COMPONENT).map(String::as_str);
    state.statefulsets.push(Workload {
        name: sts.name.clone(),
        replicas,
        claims: sts.claims.clone(),
    });
    if component == Some(component::SENTINEL) {
        state.mode = Some(Mode::Sentinel);
        state.shards = 1;
        state.sentinels = replicas;
        return;
    }
    let label = |key: &str| labels.get(key).cloned().unwrap_or_default();
    state.name = label(label::INSTANCE);
    state.namespace = sts.namespace.clone().unwrap_or_default();
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
    let data = sts.claims.first();
    state.storage = data
        .and_then(|(_, size, _)| size.as_deref())
        .and_then(|s| Quantity::parse(s).ok());
    state.storage_class = data.and_then(|(_, _, class)| class.clone());
    state.cpu_limit = sts.limits.get("cpu").and_then(quantity);
    state.memory_limit = sts.limits.get("memory").and_then(quantity);
}

fn read_config_map(state: &mut State, cm: &ConfigMapFacts) {
    if let Some(r) = &cm.recorded {
        state.maxmemory = Some(r.maxmemory);
        state.persistence = Some(r.persistence);
        state.quorum = r.quorum;
        state.tls = r.tls;
        state.auth = r.auth;
    }
    if let Some(slots) = &cm.slots {
        state.slots = Some(slots.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::Template;
    use serde_json::json;

    fn template(checksum: &str, tier: &str, image: &str, memory: &str, grace: u32) -> Template {
        Template::of(json!({
            "metadata": {
                "annotations": {"redis-gitops.io/config-checksum": checksum},
                "labels": {"tier": tier},
            },
            "spec": {
                "terminationGracePeriodSeconds": grace,
                "initContainers": [{"name": "init", "image": image}],
                "containers": [{"name": "redis", "image": image, "resources": {"limits": {"memory": memory}}}],
            },
        }))
    }

    #[test]
    fn each_part_of_a_pod_template_is_named_when_it_changes() {
        let base = template("a", "x", "redis:7.2.5", "1Gi", 30);
        assert!(
            base.changes(&template("a", "x", "redis:7.2.5", "1Gi", 30))
                .is_empty()
        );
        for (other, why) in [
            (
                template("b", "x", "redis:7.2.5", "1Gi", 30),
                "configuration",
            ),
            (template("a", "y", "redis:7.2.5", "1Gi", 30), "labels"),
            (template("a", "x", "redis:7.4.0", "1Gi", 30), "image"),
            (template("a", "x", "redis:7.2.5", "2Gi", 30), "resources"),
            (template("a", "x", "redis:7.2.5", "1Gi", 60), "pod spec"),
        ] {
            assert_eq!(base.changes(&other), [why]);
        }
    }
}
