//! The reconcile script, run as rendered against real Redis Cluster nodes
//! on loopback: bootstrap, grow, drain and shrink with zero keys lost, on
//! Redis 7.0 (per-slot MIGRATE) and Valkey 9.1 (atomic slot migration).
//!
//! The test renders a cluster spec with the compiler, starts one server per
//! pod of the committed `nodes` file with the rendered redis.conf (localised
//! as in `servers.rs`), and runs `reconcile.sh` from the topology ConfigMap
//! with the same files, only the pod hosts swapped for 127.0.0.1 and ports.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use redis_gitops::topology::slots::SlotMap;

use crate::common::{cli, tool};
use crate::servers::{Server, free_port, localise, start};

const KEYS: usize = 50_000;

/// CRC16/XMODEM, the hash Redis Cluster maps keys to slots with.
fn key_slot(key: &str) -> usize {
    let mut crc: u16 = 0;
    for b in key.bytes() {
        crc ^= u16::from(b) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    usize::from(crc) % 16384
}

fn value_of(i: usize) -> String {
    format!("value-{i}-{}", i * 7919 % 100_003)
}

struct Node {
    shard: u32,
    port: u16,
    _server: Server,
}

struct Cluster {
    ws: tempfile::TempDir,
    binary: &'static str,
    nodes: BTreeMap<String, Node>,
    /// The password, as the Secret gives it to the pods and the Job.
    auth: Option<&'static str>,
    /// The certificates folder (tls.crt, tls.key, ca.crt) when TLS is on.
    tls: Option<PathBuf>,
    /// Keys written besides the KEYS numbered ones.
    extra_keys: usize,
}

/// A client process whose connection stays open until this is dropped.
struct Held(std::process::Child, Option<std::process::ChildStdin>);

impl Drop for Held {
    fn drop(&mut self) {
        self.1.take(); // end of input: the client closes its connection and exits
        let _ = self.0.wait();
    }
}

fn redis_cli(port: u16, args: &[&str]) -> String {
    let out = client(port, None, None).args(args).output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim_end().to_owned()
}

/// redis-cli for one node, with the password and the CA when the cluster has them.
fn client(port: u16, auth: Option<&str>, tls: Option<&Path>) -> Command {
    let mut cmd = Command::new(tool("redis-cli"));
    if let Some(pw) = auth {
        cmd.env("REDISCLI_AUTH", pw);
    }
    cmd.args(["-h", "127.0.0.1", "-p", &port.to_string(), "--raw"]);
    if let Some(dir) = tls {
        cmd.args(["--tls", "--cacert"]).arg(dir.join("ca.crt"));
    }
    cmd
}

/// Runs the commands (one per line) on one node, returns the replies.
fn pipe(mut cmd: Command, commands: &str) -> String {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = commands.to_owned();
    let writer = std::thread::spawn(move || {
        use std::io::Write;
        stdin.write_all(input.as_bytes()).unwrap();
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

impl Cluster {
    fn new(engine: &str, version: &str, auth: Option<&'static str>, tls: bool) -> Cluster {
        let ws = tempfile::tempdir().unwrap();
        fs::create_dir_all(ws.path().join("specs")).unwrap();
        let tls = tls.then(|| {
            let dir = ws.path().join("tls");
            fs::create_dir_all(&dir).unwrap();
            crate::servers::certs(&dir);
            dir
        });
        let cluster = Cluster {
            ws,
            binary: if engine == "valkey" {
                "valkey-server"
            } else {
                "redis-server"
            },
            nodes: BTreeMap::new(),
            auth,
            tls,
            extra_keys: 0,
        };
        cluster.spec(&format!(
            "apiVersion: redis-gitops/v1\nkind: Redis\nmetadata: {{name: c, namespace: t}}\n\
             spec:\n  mode: cluster\n  engine: {engine}\n  version: \"{version}\"\n  shards: 3\n  \
             replicasPerShard: 1\n  resources: {{limits: {{cpu: \"1\", memory: 256Mi}}}}\n  \
             persistence: none\n{}{}",
            if auth.is_some() {
                "  auth: {secretName: c-auth}\n"
            } else {
                ""
            },
            if cluster.tls.is_some() {
                "  tls: {secretName: c-tls}\n"
            } else {
                ""
            }
        ));
        cluster
    }

    /// Holds the reconcile lock as a run named `holder` would: a client
    /// connection to shard 0's first pod named for it, open until dropped.
    fn hold_lock(&self, holder: &str) -> Held {
        use std::io::Write;
        let port = self.nodes["c-shard-0-0"].port;
        let mut child = client(port, self.auth, self.tls.as_deref())
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let name = format!("redis-gitops-lock:c:{holder}");
        let mut stdin = child.stdin.take().unwrap();
        writeln!(stdin, "CLIENT SETNAME {name}").unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while !self
            .cli(port, &["CLIENT", "LIST"])
            .contains(&format!("name={name} "))
        {
            assert!(Instant::now() < deadline, "no connection named {name}");
            std::thread::sleep(Duration::from_millis(20));
        }
        Held(child, Some(stdin))
    }

    /// A figure of INFO memory (`used_memory`, ...), in bytes.
    fn memory(&self, port: u16, field: &str) -> u64 {
        let info = self.cli(port, &["INFO", "memory"]);
        let value = info
            .lines()
            .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'));
        value
            .unwrap_or_else(|| panic!("no {field} in {info}"))
            .trim()
            .parse()
            .unwrap()
    }

    /// `used_memory` of INFO memory, in bytes.
    fn used_memory(&self, port: u16) -> u64 {
        self.memory(port, "used_memory")
    }

    fn cli(&self, port: u16, args: &[&str]) -> String {
        let out = client(port, self.auth, self.tls.as_deref())
            .args(args)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim_end().to_owned()
    }

    fn pipe(&self, port: u16, commands: &str) -> String {
        pipe(client(port, self.auth, self.tls.as_deref()), commands)
    }

    fn spec(&self, text: &str) {
        fs::write(self.ws.path().join("specs/c.yaml"), text).unwrap();
        cli(self.ws.path()).arg("build").assert().success();
    }

    fn edit(&self, from: &str, to: &str) {
        let path = self.ws.path().join("specs/c.yaml");
        let text = fs::read_to_string(&path).unwrap();
        assert!(text.contains(from), "{from}");
        self.spec(&text.replacen(from, to, 1));
    }

    fn data(&self, file: &str) -> BTreeMap<String, String> {
        let text = fs::read_to_string(self.ws.path().join("output/c").join(file)).unwrap();
        let v: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
        serde_yaml::from_value(v["data"].clone()).unwrap()
    }

    fn committed_map(&self) -> SlotMap {
        SlotMap::parse(&self.data("configmap-c-topology.yaml")["slots"]).unwrap()
    }

    /// (pod, shard) of every line of the committed `nodes` file.
    fn pods(&self) -> Vec<(String, u32)> {
        self.data("configmap-c-topology.yaml")["nodes"]
            .lines()
            .filter(|l| !l.starts_with('#'))
            .map(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                (f[1].to_owned(), f[0].parse().unwrap())
            })
            .collect()
    }

    /// Starts a server for every pod of the topology that has none yet.
    fn start_missing(&mut self, except: &[&str]) {
        let conf = self.data("configmap-c-config.yaml")["redis.conf"].clone();
        for (pod, shard) in self.pods() {
            if self.nodes.contains_key(&pod) || except.contains(&pod.as_str()) {
                continue;
            }
            let dir = self.ws.path().join("nodes").join(&pod);
            fs::create_dir_all(&dir).unwrap();
            let port = free_port();
            let path = dir.join("redis.conf");
            let mut text = localise(&conf, port, &dir, self.tls.as_deref().unwrap_or(&dir));
            if let Some(pw) = self.auth {
                // What start-redis.sh appends from the mounted Secret (conf_quote).
                let quoted = format!("\"{}\"", pw.replace('\\', "\\\\").replace('"', "\\\""));
                text.push_str(&format!("requirepass {quoted}\nmasterauth {quoted}\n"));
            }
            fs::write(&path, text).unwrap();
            let server = start(self.binary, &path, &dir, &[]);
            let deadline = Instant::now() + Duration::from_secs(15);
            while self.cli(port, &["PING"]) != "PONG" {
                assert!(Instant::now() < deadline, "{pod} did not start");
                std::thread::sleep(Duration::from_millis(50));
            }
            self.nodes.insert(
                pod,
                Node {
                    shard,
                    port,
                    _server: server,
                },
            );
        }
    }

    fn stop(&mut self, pod: &str) {
        self.nodes.remove(pod).expect("running");
    }

    /// The topology folder the script reads: the committed files, pod hosts
    /// pointed at the loopback servers.
    fn topology_dir(&self) -> PathBuf {
        let dir = self.ws.path().join("topology");
        fs::create_dir_all(&dir).unwrap();
        let data = self.data("configmap-c-topology.yaml");
        for (k, v) in &data {
            if k != "nodes" {
                fs::write(dir.join(k), v).unwrap();
            }
        }
        let nodes: String = data["nodes"]
            .lines()
            .map(|l| {
                if l.starts_with('#') {
                    return format!("{l}\n");
                }
                let f: Vec<&str> = l.split_whitespace().collect();
                // A pod without a server gets a port nobody listens on.
                let port = self.nodes.get(f[1]).map_or(1, |n| n.port);
                format!("{} {} 127.0.0.1 {port}\n", f[0], f[1])
            })
            .collect();
        fs::write(dir.join("nodes"), nodes).unwrap();
        dir
    }

    fn script(&self, wait: u32) -> Command {
        let dir = self.topology_dir();
        let mut cmd = Command::new(tool("sh"));
        cmd.arg(dir.join("reconcile.sh"))
            .env("TOPOLOGY_DIR", &dir)
            .env("CLI", tool("redis-cli"))
            .env("WAIT_SECONDS", wait.to_string())
            .env("SETTLE_SECONDS", "60")
            .env_remove("REDISCLI_AUTH");
        if let Some(dir) = &self.tls {
            // common.sh adds --tls --cacert $TLS_DIR/ca.crt.
            cmd.env("TLS_DIR", dir);
        }
        if let Some(pw) = self.auth {
            // common.sh reads the Secret's file into REDISCLI_AUTH.
            let secret = self.ws.path().join("password");
            fs::write(&secret, pw).unwrap();
            cmd.env("SECRET_FILE", secret);
        }
        cmd
    }

    /// Runs the script to the end; returns its log.
    fn reconcile(&self) -> String {
        let out = self.script(30).output().unwrap();
        let log = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "reconcile failed:\n{log}");
        log
    }

    fn port_of_id(&self) -> BTreeMap<String, (String, u32, u16)> {
        self.nodes
            .iter()
            .map(|(pod, n)| {
                (
                    self.cli(n.port, &["CLUSTER", "MYID"]),
                    (pod.clone(), n.shard, n.port),
                )
            })
            .collect()
    }

    /// Live owner of every slot (by the owners' own account): node port.
    fn live_owners(&self) -> Vec<u16> {
        let mut owners = vec![0u16; 16384];
        for n in self.nodes.values() {
            let view = self.cli(n.port, &["CLUSTER", "NODES"]);
            let me = view.lines().find(|l| l.contains("myself")).unwrap();
            for range in me.split_whitespace().skip(8) {
                assert!(!range.starts_with('['), "open slot {range} on {}", n.port);
                let (a, b) = range.split_once('-').unwrap_or((range, range));
                let (a, b) = (a.parse::<usize>().unwrap(), b.parse::<usize>().unwrap());
                for (s, owner) in owners.iter_mut().enumerate().take(b + 1).skip(a) {
                    assert_eq!(*owner, 0, "slot {s} claimed twice");
                    *owner = n.port;
                }
            }
        }
        owners
    }

    /// The live cluster is the committed map exactly, every replica follows
    /// its own shard's primary, and every node knows exactly the topology.
    fn assert_matches_map(&self, serving: u32) {
        let map = self.committed_map();
        let ids = self.port_of_id();
        let shard_of_port: BTreeMap<u16, u32> =
            self.nodes.values().map(|n| (n.port, n.shard)).collect();
        let owners = self.live_owners();
        for (slot, port) in owners.iter().enumerate() {
            assert_ne!(*port, 0, "slot {slot} has no owner");
            assert_eq!(shard_of_port[port], map.owner(slot), "slot {slot}");
        }
        for (pod, n) in &self.nodes {
            let view = self.cli(n.port, &["CLUSTER", "NODES"]);
            assert_eq!(
                view.lines().count(),
                self.nodes.len(),
                "{pod} knows:\n{view}"
            );
            let me = view.lines().find(|l| l.contains("myself")).unwrap();
            let f: Vec<&str> = me.split_whitespace().collect();
            if n.shard >= serving {
                // Draining: owns nothing (checked above), may follow anyone.
                continue;
            }
            if f[2].contains("slave") {
                let (primary, shard, _) = &ids[f[3]];
                assert_eq!(
                    *shard, n.shard,
                    "{pod} replicates {primary} of another shard"
                );
            } else if !pod.ends_with("-0") {
                panic!("{pod} is a primary; pod 0 of its shard was expected");
            }
        }
    }

    fn write_keys(&self) {
        let owners = self.live_owners();
        let mut by_port: BTreeMap<u16, String> = BTreeMap::new();
        for i in 0..KEYS {
            let key = format!("key:{i}");
            by_port
                .entry(owners[key_slot(&key)])
                .or_default()
                .push_str(&format!("SET {key} {}\n", value_of(i)));
        }
        for (port, commands) in by_port {
            let out = self.pipe(port, &commands);
            assert!(out.lines().all(|l| l == "OK"), "writes to {port}");
        }
    }

    /// Every key, read from the node that owns its slot now, has its value.
    fn assert_keys(&self) {
        let owners = self.live_owners();
        let mut by_port: BTreeMap<u16, Vec<usize>> = BTreeMap::new();
        for i in 0..KEYS {
            by_port
                .entry(owners[key_slot(&format!("key:{i}"))])
                .or_default()
                .push(i);
        }
        let mut total = 0;
        for (port, keys) in by_port {
            let commands: String = keys.iter().map(|i| format!("GET key:{i}\n")).collect();
            let out = self.pipe(port, &commands);
            let values: Vec<&str> = out.lines().collect();
            assert_eq!(values.len(), keys.len(), "replies of {port}");
            for (i, v) in keys.iter().zip(values) {
                assert_eq!(v, value_of(*i), "key:{i} on {port}");
            }
            total += keys.len();
        }
        assert_eq!(total, KEYS);
        let primaries_keys: usize = self
            .nodes
            .values()
            .filter(|n| self.cli(n.port, &["ROLE"]).starts_with("master"))
            .map(|n| self.cli(n.port, &["DBSIZE"]).parse::<usize>().unwrap())
            .sum();
        assert_eq!(
            primaries_keys,
            KEYS + self.extra_keys,
            "no key lost, none left behind"
        );
    }
}

fn scenario(engine: &str, version: &str, migration_line: &str, per_slot: bool) {
    let mut c = Cluster::new(engine, version, None, false);

    // A node down at start: a bounded wait, a clear failure, nothing changed.
    c.start_missing(&["c-shard-2-1"]);
    let started = Instant::now();
    let out = c.script(3).output().unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(started.elapsed() < Duration::from_secs(20), "bounded wait");
    assert!(
        log.contains("these nodes still do not answer: c-shard-2-1; nothing was changed"),
        "{log}"
    );
    assert!(
        log.contains("waiting for: c-shard-2-1"),
        "progress lines: {log}"
    );
    for n in c.nodes.values() {
        assert_eq!(c.cli(n.port, &["CLUSTER", "NODES"]).lines().count(), 1);
    }

    // Bootstrap 3 x 1 from empty.
    c.start_missing(&[]);
    c.reconcile();
    c.assert_matches_map(3);
    c.write_keys();
    c.assert_keys();

    // Grow to 5 shards. The first run is killed while it moves slots; the
    // next one finishes what it started, then a third only verifies.
    c.edit("shards: 3", "shards: 5");
    c.start_missing(&[]);
    let mut first = c.script(30).stderr(Stdio::piped()).spawn().unwrap();
    let stderr = first.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let line = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("script logs");
        if line.contains("move slots") {
            break;
        }
        assert!(Instant::now() < deadline);
    }
    std::thread::sleep(Duration::from_millis(150));
    // The script and the redis-cli it runs: the whole process group would be
    // cleaner, but killing sh leaves at most one command to finish alone.
    let _ = first.kill();
    let _ = first.wait();
    let open = c
        .nodes
        .values()
        .filter(|n| {
            let view = c.cli(n.port, &["CLUSTER", "NODES"]);
            view.lines()
                .any(|l| l.contains("myself") && l.contains('['))
        })
        .count();
    // The killed run's lock (its connection) is free within 2 s of its
    // end: the next run may wait for it a moment, then goes on.
    let started = Instant::now();
    let out = c.script(60).output().unwrap();
    let log = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "reconcile failed:\n{log}");
    let waits = log.matches("waiting for the lock").count();
    assert!(waits <= 4, "waited {waits} s for a dead run's lock:\n{log}");
    assert!(started.elapsed() < Duration::from_secs(50));
    assert!(log.contains(migration_line), "{log}");
    if per_slot {
        // Killed mid-slot: slots were left IMPORTING/MIGRATING, and finished.
        assert!(
            open > 0,
            "the kill left no open slot; the test proved nothing"
        );
        assert!(
            log.contains("slot migration(s) left open by an interrupted run"),
            "{log}"
        );
    }
    c.assert_matches_map(5);
    c.assert_keys();
    let again = c.reconcile();
    assert!(again.contains("nothing to change"), "{again}");

    // Drain the two new shards, then remove them.
    c.edit("shards: 5", "shards: 5\n  drainShards: 2");
    c.reconcile();
    c.assert_matches_map(3);
    c.assert_keys();
    c.edit("shards: 5\n  drainShards: 2", "shards: 3");
    for pod in ["c-shard-3-0", "c-shard-3-1", "c-shard-4-0", "c-shard-4-1"] {
        c.stop(pod); // as the prune of their StatefulSets does
    }
    let log = c.reconcile();
    assert!(log.contains("forgets"), "{log}");
    c.assert_matches_map(3); // every remaining node knows exactly the 6 nodes
    c.assert_keys();
    assert!(c.reconcile().contains("nothing to change"));
}

