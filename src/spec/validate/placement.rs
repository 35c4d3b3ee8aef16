//! Kubernetes-native placement rules (`scheduling.affinity`,
//! `scheduling.topologySpreadConstraints`): checked as the API server checks
//! them, then held as k8s-openapi's types for rendering to merge with the
//! compiler's own rules.

use k8s_openapi::api::core::v1 as core;
use k8s_openapi::apimachinery::pkg::apis::meta::v1 as meta;

use super::*;
use model::{LabelSelectorFull, NodeSelectorTerm, PodAffinityTerm, Requirement};

/// A k8s-openapi value that takes part in the deployment's hash (by its JSON).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct K8s<T>(pub T);

impl<T: serde::Serialize> std::hash::Hash for K8s<T> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        serde_json::to_string(&self.0)
            .expect("k8s-openapi values serialise")
            .hash(state);
    }
}

/// The spec's own placement rules, checked.
#[derive(Debug, Clone, PartialEq, Default, Hash)]
pub struct Placement {
    pub affinity: Option<K8s<core::Affinity>>,
    pub spread: Vec<K8s<core::TopologySpreadConstraint>>,
}

const LABEL_OPERATORS: &[&str] = &["In", "NotIn", "Exists", "DoesNotExist"];
const NODE_OPERATORS: &[&str] = &["In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"];

fn list<T: Clone>(field: &Option<S<Vec<S<T>>>>) -> Vec<S<T>> {
    field.as_ref().map(|l| l.value.clone()).unwrap_or_default()
}

fn some_vec<T>(v: Vec<T>) -> Option<Vec<T>> {
    (!v.is_empty()).then_some(v)
}

/// Does `selector` select a pod with `labels`?
fn selects(selector: &LabelSelectorFull, labels: &BTreeMap<String, String>) -> bool {
    let by_value = selector
        .match_labels
        .as_ref()
        .map(|m| m.value.entries.as_slice())
        .unwrap_or_default()
        .iter()
        .all(|(k, v)| labels.get(&k.value) == Some(&v.value.0));
    let by_expression = list(&selector.match_expressions).iter().all(|r| {
        let key = r
            .value
            .key
            .as_ref()
            .map(|k| k.value.as_str())
            .unwrap_or_default();
        let values: Vec<String> = list(&r.value.values)
            .into_iter()
            .map(|v| v.value.0)
            .collect();
        let has = labels.get(key);
        match r.value.operator.as_ref().map(|o| o.value.as_str()) {
            Some("In") => has.is_some_and(|v| values.contains(v)),
            Some("NotIn") => has.is_none_or(|v| !values.contains(v)),
            Some("Exists") => has.is_some(),
            Some("DoesNotExist") => has.is_none(),
            _ => false,
        }
    });
    by_value && by_expression
}

const HOSTNAME: &str = "kubernetes.io/hostname";

