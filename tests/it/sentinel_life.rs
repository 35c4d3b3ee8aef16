//! Sentinel mode on the pod simulator never loses a write acknowledged by
//! `WAIT 1`: a primary killed and restarted at once, a cold start after a
//! failover in either order, a rolling update, scaling, re-created pods.
//! Each test writes without pause and reads every acknowledged key back.
//! Every case runs on Redis 7.0; those where the engines differ (crash,
//! cold start, rolling update) on Valkey 9.1 too, to keep the suite short.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::lifecycle::{
    LIMIT, PASSWORD, deployment, eventually, primary_of, query_sentinel, render, secrets,
    sentinel_target, spec, wait_linked,
};
use crate::podsim::Sim;
use crate::podsim::client::{self, Report, Target, Writer};
use crate::podsim::isolate::sim_test;

const NAME: &str = "sessions";

/// A sentinel deployment: 3 Redis pods, 3 sentinels, with `persistence`.
fn spec_with(engine: &str, persistence: &str, extra: &str) -> String {
    let storage = if persistence == "none" {
        String::new()
    } else {
        "  storage: {size: 1Gi}\n".to_owned()
    };
    spec(
        NAME,
        engine,
        &format!(
            "  mode: sentinel\n  replicas: 3\n{storage}  persistence: {persistence}\n  \
             sentinel: {{replicas: 3, quorum: 2, downAfterMilliseconds: 2000, failoverTimeout: 10000}}\n{extra}"
        ),
    )
}

/// The Redis container's name: the engine's.
fn container(engine: &str) -> &'static str {
    if engine == "valkey" {
        "valkey"
    } else {
        "redis"
    }
}

struct Rig {
    ws: tempfile::TempDir,
    sim: Sim,
    target: Target,
}

impl Rig {
    fn up(engine: &str, persistence: &str) -> Rig {
        Rig::up_with(engine, persistence, "")
    }

    /// With `extra` spec lines.
    fn up_with(engine: &str, persistence: &str, extra: &str) -> Rig {
        Rig::up_spec(&spec_with(engine, persistence, extra))
    }

    fn up_spec(spec: &str) -> Rig {
        Rig::up_spec_with_secrets(spec, secrets(NAME))
    }

    fn up_spec_with_secrets(spec: &str, secrets: crate::podsim::Secrets) -> Rig {
        let ws = render(&[("sim/sessions.yaml", spec)]);
        let sim = Sim::new(secrets);
        sim.sync(&deployment(ws.path(), NAME), LIMIT);
        for p in ["sessions-1", "sessions-2"] {
            wait_linked(&sim, p, LIMIT);
        }
        // Settled: every sentinel knows both replicas (it learns them from
        // the primary's INFO, every 10 s).
        eventually(LIMIT, "the sentinels know both replicas", || {
            let known = (0..3).all(|i| {
                let ip = sim.pod(&format!("sessions-sentinel-{i}")).ip.to_string();
                client::connect(&ip, 26379, Some(PASSWORD))
                    .and_then(|mut c| {
                        redis::cmd("SENTINEL")
                            .arg("REPLICAS")
                            .arg(NAME)
                            .query::<Vec<redis::Value>>(&mut c)
                    })
                    .is_ok_and(|r| r.len() == 2)
            });
            known.then_some(()).ok_or_else(String::new)
        });
        Rig {
            ws,
            sim,
            target: sentinel_target(NAME),
        }
    }

    fn writer(&self, prefix: &str) -> Writer {
        self.writer_with(PASSWORD, prefix)
    }

    fn writer_with(&self, password: &str, prefix: &str) -> Writer {
        Writer::start(self.target.clone(), Some(password.into()), prefix)
    }

    /// The pod the sentinels name primary (`sessions-N`).
    fn primary(&self) -> String {
        let (host, _) = primary_of(&self.target).expect("a sentinel names a primary");
        host.split('.').next().unwrap().to_owned()
    }

    /// Every acknowledged key of every report still there, with its value.
    fn assert_kept(&self, what: &str, reports: &[&Report]) {
        for r in reports {
            println!("{}", r.summary(what));
            assert!(!r.acked.is_empty(), "{what}: nothing was acknowledged");
            let lost = client::lost(&self.target, Some(PASSWORD), r);
            assert!(
                lost.is_empty(),
                "{what}: {} of {} acknowledged writes lost or changed, e.g. {:?}\n{}",
                lost.len(),
                r.acked.len(),
                &lost[..lost.len().min(5)],
                self.sim.log_tails(30)
            );
        }
    }

    /// Waits until the three Redis pods are Ready and the replicas linked.
    fn settled(&self) {
        for i in 0..3 {
            self.sim.wait_ready(&format!("sessions-{i}"), LIMIT);
        }
        let primary = self.primary();
        for i in 0..3 {
            let pod = format!("sessions-{i}");
            if pod != primary {
                wait_linked(&self.sim, &pod, LIMIT);
            }
        }
    }
}

