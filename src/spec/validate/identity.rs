//! The deployment's name (and the length of every name derived from it),
//! its labels and annotations.

use super::*;

impl Cx<'_> {
    pub(super) fn name(&mut self, name: &S<String>, topology: &Option<Topology>) -> bool {
        if !is_dns1035_label(&name.value) {
            self.err(name.span, format!("name '{}' is not a valid DNS-1035 label", name.value))
                .help = Some("start with a lower-case letter; then lower-case letters, digits and '-'; end with a letter or digit".into());
            return false;
        }
        // The longest name derived from it, and that name's limit.
        let (longest, limit) = match topology {
            Some(Topology::Cluster { shards, .. }) => (
                crate::names::shard(&name.value, shards.saturating_sub(1)),
                MAX_STATEFULSET_NAME,
            ),
            Some(Topology::Sentinel { .. }) => {
                (crate::names::sentinel(&name.value), MAX_STATEFULSET_NAME)
            }
            _ => (crate::names::headless(&name.value), MAX_NAME),
        };
        let job = crate::names::reconcile_job(&name.value, "12345678");
        let (longest, limit) = if longest.len() > limit || job.len() <= MAX_NAME {
            (longest, limit)
        } else {
            (job, MAX_NAME)
        };
        if longest.len() > limit {
            let over = longest.len() - limit;
            self.err(name.span, format!(
                "name '{}' is too long: the derived name '{}' would have {} characters, more than Kubernetes' {}",
                name.value, longest, longest.len(), limit
            ))
            .help = Some(format!("shorten the name by at least {over} characters"));
            return false;
        }
        true
    }
    pub(super) fn labels(
        &mut self,
        labels: Option<&S<SMap<KubeText>>>,
    ) -> Option<BTreeMap<String, String>> {
        let mut out = BTreeMap::new();
        let mut ok = true;
        for (k, v) in labels
            .map(|l| l.value.entries.as_slice())
            .unwrap_or_default()
        {
            if RESERVED_LABELS.contains(&k.value.as_str()) {
                self.err(
                    k.span,
                    format!("label '{}' is set by redis-gitops", k.value),
                )
                .help = Some("the compiler uses it in selectors; choose another key".into());
                ok = false;
            } else if !is_label_key(&k.value) {
                self.err(k.span, format!("'{}' is not a valid label key", k.value));
                ok = false;
            } else if !is_label_value(&v.value.0) {
                self.err(v.span, format!("'{}' is not a valid label value", v.value.0))
                    .help = Some("at most 63 characters: letters, digits, '-', '_' and '.', starting and ending with a letter or digit".into());
                ok = false;
            } else {
                out.insert(k.value.clone(), v.value.0.clone());
            }
        }
        ok.then_some(out)
    }

    /// Annotations: qualified keys (`prefix/name`), any string values, at
    /// most Kubernetes' 256 KiB in all. The `redis-gitops.io/` prefix is the
    /// compiler's own (a pod's configuration checksum).
    pub(super) fn annotations(
        &mut self,
        map: Option<&S<SMap<KubeText>>>,
    ) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        let mut size = 0;
        for (k, v) in map.map(|m| m.value.entries.as_slice()).unwrap_or_default() {
            if k.value.starts_with("redis-gitops.io/") {
                self.err(
                    k.span,
                    format!("annotation '{}' is set by redis-gitops", k.value),
                )
                .help = Some("choose a key with another prefix".into());
            } else if !is_label_key(&k.value) {
                self.err(k.span, format!("'{}' is not a valid annotation key", k.value))
                    .help = Some("an optional DNS prefix and '/', then at most 63 characters: letters, digits, '-', '_' and '.', e.g. external-dns.alpha.kubernetes.io/hostname".into());
            } else {
                size += k.value.len() + v.value.0.len();
                out.insert(k.value.clone(), v.value.0.clone());
            }
        }
        if size > MAX_ANNOTATIONS_BYTES
            && let Some(m) = map
        {
            self.err(
                m.span,
                format!("these annotations have {size} bytes, more than Kubernetes' {MAX_ANNOTATIONS_BYTES}"),
            );
        }
        out
    }
}

/// Kubernetes' limit on an object's annotations, keys and values together.
const MAX_ANNOTATIONS_BYTES: usize = 256 * 1024;

#[cfg(test)]
mod tests {
    use super::super::testing::messages_of;

    #[test]
    fn a_long_name_names_the_derived_object_of_its_mode() {
        let name = "a".repeat(50);
        let m = messages_of(&format!(
            "apiVersion: redis-gitops/v1\nkind: Redis\nmetadata: {{name: {name}, namespace: t}}\nspec:\n  \
             mode: sentinel\n  version: \"7.2.5\"\n  resources: {{limits: {{memory: 1Gi}}}}\n"
        ));
        assert!(
            m.iter().any(|m| m.contains(&format!("{name}-sentinel"))),
            "{m:?}"
        );
    }

    #[test]
    fn annotations_stay_within_kubernetes_256_kib() {
        let big = "x".repeat(200 * 1024);
        let m = super::super::testing::messages(&format!(
            "  podAnnotations: {{a/one: {big}, a/two: {big}}}\n"
        ));
        assert!(
            m.iter().any(|m| m.contains("more than Kubernetes' 262144")),
            "{m:?}"
        );
        let one = super::super::testing::messages(&format!("  podAnnotations: {{a/one: {big}}}\n"));
        assert!(one.is_empty(), "{one:?}");
    }

    #[test]
    fn reserved_labels_are_refused() {
        let m = messages_of(
            "apiVersion: redis-gitops/v1\nkind: Redis\nmetadata: {name: t, namespace: t, labels: {app.kubernetes.io/name: x}}\n\
             spec:\n  version: \"7.2.5\"\n  resources: {limits: {memory: 1Gi}}\n",
        );
        assert!(
            m.iter().any(|m| m.contains("app.kubernetes.io/name")),
            "{m:?}"
        );
    }
}
