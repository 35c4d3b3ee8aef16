//! Cluster fit: registry credentials, the pods' and Services' metadata,
//! placement rules (fast tier: the CLI only).

use std::fs;
use std::path::Path;

use serde_yaml::Value;

use crate::common::{built_demo, cli, workspace};

fn yaml(path: &Path) -> Value {
    serde_yaml::from_str(&fs::read_to_string(path).unwrap()).unwrap()
}

/// Every rendered object of a deployment's folder, by file name.
fn objects(dir: &Path) -> Vec<(String, Value)> {
    let mut out: Vec<(String, Value)> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                yaml(&p),
            )
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// The pod template of a StatefulSet, Job or CronJob.
fn pod_template(object: &Value) -> Option<&Value> {
    match object["kind"].as_str()? {
        "StatefulSet" | "Job" => Some(&object["spec"]["template"]),
        "CronJob" => Some(&object["spec"]["jobTemplate"]["spec"]["template"]),
        _ => None,
    }
}

/// `imagePullSecrets` in payments' `_defaults.yaml` reaches every pod of
/// every deployment below it (Redis, Sentinel, the reconcile Job, the repair
/// and backup CronJobs), and no pod elsewhere.
#[test]
fn every_pod_below_the_defaults_pulls_through_the_mirror() {
    let ws = built_demo();
    let mut pods = 0;
    for (folder, expected) in [
        ("payments/orders", true),
        ("payments/orders-dr", true),
        ("payments/sessions", true),
        ("cache/page-cache", false),
        ("cache/pinned", false),
    ] {
        for (file, object) in objects(&ws.path().join("output").join(folder)) {
            let Some(pod) = pod_template(&object) else {
                continue;
            };
            pods += 1;
            let secrets = &pod["spec"]["imagePullSecrets"];
            if expected {
                assert_eq!(
                    secrets,
                    &serde_yaml::from_str::<Value>("[{name: registry-mirror}]").unwrap(),
                    "{folder}/{file}"
                );
            } else {
                assert!(secrets.is_null(), "{folder}/{file}: {secrets:?}");
            }
        }
    }
    // 3 shards, reconcile, repair, backup; 3, reconcile, repair; Redis,
    // Sentinel, backup; and the cache's StatefulSets.
    assert!(pods >= 12, "{pods}");
}

/// `podLabels` and `podAnnotations` go on the Redis and Sentinel pods (not
/// on the Jobs', where a mesh's sidecar would keep a Job from ending), under
/// the compiler's own: the selector and the configuration checksum stay.
/// `serviceAnnotations` go on the Service of their kind only.
#[test]
fn pod_and_service_metadata_land_where_they_are_named() {
    let ws = built_demo();
    let dir = ws.path().join("output/payments/sessions");
    for file in [
        "statefulset-sessions.yaml",
        "statefulset-sessions-sentinel.yaml",
    ] {
        let set = yaml(&dir.join(file));
        let meta = &set["spec"]["template"]["metadata"];
        assert_eq!(meta["labels"]["cost-center"], "cc-4711", "{file}");
        assert_eq!(meta["labels"]["tier"], "critical", "{file}");
        assert_eq!(
            meta["annotations"]["ad.datadoghq.com/redis.logs"],
            r#"[{"source": "redis", "service": "sessions"}]"#,
            "{file}"
        );
        assert!(
            meta["annotations"]["redis-gitops.io/config-checksum"].is_string(),
            "{file}"
        );
        // The selector is the compiler's; the extra label is not in it.
        let selector = &set["spec"]["selector"]["matchLabels"];
        assert!(selector["cost-center"].is_null(), "{file}");
        for (k, v) in selector.as_mapping().unwrap() {
            assert_eq!(&meta["labels"][k], v, "{file}");
        }
        // The StatefulSet object itself keeps the deployment's labels only.
        assert!(set["metadata"]["labels"]["cost-center"].is_null(), "{file}");
    }
    let backup = yaml(&dir.join("cronjob-sessions-backup.yaml"));
    let meta = &backup["spec"]["jobTemplate"]["spec"]["template"]["metadata"];
    assert!(meta["labels"]["cost-center"].is_null());
    assert!(meta["annotations"].is_null());
    let client = yaml(&dir.join("service-sessions.yaml"));
    let headless = yaml(&dir.join("service-sessions-headless.yaml"));
    assert_eq!(
        client["metadata"]["annotations"]["service.kubernetes.io/topology-mode"],
        "Auto"
    );
    assert!(
        client["metadata"]["annotations"]["external-dns.alpha.kubernetes.io/hostname"].is_null()
    );
    assert_eq!(
        headless["metadata"]["annotations"]["external-dns.alpha.kubernetes.io/hostname"],
        "sessions.redis.example.internal"
    );
    assert!(headless["metadata"]["annotations"]["service.kubernetes.io/topology-mode"].is_null());
    // Argo CD's wave stays on both.
    for s in [&client, &headless] {
        assert_eq!(
            s["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"],
            "0"
        );
    }
}