impl Cx<'_> {
    /// Rules of the spec that the required anti-affinity of a shard's pods
    /// (never two on one node) makes impossible to schedule: a required pod
    /// affinity to the shard's own pods by node, or nodes named by
    /// hostname fewer than a shard's pods.
    pub(super) fn placement_conflicts(&mut self, spec: &model::Spec, redis: &Redis) {
        let Topology::Cluster {
            shards,
            replicas_per_shard,
            ..
        } = redis.topology
        else {
            return;
        };
        let pods = 1 + replicas_per_shard;
        if redis.scheduling.shard_anti_affinity != model::AntiAffinity::Required || pods < 2 {
            return;
        }
        let Some(s) = &spec.scheduling else { return };
        let why =
            "a shard's pods must run on distinct nodes (scheduling.shardAntiAffinity: required)";
        let affinity = s.value.affinity.as_ref().map(|a| &a.value);
        let terms = affinity
            .and_then(|a| a.pod_affinity.as_ref())
            .map(|p| list(&p.value.required_during_scheduling_ignored_during_execution))
            .unwrap_or_default();
        for t in &terms {
            let v = &t.value;
            let own_namespace = v.namespace_selector.is_none()
                && list(&v.namespaces)
                    .iter()
                    .all(|n| n.value == redis.namespace);
            let by_node = v.topology_key.as_ref().is_some_and(|k| k.value == HOSTNAME);
            let own_pods = (0..shards).any(|i| {
                let mut labels = redis.labels.clone();
                labels.extend(redis.pod_labels.clone());
                let labels =
                    crate::render::with_labels(labels, redis, crate::render::Component::Shard(i));
                v.label_selector
                    .as_ref()
                    .is_some_and(|sel| selects(&sel.value, &labels))
            });
            if own_namespace && by_node && own_pods {
                self.err(
                    t.span,
                    "this required pod affinity puts a shard's pods on one node",
                )
                .help = Some(format!(
                    "{why}; select other pods, use topologyKey topology.kubernetes.io/zone, or make it preferred"
                ));
            }
        }
        // Nodes named by hostname: by nodeSelector, or in every required term.
        let mut named: Option<(Vec<String>, Span)> = s.value.node_selector.as_ref().and_then(|n| {
            n.value
                .get(HOSTNAME)
                .map(|h| (vec![h.value.0.clone()], h.span))
        });
        let required = affinity
            .and_then(|a| a.node_affinity.as_ref())
            .and_then(|n| {
                n.value
                    .required_during_scheduling_ignored_during_execution
                    .clone()
            });
        if let Some(r) = required {
            let mut hosts = Vec::new();
            let mut all = true;
            for term in list(&r.value.node_selector_terms) {
                let by_host = list(&term.value.match_expressions).into_iter().find(|e| {
                    e.value.key.as_ref().is_some_and(|k| k.value == HOSTNAME)
                        && e.value.operator.as_ref().is_some_and(|o| o.value == "In")
                });
                match by_host {
                    Some(e) => hosts.extend(list(&e.value.values).into_iter().map(|v| v.value.0)),
                    None => all = false,
                }
            }
            if all && named.is_none() {
                hosts.sort();
                hosts.dedup();
                named = Some((hosts, r.span));
            }
        }
        if let Some((hosts, at)) = named
            && (hosts.len() as u32) < pods
        {
            self.err(
                at,
                format!(
                    "{} node(s) named by {HOSTNAME} cannot hold a shard's {pods} pods",
                    hosts.len()
                ),
            )
            .help = Some(format!(
                "{why}; name at least {pods} nodes, or select nodes by another label"
            ));
        }
    }

    pub(super) fn placement(&mut self, s: &model::Scheduling) -> Placement {
        let affinity = s.affinity.as_ref().map(|a| K8s(self.affinity(&a.value)));
        let spread = list(&s.topology_spread_constraints)
            .iter()
            .map(|c| K8s(self.spread(c)))
            .collect();
        Placement { affinity, spread }
    }

    fn affinity(&mut self, a: &model::Affinity) -> core::Affinity {
        let node = a.node_affinity.as_ref().map(|n| {
            let required = n
                .value
                .required_during_scheduling_ignored_during_execution
                .as_ref()
                .map(|r| {
                    let terms = list(&r.value.node_selector_terms);
                    if terms.is_empty() {
                        self.err(
                            r.span,
                            "a required node affinity needs at least one of nodeSelectorTerms",
                        );
                    }
                    core::NodeSelector {
                        node_selector_terms: terms.iter().map(|t| self.node_term(t)).collect(),
                    }
                });
            let preferred = list(&n.value.preferred_during_scheduling_ignored_during_execution)
                .iter()
                .map(|p| core::PreferredSchedulingTerm {
                    weight: self.weight(&p.value.weight, p.span),
                    preference: match &p.value.preference {
                        Some(t) => self.node_term(t),
                        None => {
                            self.err(p.span, "missing field 'preference'");
                            core::NodeSelectorTerm::default()
                        }
                    },
                })
                .collect();
            core::NodeAffinity {
                required_during_scheduling_ignored_during_execution: required,
                preferred_during_scheduling_ignored_during_execution: some_vec(preferred),
            }
        });
        core::Affinity {
            node_affinity: node,
            pod_affinity: a.pod_affinity.as_ref().map(|p| {
                let (required, preferred) = self.pod_terms(&p.value);
                core::PodAffinity {
                    required_during_scheduling_ignored_during_execution: some_vec(required),
                    preferred_during_scheduling_ignored_during_execution: some_vec(preferred),
                }
            }),
            pod_anti_affinity: a.pod_anti_affinity.as_ref().map(|p| {
                let (required, preferred) = self.pod_terms(&p.value);
                core::PodAntiAffinity {
                    required_during_scheduling_ignored_during_execution: some_vec(required),
                    preferred_during_scheduling_ignored_during_execution: some_vec(preferred),
                }
            }),
        }
    }

    fn pod_terms(
        &mut self,
        p: &model::PodAffinity,
    ) -> (
        Vec<core::PodAffinityTerm>,
        Vec<core::WeightedPodAffinityTerm>,
    ) {
        let required = list(&p.required_during_scheduling_ignored_during_execution)
            .iter()
            .map(|t| self.pod_term(t))
            .collect();
        let preferred = list(&p.preferred_during_scheduling_ignored_during_execution)
            .iter()
            .map(|w| core::WeightedPodAffinityTerm {
                weight: self.weight(&w.value.weight, w.span),
                pod_affinity_term: match &w.value.pod_affinity_term {
                    Some(t) => self.pod_term(t),
                    None => {
                        self.err(w.span, "missing field 'podAffinityTerm'");
                        core::PodAffinityTerm::default()
                    }
                },
            })
            .collect();
        (required, preferred)
    }

    fn weight(&mut self, w: &Option<S<i32>>, at: Span) -> i32 {
        match w {
            Some(w) if (1..=100).contains(&w.value) => w.value,
            Some(w) => {
                self.err(w.span, format!("weight {} is out of range", w.value))
                    .help = Some("1 to 100".into());
                1
            }
            None => {
                self.err(at, "missing field 'weight'").help = Some("1 to 100".into());
                1
            }
        }
    }

    fn topology_key(&mut self, key: &Option<S<String>>, at: Span) -> String {
        match key {
            Some(k) if is_label_key(&k.value) => k.value.clone(),
            Some(k) => {
                self.err(k.span, format!("'{}' is not a valid topology key", k.value))
                    .help = Some(
                    "a node label key, e.g. kubernetes.io/hostname or topology.kubernetes.io/zone"
                        .into(),
                );
                String::new()
            }
            None => {
                self.err(at, "missing field 'topologyKey'").help =
                    Some("e.g. kubernetes.io/hostname or topology.kubernetes.io/zone".into());
                String::new()
            }
        }
    }

    fn label_keys(&mut self, keys: &Option<S<Vec<S<String>>>>) -> Option<Vec<String>> {
        let keys = list(keys);
        for k in &keys {
            if !is_label_key(&k.value) {
                self.err(k.span, format!("'{}' is not a valid label key", k.value));
            }
        }
        some_vec(keys.into_iter().map(|k| k.value).collect())
    }

    fn pod_term(&mut self, t: &S<PodAffinityTerm>) -> core::PodAffinityTerm {
        let v = &t.value;
        let namespaces = list(&v.namespaces);
        for ns in &namespaces {
            if !is_dns1123_label(&ns.value) {
                self.err(
                    ns.span,
                    format!("namespace '{}' is not a valid DNS-1123 label", ns.value),
                );
            }
        }
        core::PodAffinityTerm {
            label_selector: v.label_selector.as_ref().map(|s| self.full_selector(s)),
            namespace_selector: v.namespace_selector.as_ref().map(|s| self.full_selector(s)),
            namespaces: some_vec(namespaces.into_iter().map(|n| n.value).collect()),
            topology_key: self.topology_key(&v.topology_key, t.span),
            match_label_keys: self.label_keys(&v.match_label_keys),
            mismatch_label_keys: self.label_keys(&v.mismatch_label_keys),
        }
    }

    fn full_selector(&mut self, s: &S<LabelSelectorFull>) -> meta::LabelSelector {
        let mut labels = BTreeMap::new();
        for (k, v) in s
            .value
            .match_labels
            .as_ref()
            .map(|m| m.value.entries.as_slice())
            .unwrap_or_default()
        {
            if !is_label_key(&k.value) {
                self.err(k.span, format!("'{}' is not a valid label key", k.value));
            } else if !is_label_value(&v.value.0) {
                self.err(
                    v.span,
                    format!("'{}' is not a valid label value", v.value.0),
                );
            }
            labels.insert(k.value.clone(), v.value.0.clone());
        }
        let expressions = list(&s.value.match_expressions)
            .iter()
            .map(|r| {
                let (key, operator, values) = self.requirement(r, LABEL_OPERATORS, true);
                meta::LabelSelectorRequirement {
                    key,
                    operator,
                    values,
                }
            })
            .collect();
        meta::LabelSelector {
            match_labels: (!labels.is_empty()).then_some(labels),
            match_expressions: some_vec(expressions),
        }
    }

    fn node_term(&mut self, t: &S<NodeSelectorTerm>) -> core::NodeSelectorTerm {
        let requirement = |cx: &mut Self, r: &S<Requirement>, label: bool| {
            let (key, operator, values) = cx.requirement(r, NODE_OPERATORS, label);
            core::NodeSelectorRequirement {
                key,
                operator,
                values,
            }
        };
        let expressions: Vec<_> = list(&t.value.match_expressions)
            .iter()
            .map(|r| requirement(self, r, true))
            .collect();
        let fields: Vec<_> = list(&t.value.match_fields)
            .iter()
            .map(|r| requirement(self, r, false))
            .collect();
        if expressions.is_empty() && fields.is_empty() {
            self.err(
                t.span,
                "a node selector term needs matchExpressions or matchFields",
            );
        }
        core::NodeSelectorTerm {
            match_expressions: some_vec(expressions),
            match_fields: some_vec(fields),
        }
    }

    /// A key, an operator of `operators` and the values it takes; `label`:
    /// the key is a label key (else a node field: metadata.name).
    fn requirement(
        &mut self,
        r: &S<Requirement>,
        operators: &[&str],
        label: bool,
    ) -> (String, String, Option<Vec<String>>) {
        let key = match &r.value.key {
            Some(k) if label && !is_label_key(&k.value) => {
                self.err(k.span, format!("'{}' is not a valid label key", k.value));
                k.value.clone()
            }
            Some(k) if !label && k.value != "metadata.name" => {
                self.err(k.span, format!("'{}' is not a node field", k.value))
                    .help = Some("matchFields supports metadata.name only".into());
                k.value.clone()
            }
            Some(k) => k.value.clone(),
            None => {
                self.err(r.span, "missing field 'key'");
                String::new()
            }
        };
        let values = list(&r.value.values);
        let Some(op) = &r.value.operator else {
            self.err(r.span, "missing field 'operator'").help = Some(operators.join(", "));
            return (key, String::new(), None);
        };
        let operators = if label {
            operators
        } else {
            &["In", "NotIn"][..]
        };
        if !operators.contains(&op.value.as_str()) {
            self.err(op.span, format!("unknown operator '{}'", op.value))
                .help = Some(operators.join(", "));
        }
        let at = r.value.values.as_ref().map_or(op.span, |v| v.span);
        match op.value.as_str() {
            "In" | "NotIn" if values.is_empty() => {
                self.err(at, format!("operator {} needs values", op.value));
            }
            "Exists" | "DoesNotExist" if !values.is_empty() => {
                self.err(at, format!("operator {} takes no values", op.value));
            }
            "Gt" | "Lt" if values.len() != 1 || values[0].value.0.parse::<i64>().is_err() => {
                self.err(at, format!("operator {} needs one integer value", op.value));
            }
            _ => {}
        }
        let values = values.into_iter().map(|v| v.value.0).collect();
        (key, op.value.clone(), some_vec(values))
    }

    fn spread(&mut self, c: &S<model::TopologySpreadConstraint>) -> core::TopologySpreadConstraint {
        let v = &c.value;
        let max_skew = match &v.max_skew {
            Some(m) if m.value >= 1 => m.value,
            Some(m) => {
                self.err(m.span, format!("maxSkew {} is below 1", m.value));
                1
            }
            None => {
                self.err(c.span, "missing field 'maxSkew'");
                1
            }
        };
        let when = match &v.when_unsatisfiable {
            Some(w) if ["DoNotSchedule", "ScheduleAnyway"].contains(&w.value.as_str()) => {
                w.value.clone()
            }
            Some(w) => {
                self.err(w.span, format!("unknown whenUnsatisfiable '{}'", w.value))
                    .help = Some("DoNotSchedule or ScheduleAnyway".into());
                w.value.clone()
            }
            None => {
                self.err(c.span, "missing field 'whenUnsatisfiable'").help =
                    Some("DoNotSchedule or ScheduleAnyway".into());
                String::new()
            }
        };
        if let Some(m) = &v.min_domains {
            if m.value < 1 {
                self.err(m.span, format!("minDomains {} is below 1", m.value));
            } else if when != "DoNotSchedule" {
                self.err(m.span, "minDomains needs whenUnsatisfiable: DoNotSchedule");
            }
        }
        let mut policy = |p: &Option<S<String>>| {
            let p = p.as_ref()?;
            if p.value != "Honor" && p.value != "Ignore" {
                self.err(p.span, format!("unknown policy '{}'", p.value))
                    .help = Some("Honor or Ignore".into());
            }
            Some(p.value.clone())
        };
        let node_affinity_policy = policy(&v.node_affinity_policy);
        let node_taints_policy = policy(&v.node_taints_policy);
        core::TopologySpreadConstraint {
            max_skew,
            topology_key: self.topology_key(&v.topology_key, c.span),
            when_unsatisfiable: when,
            label_selector: v.label_selector.as_ref().map(|s| self.full_selector(s)),
            min_domains: v.min_domains.as_ref().map(|m| m.value),
            node_affinity_policy,
            node_taints_policy,
            match_label_keys: self.label_keys(&v.match_label_keys),
        }
    }
}