fn primary_crash_and_instant_restart(engine: &str, persistence: &str) {
    let rig = Rig::up(engine, persistence);
    let w = rig.writer("crash");
    std::thread::sleep(Duration::from_secs(2));
    let before = rig.primary();
    // kill -9; the kubelet restarts it at once, well before downAfter (2 s).
    rig.sim.kill_container(&before, container(engine));
    eventually(LIMIT, "another pod takes over", || {
        let now = rig.primary();
        (now != before).then_some(()).ok_or(now)
    });
    rig.settled();
    std::thread::sleep(Duration::from_secs(2));
    let report = w.stop();
    let logs = rig.sim.pod(&before).logs(container(engine));
    assert!(
        logs.contains("starting again after a crash: failing over to a replica first"),
        "{logs}"
    );
    rig.assert_kept(
        &format!("primary kill -9 + instant restart ({engine}, {persistence})"),
        &[&report],
    );
}

sim_test! {
    fn primary_crash_and_instant_restart_rdb_redis() { primary_crash_and_instant_restart("redis", "rdb") }
}
sim_test! {
    fn primary_crash_and_instant_restart_none_redis() { primary_crash_and_instant_restart("redis", "none") }
}
sim_test! {
    fn primary_crash_and_instant_restart_rdb_valkey() { primary_crash_and_instant_restart("valkey", "rdb") }
}

fn cold_start_after_failover(engine: &str, sentinels_first: bool) {
    let rig = Rig::up(engine, "rdb");
    let w = rig.writer("before");
    std::thread::sleep(Duration::from_secs(2));
    let first = w.stop();
    let _: String = {
        let mut out = String::new();
        eventually(LIMIT, "SENTINEL FAILOVER accepted", || {
            out = query_sentinel(&rig.sim, &["SENTINEL", "FAILOVER", NAME])
                .map_err(|e| e.to_string())?;
            Ok(())
        });
        out
    };
    eventually(LIMIT, "failover to another pod", || {
        let now = rig.primary();
        (now != "sessions-0").then_some(()).ok_or(now)
    });
    rig.settled();
    let after = rig.primary();
    let w = rig.writer("after");
    std::thread::sleep(Duration::from_secs(2));
    let second = w.stop();

    rig.sim.stop_everything(true);
    let order: Vec<String> = if sentinels_first {
        (0..3)
            .map(|i| format!("sessions-sentinel-{i}"))
            .chain((0..3).map(|i| format!("sessions-{i}")))
            .collect()
    } else {
        (0..3)
            .map(|i| format!("sessions-{i}"))
            .chain((0..3).map(|i| format!("sessions-sentinel-{i}")))
            .collect()
    };
    for (i, pod) in order.iter().enumerate() {
        rig.sim.start_pod(pod);
        if i == 2 {
            // The first half alone for a while.
            std::thread::sleep(Duration::from_secs(8));
        }
    }
    rig.sim.resume_all();
    rig.settled();
    println!(
        "cold start ({engine}, {} first): primary before {after}, after {}",
        if sentinels_first {
            "sentinels"
        } else {
            "Redis pods"
        },
        rig.primary()
    );
    rig.assert_kept(
        &format!("cold start after failover ({engine})"),
        &[&first, &second],
    );
}

sim_test! {
    fn cold_start_after_failover_sentinels_first_redis() { cold_start_after_failover("redis", true) }
}
sim_test! {
    fn cold_start_after_failover_redis_pods_first_redis() { cold_start_after_failover("redis", false) }
}
sim_test! {
    fn cold_start_after_failover_sentinels_first_valkey() { cold_start_after_failover("valkey", true) }
}

/// Writes, then drains the first primary's node: sessions-0 stops and is
/// not re-created (its StatefulSet paused) while the sentinels fail over,
/// and writes go on to the new primary and its in-sync replica. Returns the
/// two writers' reports, the new primary and the in-sync replica.
fn drain_the_primary_under_writes(rig: &Rig) -> (Report, Report, String, &'static str) {
    let w = rig.writer("before");
    std::thread::sleep(Duration::from_secs(2));
    let first = w.stop();
    assert_eq!(rig.primary(), "sessions-0");
    rig.sim.pause(NAME);
    rig.sim.delete_pod("sessions-0");
    eventually(LIMIT, "another pod takes over", || {
        let now = rig.primary();
        (now != "sessions-0").then_some(()).ok_or(now)
    });
    let new_primary = rig.primary();
    let in_sync = if new_primary == "sessions-1" {
        "sessions-2"
    } else {
        "sessions-1"
    };
    wait_linked(&rig.sim, in_sync, LIMIT);
    let w = rig.writer("after");
    std::thread::sleep(Duration::from_secs(3));
    let second = w.stop();
    (first, second, new_primary, in_sync)
}

