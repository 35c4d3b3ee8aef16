//! Where pods run.

use super::*;

impl Cx<'_> {
    pub(super) fn scheduling(&mut self, spec: &model::Spec) -> Scheduling {
        let Some(s) = &spec.scheduling else {
            return Scheduling {
                zone_spread: true,
                shard_anti_affinity: model::AntiAffinity::Required,
                ..Scheduling::default()
            };
        };
        let s = &s.value;
        let mut node_selector = BTreeMap::new();
        for (k, v) in s
            .node_selector
            .as_ref()
            .map(|n| n.value.entries.as_slice())
            .unwrap_or_default()
        {
            if !is_label_key(&k.value) || !is_label_value(&v.value.0) {
                self.err(
                    k.span,
                    format!("'{}: {}' is not a valid node label", k.value, v.value.0),
                );
            }
            node_selector.insert(k.value.clone(), v.value.0.clone());
        }
        let mut tolerations = Vec::new();
        for t in s
            .tolerations
            .as_ref()
            .map(|t| t.value.as_slice())
            .unwrap_or_default()
        {
            if let Some(op) = t
                .operator
                .as_ref()
                .filter(|o| o.value != "Exists" && o.value != "Equal")
            {
                self.err(
                    op.span,
                    format!("unknown toleration operator '{}'", op.value),
                )
                .help = Some("Exists or Equal".into());
            }
            if let Some(e) = t.effect.as_ref().filter(|e| {
                !["NoSchedule", "PreferNoSchedule", "NoExecute"].contains(&e.value.as_str())
            }) {
                self.err(e.span, format!("unknown taint effect '{}'", e.value))
                    .help = Some("NoSchedule, PreferNoSchedule or NoExecute".into());
            }
            tolerations.push(Toleration {
                key: val(&t.key),
                operator: val(&t.operator),
                value: val(&t.value),
                effect: val(&t.effect),
                toleration_seconds: val(&t.toleration_seconds),
            });
        }
        let placement = self.placement(s);
        Scheduling {
            placement,
            node_selector,
            tolerations,
            priority_class_name: val(&s.priority_class_name).filter(|p| !p.is_empty()),
            zone_spread: val(&s.zone_spread).unwrap_or(true),
            shard_anti_affinity: val(&s.shard_anti_affinity)
                .unwrap_or(model::AntiAffinity::Required),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::messages;

    #[test]
    fn a_toleration_is_checked() {
        let m = messages("  scheduling: {tolerations: [{key: a, operator: Sometimes}]}\n");
        assert!(m.iter().any(|m| m.contains("Sometimes")), "{m:?}");
    }
}