#[test]
#[ignore = "slow group `cluster`: needs redis-server, redis-sentinel, valkey-server (scripts/test)"]
fn redis_7_0_bootstrap_grow_drain_shrink_with_per_slot_migrate() {
    scenario("redis", "7.0.15", "move slots", true);
}

/// Repair mode (the CronJob's): it skips its run while the reconcile Job
/// holds the lock, the Job waits for the lock (bounded), and on a grown
/// topology repair meets the new nodes but moves no slot and says so.
#[test]
#[ignore = "slow group `cluster`: needs redis-server, redis-sentinel, valkey-server (scripts/test)"]
fn repair_mode_moves_no_slot_and_respects_the_lock() {
    let mut c = Cluster::new("redis", "7.0.15", None, false);
    c.start_missing(&[]);
    // Before the cluster serves a slot there is nothing to repair.
    let out = c
        .script(5)
        .env("RECONCILE_MODE", "repair")
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{log}");
    assert!(log.contains("serves no slot yet"), "{log}");
    for n in c.nodes.values() {
        assert_eq!(c.cli(n.port, &["CLUSTER", "NODES"]).lines().count(), 1);
    }
    c.reconcile();
    c.write_keys();
    // Another run holds the lock: a connection to shard 0's first pod
    // named for it, open while that run lives.
    let other = c.hold_lock("reconcile-elsewhere");

    let out = c
        .script(5)
        .env("RECONCILE_MODE", "repair")
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{log}");
    assert!(
        log.contains("reconcile-elsewhere holds the lock; this repair run skips"),
        "{log}"
    );
    let started = Instant::now();
    let out = c.script(3).output().unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{log}");
    assert!(started.elapsed() < Duration::from_secs(20), "bounded wait");
    assert!(log.contains("waiting for the lock"), "{log}");
    assert!(
        log.contains("no lock on c-shard-0-0 after 3s (held by reconcile-elsewhere"),
        "{log}"
    );
    // Nothing of the lock is in the keyspace (assert_keys counts every key).
    c.assert_keys();
    drop(other);

    // Grow to 4 shards: repair meets the new nodes and makes replicas follow,
    // moves nothing, and fails so the CronJob's run shows the drift.
    let before = c.live_owners();
    c.edit("shards: 3", "shards: 4");
    c.start_missing(&[]);
    let out = c
        .script(30)
        .env("RECONCILE_MODE", "repair")
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{log}");
    assert!(log.contains("repair moves no slot"), "{log}");
    assert!(log.contains("the reconcile Job moves them"), "{log}");
    assert!(log.contains("meet c-shard-3-0"), "{log}");
    assert_eq!(c.live_owners(), before, "repair moved a slot");
    // Its lock is gone with it: the Job runs at once and finishes the grow.
    let log = c.reconcile();
    assert!(!log.contains("waiting for the lock"), "{log}");
    c.assert_matches_map(4);
    c.assert_keys();
    let out = c
        .script(30)
        .env("RECONCILE_MODE", "repair")
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{log}");
    assert!(log.contains("nothing to change"), "{log}");
}