/// The cold start of the edges issue: the primary's node is drained and its
/// pod stays down (no capacity) while the sentinels fail over and writes go
/// on to the new primary and its other replica; then every pod stops and
/// comes back, except the in-sync replica, whose node is still down. The
/// old primary (stale) and the new one (which holds everything) return in
/// an order and with delays that vary per round. No acknowledged write may
/// be lost: the stale pod must not be chosen, and the new primary, stopped
/// cleanly, keeps its role.
fn cold_start_with_the_in_sync_replica_down(engine: &str, stale_first: bool, delay_s: u64) {
    let rig = Rig::up(engine, "rdb");
    let (first, second, new_primary, in_sync) = drain_the_primary_under_writes(&rig);

    rig.sim.stop_everything(true);
    let (a, b) = if stale_first {
        ("sessions-0", new_primary.as_str())
    } else {
        (new_primary.as_str(), "sessions-0")
    };
    for i in 0..3 {
        rig.sim.start_pod(&format!("sessions-sentinel-{i}"));
    }
    rig.sim.start_pod(a);
    std::thread::sleep(Duration::from_secs(delay_s));
    rig.sim.start_pod(b);
    // Long enough for the sentinels to fail over if they would (down-after
    // is 2 s): the in-sync replica is still down.
    std::thread::sleep(Duration::from_secs(15));
    // The stale pod is never chosen. The new primary, stopped cleanly, is
    // the primary again, unless its preStop handed over to the in-sync
    // replica before that stopped too: then nothing serves until it is back.
    let primary = primary_of(&rig.target).map(|(h, _)| h.split('.').next().unwrap().to_owned());
    println!(
        "cold start, in-sync replica {in_sync} down ({engine}, {a} first, {delay_s} s apart): primary {primary:?}"
    );
    assert_ne!(
        primary.as_deref(),
        Some("sessions-0"),
        "{}",
        rig.sim.log_tails(40)
    );
    let role: String = crate::lifecycle::query(&rig.sim, "sessions-0", &["ROLE"])
        .map(|v: Vec<redis::Value>| format!("{v:?}"))
        .unwrap_or_default();
    assert!(
        !role.contains("master"),
        "sessions-0 serves as primary: {role}"
    );
    if primary.as_deref() == Some(new_primary.as_str()) {
        rig.assert_kept(
            &format!("cold start with {in_sync} down ({engine}, {a} first)"),
            &[&first, &second],
        );
        // The stale pod synced from the primary and may be chosen again.
        eventually(LIMIT, "the stale pod is eligible again", || {
            let log = rig.sim.pod("sessions-0").logs(container(engine));
            log.contains("in sync with its primary: replica-priority 100 again")
                .then_some(())
                .ok_or(log)
        });
    }
    // And the in-sync replica's node returns.
    rig.sim.resume_all();
    rig.settled();
    rig.assert_kept(
        &format!("after {in_sync} returned ({engine})"),
        &[&first, &second],
    );
}

// The order and delay of the two returning pods vary per run (one
// simulator per test: its network is the test's own).
sim_test! {
    fn cold_start_with_the_in_sync_replica_down_stale_first_redis() {
        cold_start_with_the_in_sync_replica_down("redis", true, 0)
    }
}
sim_test! {
    fn cold_start_with_the_in_sync_replica_down_primary_first_redis() {
        cold_start_with_the_in_sync_replica_down("redis", false, 3)
    }
}
sim_test! {
    fn cold_start_with_the_in_sync_replica_down_stale_long_first_valkey() {
        cold_start_with_the_in_sync_replica_down("valkey", true, 8)
    }
}