/// A spec's own list replaces the defaults' (lists replace), an empty list
/// clears it, and a pod label wins over the deployment's label of that key
/// on the pods.
#[test]
fn a_specs_own_pull_secrets_and_pod_labels_win() {
    let ws = workspace(&crate::common::demo_specs());
    let sessions = ws.path().join("specs/payments/sessions.yaml");
    let text = fs::read_to_string(&sessions).unwrap();
    let text = text.replace(
        "  podLabels: {cost-center: cc-4711}\n",
        "  podLabels: {cost-center: cc-4711, tier: cache, canary: true}\n  \
         imagePullSecrets: [eu-mirror, docker-hub]\n",
    );
    let text = text.replace(
        "client: {service.kubernetes.io/topology-mode: Auto}",
        "client: {prometheus.io/scrape: true, prometheus.io/port: 9121}",
    );
    fs::write(&sessions, text).unwrap();
    let orders = ws.path().join("specs/payments/orders.yaml");
    let text = fs::read_to_string(&orders).unwrap();
    fs::write(
        &orders,
        text.replace("spec:\n", "spec:\n  imagePullSecrets: []\n"),
    )
    .unwrap();
    cli(ws.path()).arg("build").assert().success();
    let set = yaml(
        &ws.path()
            .join("output/payments/sessions/statefulset-sessions.yaml"),
    );
    assert_eq!(
        set["spec"]["template"]["spec"]["imagePullSecrets"],
        serde_yaml::from_str::<Value>("[{name: eu-mirror}, {name: docker-hub}]").unwrap()
    );
    assert_eq!(
        set["spec"]["template"]["metadata"]["labels"]["tier"],
        "cache"
    );
    assert_eq!(set["metadata"]["labels"]["tier"], "critical");
    // Kubernetes text keeps YAML's spelling: `true` is "true" (redis.conf's
    // `yes` is for config only), a number is its digits.
    assert_eq!(
        set["spec"]["template"]["metadata"]["labels"]["canary"],
        "true"
    );
    let client = yaml(
        &ws.path()
            .join("output/payments/sessions/service-sessions.yaml"),
    );
    let a = &client["metadata"]["annotations"];
    assert_eq!(a["prometheus.io/scrape"], "true");
    assert_eq!(a["prometheus.io/port"], "9121");
    let shard = yaml(
        &ws.path()
            .join("output/payments/orders/statefulset-orders-shard-0.yaml"),
    );
    assert!(shard["spec"]["template"]["spec"]["imagePullSecrets"].is_null());
}