/// The reconcile lock writes nothing to the keyspace. With every primary at
/// maxmemory under noeviction (a SET is refused with OOM, as the key lock
/// was), the Job takes the lock and grows 3 -> 5 shards with no key lost.
/// Under allkeys-lru at maxmemory (where a key lock could be evicted), a
/// repair run started while the Job moves slots skips its run.
#[test]
#[ignore = "slow group `cluster`: needs redis-server, redis-sentinel, valkey-server (scripts/test)"]
fn the_lock_is_no_key_so_a_full_cluster_grows_and_repair_waits() {
    let mut c = Cluster::new("redis", "7.0.15", None, false);
    c.start_missing(&[]);
    c.reconcile();
    c.write_keys();
    // Every primary's maxmemory set to what it uses as the server counts it
    // against maxmemory (without the replication buffers, which grow with
    // writes; under noeviction 64 KiB less, so that no write fits whatever
    // the allocator does).
    let fill = |c: &Cluster, policy: &str| {
        for n in c.nodes.values() {
            if !c.cli(n.port, &["ROLE"]).starts_with("master") {
                continue;
            }
            let used = c.used_memory(n.port) - c.memory(n.port, "mem_not_counted_for_evict");
            let used = if policy == "noeviction" {
                used - 65536
            } else {
                used
            }
            .to_string();
            assert_eq!(
                c.cli(n.port, &["CONFIG", "SET", "maxmemory-policy", policy]),
                "OK"
            );
            assert_eq!(c.cli(n.port, &["CONFIG", "SET", "maxmemory", &used]), "OK");
        }
    };
    fill(&c, "noeviction");
    let port = c.live_owners()[key_slot("probe")];
    let refused = c.cli(port, &["SET", "probe", "x"]);
    assert!(
        refused.contains("OOM"),
        "the cluster is not full: SET said {refused}"
    );

    c.edit("shards: 3", "shards: 5");
    c.start_missing(&[]);
    let log = c.reconcile();
    assert!(log.contains("holds the lock"), "{log}");
    c.assert_matches_map(5);
    c.assert_keys();

    fill(&c, "allkeys-lru");
    c.edit("shards: 5", "shards: 6");
    c.start_missing(&[]);
    // One key per MIGRATE: a run long enough to start repair beside it.
    let mut job = c
        .script(30)
        .env("MIGRATE_BATCH", "1")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(job.stderr.take().unwrap()));
    let mut log = String::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        log.push_str(&line);
        log.push('\n');
        if line.contains("move slots") {
            break;
        }
    }
    assert!(log.contains("holds the lock"), "{log}");
    let out = c
        .script(5)
        .env("RECONCILE_MODE", "repair")
        .output()
        .unwrap();
    let repair = String::from_utf8_lossy(&out.stderr);
    assert!(
        job.try_wait().unwrap().is_none(),
        "the Job ended before the repair run did: nothing was proven\n{repair}"
    );
    assert!(out.status.success(), "{repair}");
    assert!(repair.contains("this repair run skips"), "{repair}");
    assert!(!repair.contains("repair moves no slot"), "{repair}");
    for line in lines {
        log.push_str(&line.unwrap());
        log.push('\n');
    }
    assert!(job.wait().unwrap().success(), "{log}");
    // Keys may have been evicted (the user's policy), not the lock.
    c.assert_matches_map(6);
}

