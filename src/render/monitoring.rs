//! Prometheus Operator objects: a ServiceMonitor and a PrometheusRule with
//! the alerts an on-call engineer needs for Redis.

use serde_json::{Value, json};

use super::services::METRICS_LABEL;
use super::{Component, Object, Wave, meta_json, selector};
use crate::spec::model::Persistence;
use crate::spec::validate::{Redis, Topology};

pub fn render(redis: &Redis) -> Vec<Object> {
    let Some(metrics) = &redis.metrics else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let metadata = || {
        let mut m = meta_json(redis, &redis.name, Component::Deployment, Wave::Workload);
        for (k, v) in &metrics.monitor_labels {
            m["labels"][k] = v.clone().into();
        }
        m
    };
    if metrics.service_monitor {
        let mut select = selector(redis, Component::Deployment);
        select.insert(METRICS_LABEL.into(), "true".into());
        out.push(Object::custom(json!({
            "apiVersion": "monitoring.coreos.com/v1",
            "kind": "ServiceMonitor",
            "metadata": metadata(),
            "spec": {
                "selector": {"matchLabels": select},
                "namespaceSelector": {"matchNames": [redis.namespace]},
                "endpoints": [{"port": "metrics", "interval": "30s", "scrapeTimeout": "10s"}],
            },
        })));
    }
    if metrics.prometheus_rule {
        out.push(Object::custom(json!({
            "apiVersion": "monitoring.coreos.com/v1",
            "kind": "PrometheusRule",
            "metadata": metadata(),
            "spec": {"groups": [{"name": format!("{}.redis", redis.name), "rules": rules(redis)}]},
        })));
    }
    out
}

fn alert(name: &str, expr: String, duration: &str, severity: &str, summary: &str) -> Value {
    json!({
        "alert": name,
        "expr": expr,
        "for": duration,
        "labels": {"severity": severity},
        "annotations": {"summary": summary, "description": format!("{summary} ({{{{ $labels.pod }}}})")},
    })
}

