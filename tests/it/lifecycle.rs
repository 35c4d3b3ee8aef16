//! Rendered deployments run on the pod simulator (`podsim`): they come up,
//! heal, and keep every acknowledged write through what Kubernetes does to
//! pods. Each test runs in network, mount and PID namespaces of its own.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::common::cli;
use crate::podsim::client::{self, Target, Writer};
use crate::podsim::isolate::sim_test;
use crate::podsim::{Secrets, Sim};

pub const PASSWORD: &str = "sim pass'word\"1";

/// Renders `specs` (file name -> text) with the compiler; the workspace.
pub fn render(specs: &[(&str, &str)]) -> tempfile::TempDir {
    let ws = tempfile::tempdir().unwrap();
    for (name, text) in specs {
        let path = ws.path().join("specs").join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    cli(ws.path()).arg("build").assert().success();
    ws
}

/// The output folder of deployment `name` in namespace folder `team`.
pub fn deployment(ws: &Path, name: &str) -> PathBuf {
    ws.join("output/sim").join(name)
}

pub fn secrets(name: &str) -> Secrets {
    let mut s = BTreeMap::new();
    s.insert(
        format!("{name}-auth"),
        BTreeMap::from([("password".to_owned(), PASSWORD.as_bytes().to_vec())]),
    );
    s
}

/// A certificate for the pods of deployment `name` with this serial, as the
/// rendered cert-manager Certificate asks for it (the Service, the pods
/// under the headless Service, localhost), and every simulator pod address
/// (the tests connect to pods by address): the `{name}-tls` Secret's data.
pub fn tls_secret(ca: &crate::common::Ca, name: &str, serial: u32) -> BTreeMap<String, Vec<u8>> {
    let mut sans = vec![
        format!("DNS:{name}.sim.svc"),
        format!("DNS:*.{name}-headless.sim.svc"),
        "DNS:localhost".to_owned(),
    ];
    sans.extend((2..252).map(|n| format!("IP:10.88.0.{n}")));
    let (crt, key) = ca.issue(&sans, serial);
    BTreeMap::from([
        ("tls.crt".to_owned(), crt),
        ("tls.key".to_owned(), key),
        ("ca.crt".to_owned(), ca.cert()),
    ])
}

/// Renews the `{name}-tls` Secret as cert-manager does: a new key and a
/// certificate with a new serial, written in one update; returns the files
/// of the new certificate and key in `dir` (a client certificate for
/// `served_serial`).
pub fn renew_tls_secret(
    sim: &Sim,
    ca: &crate::common::Ca,
    name: &str,
    serial: u32,
    dir: &Path,
) -> (PathBuf, PathBuf) {
    let data = tls_secret(ca, name, serial);
    sim.set_secret_keys(
        &format!("{name}-tls"),
        &[
            ("tls.crt", Some(&data["tls.crt"])),
            ("tls.key", Some(&data["tls.key"])),
        ],
    );
    client_files(&data, dir)
}

/// The certificate and key of a `{name}-tls` Secret's data as files in `dir`.
pub fn client_files(data: &BTreeMap<String, Vec<u8>>, dir: &Path) -> (PathBuf, PathBuf) {
    let (crt, key) = (dir.join("client.crt"), dir.join("client.key"));
    std::fs::write(&crt, &data["tls.crt"]).unwrap();
    std::fs::write(&key, &data["tls.key"]).unwrap();
    (crt, key)
}

pub fn spec(name: &str, engine: &str, body: &str) -> String {
    let version = if engine == "valkey" {
        "9.1.2"
    } else {
        "7.0.15"
    };
    format!(
        "apiVersion: redis-gitops/v1\nkind: Redis\nmetadata: {{name: {name}, namespace: sim}}\n\
         spec:\n  engine: {engine}\n  version: \"{version}\"\n  \
         resources: {{limits: {{memory: 256Mi}}}}\n  auth: {{secretName: {name}-auth}}\n{body}"
    )
}

/// `INFO replication` of a pod, as a map.
pub fn replication(sim: &Sim, pod: &str) -> BTreeMap<String, String> {
    let ip = sim.pod(pod).ip.to_string();
    let Ok(mut con) = client::connect(&ip, 6379, Some(PASSWORD)) else {
        return BTreeMap::new();
    };
    let text: String = redis::cmd("INFO")
        .arg("replication")
        .query(&mut con)
        .unwrap_or_default();
    text.lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.to_owned(), v.trim().to_owned()))
        .collect()
}