/// A drain into shards without room for the slots they receive (noeviction
/// at maxmemory) stops before a key of those slots moves, naming the slots,
/// the shard and the memory figures; every slot keeps one owner and no key
/// is lost. Once the memory limit is raised, the next run finishes.
#[test]
#[ignore = "slow group `cluster`: needs redis-server, redis-sentinel, valkey-server (scripts/test)"]
fn a_drain_into_a_full_shard_stops_with_every_slot_owned_and_resumes() {
    let mut c = Cluster::new("redis", "7.0.15", None, false);
    c.edit("shards: 3", "shards: 4");
    c.start_missing(&[]);
    c.reconcile();
    c.write_keys();
    let mut limited = Vec::new();
    for (pod, n) in &c.nodes {
        if n.shard == 3 || !c.cli(n.port, &["ROLE"]).starts_with("master") {
            continue;
        }
        let used = c.used_memory(n.port);
        // 64 KiB free: a quarter of 50,000 keys, split three ways, needs more.
        let max = (used + 65536).to_string();
        assert_eq!(
            c.cli(n.port, &["CONFIG", "SET", "maxmemory-policy", "noeviction"]),
            "OK"
        );
        assert_eq!(c.cli(n.port, &["CONFIG", "SET", "maxmemory", &max]), "OK");
        limited.push((pod.clone(), n.port));
    }
    let before = c.live_owners();
    c.edit("shards: 4", "shards: 4\n  drainShards: 1");
    let out = c.script(10).output().unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{log}");
    let line = log
        .lines()
        .find(|l| l.contains("error: no room to move slots"))
        .unwrap_or_else(|| panic!("no room message:\n{log}"));
    assert!(line.contains("key(s), about "), "{line}");
    assert!(line.contains("on c-shard-3-0"), "{line}");
    assert!(line.contains("of its maxmemory"), "{line}");
    assert!(
        line.contains("(noeviction); raise its memory limit"),
        "{line}"
    );
    assert!(line.contains("nothing of these slots moved"), "{line}");
    assert_eq!(c.live_owners(), before, "a slot moved");
    c.assert_keys();

    for (_, port) in &limited {
        assert_eq!(c.cli(*port, &["CONFIG", "SET", "maxmemory", "0"]), "OK");
    }
    c.reconcile();
    c.assert_matches_map(3);
    c.assert_keys();
}