/// The spec's affinity and spread constraints merge with the compiler's:
/// node and pod affinity are the spec's alone, its anti-affinity terms join
/// the shard's own (required: distinct nodes), a spread constraint on a key
/// the compiler spreads over replaces its own, one on another key is added,
/// and a constraint without a label selector counts the StatefulSet's pods.
#[test]
fn placement_rules_merge_with_the_compilers() {
    let ws = workspace(&crate::common::demo_specs());
    let orders = ws.path().join("specs/payments/orders.yaml");
    let text = fs::read_to_string(&orders).unwrap().replace(
        "    topologySpreadConstraints:\n",
        "      podAntiAffinity:\n        requiredDuringSchedulingIgnoredDuringExecution:\n          \
         - {labelSelector: {matchLabels: {app: search}}, topologyKey: kubernetes.io/hostname}\n      \
         podAffinity:\n        preferredDuringSchedulingIgnoredDuringExecution:\n          \
         - {weight: 10, podAffinityTerm: {labelSelector: {matchLabels: {app: checkout}}, topologyKey: topology.kubernetes.io/zone}}\n    \
         topologySpreadConstraints:\n      \
         - {maxSkew: 2, topologyKey: topology.kubernetes.io/region, whenUnsatisfiable: ScheduleAnyway, labelSelector: {matchLabels: {app.kubernetes.io/instance: orders}}}\n",
    );
    fs::write(&orders, text).unwrap();
    cli(ws.path()).arg("build").assert().success();
    let set = yaml(
        &ws.path()
            .join("output/payments/orders/statefulset-orders-shard-1.yaml"),
    );
    let pod = &set["spec"]["template"]["spec"];
    let v = |s: &str| serde_yaml::from_str::<Value>(s).unwrap();
    assert_eq!(
        pod["affinity"]["nodeAffinity"],
        v(
            "requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: [{matchExpressions: \
           [{key: node.kubernetes.io/instance-type, operator: In, values: [r7g.xlarge, r7g.2xlarge]}]}]}"
        )
    );
    assert_eq!(
        pod["affinity"]["podAffinity"],
        v(
            "preferredDuringSchedulingIgnoredDuringExecution: [{weight: 10, podAffinityTerm: \
           {labelSelector: {matchLabels: {app: checkout}}, topologyKey: topology.kubernetes.io/zone}}]"
        )
    );
    let own = "{app.kubernetes.io/component: shard, app.kubernetes.io/instance: orders, \
               app.kubernetes.io/name: redis, redis-gitops.io/shard: '1'}";
    assert_eq!(
        pod["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"],
        v(&format!(
            "[{{labelSelector: {{matchLabels: {own}}}, topologyKey: kubernetes.io/hostname}}, \
              {{labelSelector: {{matchLabels: {{app: search}}}}, topologyKey: kubernetes.io/hostname}}]"
        ))
    );
    assert_eq!(
        pod["topologySpreadConstraints"],
        v(&format!(
            "[{{labelSelector: {{matchLabels: {{app.kubernetes.io/instance: orders, app.kubernetes.io/name: redis}}}}, \
               maxSkew: 1, topologyKey: kubernetes.io/hostname, whenUnsatisfiable: ScheduleAnyway}},\
              {{labelSelector: {{matchLabels: {{app.kubernetes.io/instance: orders}}}}, maxSkew: 2, \
               topologyKey: topology.kubernetes.io/region, whenUnsatisfiable: ScheduleAnyway}},\
              {{labelSelector: {{matchLabels: {own}}}, maxSkew: 1, topologyKey: topology.kubernetes.io/zone, \
               whenUnsatisfiable: DoNotSchedule}}]"
        ))
    );
    // zoneSpread: false drops the compiler's constraints, not the spec's.
    let text = fs::read_to_string(&orders)
        .unwrap()
        .replace("  scheduling:\n", "  scheduling:\n    zoneSpread: false\n");
    fs::write(&orders, text).unwrap();
    cli(ws.path()).arg("build").assert().success();
    let set = yaml(
        &ws.path()
            .join("output/payments/orders/statefulset-orders-shard-1.yaml"),
    );
    let keys: Vec<&str> = set["spec"]["template"]["spec"]["topologySpreadConstraints"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|c| c["topologyKey"].as_str().unwrap())
        .collect();
    // (in the spec's order)
    assert_eq!(
        keys,
        [
            "topology.kubernetes.io/region",
            "topology.kubernetes.io/zone"
        ]
    );
}