fn rules(redis: &Redis) -> Vec<Value> {
    let sel = format!(
        "namespace=\"{}\",service=\"{}-metrics\"",
        redis.namespace, redis.name
    );
    let mut rules = vec![
        alert(
            "RedisDown",
            format!("redis_up{{{sel}}} == 0"),
            "2m",
            "critical",
            "Redis does not answer its exporter",
        ),
        alert(
            "RedisMemoryNearMaxmemory",
            format!(
                "redis_memory_used_bytes{{{sel}}} / redis_memory_max_bytes{{{sel}}} > 0.9 and redis_memory_max_bytes{{{sel}}} > 0"
            ),
            "5m",
            "warning",
            "Redis uses over 90% of maxmemory",
        ),
        alert(
            "RedisRejectedConnections",
            format!("increase(redis_rejected_connections_total{{{sel}}}[5m]) > 0"),
            "0m",
            "warning",
            "Redis rejected client connections (maxclients reached)",
        ),
    ];
    // The persistence the spec declares, as the servers run it: a switch
    // that start-redis.sh could not finish leaves AOF as it was (its log says
    // why), and a failing snapshot leaves the RDB behind its save points.
    let aof = matches!(redis.persistence, Persistence::Aof | Persistence::RdbAof);
    rules.push(alert(
        "RedisPersistenceNotAsDeclared",
        format!("redis_aof_enabled{{{sel}}} == {}", if aof { 0 } else { 1 }),
        "15m",
        "warning",
        if aof {
            "AOF is off though the spec turns it on: a persistence switch did not finish (the pod's log says why)"
        } else {
            "AOF is on though the spec turns it off: a persistence switch did not finish (the pod's log says why)"
        },
    ));
    if matches!(redis.persistence, Persistence::Rdb | Persistence::RdbAof) {
        rules.push(alert(
            "RedisSnapshotFailing",
            format!("redis_rdb_last_bgsave_status{{{sel}}} == 0"),
            "5m",
            "critical",
            "The last RDB snapshot failed: the data on disk is older than its save points",
        ));
    }
    if !matches!(redis.topology, Topology::Standalone) {
        rules.push(alert(
            "RedisReplicationBroken",
            format!("redis_master_link_up{{{sel}}} == 0"),
            "2m",
            "critical",
            "A Redis replica lost its link to the primary",
        ));
    }
    if matches!(redis.topology, Topology::Sentinel { .. }) {
        rules.push(alert(
            "RedisNoPrimary",
            format!("count(redis_instance_info{{{sel},role=\"master\"}}) == 0 or absent(redis_instance_info{{{sel},role=\"master\"}})"),
            "1m",
            "critical",
            "No Redis pod of the deployment is a primary: writes fail (a pod that may hold older data waits for the pod with the newest; the Redis pods' logs say which)",
        ));
        rules.push(alert(
            "RedisMoreThanOnePrimary",
            format!("count(redis_instance_info{{{sel},role=\"master\"}}) > 1"),
            "1m",
            "critical",
            "More than one Redis pod is a primary: writes to all but one will be lost",
        ));
        rules.push(alert(
            "RedisSentinelsDisagree",
            format!(
                "count(count by (master_address) (redis_sentinel_master_ok_sentinels{{{sel},master_name=\"{}\"}})) > 1",
                redis.name
            ),
            "2m",
            "critical",
            "The sentinels name different primaries",
        ));
        rules.push(alert(
            "RedisSentinelQuorumAtRisk",
            format!(
                "redis_sentinel_master_ok_sentinels{{{sel},master_name=\"{}\"}} < {}",
                redis.name,
                sentinel_quorum(redis)
            ),
            "5m",
            "warning",
            "Fewer sentinels than the quorum see the primary: no failover is possible",
        ));
    }
    if let Topology::Cluster {
        shards,
        replicas_per_shard,
        ..
    } = redis.topology
    {
        if replicas_per_shard > 0 {
            rules.push(alert(
                "RedisClusterShardWithoutReplica",
                format!(
                    "redis_connected_slaves{{{sel}}} < 1 and on (pod) redis_instance_info{{{sel},role=\"master\"}}"
                ),
                "5m",
                "critical",
                "A Redis Cluster primary has no connected replica: losing it loses its slots",
            ));
        }
        rules.push(alert(
            "RedisClusterNodeKnowsTooFewPeers",
            format!(
                "redis_cluster_known_nodes{{{sel}}} < {}",
                shards * (1 + replicas_per_shard)
            ),
            "10m",
            "warning",
            "A Redis Cluster node knows fewer nodes than the deployment runs (a node lost its nodes.conf, or was never met)",
        ));
    }
    // cert-manager's own metric: the exporter cannot see the certificate a
    // server serves, and redis_exporter has no such metric. With a Secret the
    // user names, the README names a metric to alert on instead.
    if let Some(tls) = redis.tls.as_ref().filter(|t| t.cert_manager.is_some()) {
        let cert = super::secrets::tls_secret_name(redis, tls);
        rules.push(json!({
            "alert": "RedisCertificateExpiresSoon",
            "expr": format!(
                "certmanager_certificate_expiration_timestamp_seconds{{exported_namespace=\"{ns}\",name=\"{cert}\"}} - time() < 7 * 86400 \
                 or certmanager_certificate_expiration_timestamp_seconds{{namespace=\"{ns}\",name=\"{cert}\"}} - time() < 7 * 86400",
                ns = redis.namespace,
            ),
            "for": "1h",
            "labels": {"severity": "critical"},
            "annotations": {
                "summary": "The Redis TLS certificate expires within a week: cert-manager has not renewed it",
                "description": format!(
                    "Certificate {}/{cert} expires within 7 days; the pods load a renewed certificate on their own (their logs say \"certificate renewal\"). Look at `kubectl describe certificate {cert} -n {}`.",
                    redis.namespace, redis.namespace
                ),
            },
        }));
    }
    // kube-state-metrics' series for the backup CronJob and its Jobs.
    if redis.backup.is_some() {
        let ns = &redis.namespace;
        let cron = super::backup::name(redis);
        let cron_sel = format!("namespace=\"{ns}\",cronjob=\"{cron}\"");
        rules.push(json!({
            "alert": "RedisBackupFailed",
            "expr": format!("kube_job_status_failed{{namespace=\"{ns}\",job_name=~\"{cron}-[0-9]+\"}} > 0"),
            "for": "0m",
            "labels": {"severity": "critical"},
            "annotations": {
                "summary": "A Redis backup job failed: that run uploaded no complete backup",
                "description": format!(
                    "Job {{{{ $labels.job_name }}}} failed; its log names the step (kubectl logs -n {ns} job/{{{{ $labels.job_name }}}} --all-containers). The alert ends when the Job is deleted or expires (7 days)."
                ),
            },
        }));
        rules.push(json!({
            "alert": "RedisBackupStale",
            "expr": format!(
                "time() - kube_cronjob_status_last_successful_time{{{cron_sel}}} > 2 * (kube_cronjob_next_schedule_time{{{cron_sel}}} - kube_cronjob_status_last_schedule_time{{{cron_sel}}})"
            ),
            "for": "15m",
            "labels": {"severity": "critical"},
            "annotations": {
                "summary": "The newest successful Redis backup is older than two backup intervals",
                "description": format!(
                    "CronJob {ns}/{cron} has not succeeded for over twice its schedule's interval: restores would lose more than planned."
                ),
            },
        }));
    }
    if matches!(redis.topology, Topology::Cluster { .. }) {
        rules.push(alert(
            "RedisClusterStateNotOk",
            format!("redis_cluster_state{{{sel}}} == 0"),
            "2m",
            "critical",
            "Redis Cluster state is not ok",
        ));
    }
    rules
}

fn sentinel_quorum(redis: &Redis) -> u32 {
    match redis.topology {
        Topology::Sentinel { quorum, .. } => quorum,
        _ => 0,
    }
}