/// With a password (requirepass/masterauth from the Secret): the script
/// authenticates every command and MIGRATE, and moves keys intact.
#[test]
#[ignore = "slow group `cluster`: needs redis-server, redis-sentinel, valkey-server (scripts/test)"]
fn reconcile_with_a_password() {
    let mut c = Cluster::new("redis", "7.0.15", Some("s3cret pass\"word"), false);
    c.start_missing(&[]);
    c.reconcile();
    c.assert_matches_map(3);
    c.write_keys();
    // Keys the per-slot path must quote for redis-cli: spaces, quotes,
    // backslashes, a newline (two lines in redis-cli's raw output).
    let odd = [
        "key with spaces",
        "quote\"key",
        "back\\slash",
        "star*?[x]",
        "-dash",
        "nl\nkey", // in slot 5404, which the grow moves
    ];
    let owners = c.live_owners();
    for k in odd {
        assert_eq!(c.cli(owners[key_slot(k)], &["SET", k, k]), "OK");
    }
    c.extra_keys = odd.len();
    c.edit("shards: 3", "shards: 4");
    c.start_missing(&[]);
    c.reconcile();
    c.assert_matches_map(4);
    c.assert_keys();
    let owners = c.live_owners();
    for k in odd {
        assert_eq!(c.cli(owners[key_slot(k)], &["GET", k]), k, "{k}");
    }
}