/// Waits until a replica's link to its primary is up and not syncing.
pub fn wait_linked(sim: &Sim, pod: &str, limit: Duration) {
    let deadline = std::time::Instant::now() + limit;
    loop {
        let r = replication(sim, pod);
        if r.get("master_link_status").is_some_and(|s| s == "up")
            && r.get("master_sync_in_progress").is_some_and(|s| s == "0")
        {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{pod}: replica not linked after {limit:?}: {r:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

pub const LIMIT: Duration = Duration::from_secs(120);

fn standalone_comes_up(engine: &str) {
    let ws = render(&[(
        "sim/cache.yaml",
        &spec("cache", engine, "  mode: standalone\n"),
    )]);
    let sim = Sim::new(secrets("cache"));
    sim.sync(&deployment(ws.path(), "cache"), LIMIT);
    let pod = sim.wait_ready("cache-0", LIMIT);
    let mut con = client::connect(&pod.ip.to_string(), 6379, Some(PASSWORD)).unwrap();
    let _: () = redis::cmd("SET").arg("k").arg("v").query(&mut con).unwrap();
    let v: String = redis::cmd("GET").arg("k").query(&mut con).unwrap();
    assert_eq!(v, "v");
}

sim_test! {
    fn standalone_comes_up_redis() { standalone_comes_up("redis") }
}

sim_test! {
    fn standalone_comes_up_valkey() { standalone_comes_up("valkey") }
}

/// Switching persistence keeps every key: rdb -> aof (Redis with AOF on
/// loads only the AOF, and would start empty from a volume that holds an
/// RDB snapshot) and back aof -> rdb (with AOF off it loads only the
/// snapshot), each a rolling restart by the config change, then a plain
/// restart on the new persistence.
fn persistence_switch_keeps_the_data(engine: &str) {
    let body =
        |p: &str| format!("  mode: standalone\n  storage: {{size: 1Gi}}\n  persistence: {p}\n");
    let ws = render(&[("sim/cache.yaml", &spec("cache", engine, &body("rdb")))]);
    let dir = deployment(ws.path(), "cache");
    let sim = Sim::new(secrets("cache"));
    sim.sync(&dir, LIMIT);
    sim.wait_ready("cache-0", LIMIT);
    let keys: Vec<(String, String)> = (0..2000)
        .map(|i| (format!("k{i}"), format!("v{i}-{engine}")))
        .collect();
    {
        let ip = sim.pod("cache-0").ip.to_string();
        let mut con = client::connect(&ip, 6379, Some(PASSWORD)).unwrap();
        for (k, v) in &keys {
            let _: () = redis::cmd("SET").arg(k).arg(v).query(&mut con).unwrap();
        }
    }
    let check = |what: &str| {
        let ip = sim.wait_ready("cache-0", LIMIT).ip.to_string();
        let mut con = client::connect(&ip, 6379, Some(PASSWORD)).unwrap();
        let n: usize = redis::cmd("DBSIZE").query(&mut con).unwrap();
        assert_eq!(
            n,
            keys.len(),
            "{what}: keys after the restart\n{}",
            sim.log_tails(20)
        );
        for (k, v) in keys.iter().step_by(97) {
            let got: Option<String> = redis::cmd("GET").arg(k).query(&mut con).unwrap();
            assert_eq!(got.as_deref(), Some(v.as_str()), "{what}: {k}");
        }
    };
    let aof_enabled = || {
        let info: String = query(&sim, "cache-0", &["INFO", "persistence"]).unwrap();
        info.lines().any(|l| l.trim() == "aof_enabled:1")
    };
    for (to, aof) in [("aof", true), ("rdb", false)] {
        std::fs::write(
            ws.path().join("specs/sim/cache.yaml"),
            spec("cache", engine, &body(to)),
        )
        .unwrap();
        crate::common::cli(ws.path())
            .arg("build")
            .assert()
            .success();
        sim.apply(&dir);
        sim.wait_rolled_out("cache", LIMIT);
        check(&format!("switched to {to}"));
        eventually(LIMIT, "persistence applied at run time", || {
            if aof_enabled() == aof {
                Ok(())
            } else {
                Err(format!("aof_enabled != {aof}"))
            }
        });
        // And the next restart loads the new persistence's files.
        sim.delete_pod("cache-0");
        check(&format!("restarted on {to}"));
        assert_eq!(aof_enabled(), aof, "{to}");
    }
}

sim_test! {
    fn persistence_switch_keeps_the_data_redis() { persistence_switch_keeps_the_data("redis") }
}

sim_test! {
    fn persistence_switch_keeps_the_data_valkey() { persistence_switch_keeps_the_data("valkey") }
}

/// A persistence switch whose snapshot fails (here: `dump.rdb` is a
/// folder, so the save cannot rename its file into place) is never a silent
/// end: the pod's log says which step failed and that it retries, AOF stays
/// on (no data depends on the failed snapshot), the alert the rendered
/// PrometheusRule holds for it (`redis_aof_enabled == 1`) holds on the
/// server, and the pod is not Ready (the server refuses writes and PING with
/// MISCONF, which the probe prints). Once the cause is gone, the next
/// attempt finishes the switch and the pod is Ready with every key.
fn a_failed_snapshot_in_a_persistence_switch_is_logged_and_retried(engine: &str) {
    let body = |p: &str| {
        format!(
            "  mode: standalone\n  storage: {{size: 1Gi}}\n  persistence: {p}\n  metrics: {{enabled: true, prometheusRule: true}}\n"
        )
    };
    let ws = render(&[("sim/cache.yaml", &spec("cache", engine, &body("aof")))]);
    let dir = deployment(ws.path(), "cache");
    let sim = Sim::new(secrets("cache"));
    sim.sync(&dir, LIMIT);
    let ip = sim.wait_ready("cache-0", LIMIT).ip.to_string();
    {
        let mut con = client::connect(&ip, 6379, Some(PASSWORD)).unwrap();
        for i in 0..500 {
            let _: () = redis::cmd("SET")
                .arg(format!("k{i}"))
                .arg(i)
                .query(&mut con)
                .unwrap();
        }
    }
    let blocker = sim.volume("data", "cache-0").join("dump.rdb");
    let _ = std::fs::remove_file(&blocker);
    std::fs::create_dir_all(blocker.join("in-the-way")).unwrap();

    std::fs::write(
        ws.path().join("specs/sim/cache.yaml"),
        spec("cache", engine, &body("rdb")),
    )
    .unwrap();
    cli(ws.path()).arg("build").assert().success();
    let rule = std::fs::read_to_string(dir.join("prometheusrule-cache.yaml")).unwrap();
    assert!(
        rule.contains("alert: RedisPersistenceNotAsDeclared")
            && rule.contains(
                "expr: redis_aof_enabled{namespace=\"sim\",service=\"cache-metrics\"} == 1"
            ),
        "{rule}"
    );
    sim.apply(&dir);
    let log = || {
        std::fs::read_dir(sim.logs_dir())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.file_name().unwrap().to_string_lossy().contains("cache-0"))
            .map(|p| std::fs::read_to_string(p).unwrap_or_default())
            .collect::<String>()
    };
    eventually(LIMIT, "the failed snapshot is logged", || {
        let text = log();
        if text.contains("persistence switch: the snapshot failed (attempt 1 of 5") {
            Ok(())
        } else {
            Err(text)
        }
    });
    let info: String = query(&sim, "cache-0", &["INFO", "persistence"]).unwrap();
    assert!(info.lines().any(|l| l.trim() == "aof_enabled:1"), "{info}");
    assert!(
        info.lines()
            .any(|l| l.trim() == "rdb_last_bgsave_status:err"),
        "{info}"
    );
    // The server's own guard (stop-writes-on-bgsave-error): writes and PING
    // are refused, so the readiness probe fails and prints why.
    let ping = query::<String>(&sim, "cache-0", &["PING"]);
    assert!(
        ping.as_ref()
            .is_err_and(|e| e.to_string().contains("MISCONF")),
        "{ping:?}"
    );
    assert!(
        !sim.pod("cache-0").ready(),
        "Ready while its snapshots fail"
    );

    std::fs::remove_dir_all(&blocker).unwrap();
    eventually(LIMIT, "the next attempt finishes the switch", || {
        let info: String = query(&sim, "cache-0", &["INFO", "persistence"]).unwrap_or_default();
        if info.lines().any(|l| l.trim() == "aof_enabled:0")
            && log().contains("snapshot saved, AOF is off")
        {
            Ok(())
        } else {
            Err(info)
        }
    });
    sim.wait_ready("cache-0", LIMIT);
    let n: usize = query(&sim, "cache-0", &["DBSIZE"]).unwrap();
    assert_eq!(n, 500, "{}", sim.log_tails(30));
}

sim_test! {
    fn a_failed_snapshot_in_a_persistence_switch_is_logged_and_retried_redis() {
        a_failed_snapshot_in_a_persistence_switch_is_logged_and_retried("redis")
    }
}

#[allow(dead_code)]
fn _unused(_: Target, _: Writer) {}

pub fn sentinel_spec(name: &str, engine: &str) -> String {
    spec(
        name,
        engine,
        "  mode: sentinel\n  replicas: 3\n  storage: {size: 1Gi}\n  persistence: rdb\n  \
         sentinel: {replicas: 3, quorum: 2, downAfterMilliseconds: 2000, failoverTimeout: 10000}\n",
    )
}

pub fn sentinel_target(name: &str) -> Target {
    Target::Sentinel {
        sentinels: (0..3)
            .map(|i| format!("{name}-sentinel-{i}.{name}-headless.sim.svc"))
            .collect(),
        port: 26379,
        master: name.to_owned(),
    }
}

/// The primary the sentinels of `target` name.
pub fn primary_of(target: &Target) -> Option<(String, u16)> {
    let Target::Sentinel {
        sentinels,
        port,
        master,
    } = target
    else {
        panic!("not a sentinel deployment")
    };
    client::sentinel_primary(sentinels, *port, master, Some(PASSWORD))
}

fn sentinel_comes_up(engine: &str) {
    let ws = render(&[("sim/sessions.yaml", &sentinel_spec("sessions", engine))]);
    let sim = Sim::new(secrets("sessions"));
    sim.sync(&deployment(ws.path(), "sessions"), LIMIT);
    let target = sentinel_target("sessions");
    let (primary, _) = primary_of(&target).expect("a sentinel names the primary");
    assert_eq!(primary, "sessions-0.sessions-headless.sim.svc");
    wait_linked(&sim, "sessions-1", LIMIT);
    wait_linked(&sim, "sessions-2", LIMIT);
    let writer = Writer::start(target.clone(), Some(PASSWORD.into()), "up");
    std::thread::sleep(Duration::from_secs(2));
    let report = writer.stop();
    println!("{}", report.summary("sentinel bring-up"));
    assert!(report.acked.len() > 100, "{}", report.summary("bring-up"));
    assert!(client::lost(&target, Some(PASSWORD), &report).is_empty());
}

sim_test! {
    fn sentinel_comes_up_redis() { sentinel_comes_up("redis") }
}

pub fn cluster_spec(name: &str, engine: &str, shards: u32) -> String {
    spec(
        name,
        engine,
        &format!(
            "  mode: cluster\n  shards: {shards}\n  replicasPerShard: 1\n  storage: {{size: 1Gi}}\n  \
             persistence: rdb\n  config: {{cluster-node-timeout: \"3000\"}}\n"
        ),
    )
}

pub fn cluster_target(name: &str, shards: u32) -> Target {
    Target::Cluster {
        seeds: (0..shards)
            .flat_map(|i| {
                (0..2).map(move |o| format!("{name}-shard-{i}-{o}.{name}-headless.sim.svc"))
            })
            .collect(),
        port: 6379,
    }
}

fn cluster_comes_up(engine: &str) {
    let ws = render(&[("sim/events.yaml", &cluster_spec("events", engine, 3))]);
    let sim = Sim::new(secrets("events"));
    let jobs = sim.sync(&deployment(ws.path(), "events"), LIMIT);
    assert_eq!(jobs.len(), 1, "one reconcile Job");
    assert!(jobs[0].succeeded, "reconcile Job failed:\n{}", jobs[0].logs);
    for i in 0..3 {
        wait_linked(&sim, &format!("events-shard-{i}-1"), LIMIT);
    }
    let target = cluster_target("events", 3);
    let writer = Writer::start(target.clone(), Some(PASSWORD.into()), "up");
    std::thread::sleep(Duration::from_secs(2));
    let report = writer.stop();
    println!("{}", report.summary("cluster bring-up"));
    assert!(report.acked.len() > 100, "{}", report.summary("bring-up"));
    assert!(client::lost(&target, Some(PASSWORD), &report).is_empty());
    // The Job's second run finds nothing to change.
    let again = sim.run_job(&jobs_name(&deployment(ws.path(), "events")), LIMIT);
    assert!(again.succeeded, "{}", again.logs);
    assert!(again.logs.contains("nothing to change"), "{}", again.logs);
}

/// The name of the one reconcile Job of a rendered cluster folder.
pub fn jobs_name(dir: &Path) -> String {
    crate::podsim::manifest::read(dir)
        .jobs
        .into_keys()
        .next()
        .expect("a reconcile Job")
}

sim_test! {
    fn cluster_comes_up_redis() { cluster_comes_up("redis") }
}

sim_test! {
    fn cluster_comes_up_valkey() { cluster_comes_up("valkey") }
}

sim_test! {
    fn sentinel_comes_up_valkey() { sentinel_comes_up("valkey") }
}

/// A command on a pod, by its IP, with the deployment's password.
pub fn query<T: redis::FromRedisValue>(
    sim: &Sim,
    pod: &str,
    args: &[&str],
) -> redis::RedisResult<T> {
    query_port(sim, pod, 6379, args)
}

/// A command on a pod's `port`, with the deployment's password.
fn query_port<T: redis::FromRedisValue>(
    sim: &Sim,
    pod: &str,
    port: u16,
    args: &[&str],
) -> redis::RedisResult<T> {
    let ip = sim.pod(pod).ip.to_string();
    let mut con = client::connect(&ip, port, Some(PASSWORD))?;
    let mut cmd = redis::cmd(args[0]);
    for a in &args[1..] {
        cmd.arg(*a);
    }
    cmd.query(&mut con)
}

/// Waits until `check` holds, polling; panics with `what` after `limit`.
/// No container of any pod restarted (a rotation or renewal restarts none).
pub fn assert_no_restarts(sim: &Sim) {
    for pod in sim.pods() {
        for c in pod.container_names() {
            assert_eq!(
                pod.restarts(&c),
                0,
                "{}/{c} restarted\n{}",
                pod.name,
                sim.log_tails(30)
            );
        }
    }
}

pub fn eventually(limit: Duration, what: &str, mut check: impl FnMut() -> Result<(), String>) {
    let deadline = std::time::Instant::now() + limit;
    loop {
        match check() {
            Ok(()) => return,
            Err(e) if std::time::Instant::now() > deadline => panic!("{what}: {e}"),
            Err(_) => std::thread::sleep(Duration::from_millis(200)),
        }
    }
}

/// Every node of the cluster sees every other connected, none failing, and
/// the cluster state ok.
pub fn cluster_healthy(sim: &Sim, name: &str, shards: u32) -> Result<(), String> {
    for i in 0..shards {
        for o in 0..2 {
            let pod = format!("{name}-shard-{i}-{o}");
            let info: String = query(sim, &pod, &["CLUSTER", "INFO"]).map_err(|e| e.to_string())?;
            if !info.contains("cluster_state:ok") {
                return Err(format!("{pod}: {info}"));
            }
            let nodes: String =
                query(sim, &pod, &["CLUSTER", "NODES"]).map_err(|e| e.to_string())?;
            if nodes.lines().count() != (shards * 2) as usize
                || nodes.contains("fail")
                || nodes.contains("disconnected")
                || nodes.contains("handshake")
            {
                return Err(format!("{pod}:\n{nodes}"));
            }
        }
    }
    Ok(())
}

fn cluster_pod_recreated_keeps_its_node_id(engine: &str) {
    let ws = render(&[("sim/events.yaml", &cluster_spec("events", engine, 3))]);
    let sim = Sim::new(secrets("events"));
    let jobs = sim.sync(&deployment(ws.path(), "events"), LIMIT);
    assert!(jobs[0].succeeded, "{}", jobs[0].logs);
    eventually(LIMIT, "cluster healthy after bootstrap", || {
        cluster_healthy(&sim, "events", 3)
    });
    for pod in ["events-shard-1-1", "events-shard-2-0"] {
        let id: String = query(&sim, pod, &["CLUSTER", "MYID"]).unwrap();
        let ip = sim.pod(pod).ip;
        sim.delete_pod(pod);
        let again = sim.wait_ready(pod, LIMIT);
        assert_ne!(again.ip, ip, "{pod}: same IP");
        let now: String = query(&sim, pod, &["CLUSTER", "MYID"]).unwrap();
        assert_eq!(now, id, "{pod}: a new node ID after re-creation");
        // Healthy again with no reconcile run: every peer has the new address.
        eventually(LIMIT, "cluster healthy after re-creation", || {
            cluster_healthy(&sim, "events", 3)?;
            let peer: String = query(&sim, "events-shard-0-0", &["CLUSTER", "NODES"])
                .map_err(|e| e.to_string())?;
            peer.lines()
                .find(|l| l.starts_with(&id))
                .filter(|l| l.contains(&format!(" {}:6379@", again.ip)))
                .map(|_| ())
                .ok_or(peer)
        });
    }
}

sim_test! {
    fn cluster_pod_recreated_keeps_its_node_id_redis() { cluster_pod_recreated_keeps_its_node_id("redis") }
}

sim_test! {
    fn cluster_pod_recreated_keeps_its_node_id_valkey() { cluster_pod_recreated_keeps_its_node_id("valkey") }
}

fn sentinel_replica_recreated_rejoins(engine: &str) {
    let ws = render(&[("sim/sessions.yaml", &sentinel_spec("sessions", engine))]);
    let sim = Sim::new(secrets("sessions"));
    sim.sync(&deployment(ws.path(), "sessions"), LIMIT);
    wait_linked(&sim, "sessions-1", LIMIT);
    let ip = sim.pod("sessions-1").ip;
    sim.delete_pod("sessions-1");
    let again = sim.wait_ready("sessions-1", LIMIT);
    assert_ne!(again.ip, ip);
    wait_linked(&sim, "sessions-1", LIMIT);
    let target = sentinel_target("sessions");
    let (primary, _) = primary_of(&target).unwrap();
    assert_eq!(primary, "sessions-0.sessions-headless.sim.svc");
    // The primary lists it, by name, among its connected replicas.
    eventually(LIMIT, "replica listed by the primary", || {
        let info: String =
            query(&sim, "sessions-0", &["INFO", "replication"]).map_err(|e| e.to_string())?;
        info.contains("connected_slaves:2")
            .then_some(())
            .ok_or(info)
    });
}

sim_test! {
    fn sentinel_replica_recreated_rejoins_redis() { sentinel_replica_recreated_rejoins("redis") }
}

/// The checker's own control: a plain `SENTINEL FAILOVER` under writes
/// loses acknowledged writes (the old primary takes writes until Sentinel
/// demotes it, a replica still following it acknowledges them, then both
/// resync from the new primary). The test fails if the harness cannot see
/// that loss; it is why the rendered handover pauses writes first.
fn plain_sentinel_failover_loses_acknowledged_writes(engine: &str) {
    let ws = render(&[("sim/sessions.yaml", &sentinel_spec("sessions", engine))]);
    let sim = Sim::new(secrets("sessions"));
    sim.sync(&deployment(ws.path(), "sessions"), LIMIT);
    wait_linked(&sim, "sessions-1", LIMIT);
    wait_linked(&sim, "sessions-2", LIMIT);
    let target = sentinel_target("sessions");
    let writer = Writer::start(target.clone(), Some(PASSWORD.into()), "fo");
    std::thread::sleep(Duration::from_secs(2));
    // Sentinels accept a failover once they have INFO from the replicas.
    eventually(LIMIT, "SENTINEL FAILOVER accepted", || {
        query_sentinel::<String>(&sim, &["SENTINEL", "FAILOVER", "sessions"])
            .map(|_| ())
            .map_err(|e| e.to_string())
    });
    eventually(LIMIT, "failover done", || {
        let (p, _) = primary_of(&target).ok_or("no primary")?;
        (p != "sessions-0.sessions-headless.sim.svc")
            .then_some(())
            .ok_or(p)
    });
    std::thread::sleep(Duration::from_secs(3));
    let report = writer.stop();
    println!(
        "{}",
        report.summary(&format!("SENTINEL FAILOVER ({engine})"))
    );
    let lost = client::lost(&target, Some(PASSWORD), &report);
    println!(
        "plain SENTINEL FAILOVER ({engine}): {} acknowledged writes lost",
        lost.len()
    );
    assert!(!lost.is_empty(), "no loss seen: the checker would miss one");
}

/// A command on sentinel 0.
pub fn query_sentinel<T: redis::FromRedisValue>(sim: &Sim, args: &[&str]) -> redis::RedisResult<T> {
    query_port(sim, "sessions-sentinel-0", 26379, args)
}

sim_test! {
    fn plain_sentinel_failover_loses_acknowledged_writes_redis() {
        plain_sentinel_failover_loses_acknowledged_writes("redis")
    }
}
