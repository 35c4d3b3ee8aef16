//! Resources, maxmemory and its policy, and capacity.

use super::*;

/// The smallest maxmemory rendered: 0 would mean unlimited to Redis.
const MIN_MAXMEMORY: u64 = 1 << 20;

impl Cx<'_> {
    pub(super) fn resources(&mut self, spec: &model::Spec, at: Span) -> Option<Resources> {
        let r = spec
            .resources
            .as_ref()
            .map(|r| r.value.clone())
            .unwrap_or_default();
        let r_at = spec.resources.as_ref().map_or(at, |r| r.span);
        let mut ok = true;
        // (cpu, memory) of requests, then of limits; None where unset or invalid.
        let mut read = |list: &Option<S<model::ResourceList>>| {
            let list = list.as_ref().map(|l| l.value.clone()).unwrap_or_default();
            let mut one = |key: &str, field: &Option<S<ScalarString>>| {
                let f = field.as_ref()?;
                let read = if key == "memory" {
                    self.bytes(f, key)
                } else {
                    self.quantity(f, key)
                };
                match read {
                    Some(q) if q.is_zero() => {
                        self.err(f.span, format!("{key} cannot be 0"));
                        ok = false;
                        None
                    }
                    Some(q) => Some((q, f.span)),
                    None => {
                        ok = false;
                        None
                    }
                }
            };
            (one("cpu", &list.cpu), one("memory", &list.memory))
        };
        let (cpu_req, mem_req) = read(&r.requests);
        let (cpu_lim, mem_lim) = read(&r.limits);
        let written = r.limits.as_ref().is_some_and(|l| l.value.memory.is_some());
        let Some((limit, _)) = mem_lim else {
            if written || self.spec.broken_defaults {
                // Present but invalid: already reported where it is written;
                // or perhaps in a defaults file that did not parse.
                return None;
            }
            let limits_at = r.limits.as_ref().map_or(r_at, |l| l.span);
            self.err(limits_at, "missing required field 'resources.limits.memory'")
                .help = Some("Redis needs a memory limit: maxmemory is derived from it, and an unbounded Redis is killed by the node, not by its eviction policy".into());
            return None;
        };
        for (key, req, lim) in [
            ("cpu", cpu_req, cpu_lim.map(|l| l.0)),
            ("memory", mem_req, Some(limit)),
        ] {
            if let (Some((req, span)), Some(lim)) = (req, lim) {
                if req.millis() > lim.millis() {
                    self.err(
                        span,
                        format!("{key} request {req} is above the limit {lim}"),
                    );
                    ok = false;
                }
            }
        }
        ok.then_some(Resources {
            // Guaranteed memory: a Redis pod whose request is below its limit is the first evicted.
            requests: ResourceList {
                cpu: cpu_req.map(|c| c.0),
                memory: mem_req.map_or(limit, |m| m.0),
            },
            limits: ResourceList {
                cpu: cpu_lim.map(|c| c.0),
                memory: limit,
            },
        })
    }
    pub(super) fn maxmemory(&mut self, spec: &model::Spec, limit: Quantity) -> Option<u64> {
        let bytes = self.maxmemory_bytes(spec, limit)?;
        // Redis reads `maxmemory 0` as no limit at all, and below a few
        // MiB it cannot even hold its own buffers.
        if bytes < MIN_MAXMEMORY {
            let at = spec
                .maxmemory
                .as_ref()
                .map(|m| m.span)
                .or_else(|| spec.resources.as_ref().map(|r| r.span))
                .unwrap_or(self.spec.span);
            self.err(
                at,
                format!(
                    "maxmemory would be {bytes} bytes (from the memory limit {limit}); at least 1Mi is needed"
                ),
            )
            .help = Some(
                "Redis needs room for its own buffers: raise the memory limit (256Mi or more)".into(),
            );
            return None;
        }
        Some(bytes)
    }
    pub(super) fn maxmemory_bytes(&mut self, spec: &model::Spec, limit: Quantity) -> Option<u64> {
        let limit_bytes = u64::try_from(limit.whole_units()).ok()?;
        let Some(m) = &spec.maxmemory else {
            return Some(limit_bytes / 100 * 75 + limit_bytes % 100 * 75 / 100);
        };
        let text = m.value.0.trim();
        if let Some(pct) = text.strip_suffix('%') {
            match pct.trim().parse::<u64>() {
                Ok(p) if (1..100).contains(&p) => {
                    Some(limit_bytes / 100 * p + limit_bytes % 100 * p / 100)
                }
                _ => {
                    self.err(m.span, format!("maxmemory '{text}' must be a whole percentage from 1% to 99% of the memory limit"))
                        .help = Some("leave headroom for fragmentation, replication buffers and fork copy-on-write; 75% is the default".into());
                    None
                }
            }
        } else {
            let q = self.bytes(m, "maxmemory")?;
            let bytes = u64::try_from(q.whole_units()).unwrap_or(u64::MAX);
            if bytes == 0 || bytes >= limit_bytes {
                self.err(
                    m.span,
                    format!("maxmemory {q} must be above 0 and below the memory limit {limit}"),
                )
                .help = Some(
                    "Redis needs headroom above maxmemory; use a percentage such as 75%".into(),
                );
                return None;
            }
            Some(bytes)
        }
    }
    pub(super) fn policy(
        &mut self,
        spec: &model::Spec,
        engine: Engine,
        version: Option<Version>,
    ) -> MaxmemoryPolicy {
        let Some(p) = &spec.maxmemory_policy else {
            return MaxmemoryPolicy::Noeviction;
        };
        // The LRM policies came with Redis 8.6 (its release notes); Valkey
        // has none.
        let lrm = matches!(
            p.value,
            MaxmemoryPolicy::AllkeysLrm | MaxmemoryPolicy::VolatileLrm
        );
        let has_lrm = engine == Engine::Redis && version.is_none_or(|v| v.at_least(8, 6));
        if lrm && !has_lrm {
            self.err(
                p.span,
                format!("maxmemoryPolicy {} needs Redis 8.6 or later", p.value),
            )
            .help = Some(match engine {
                Engine::Redis => {
                    "set spec.version to 8.6.0 or later, or choose an LRU or LFU policy".into()
                }
                Engine::Valkey => "Valkey has no LRM policies: choose an LRU or LFU policy".into(),
            });
        }
        p.value
    }
    pub(super) fn capacity(
        &mut self,
        cap: &model::Capacity,
        topology: &Option<Topology>,
        maxmemory: u64,
    ) -> Option<Quantity> {
        let size = cap.dataset_size.as_ref()?;
        let q = self.bytes(size, "dataset size")?;
        let total = u64::try_from(q.whole_units()).unwrap_or(u64::MAX);
        let serving = match topology {
            Some(Topology::Cluster {
                shards,
                drain_shards,
                ..
            }) => u64::from(shards - drain_shards),
            Some(_) => 1,
            None => return Some(q),
        };
        let per_shard = total.div_ceil(serving);
        if per_shard > maxmemory {
            let needed = total.div_ceil(maxmemory);
            let help = if matches!(topology, Some(Topology::Cluster { .. })) {
                format!(
                    "{needed} serving shards would fit it at this maxmemory, or raise the memory limit"
                )
            } else {
                format!(
                    "raise the memory limit so that maxmemory is at least {}, or use cluster mode with {needed} shards",
                    Quantity::from_bytes(total)
                )
            };
            self.err(size.span, format!(
                "dataset of {q} does not fit: {serving} serving shard(s) x maxmemory {} = {}, so each shard would hold {} of it",
                Quantity::from_bytes(maxmemory),
                Quantity::from_bytes(maxmemory.saturating_mul(serving)),
                Quantity::from_bytes(per_shard)
            ))
            .help = Some(help);
        }
        Some(q)
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{messages, messages_of, says};

    #[test]
    fn maxmemory_and_policy_rules() {
        says(
            "  maxmemory: 120%\n",
            "must be a whole percentage from 1% to 99%",
        );
        says(
            "  maxmemory: 2Gi\n",
            "must be above 0 and below the memory limit",
        );
        says(
            "  maxmemoryPolicy: allkeys-lur\n",
            "unknown value 'allkeys-lur'; did you mean 'allkeys-lru'?",
        );
        let tiny = messages_of(
            "apiVersion: redis-gitops/v1\nkind: Redis\nmetadata: {name: t, namespace: t}\nspec:\n  \
             version: \"7.2.5\"\n  resources: {limits: {memory: 1Mi}}\n",
        );
        assert!(
            tiny.iter().any(|m| m.contains("at least 1Mi is needed")),
            "{tiny:?}"
        );
    }

    #[test]
    fn resources_and_capacity_rules() {
        let with = |resources: &str| {
            messages_of(&format!(
                "apiVersion: redis-gitops/v1\nkind: Redis\nmetadata: {{name: t, namespace: t}}\nspec:\n  \
                 version: \"7.2.5\"\n  resources: {resources}\n"
            ))
        };
        let has = |m: Vec<String>, part: &str| {
            assert!(m.iter().any(|x| x.contains(part)), "'{part}' in {m:?}");
        };
        has(
            with("{requests: {memory: 2Gi}, limits: {memory: 1Gi}}"),
            "memory request 2Gi is above the limit 1Gi",
        );
        has(
            with("{requests: {cpu: \"2\"}, limits: {cpu: 1, memory: 1Gi}}"),
            "cpu request 2 is above the limit 1",
        );
        has(with("{limits: {cpu: 0, memory: 1Gi}}"), "cpu cannot be 0");
        has(
            with("{limits: {cpu: 1}}"),
            "missing required field 'resources.limits.memory'",
        );
        assert_eq!(
            with("{requests: {cpu: 500m}, limits: {memory: 1Gi}}"),
            Vec::<String>::new()
        );
        says(
            "  capacity: {datasetSize: 10Gi}\n",
            "dataset of 10Gi does not fit",
        );
    }

    #[test]
    fn memory_needs_a_unit() {
        let m = messages_of(
            "apiVersion: redis-gitops/v1\nkind: Redis\nmetadata: {name: t, namespace: t}\nspec:\n  \
             version: \"7.2.5\"\n  resources: {limits: {memory: 1024}}\n",
        );
        assert_eq!(m, ["memory '1024' has no unit: that is 1024 bytes"]);
        let m = messages("  capacity: {datasetSize: 512}\n");
        assert_eq!(m, ["dataset size '512' has no unit: that is 512 bytes"]);
    }
}
