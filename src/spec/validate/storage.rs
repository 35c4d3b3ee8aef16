//! Volumes and persistence.

use super::*;

impl Cx<'_> {
    pub(super) fn storage(&mut self, spec: &model::Spec) -> Option<Storage> {
        let s = spec.storage.as_ref()?;
        let size = self
            .required(&s.value.size, s.span, "storage.size")?
            .clone();
        let size = self.bytes(&size, "storage size").filter(|q| {
            let ok = !q.is_zero();
            if !ok {
                self.err(size.span, "storage size cannot be 0");
            }
            ok
        })?;
        let class = s.value.storage_class.clone().and_then(|c| {
            if is_dns1123_subdomain(&c.value) {
                Some(c.value)
            } else {
                self.err(
                    c.span,
                    format!("'{}' is not a valid StorageClass name", c.value),
                );
                None
            }
        });
        Some(Storage { size, class })
    }
    pub(super) fn persistence(
        &mut self,
        spec: &model::Spec,
        has_storage: bool,
        mode: Mode,
    ) -> Persistence {
        let default = if has_storage {
            Persistence::Rdb
        } else {
            Persistence::None
        };
        let Some(p) = &spec.persistence else {
            if !has_storage && mode == Mode::Cluster {
                self.diags.push(Diagnostic::warning(
                    spec.mode.as_ref().map_or(self.spec.span, |m| m.span),
                    "cluster mode without spec.storage: a restarted pod loses nodes.conf and its data, and must be re-added by the reconcile Job",
                ));
            }
            return default;
        };
        if p.value != Persistence::None && !has_storage {
            self.err(p.span, format!("persistence '{}' needs spec.storage", p.value))
                .help = Some("without a volume the files are lost with the pod; add storage: {size: ...} or use persistence: none".into());
        }
        p.value
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::messages;

    #[test]
    fn persistence_without_storage() {
        let m = messages("  persistence: aof\n");
        assert!(m.iter().any(|m| m.contains("storage")), "{m:?}");
    }

    #[test]
    fn sizes_need_a_unit_and_at_least_1mi() {
        let m = messages("  storage: {size: 20}\n");
        assert_eq!(m, ["storage size '20' has no unit: that is 20 bytes"]);
        let m = messages("  storage: {size: 100Ki}\n");
        assert_eq!(m, ["storage size 100Ki is below 1Mi"]);
        assert!(messages("  storage: {size: 1Mi}\n").is_empty());
    }

    #[test]
    fn an_unreadable_size_has_no_follow_on_error() {
        // Not also "persistence 'rdb' needs spec.storage": the storage is there.
        let m = messages("  storage: {size: 20Gb}\n  persistence: rdb\n");
        assert_eq!(m.len(), 1, "{m:?}");
        assert!(m[0].starts_with("invalid storage size"), "{m:?}");
    }
}
