//! Topology of each mode (replicas, sentinels, shards), the limits that keep a render small, the repair CronJob.

use super::*;

/// Upper bounds, so that no spec renders for minutes or into objects the
/// API server refuses: Redis Cluster is designed for up to 1000 nodes, and
/// the topology ConfigMap of the largest cluster stays far below 1 MiB.
pub const MAX_CLUSTER_NODES: u32 = 1000;
pub const MAX_SHARDS: u32 = 500;
pub const MAX_REPLICAS_PER_SHARD: u32 = 10;
pub const MAX_SENTINEL_MODE_PODS: u32 = 100;
pub const MAX_SENTINELS: u32 = 15;

impl Cx<'_> {
    /// The repair CronJob's schedule, or None when `repair.enabled: false`.
    pub(super) fn repair(&mut self, spec: &model::Spec) -> Option<String> {
        let r = spec.repair.as_ref().map(|r| &r.value);
        if !r.and_then(|r| val(&r.enabled)).unwrap_or(true) {
            return None;
        }
        let Some(s) = r.and_then(|r| r.schedule.as_ref()) else {
            return Some(DEFAULT_REPAIR_SCHEDULE.into());
        };
        if !is_cron_schedule(&s.value) {
            self.err(s.span, format!("'{}' is not a cron schedule", s.value))
                .help = Some(format!(
                "five fields: minute hour day-of-month month day-of-week, e.g. \"{DEFAULT_REPAIR_SCHEDULE}\", or @hourly / @daily"
            ));
        }
        Some(s.value.clone())
    }
    pub(super) fn topology(
        &mut self,
        spec: &model::Spec,
        mode: Mode,
        at: Span,
    ) -> Option<Topology> {
        match mode {
            Mode::Standalone => {
                self.not_for_mode(&spec.replicas, "replicas", mode, "sentinel");
                self.not_for_mode(&spec.shards, "shards", mode, "cluster");
                self.not_for_mode(
                    &spec.replicas_per_shard,
                    "replicasPerShard",
                    mode,
                    "cluster",
                );
                self.not_for_mode(&spec.drain_shards, "drainShards", mode, "cluster");
                self.not_for_mode(&spec.repair, "repair", mode, "cluster");
                self.not_for_mode(&spec.sentinel, "sentinel", mode, "sentinel");
                Some(Topology::Standalone)
            }
            Mode::Sentinel => {
                self.not_for_mode(&spec.shards, "shards", mode, "cluster");
                self.not_for_mode(
                    &spec.replicas_per_shard,
                    "replicasPerShard",
                    mode,
                    "cluster",
                );
                self.not_for_mode(&spec.drain_shards, "drainShards", mode, "cluster");
                self.not_for_mode(&spec.repair, "repair", mode, "cluster");
                let replicas = val(&spec.replicas).unwrap_or(3);
                if let Some(r) = spec
                    .replicas
                    .as_ref()
                    .filter(|r| r.value > MAX_SENTINEL_MODE_PODS)
                {
                    self.err(
                        r.span,
                        format!("at most {MAX_SENTINEL_MODE_PODS} Redis pods in sentinel mode, got {}", r.value),
                    )
                    .help = Some("every replica copies the whole dataset; for more capacity use cluster mode".into());
                }
                if let Some(r) = spec.replicas.as_ref().filter(|r| r.value < 2) {
                    self.err(
                        r.span,
                        format!("sentinel mode needs at least 2 Redis pods, got {}", r.value),
                    )
                    .help = Some("one primary and at least one replica to fail over to".into());
                }
                let s = spec
                    .sentinel
                    .as_ref()
                    .map(|s| s.value.clone())
                    .unwrap_or_default();
                let sentinels = val(&s.replicas).unwrap_or(3);
                if let Some(r) = s.replicas.as_ref().filter(|r| r.value < 1) {
                    self.err(r.span, "at least 1 sentinel is needed");
                }
                if let Some(r) = s.replicas.as_ref().filter(|r| r.value > MAX_SENTINELS) {
                    self.err(
                        r.span,
                        format!("at most {MAX_SENTINELS} sentinels, got {}", r.value),
                    )
                    .help = Some("3 or 5 sentinels tolerate one or two failures".into());
                }
                let quorum = val(&s.quorum).unwrap_or(sentinels / 2 + 1);
                if let Some(q) = &s.quorum {
                    if q.value < 1 || q.value > sentinels {
                        self.err(q.span, format!(
                            "quorum {} must be between 1 and the number of sentinels ({sentinels})",
                            q.value
                        ))
                        .help = Some(format!("a majority of {sentinels} sentinels is {}", sentinels / 2 + 1));
                    }
                }
                let down_after_ms = val(&s.down_after_milliseconds).unwrap_or(5000);
                let failover_timeout_ms = val(&s.failover_timeout).unwrap_or(60000);
                for f in [&s.down_after_milliseconds, &s.failover_timeout]
                    .into_iter()
                    .flatten()
                {
                    if f.value == 0 {
                        self.err(f.span, "must be greater than 0");
                    }
                }
                Some(Topology::Sentinel {
                    replicas,
                    sentinels,
                    quorum,
                    down_after_ms,
                    failover_timeout_ms,
                })
            }
            Mode::Cluster => {
                self.not_for_mode(&spec.replicas, "replicas", mode, "sentinel");
                self.not_for_mode(&spec.sentinel, "sentinel", mode, "sentinel");
                let shards = val(&spec.shards).unwrap_or(3);
                let drain_shards = val(&spec.drain_shards).unwrap_or(0);
                let replicas_per_shard = val(&spec.replicas_per_shard).unwrap_or(1);
                let span = spec.shards.as_ref().map_or(at, |s| s.span);
                if drain_shards > shards {
                    let d = spec.drain_shards.as_ref().map_or(at, |d| d.span);
                    self.err(
                        d,
                        format!("drainShards {drain_shards} is more than shards {shards}"),
                    );
                    return None;
                }
                if shards > MAX_SHARDS {
                    self.err(span, format!("at most {MAX_SHARDS} shards, got {shards}"))
                        .help = Some(format!(
                        "Redis Cluster is built for up to {MAX_CLUSTER_NODES} nodes (primaries and replicas)"
                    ));
                    return None;
                }
                if let Some(r) = spec
                    .replicas_per_shard
                    .as_ref()
                    .filter(|r| r.value > MAX_REPLICAS_PER_SHARD)
                {
                    self.err(
                        r.span,
                        format!(
                            "at most {MAX_REPLICAS_PER_SHARD} replicas per shard, got {}",
                            r.value
                        ),
                    );
                    return None;
                }
                let nodes = u64::from(shards) * (1 + u64::from(replicas_per_shard));
                if nodes > u64::from(MAX_CLUSTER_NODES) {
                    self.err(
                        span,
                        format!(
                            "{shards} shards x {} pods is {nodes} nodes; Redis Cluster is built for up to {MAX_CLUSTER_NODES}",
                            1 + replicas_per_shard
                        ),
                    )
                    .help = Some("fewer shards with more memory each, or fewer replicas per shard".into());
                    return None;
                }
                if shards - drain_shards < 3 {
                    let serving = shards - drain_shards;
                    self.err(span, format!(
                        "Redis Cluster needs at least 3 serving shards, this spec has {serving} ({shards} shards, {drain_shards} draining)"
                    ))
                    .help = Some("a cluster of fewer than 3 primaries cannot reach a failover majority".into());
                    return None;
                }
                if let Some(r) = spec.replicas_per_shard.as_ref().filter(|r| r.value > 5) {
                    self.diags.push(Diagnostic::warning(
                        r.span,
                        format!("{} replicas per shard is unusual", r.value),
                    ));
                }
                Some(Topology::Cluster {
                    shards,
                    replicas_per_shard,
                    drain_shards,
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::says;

    #[test]
    fn limits_and_topology_rules() {
        says(
            "  mode: cluster\n  shards: 501\n",
            "at most 500 shards, got 501",
        );
        says(
            "  mode: cluster\n  shards: 400\n  replicasPerShard: 2\n",
            "1200 nodes",
        );
        says(
            "  mode: cluster\n  shards: 4\n  drainShards: 2\n",
            "at least 3 serving shards",
        );
        says(
            "  mode: sentinel\n  sentinel: {replicas: 3, quorum: 4}\n",
            "quorum 4 must be between 1 and the number of sentinels (3)",
        );
        says(
            "  mode: sentinel\n  repair: {enabled: true}\n",
            "'repair' does not apply to sentinel mode",
        );
        says(
            "  mode: cluster\n  repair: {schedule: every hour}\n",
            "'every hour' is not a cron schedule",
        );
    }
}