/// The drained-primary cold start again, but the only pod back is the stale
/// one (the other two nodes are still down): the deployment waits rather
/// than serving older data, and the pod's log says why. Once the pods with
/// the data are released, nothing acknowledged is lost.
fn cold_start_with_only_the_stale_pod_back(engine: &str) {
    let rig = Rig::up(engine, "rdb");
    let (first, second, _, _) = drain_the_primary_under_writes(&rig);

    rig.sim.stop_everything(true);
    for i in 0..3 {
        rig.sim.start_pod(&format!("sessions-sentinel-{i}"));
    }
    rig.sim.start_pod("sessions-0");
    // It says why it waits within 10 s; 20 s on, still no pod serves.
    eventually(
        Duration::from_secs(30),
        "the stale pod says why it waits",
        || {
            let log = rig.sim.pod("sessions-0").logs(container(engine));
            log.contains("no failover chooses this pod, whose data may be older")
                .then_some(())
                .ok_or(log)
        },
    );
    std::thread::sleep(Duration::from_secs(20));
    let log = rig.sim.pod("sessions-0").logs(container(engine));
    println!(
        "{}",
        log.lines()
            .filter(|l| l.starts_with("redis-gitops:"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    let role: Vec<redis::Value> =
        crate::lifecycle::query(&rig.sim, "sessions-0", &["ROLE"]).unwrap();
    assert!(
        !format!("{role:?}").contains("master"),
        "the stale pod serves as primary: {role:?}"
    );
    let named = primary_of(&rig.target).map(|(h, _)| h.split('.').next().unwrap().to_owned());
    assert_ne!(named.as_deref(), Some("sessions-0"));

    rig.sim.resume_all();
    rig.settled();
    rig.assert_kept(
        &format!("cold start with only the stale pod back ({engine})"),
        &[&first, &second],
    );
}

sim_test! {
    fn cold_start_with_only_the_stale_pod_back_redis() {
        cold_start_with_only_the_stale_pod_back("redis")
    }
}

/// The case a first boot's defaults would lose: every pod crashes, every
/// sentinel volume and the primary's volume are lost. The new sentinels
/// know no history and name pod 0 (their sentinel.conf's first boot), whose
/// volume is empty; the replicas' snapshots hold every acknowledged write.
/// Pod 0 must not serve its empty dataset: the pod furthest ahead becomes
/// the primary and the sentinels monitor it.
fn cold_start_with_the_sentinels_and_the_primary_volume_lost(engine: &str) {
    let rig = Rig::up_with(
        engine,
        "rdb",
        "  savePoints: [{seconds: 3600, changes: 100000000}]\n",
    );
    let w = rig.writer("before");
    std::thread::sleep(Duration::from_secs(3));
    let report = w.stop();
    assert_eq!(rig.primary(), "sessions-0");
    for p in ["sessions-1", "sessions-2"] {
        let ok: String = crate::lifecycle::query(&rig.sim, p, &["SAVE"]).unwrap();
        assert_eq!(ok, "OK");
    }
    rig.sim.stop_everything(false);
    let mut lost = vec![rig.sim.volume("data", "sessions-0")];
    lost.extend((0..3).map(|i| rig.sim.volume("data", &format!("sessions-sentinel-{i}"))));
    for v in lost {
        std::fs::remove_dir_all(&v).unwrap();
    }
    rig.sim.resume_all();
    rig.settled();
    let log = rig.sim.pod("sessions-0").logs(container(engine));
    println!(
        "cold start with the sentinels' and the primary's volumes lost ({engine}): primary {}",
        rig.primary()
    );
    rig.assert_kept(
        &format!("cold start with the sentinels' and the primary's volumes lost ({engine})"),
        &[&report],
    );
    assert!(log.contains("holds newer data"), "{log}");
}

sim_test! {
    fn cold_start_with_the_sentinels_and_the_primary_volume_lost_redis() {
        cold_start_with_the_sentinels_and_the_primary_volume_lost("redis")
    }
}
sim_test! {
    fn cold_start_with_the_sentinels_and_the_primary_volume_lost_valkey() {
        cold_start_with_the_sentinels_and_the_primary_volume_lost("valkey")
    }
}

/// Every pod crashes at once (a power cut: no preStop, no shutdown save)
/// after the replicas' last snapshots were taken later than the primary's:
/// only they hold the newest acknowledged writes. The pod named primary
/// comes back with older data and must not serve it; the pod furthest ahead
/// (by the replication offset its snapshot keeps) becomes the primary.
/// The primary returns first or last, `delay_s` apart from the replicas.
fn cold_start_after_every_pod_crashed(engine: &str, primary_first: bool, delay_s: u64) {
    // Snapshots only when the test asks (SAVE), never by a save point.
    let rig = Rig::up_with(
        engine,
        "rdb",
        "  savePoints: [{seconds: 3600, changes: 100000000}]\n",
    );
    let save = |pod: &str| {
        let ok: String = crate::lifecycle::query(&rig.sim, pod, &["SAVE"]).unwrap();
        assert_eq!(ok, "OK");
    };
    let w = rig.writer("before");
    std::thread::sleep(Duration::from_secs(2));
    let first = w.stop();
    for i in 0..3 {
        save(&format!("sessions-{i}"));
    }
    let w = rig.writer("after");
    std::thread::sleep(Duration::from_secs(2));
    let second = w.stop();
    // Only the replicas' snapshots hold `second`.
    save("sessions-1");
    save("sessions-2");
    assert_eq!(rig.primary(), "sessions-0");

    rig.sim.stop_everything(false);
    for i in 0..3 {
        rig.sim.start_pod(&format!("sessions-sentinel-{i}"));
    }
    let replicas = ["sessions-1", "sessions-2"];
    if primary_first {
        rig.sim.start_pod("sessions-0");
        std::thread::sleep(Duration::from_secs(delay_s));
        replicas.iter().for_each(|p| rig.sim.start_pod(p));
    } else {
        replicas.iter().for_each(|p| rig.sim.start_pod(p));
        std::thread::sleep(Duration::from_secs(delay_s));
        rig.sim.start_pod("sessions-0");
    }
    rig.sim.resume_all();
    rig.settled();
    let log = rig.sim.pod("sessions-0").logs(container(engine));
    println!(
        "cold start after every pod crashed ({engine}, primary {} {delay_s} s apart): primary {}",
        if primary_first { "first" } else { "last" },
        rig.primary()
    );
    rig.assert_kept(
        &format!("cold start after every pod crashed ({engine})"),
        &[&first, &second],
    );
    assert!(
        log.contains("holds newer data"),
        "sessions-0 did not see the newer snapshot: {log}"
    );
    assert_ne!(rig.primary(), "sessions-0");
}

sim_test! {
    fn cold_start_after_every_pod_crashed_primary_first_redis() {
        cold_start_after_every_pod_crashed("redis", true, 4)
    }
}
sim_test! {
    fn cold_start_after_every_pod_crashed_primary_last_valkey() {
        cold_start_after_every_pod_crashed("valkey", false, 2)
    }
}

/// The new password of the rotation tests.
const NEW_PASSWORD: &str = "rotated \"pass\\word\" #2";

/// Whether `pod`'s server (or sentinel, on 26379) accepts `password`.
fn accepts(rig: &Rig, pod: &str, port: u16, password: &str) -> bool {
    let ip = rig.sim.pod(pod).ip.to_string();
    client::connect(&ip, port, Some(password))
        .and_then(|mut c| redis::cmd("PING").query::<String>(&mut c))
        .is_ok()
}

/// Every Redis pod and sentinel, with its port.
fn servers() -> Vec<(String, u16)> {
    (0..3)
        .map(|i| (format!("sessions-{i}"), 6379))
        .chain((0..3).map(|i| (format!("sessions-sentinel-{i}"), 26379)))
        .collect()
}

/// Waits (2 minutes at most) until every server and sentinel accepts
/// `password` (`accepted`) or refuses it.
fn every_server(rig: &Rig, password: &str, accepted: bool) {
    eventually(
        LIMIT,
        &format!(
            "every server {} the password",
            if accepted { "accepts" } else { "refuses" }
        ),
        || {
            let wrong: Vec<String> = servers()
                .into_iter()
                .filter(|(pod, port)| accepts(rig, pod, *port, password) != accepted)
                .map(|(pod, _)| pod)
                .collect();
            wrong
                .is_empty()
                .then_some(())
                .ok_or(format!("{wrong:?}\n{}", rig.sim.log_tails(10)))
        },
    );
}

/// The replicas in sync, a `SENTINEL FAILOVER` to one of them (no writes
/// meanwhile: under writes a plain failover loses acknowledged ones by
/// design, see plain_sentinel_failover_...), then the replicas in sync with
/// the new primary; every call with `password`.
fn failover_with_replicas_in_sync(rig: &Rig, password: &str) {
    let Target::Sentinel {
        sentinels,
        port,
        master,
    } = &rig.target
    else {
        unreachable!()
    };
    let primary = || {
        client::sentinel_primary(sentinels, *port, master, Some(password))
            .map(|(h, _)| h.split('.').next().unwrap().to_owned())
    };
    let before = primary().expect("the sentinels name a primary");
    let in_sync = |pod: &str| {
        let ip = rig.sim.pod(pod).ip.to_string();
        let info: String = client::connect(&ip, 6379, Some(password))
            .and_then(|mut c| redis::cmd("INFO").arg("replication").query(&mut c))
            .unwrap_or_default();
        info.contains("master_link_status:up") && info.contains("master_sync_in_progress:0")
    };
    let replicas: Vec<String> = (0..3)
        .map(|i| format!("sessions-{i}"))
        .filter(|p| *p != before)
        .collect();
    eventually(LIMIT, "the replicas in sync", || {
        replicas
            .iter()
            .all(|p| in_sync(p))
            .then_some(())
            .ok_or_else(|| rig.sim.log_tails(10))
    });
    let sentinel = rig.sim.pod("sessions-sentinel-0").ip.to_string();
    let ok: String = client::connect(&sentinel, 26379, Some(password))
        .and_then(|mut c| {
            redis::cmd("SENTINEL")
                .arg("FAILOVER")
                .arg(NAME)
                .query(&mut c)
        })
        .expect("SENTINEL FAILOVER");
    assert_eq!(ok, "OK");
    eventually(LIMIT, "a failover", || {
        let now = primary();
        (now.as_deref().is_some_and(|p| p != before))
            .then_some(())
            .ok_or(format!("{now:?}"))
    });
    let now = primary().unwrap();
    let replicas: Vec<String> = (0..3)
        .map(|i| format!("sessions-{i}"))
        .filter(|p| *p != now)
        .collect();
    eventually(LIMIT, "the replicas in sync with the new primary", || {
        replicas
            .iter()
            .all(|p| in_sync(p))
            .then_some(())
            .ok_or_else(|| rig.sim.log_tails(10))
    });
}

/// A password rotation under writes, as External Secrets brings it: the
/// Secret's password changes (with `previous` holding the old one when the
/// spec names `previousSecretKey`), each pod sees its files swapped at its
/// own moment. No container restarts, every server and sentinel takes the
/// new password within 2 minutes, the old one keeps working while
/// `previous` holds it and stops within 2 minutes of its removal, the
/// replicas stay in sync, a failover afterwards works, and no acknowledged
/// write is lost.
fn password_rotation(engine: &str, with_previous: bool) {
    let mut spec = spec_with(engine, "rdb", "");
    if with_previous {
        spec = spec.replace(
            "auth: {secretName: sessions-auth}",
            "auth: {secretName: sessions-auth, previousSecretKey: previous}",
        );
        assert!(spec.contains("previousSecretKey"));
    }
    let rig = Rig::up_spec(&spec);
    let w = rig.writer("during");
    std::thread::sleep(Duration::from_secs(1));
    let started = Instant::now();
    if with_previous {
        rig.sim
            .set_secret("sessions-auth", "previous", Some(PASSWORD));
    }
    rig.sim
        .set_secret("sessions-auth", "password", Some(NEW_PASSWORD));
    every_server(&rig, NEW_PASSWORD, true);
    println!(
        "every server and sentinel accepts the new password after {:?}",
        started.elapsed()
    );
    if with_previous {
        every_server(&rig, PASSWORD, true);
    }
    std::thread::sleep(Duration::from_secs(3));
    let during = w.stop();
    crate::lifecycle::assert_no_restarts(&rig.sim);
    if with_previous {
        rig.sim.set_secret("sessions-auth", "previous", None);
    }
    every_server(&rig, PASSWORD, false);
    // Each pod says when it authenticates to the others with the new
    // password (a sentinel that switches reconnects to every pod).
    eventually(
        LIMIT,
        "every pod authenticates with the new password",
        || {
            let behind: Vec<String> = servers()
                .into_iter()
                .filter(|(pod, port)| {
                    let c = if *port == 26379 {
                        "sentinel"
                    } else {
                        container(engine)
                    };
                    !rig.sim
                        .pod(pod)
                        .logs(c)
                        .contains("authenticates to the other pods with the current password")
                })
                .map(|(pod, _)| pod)
                .collect();
            behind.is_empty().then_some(()).ok_or(format!("{behind:?}"))
        },
    );
    failover_with_replicas_in_sync(&rig, NEW_PASSWORD);
    let w = rig.writer_with(NEW_PASSWORD, "after");
    std::thread::sleep(Duration::from_secs(3));
    let after = w.stop();
    for r in [&during, &after] {
        println!("{}", r.summary(&format!("password rotation ({engine})")));
        assert!(!r.acked.is_empty());
        let lost = client::lost(&rig.target, Some(NEW_PASSWORD), r);
        assert!(
            lost.is_empty(),
            "{} acknowledged writes lost, e.g. {:?}",
            lost.len(),
            &lost[..lost.len().min(5)]
        );
    }
}

sim_test! {
    fn password_rotation_with_previous_redis() { password_rotation("redis", true) }
}
sim_test! {
    fn password_rotation_at_once_valkey() { password_rotation("valkey", false) }
}

/// A rolling update in the middle of a password rotation: the spec's
/// config changes while the Secret's password does (the previous one kept
/// in `previous`), so pods restart while others have not seen the new
/// files yet. Every pod ends on the new password (the old one refused once
/// `previous` is dropped; a failover afterwards works with the new one
/// only), and no acknowledged write is lost.
fn rolling_update_mid_rotation(engine: &str) {
    let with_previous = |extra: &str| {
        spec_with(engine, "rdb", extra).replace(
            "auth: {secretName: sessions-auth}",
            "auth: {secretName: sessions-auth, previousSecretKey: previous}",
        )
    };
    let rig = Rig::up_spec(&with_previous(""));
    let w = rig.writer("roll");
    std::thread::sleep(Duration::from_secs(1));
    rig.sim
        .set_secret("sessions-auth", "previous", Some(PASSWORD));
    rig.sim
        .set_secret("sessions-auth", "password", Some(NEW_PASSWORD));
    std::fs::write(
        rig.ws.path().join("specs/sim/sessions.yaml"),
        with_previous("  config: {hz: \"15\"}\n"),
    )
    .unwrap();
    crate::common::cli(rig.ws.path())
        .arg("build")
        .assert()
        .success();
    let t0 = Instant::now();
    rig.sim.apply(&deployment(rig.ws.path(), NAME));
    rig.sim.wait_rolled_out(NAME, Duration::from_secs(300));
    println!(
        "rolling update during a password rotation ({engine}): {:.1} s",
        t0.elapsed().as_secs_f64()
    );
    rig.settled();
    every_server(&rig, NEW_PASSWORD, true);
    every_server(&rig, PASSWORD, true);
    std::thread::sleep(Duration::from_secs(1));
    let during = w.stop();
    rig.sim.set_secret("sessions-auth", "previous", None);
    every_server(&rig, PASSWORD, false);
    failover_with_replicas_in_sync(&rig, NEW_PASSWORD);
    let w = rig.writer_with(NEW_PASSWORD, "after");
    std::thread::sleep(Duration::from_secs(3));
    let after = w.stop();
    for r in [&during, &after] {
        println!(
            "{}",
            r.summary(&format!(
                "rolling update during a password rotation ({engine})"
            ))
        );
        assert!(!r.acked.is_empty());
        let lost = client::lost(&rig.target, Some(NEW_PASSWORD), r);
        assert!(
            lost.is_empty(),
            "{} acknowledged writes lost, e.g. {:?}\n{}",
            lost.len(),
            &lost[..lost.len().min(5)],
            rig.sim.log_tails(30)
        );
    }
}

sim_test! {
    fn rolling_update_mid_rotation_redis() { rolling_update_mid_rotation("redis") }
}

/// A certificate renewal under writes, as cert-manager brings it: the TLS
/// Secret's certificate and key replaced by ones with a new serial, each
/// pod seeing its files swapped at its own moment. Within 3 minutes every
/// server and sentinel serves the new serial, with no container restart (a
/// sentinel's process starts again inside its container: how long each is
/// away is measured); the replicas stay in sync, a failover afterwards
/// works, and no acknowledged write is lost.
fn certificate_renewal(engine: &str) {
    let dir = tempfile::tempdir().unwrap();
    let ca = crate::common::Ca::new(dir.path());
    let first = crate::lifecycle::tls_secret(&ca, NAME, 0x1001);
    let client_cert = crate::lifecycle::client_files(&first, dir.path());
    let mut secrets = secrets(NAME);
    secrets.insert(format!("{NAME}-tls"), first);
    client::use_tls(ca.cert());
    let rig = Rig::up_spec_with_secrets(
        &spec_with(engine, "rdb", "  tls: {secretName: sessions-tls}\n"),
        secrets,
    );
    let serials = |client: &(std::path::PathBuf, std::path::PathBuf)| -> Vec<(String, String)> {
        servers()
            .into_iter()
            .map(|(pod, port)| {
                let addr = format!("{}:{port}", rig.sim.pod(&pod).ip);
                let serial = crate::common::served_serial(&addr, (&client.0, &client.1))
                    .unwrap_or_else(|e| e);
                (pod, serial)
            })
            .collect()
    };
    for (pod, serial) in serials(&client_cert) {
        assert_eq!(serial, "1001", "{pod} serves the first certificate");
    }
    let w = rig.writer("during");
    let away = watch_sentinels(&rig);
    std::thread::sleep(Duration::from_secs(1));
    let started = Instant::now();
    let renewed = crate::lifecycle::renew_tls_secret(&rig.sim, &ca, NAME, 0x2002, dir.path());
    eventually(
        Duration::from_secs(180),
        "every server and sentinel serves the renewed certificate",
        || {
            let old: Vec<(String, String)> = serials(&renewed)
                .into_iter()
                .filter(|(_, serial)| serial != "2002")
                .collect();
            old.is_empty().then_some(()).ok_or(format!("{old:?}"))
        },
    );
    println!(
        "every server and sentinel serves the renewed certificate after {:.1} s",
        started.elapsed().as_secs_f64()
    );
    std::thread::sleep(Duration::from_secs(3));
    let during = w.stop();
    away.0.store(true, std::sync::atomic::Ordering::SeqCst);
    for (sentinel, gap) in away.1.join().unwrap() {
        println!(
            "{sentinel}: away {:.2} s at most while its process started again",
            gap.as_secs_f64()
        );
        assert!(gap < Duration::from_secs(5), "{sentinel} away {gap:?}");
    }
    crate::lifecycle::assert_no_restarts(&rig.sim);
    failover_with_replicas_in_sync(&rig, PASSWORD);
    let w = rig.writer("after");
    std::thread::sleep(Duration::from_secs(3));
    let after = w.stop();
    rig.assert_kept(
        &format!("certificate renewal ({engine})"),
        &[&during, &after],
    );
}

sim_test! {
    fn certificate_renewal_redis() { certificate_renewal("redis") }
}

/// Pings every sentinel every 100 ms until stopped: for each, the longest
/// stretch in which it did not answer.
#[allow(clippy::type_complexity)]
fn watch_sentinels(
    rig: &Rig,
) -> (
    std::sync::Arc<std::sync::atomic::AtomicBool>,
    std::thread::JoinHandle<Vec<(String, Duration)>>,
) {
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = stop.clone();
    let sentinels: Vec<(String, String)> = (0..3)
        .map(|i| {
            let pod = format!("{NAME}-sentinel-{i}");
            let ip = rig.sim.pod(&pod).ip.to_string();
            (pod, ip)
        })
        .collect();
    let t = std::thread::spawn(move || {
        let mut since: Vec<Option<Instant>> = vec![None; sentinels.len()];
        let mut longest = vec![Duration::ZERO; sentinels.len()];
        while !flag.load(std::sync::atomic::Ordering::SeqCst) {
            for (i, (_, ip)) in sentinels.iter().enumerate() {
                let up = client::connect(ip, 26379, Some(PASSWORD))
                    .and_then(|mut c| redis::cmd("PING").query::<String>(&mut c))
                    .is_ok();
                match (up, since[i]) {
                    (false, None) => since[i] = Some(Instant::now()),
                    (true, Some(t)) => {
                        longest[i] = longest[i].max(t.elapsed());
                        since[i] = None;
                    }
                    _ => {}
                }
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        sentinels
            .into_iter()
            .zip(longest)
            .map(|((pod, _), gap)| (pod, gap))
            .collect()
    });
    (stop, t)
}

/// Polls the primary until stopped: the sequence of primaries seen.
fn watch_primaries(
    target: Target,
) -> (
    std::sync::Arc<std::sync::atomic::AtomicBool>,
    std::thread::JoinHandle<Vec<String>>,
) {
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = stop.clone();
    let t = std::thread::spawn(move || {
        let mut seen: Vec<String> = Vec::new();
        while !flag.load(std::sync::atomic::Ordering::SeqCst) {
            if let Some((host, _)) = primary_of(&target) {
                if seen.last() != Some(&host) {
                    seen.push(host);
                }
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        seen
    });
    (stop, t)
}

fn rolling_update(engine: &str) {
    let rig = Rig::up(engine, "rdb");
    let w = rig.writer("roll");
    std::thread::sleep(Duration::from_secs(2));
    let (stop, watcher) = watch_primaries(rig.target.clone());
    // A config change: only the Redis pods' template changes.
    let before = crate::podsim::manifest::read(&deployment(rig.ws.path(), NAME));
    std::fs::write(
        rig.ws.path().join("specs/sim/sessions.yaml"),
        spec_with(engine, "rdb", "  config: {hz: \"15\"}\n"),
    )
    .unwrap();
    crate::common::cli(rig.ws.path())
        .arg("build")
        .assert()
        .success();
    let after = crate::podsim::manifest::read(&deployment(rig.ws.path(), NAME));
    assert_ne!(template(&before, NAME), template(&after, NAME));
    assert_eq!(
        template(&before, "sessions-sentinel"),
        template(&after, "sessions-sentinel"),
        "a redis.conf change restarts the sentinels"
    );
    // New pods take 15 s to start, as on a node that pulls the image.
    rig.sim.set_start_delay(Duration::from_secs(15));
    let t0 = Instant::now();
    rig.sim.apply(&deployment(rig.ws.path(), NAME));
    rig.sim.wait_rolled_out(NAME, Duration::from_secs(300));
    let took = t0.elapsed();
    rig.settled();
    std::thread::sleep(Duration::from_secs(1));
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let seen = watcher.join().unwrap();
    let report = w.stop();
    println!(
        "rolling update ({engine}): {:.1} s; primaries in turn: {seen:?}",
        took.as_secs_f64()
    );
    // Each pod that was primary handed over at most once.
    let mut handovers: BTreeMap<&str, usize> = BTreeMap::new();
    for pair in seen.windows(2) {
        *handovers.entry(pair[0].as_str()).or_default() += 1;
    }
    assert!(handovers.values().all(|n| *n <= 1), "{seen:?}");
    assert!(seen.len() >= 2, "the primary never handed over: {seen:?}");
    rig.assert_kept(&format!("rolling update ({engine})"), &[&report]);
}

fn template(m: &crate::podsim::manifest::Manifests, set: &str) -> String {
    serde_json::to_string(&m.stateful_sets[set].spec.as_ref().unwrap().template).unwrap()
}

sim_test! {
    fn rolling_update_redis() { rolling_update("redis") }
}
sim_test! {
    fn rolling_update_valkey() { rolling_update("valkey") }
}

fn scale_replicas(engine: &str) {
    let rig = Rig::up(engine, "rdb");
    let w = rig.writer("scale");
    std::thread::sleep(Duration::from_secs(2));
    let ips: Vec<_> = (0..3)
        .map(|i| rig.sim.pod(&format!("sessions-{i}")).ip)
        .collect();
    let sentinel_ips: Vec<_> = (0..3)
        .map(|i| rig.sim.pod(&format!("sessions-sentinel-{i}")).ip)
        .collect();
    let set = |replicas: u32| {
        let text = spec_with(engine, "rdb", "")
            .replace("replicas: 3\n", &format!("replicas: {replicas}\n"));
        std::fs::write(rig.ws.path().join("specs/sim/sessions.yaml"), text).unwrap();
        crate::common::cli(rig.ws.path())
            .arg("build")
            .assert()
            .success();
        crate::podsim::manifest::read(&deployment(rig.ws.path(), NAME))
    };
    let before = crate::podsim::manifest::read(&deployment(rig.ws.path(), NAME));
    let four = set(4);
    for s in [NAME, "sessions-sentinel"] {
        assert_eq!(
            template(&before, s),
            template(&four, s),
            "{s}: template changed by scaling"
        );
    }
    rig.sim.apply(&deployment(rig.ws.path(), NAME));
    // Ready only once in sync: never Ready with the link down.
    let deadline = Instant::now() + LIMIT;
    loop {
        if let Some(p) = rig.sim.try_pod("sessions-3") {
            if p.ready() {
                let r = crate::lifecycle::replication(&rig.sim, "sessions-3");
                assert_eq!(
                    r.get("master_link_status").map(String::as_str),
                    Some("up"),
                    "{r:?}"
                );
                break;
            }
        }
        assert!(Instant::now() < deadline, "sessions-3 never Ready");
        std::thread::sleep(Duration::from_millis(20));
    }
    let three = set(3);
    assert_eq!(template(&before, NAME), template(&three, NAME));
    rig.sim.apply(&deployment(rig.ws.path(), NAME));
    eventually(LIMIT, "sessions-3 removed", || {
        rig.sim
            .try_pod("sessions-3")
            .map_or(Ok(()), |_| Err("still there".into()))
    });
    let report = w.stop();
    // No existing pod restarted: same pods (same IPs), no container restarts.
    for (i, ip) in ips.iter().enumerate() {
        let p = rig.sim.pod(&format!("sessions-{i}"));
        assert_eq!(p.ip, *ip, "sessions-{i} was re-created");
        assert_eq!(p.restarts(container(engine)), 0);
    }
    for (i, ip) in sentinel_ips.iter().enumerate() {
        assert_eq!(rig.sim.pod(&format!("sessions-sentinel-{i}")).ip, *ip);
    }
    rig.assert_kept(&format!("replicas 3 -> 4 -> 3 ({engine})"), &[&report]);
}

sim_test! {
    fn scale_replicas_redis() { scale_replicas("redis") }
}

fn primary_recreated_rejoins_as_replica(engine: &str) {
    let rig = Rig::up(engine, "rdb");
    let w = rig.writer("recreate");
    std::thread::sleep(Duration::from_secs(2));
    let primary = rig.primary();
    let ip = rig.sim.pod(&primary).ip;
    rig.sim.delete_pod(&primary);
    let again = rig.sim.wait_ready(&primary, LIMIT);
    assert_ne!(again.ip, ip);
    rig.settled();
    assert_ne!(rig.primary(), primary, "the deleted primary handed over");
    wait_linked(&rig.sim, &primary, LIMIT);
    let report = w.stop();
    rig.assert_kept(
        &format!("primary re-created with a new IP ({engine})"),
        &[&report],
    );
}

sim_test! {
    fn primary_recreated_rejoins_as_replica_redis() { primary_recreated_rejoins_as_replica("redis") }
}
