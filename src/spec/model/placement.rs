//! Kubernetes' own placement rules (core/v1 `Affinity` and
//! `TopologySpreadConstraint`), field for field, with a span on every value
//! so that a mistake is reported where it is written. Rendering turns them
//! into k8s-openapi's types and merges them with the compiler's rules.

use super::*;

spec_object! {
    /// Kubernetes' pod affinity rules; merged with the compiler's anti-affinity.
    pub struct Affinity {
        /// Rules on the labels of nodes.
        node_affinity: NodeAffinity,
        /// Run near pods these terms select.
        pod_affinity: PodAffinity,
        /// Run away from pods these terms select (added to the compiler's).
        pod_anti_affinity: PodAffinity,
    }
}

spec_object! {
    /// Node affinity, as in Kubernetes.
    pub struct NodeAffinity {
        /// Nodes a pod may run on: any of these terms.
        required_during_scheduling_ignored_during_execution: NodeSelector,
        /// Nodes a pod prefers, by weight.
        preferred_during_scheduling_ignored_during_execution: Vec<S<PreferredSchedulingTerm>>,
    }
}

spec_object! {
    /// Terms of which a node must match one.
    pub struct NodeSelector {
        /// The terms (ORed).
        node_selector_terms: Vec<S<NodeSelectorTerm>>,
    }
}

spec_object! {
    /// Requirements of which a node must match all.
    pub struct NodeSelectorTerm {
        /// On node labels.
        match_expressions: Vec<S<Requirement>>,
        /// On node fields (metadata.name).
        match_fields: Vec<S<Requirement>>,
    }
}

spec_object! {
    /// A key, an operator and values.
    pub struct Requirement {
        /// The label (or field) key.
        key: String,
        /// In, NotIn, Exists, DoesNotExist (and Gt, Lt on nodes).
        operator: String,
        /// Values for In and NotIn (one integer for Gt and Lt).
        values: Vec<S<KubeText>>,
    }
}

spec_object! {
    /// A weighted node term.
    pub struct PreferredSchedulingTerm {
        /// 1 to 100.
        weight: i32,
        /// The term.
        preference: NodeSelectorTerm,
    }
}

spec_object! {
    /// Pod (anti-)affinity, as in Kubernetes.
    pub struct PodAffinity {
        /// Terms every pod must satisfy.
        required_during_scheduling_ignored_during_execution: Vec<S<PodAffinityTerm>>,
        /// Terms a pod prefers, by weight.
        preferred_during_scheduling_ignored_during_execution: Vec<S<WeightedPodAffinityTerm>>,
    }
}

spec_object! {
    /// Pods (by labels, in namespaces) and the topology domain to share or avoid.
    pub struct PodAffinityTerm {
        /// The pods.
        label_selector: LabelSelectorFull,
        /// Namespaces of the pods (default: the deployment's).
        namespaces: Vec<S<String>>,
        /// Namespaces of the pods, by labels.
        namespace_selector: LabelSelectorFull,
        /// The node label whose values are the domains, e.g. kubernetes.io/hostname.
        topology_key: String,
        /// Keys of the incoming pod's labels added to the selector, value included.
        match_label_keys: Vec<S<String>>,
        /// Keys of the incoming pod's labels added to the selector as not equal.
        mismatch_label_keys: Vec<S<String>>,
    }
}

spec_object! {
    /// A weighted pod term.
    pub struct WeightedPodAffinityTerm {
        /// 1 to 100.
        weight: i32,
        /// The term.
        pod_affinity_term: PodAffinityTerm,
    }
}

spec_object! {
    /// A label selector: matchLabels and matchExpressions, both required.
    pub struct LabelSelectorFull {
        /// Labels with these values.
        match_labels: SMap<KubeText>,
        /// Requirements (In, NotIn, Exists, DoesNotExist).
        match_expressions: Vec<S<Requirement>>,
    }
}

spec_object! {
    /// A topology spread constraint, as in Kubernetes.
    pub struct TopologySpreadConstraint {
        /// The largest allowed difference in pod count between domains (>= 1).
        max_skew: i32,
        /// The node label whose values are the domains.
        topology_key: String,
        /// DoNotSchedule or ScheduleAnyway.
        when_unsatisfiable: String,
        /// The pods counted (default: the pods of the same StatefulSet).
        label_selector: LabelSelectorFull,
        /// With DoNotSchedule: the fewest eligible domains.
        min_domains: i32,
        /// Honor (default) or Ignore the pod's node affinity when counting.
        node_affinity_policy: String,
        /// Honor or Ignore (default) node taints when counting.
        node_taints_policy: String,
        /// Keys of the pod's labels whose values narrow the counted pods.
        match_label_keys: Vec<S<String>>,
    }
}