/// Over TLS (tls-port, tls-cluster, tls-replication as rendered): the script
/// talks TLS to every node and MIGRATE moves keys between TLS nodes.
#[test]
#[ignore = "slow group `cluster`: needs redis-server, redis-sentinel, valkey-server (scripts/test)"]
fn reconcile_over_tls() {
    let mut c = Cluster::new("redis", "7.0.15", None, true);
    c.start_missing(&[]);
    c.reconcile();
    c.assert_matches_map(3);
    c.write_keys();
    c.edit("shards: 3", "shards: 4");
    c.start_missing(&[]);
    c.reconcile();
    c.assert_matches_map(4);
    c.assert_keys();
}

#[test]
#[ignore = "slow group `cluster`: needs redis-server, redis-sentinel, valkey-server (scripts/test)"]
fn valkey_9_1_bootstrap_grow_drain_shrink_with_atomic_slot_migration() {
    scenario("valkey", "9.1.2", "(atomic slot migration)", false);
}

/// Sentinel mode, proven the same way: a primary and two replicas started
/// with the rendered redis.conf, three sentinels with the rendered
/// sentinel.conf; the primary dies, a replica is promoted within the
/// configured timeouts, and writes continue through it.
#[test]
#[ignore = "slow group `cluster`: needs redis-server, redis-sentinel, valkey-server (scripts/test)"]
fn sentinel_fails_over_when_the_primary_dies() {
    let ws = tempfile::tempdir().unwrap();
    fs::create_dir_all(ws.path().join("specs")).unwrap();
    fs::write(
        ws.path().join("specs/s.yaml"),
        "apiVersion: redis-gitops/v1\nkind: Redis\nmetadata: {name: s, namespace: t}\n\
         spec:\n  mode: sentinel\n  version: \"7.0.15\"\n  replicas: 3\n  \
         sentinel: {replicas: 3, quorum: 2, downAfterMilliseconds: 1000, failoverTimeout: 10000}\n  \
         resources: {limits: {cpu: \"1\", memory: 256Mi}}\n  persistence: none\n",
    )
    .unwrap();
    cli(ws.path()).arg("build").assert().success();
    let text = fs::read_to_string(ws.path().join("output/s/configmap-s-config.yaml")).unwrap();
    let v: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
    let data: BTreeMap<String, String> = serde_yaml::from_value(v["data"].clone()).unwrap();
    let first = "s-0.s-headless.t.svc 6379";
    assert!(data["sentinel.conf"].contains(first));

    let mut servers = Vec::new();
    let mut ports = Vec::new();
    for i in 0..3 {
        let dir = ws.path().join(format!("redis-{i}"));
        fs::create_dir_all(&dir).unwrap();
        let port = free_port();
        let mut conf = localise(&data["redis.conf"], port, &dir, &dir);
        if i > 0 {
            // What start-redis.sh appends on a replica.
            conf.push_str(&format!("replicaof 127.0.0.1 {}\n", ports[0]));
        }
        fs::write(dir.join("redis.conf"), conf).unwrap();
        servers.push(Some(start(
            "redis-server",
            &dir.join("redis.conf"),
            &dir,
            &[],
        )));
        ports.push(port);
    }
    let wait = |what: &str, secs: u64, ok: &dyn Fn() -> bool| {
        let deadline = Instant::now() + Duration::from_secs(secs);
        while !ok() {
            assert!(Instant::now() < deadline, "{what} within {secs}s");
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    wait("replication", 20, &|| {
        redis_cli(ports[0], &["INFO", "replication"]).contains("connected_slaves:2")
    });
    let mut sentinels = Vec::new();
    let mut sports = Vec::new();
    for i in 0..3 {
        let dir = ws.path().join(format!("sentinel-{i}"));
        fs::create_dir_all(&dir).unwrap();
        let port = free_port();
        let conf = localise(&data["sentinel.conf"], port, &dir, &dir)
            .replace(first, &format!("127.0.0.1 {}", ports[0]));
        fs::write(dir.join("sentinel.conf"), conf).unwrap();
        sentinels.push(start(
            "redis-sentinel",
            &dir.join("sentinel.conf"),
            &dir,
            &[],
        ));
        sports.push(port);
    }
    wait("sentinels find each other and the replicas", 30, &|| {
        sports.iter().all(|p| {
            let master = redis_cli(*p, &["SENTINEL", "master", "s"]);
            let field = |name: &str| {
                let lines: Vec<&str> = master.lines().collect();
                lines
                    .iter()
                    .position(|l| *l == name)
                    .map(|i| lines[i + 1].to_owned())
                    .unwrap_or_default()
            };
            field("num-slaves") == "2" && field("num-other-sentinels") == "2"
        })
    });
    assert_eq!(redis_cli(ports[0], &["SET", "before", "1"]), "OK");
    assert_eq!(
        redis_cli(ports[0], &["WAIT", "2", "5000"]),
        "2",
        "both replicas have it"
    );

    // The primary dies.
    servers[0] = None;
    let died = Instant::now();
    let primary = |p: u16| redis_cli(p, &["SENTINEL", "get-master-addr-by-name", "s"]);
    // down-after 1 s, then an election and a promotion: well inside failoverTimeout 10 s.
    wait("a replica is promoted", 10, &|| {
        sports
            .iter()
            .all(|p| primary(*p) != format!("127.0.0.1\n{}", ports[0]))
    });
    let promoted: u16 = primary(sports[0]).lines().nth(1).unwrap().parse().unwrap();
    assert!(ports[1..].contains(&promoted), "a replica became primary");
    assert!(died.elapsed() < Duration::from_secs(10));
    wait("the promoted replica takes writes", 10, &|| {
        redis_cli(promoted, &["SET", "after", "2"]) == "OK"
    });
    assert_eq!(
        redis_cli(promoted, &["GET", "before"]),
        "1",
        "replicated data kept"
    );
    let other = *ports[1..].iter().find(|p| **p != promoted).unwrap();
    wait("the other replica follows the new primary", 20, &|| {
        redis_cli(other, &["GET", "after"]) == "2"
    });
}
