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

    /// `spec.savePoints`, or the defaults of redis.conf; only with a
    /// persistence that takes snapshots.
    pub(super) fn save_points(
        &mut self,
        spec: &model::Spec,
        persistence: Persistence,
    ) -> Vec<(u32, u32)> {
        let snapshots = matches!(persistence, Persistence::Rdb | Persistence::RdbAof);
        let Some(points) = &spec.save_points else {
            return if snapshots {
                DEFAULT_SAVE_POINTS.to_vec()
            } else {
                Vec::new()
            };
        };
        if !snapshots {
            self.err(
                points.span,
                format!("savePoints need persistence rdb or rdb+aof, not '{persistence}'"),
            )
            .help = Some(
                "save points say when an RDB snapshot is taken; with aof or none there is none"
                    .into(),
            );
        }
        if points.value.is_empty() {
            self.err(points.span, "savePoints is empty")
                .help = Some("leave it out for the defaults; for no snapshots at all use persistence: aof or none".into());
            return Vec::new();
        }
        let mut seen = BTreeMap::new();
        let mut out = Vec::new();
        for p in &points.value {
            let seconds = self
                .required(&p.value.seconds, p.span, "savePoints[].seconds")
                .cloned();
            let changes = self
                .required(&p.value.changes, p.span, "savePoints[].changes")
                .cloned();
            for (what, n) in [("seconds", &seconds), ("changes", &changes)] {
                if let Some(n) = n.as_ref().filter(|n| n.value == 0) {
                    self.err(n.span, format!("save point {what} must be at least 1"));
                }
            }
            if let (Some(s), Some(c)) = (seconds, changes) {
                if let Some(before) = seen.insert(s.value, c.value) {
                    self.err(
                        s.span,
                        format!("a second save point at {} seconds", s.value),
                    )
                    .help = Some(format!("the earlier one says {before} changes; keep one"));
                }
                out.push((s.value, c.value));
            }
        }
        if !snapshots {
            return Vec::new();
        }
        // Longest interval first, whatever the spec's order.
        out.sort_by(|a, b| b.cmp(a));
        out.dedup_by_key(|p| p.0);
        out
    }
}

/// redis.conf's own default: after 1 hour and 1 change, 5 minutes and 100
/// changes, 60 seconds and 10,000 changes.
pub const DEFAULT_SAVE_POINTS: [(u32, u32); 3] = [(3600, 1), (300, 100), (60, 10000)];

#[cfg(test)]
mod tests {
    use super::super::testing::messages;

    #[test]
    fn save_points_are_checked() {
        let with = |points: &str, persistence: &str| {
            messages(&format!(
                "  storage: {{size: 1Gi}}\n  persistence: {persistence}\n  savePoints: {points}\n"
            ))
        };
        assert!(with("[{seconds: 900, changes: 1}]", "rdb").is_empty());
        assert!(with("[{seconds: 900, changes: 1}]", "rdb+aof").is_empty());
        assert_eq!(
            with("[{seconds: 900, changes: 0}]", "aof"),
            [
                "savePoints need persistence rdb or rdb+aof, not 'aof'",
                "save point changes must be at least 1"
            ]
        );
        assert_eq!(with("[]", "rdb"), ["savePoints is empty"]);
        assert_eq!(
            with("[{seconds: 0, changes: 1}, {seconds: 60}]", "rdb"),
            [
                "save point seconds must be at least 1",
                "missing required field 'savePoints[].changes'"
            ]
        );
        assert_eq!(
            with(
                "[{seconds: 60, changes: 1}, {seconds: 60, changes: 5}]",
                "rdb"
            ),
            ["a second save point at 60 seconds"]
        );
        let m = with("[{seconds: 60, changes: 1, after: 5}]", "rdb");
        assert!(
            m.iter().any(|m| m.contains("unknown field 'after'")),
            "{m:?}"
        );
        // The directive itself points to the field.
        assert!(
            crate::spec::directives::owned_reason("save")
                .is_some_and(|r| r.contains("spec.savePoints"))
        );
    }

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
