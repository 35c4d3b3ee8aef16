//! Who may connect: NetworkPolicy peers.

use super::*;

impl Cx<'_> {
    pub(super) fn selector(
        &mut self,
        sel: &Option<S<model::LabelSelector>>,
    ) -> Option<BTreeMap<String, String>> {
        let sel = sel.as_ref()?;
        let mut out = BTreeMap::new();
        if let Some(ml) = &sel.value.match_labels {
            for (k, v) in &ml.value.entries {
                if !is_label_key(&k.value) || !is_label_value(&v.value.0) {
                    self.err(
                        k.span,
                        format!("'{}: {}' is not a valid label", k.value, v.value.0),
                    );
                }
                out.insert(k.value.clone(), v.value.0.clone());
            }
        }
        Some(out)
    }
    pub(super) fn allow_from(&mut self, spec: &model::Spec) -> Vec<Peer> {
        let Some(np) = &spec.network_policy else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for peer in np
            .value
            .allow_from
            .as_ref()
            .map(|a| a.value.as_slice())
            .unwrap_or_default()
        {
            let p = Peer {
                pod_labels: self.selector(&peer.pod_selector),
                namespace_labels: self.selector(&peer.namespace_selector),
                ip_block: peer.ip_block.as_ref().map(|b| {
                    if !is_cidr(&b.value.cidr.value) {
                        self.err(
                            b.value.cidr.span,
                            format!("'{}' is not a CIDR", b.value.cidr.value),
                        );
                    }
                    (
                        b.value.cidr.value.clone(),
                        b.value.except.iter().map(|e| e.value.clone()).collect(),
                    )
                }),
            };
            if p.ip_block.is_some() && (p.pod_labels.is_some() || p.namespace_labels.is_some()) {
                let span = np.value.allow_from.as_ref().map_or(np.span, |a| a.span);
                self.err(span, "a peer with ipBlock cannot also have selectors");
            }
            if p == Peer::default() {
                let span = np.value.allow_from.as_ref().map_or(np.span, |a| a.span);
                self.err(span, "an empty peer would allow everyone; name a podSelector, namespaceSelector or ipBlock");
            }
            out.push(p);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::messages;

    #[test]
    fn a_cidr_must_be_one() {
        let m = messages("  networkPolicy: {allowFrom: [{ipBlock: {cidr: 10.0.0.0/33}}]}\n");
        assert!(m.iter().any(|m| m.contains("10.0.0.0/33")), "{m:?}");
    }
}
