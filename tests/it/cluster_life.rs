//! Redis Cluster on the pod simulator keeps serving and never loses a
//! write acknowledged by `WAIT 1` through a rolling update of every shard at
//! once, a replica restart followed by its primary's deletion, and a cold
//! start of every pod. One writer per shard (keys hash-tagged into its
//! slots) measures each shard's longest stretch without an acknowledged write.

use std::time::{Duration, Instant};

use crate::lifecycle::{
    LIMIT, PASSWORD, cluster_healthy, cluster_spec, cluster_target, deployment, eventually,
    jobs_name, query, render, secrets, spec, wait_linked,
};
use crate::podsim::Sim;
use crate::podsim::client::{self, Report, Target, Writer, tag_in};
use crate::podsim::isolate::sim_test;

const NAME: &str = "events";
const SHARDS: u32 = 3;

/// The slots of shard `i` of 3 in a fresh cluster (the committed map of
/// `redis-cli --cluster create`).
const RANGES: [(u16, u16); 3] = [(0, 5460), (5461, 10922), (10923, 16383)];

struct Rig {
    ws: tempfile::TempDir,
    sim: Sim,
    target: Target,
}

impl Rig {
    fn up(engine: &str) -> Rig {
        Rig::up_spec(&cluster_spec(NAME, engine, SHARDS))
    }

    /// A deployment of the spec `text`, bootstrapped and healthy.
    fn up_spec(text: &str) -> Rig {
        Rig::up_spec_with_secrets(text, secrets(NAME))
    }

    fn up_spec_with_secrets(text: &str, secrets: crate::podsim::Secrets) -> Rig {
        Rig::up_on(Sim::new(secrets), text)
    }

    /// A deployment of the spec `text` on the simulator `sim`.
    fn up_on(sim: Sim, text: &str) -> Rig {
        let ws = render(&[("sim/events.yaml", text)]);
        let jobs = sim.sync(&deployment(ws.path(), NAME), LIMIT);
        assert!(jobs[0].succeeded, "{}", jobs[0].logs);
        for i in 0..SHARDS {
            wait_linked(&sim, &format!("{NAME}-shard-{i}-1"), LIMIT);
        }
        eventually(LIMIT, "cluster healthy", || {
            cluster_healthy(&sim, NAME, SHARDS)
        });
        Rig {
            ws,
            sim,
            target: cluster_target(NAME, SHARDS),
        }
    }

    /// One writer per shard, its keys in that shard's slots.
    fn writers(&self, prefix: &str) -> Vec<Writer> {
        RANGES
            .iter()
            .enumerate()
            .map(|(i, (a, b))| {
                let tag = tag_in(*a, *b);
                Writer::start(
                    self.target.clone(),
                    Some(PASSWORD.into()),
                    &format!("{{{tag}}}{prefix}-shard{i}"),
                )
            })
            .collect()
    }

    fn assert_kept(&self, what: &str, reports: &[Report]) {
        for (i, r) in reports.iter().enumerate() {
            println!("{}", r.summary(&format!("{what}, shard {i}")));
            assert!(
                !r.acked.is_empty(),
                "{what}: shard {i} acknowledged nothing"
            );
            let lost = client::lost(&self.target, Some(PASSWORD), r);
            assert!(
                lost.is_empty(),
                "{what}: shard {i}: {} of {} acknowledged writes lost, e.g. {:?}\n{}",
                lost.len(),
                r.acked.len(),
                &lost[..lost.len().min(5)],
                self.sim.log_tails(30)
            );
        }
    }

    /// Writes for 2 s (one writer per shard), then every pod stops
    /// gracefully and comes back (new pods, new addresses); returns once
    /// the cluster is healthy again, with the writers' reports.
    fn writes_then_cold_start(&self, prefix: &str) -> Vec<Report> {
        let writers = self.writers(prefix);
        std::thread::sleep(Duration::from_secs(2));
        let reports = stop_all(writers);
        self.sim.stop_everything(true);
        self.sim.resume_all();
        for i in 0..SHARDS {
            self.sim
                .wait_rolled_out(&format!("{NAME}-shard-{i}"), Duration::from_secs(180));
        }
        eventually(LIMIT, "cluster healthy after a cold start", || {
            cluster_healthy(&self.sim, NAME, SHARDS)
        });
        reports
    }

    /// The reconcile Job, run again, verifies ownership against the
    /// committed map and changes nothing.
    fn reconcile_changes_nothing(&self) {
        let again = self
            .sim
            .run_job(&jobs_name(&deployment(self.ws.path(), NAME)), LIMIT);
        assert!(again.succeeded, "{}", again.logs);
        assert!(again.logs.contains("nothing to change"), "{}", again.logs);
    }

    fn rebuild(&self, engine: &str, extra: &str) {
        let text = spec(
            NAME,
            engine,
            &format!(
                "  mode: cluster\n  shards: {SHARDS}\n  replicasPerShard: 1\n  storage: {{size: 1Gi}}\n  \
                 persistence: rdb\n  config: {{cluster-node-timeout: \"3000\"{extra}}}\n"
            ),
        );
        std::fs::write(self.ws.path().join("specs/sim/events.yaml"), text).unwrap();
        crate::common::cli(self.ws.path())
            .arg("build")
            .assert()
            .success();
    }
}

fn stop_all(writers: Vec<Writer>) -> Vec<Report> {
    writers.into_iter().map(Writer::stop).collect()
}

fn every_shard_rolls_at_once(engine: &str) {
    let rig = Rig::up(engine);
    let writers = rig.writers("roll");
    std::thread::sleep(Duration::from_secs(2));
    // A config change: every shard's StatefulSet gets a new template and,
    // as Argo CD and Flux apply them together, all of them roll at once.
    rig.rebuild(engine, ", hz: \"15\"");
    // New pods take 15 s to start, as on a node that pulls the image: a
    // primary stopped without handing over leaves its slots down that long.
    rig.sim.set_start_delay(Duration::from_secs(15));
    let t0 = Instant::now();
    rig.sim.apply(&deployment(rig.ws.path(), NAME));
    for i in 0..SHARDS {
        rig.sim
            .wait_rolled_out(&format!("{NAME}-shard-{i}"), Duration::from_secs(300));
    }
    let took = t0.elapsed();
    eventually(LIMIT, "cluster healthy after the roll", || {
        cluster_healthy(&rig.sim, NAME, SHARDS)
    });
    std::thread::sleep(Duration::from_secs(1));
    let reports = stop_all(writers);
    println!(
        "every shard rolled at once ({engine}) in {:.1} s",
        took.as_secs_f64()
    );
    for (i, r) in reports.iter().enumerate() {
        assert!(
            r.longest_gap < Duration::from_secs(10),
            "shard {i} was down {:.1} s",
            r.longest_gap.as_secs_f64()
        );
    }
    rig.assert_kept(&format!("every shard rolled at once ({engine})"), &reports);
}

sim_test! {
    fn every_shard_rolls_at_once_redis() { every_shard_rolls_at_once("redis") }
}
sim_test! {
    fn every_shard_rolls_at_once_valkey() { every_shard_rolls_at_once("valkey") }
}

fn restarted_replica_takes_over_from_a_deleted_primary(engine: &str) {
    let rig = Rig::up(engine);
    let writers = rig.writers("takeover");
    std::thread::sleep(Duration::from_secs(2));
    let replica = format!("{NAME}-shard-0-1");
    let primary = format!("{NAME}-shard-0-0");
    rig.sim.delete_pod(&replica);
    // Ready means in sync: delete the primary the moment it is.
    rig.sim.wait_ready(&replica, LIMIT);
    let r = crate::lifecycle::replication(&rig.sim, &replica);
    assert_eq!(
        r.get("master_link_status").map(String::as_str),
        Some("up"),
        "{r:?}"
    );
    rig.sim.delete_pod(&primary);
    let role: redis::Value = query(&rig.sim, &replica, &["ROLE"]).unwrap();
    assert!(format!("{role:?}").contains("master"), "{role:?}");
    rig.sim.wait_ready(&primary, LIMIT);
    eventually(LIMIT, "cluster healthy", || {
        cluster_healthy(&rig.sim, NAME, SHARDS)
    });
    std::thread::sleep(Duration::from_secs(1));
    let reports = stop_all(writers);
    assert!(
        reports[0].longest_gap < Duration::from_secs(10),
        "{:?}",
        reports[0].longest_gap
    );
    rig.assert_kept(
        &format!("replica restarted, then its primary deleted ({engine})"),
        &reports,
    );
}

sim_test! {
    fn restarted_replica_takes_over_from_a_deleted_primary_redis() {
        restarted_replica_takes_over_from_a_deleted_primary("redis")
    }
}
sim_test! {
    fn restarted_replica_takes_over_from_a_deleted_primary_valkey() {
        restarted_replica_takes_over_from_a_deleted_primary("valkey")
    }
}

fn cold_start_keeps_slots_and_keys(engine: &str) {
    let rig = Rig::up(engine);
    let reports = rig.writes_then_cold_start("cold");
    rig.assert_kept(&format!("cold start ({engine})"), &reports);
    rig.reconcile_changes_nothing();
}

sim_test! {
    fn cold_start_keeps_slots_and_keys_redis() { cold_start_keeps_slots_and_keys("redis") }
}
sim_test! {
    fn cold_start_keeps_slots_and_keys_valkey() { cold_start_keeps_slots_and_keys("valkey") }
}

/// An IPv6-only pod network: the Job bootstraps the cluster over IPv6, the
/// nodes gossip IPv6 addresses, and after every pod is re-created at once
/// with a new address each node keeps its ID (the start script's rewrite
/// of nodes.conf reads `ip:port@cport` by its last colon) and no
/// acknowledged write is lost.
fn ipv6_only_pods(engine: &str) {
    let rig = Rig::up_on(
        Sim::new_ipv6(secrets(NAME)),
        &cluster_spec(NAME, engine, SHARDS),
    );
    let pods: Vec<String> = (0..SHARDS)
        .flat_map(|i| (0..2).map(move |o| format!("{NAME}-shard-{i}-{o}")))
        .collect();
    let identity = |sim: &Sim| -> Vec<(String, std::net::IpAddr)> {
        pods.iter()
            .map(|p| {
                let ip = sim.pod(p).ip;
                assert!(ip.is_ipv6(), "{p}: {ip}");
                let id: String = query(sim, p, &["CLUSTER", "MYID"]).unwrap();
                (id, ip)
            })
            .collect()
    };
    let before = identity(&rig.sim);
    let nodes: String = query(&rig.sim, &pods[0], &["CLUSTER", "NODES"]).unwrap();
    for line in nodes.lines() {
        let addr = line.split(' ').nth(1).unwrap();
        assert!(addr.starts_with("fd88::"), "{nodes}");
    }
    let reports = rig.writes_then_cold_start("v6");
    let after = identity(&rig.sim);
    for ((p, (id0, ip0)), (id1, ip1)) in pods.iter().zip(&before).zip(&after) {
        assert_eq!(id0, id1, "{p} changed its node ID");
        assert_ne!(ip0, ip1, "{p} kept its address");
    }
    rig.assert_kept(&format!("IPv6 cold start ({engine})"), &reports);
    rig.reconcile_changes_nothing();
}

sim_test! {
    fn ipv6_only_pods_redis() { ipv6_only_pods("redis") }
}

/// The slots each shard's primary serves, as `first-last` ranges, by the
/// account of that shard's own pods.
fn served_by_shard(sim: &Sim) -> Vec<String> {
    (0..SHARDS)
        .map(|i| {
            let mut ranges = Vec::new();
            for o in 0..2 {
                let pod = format!("{NAME}-shard-{i}-{o}");
                let nodes: String = query(sim, &pod, &["CLUSTER", "NODES"]).unwrap_or_default();
                if let Some(me) = nodes.lines().find(|l| l.contains("myself,master")) {
                    ranges.extend(me.split_whitespace().skip(8).map(str::to_owned));
                }
            }
            ranges.join(" ")
        })
        .collect()
}

fn lost_replica_volume_is_repaired_by_the_cronjob(engine: &str) {
    let rig = Rig::up(engine);
    let committed: Vec<String> = RANGES.iter().map(|(a, b)| format!("{a}-{b}")).collect();
    assert_eq!(served_by_shard(&rig.sim), committed);
    let writers = rig.writers("repair");
    std::thread::sleep(Duration::from_secs(2));
    let replica = format!("{NAME}-shard-1-1");
    rig.sim.lose_pod_and_volume(&replica);
    rig.sim.wait_ready(&replica, LIMIT);
    // Back empty and alone: a new node that knows only itself.
    let nodes: String = query(&rig.sim, &replica, &["CLUSTER", "NODES"]).unwrap();
    assert_eq!(nodes.lines().count(), 1, "{nodes}");
    // The schedule fires; no git change, no sync.
    let run = rig
        .sim
        .run_job(&format!("{NAME}-repair"), Duration::from_secs(300));
    assert!(run.succeeded, "{}", run.logs);
    assert!(
        run.logs
            .contains(&format!("{replica} replicates {NAME}-shard-1-0")),
        "{}",
        run.logs
    );
    assert!(run.logs.contains("forgets"), "{}", run.logs);
    wait_linked(&rig.sim, &replica, LIMIT);
    eventually(LIMIT, "cluster healthy after the repair", || {
        cluster_healthy(&rig.sim, NAME, SHARDS)
    });
    assert_eq!(served_by_shard(&rig.sim), committed, "repair moved a slot");
    let again = rig
        .sim
        .run_job(&format!("{NAME}-repair"), Duration::from_secs(300));
    assert!(again.succeeded, "{}", again.logs);
    assert!(again.logs.contains("nothing to change"), "{}", again.logs);
    std::thread::sleep(Duration::from_secs(1));
    let reports = stop_all(writers);
    rig.assert_kept(&format!("replica volume lost ({engine})"), &reports);
    // The re-attached replica holds its shard's data.
    let keys: i64 = query(&rig.sim, &replica, &["DBSIZE"]).unwrap();
    let primary_keys: i64 = query(&rig.sim, &format!("{NAME}-shard-1-0"), &["DBSIZE"]).unwrap();
    assert_eq!(keys, primary_keys);
    assert!(keys > 0);
}

sim_test! {
    fn lost_replica_volume_is_repaired_by_the_cronjob_redis() {
        lost_replica_volume_is_repaired_by_the_cronjob("redis")
    }
}
sim_test! {
    fn lost_replica_volume_is_repaired_by_the_cronjob_valkey() {
        lost_replica_volume_is_repaired_by_the_cronjob("valkey")
    }
}

/// The path a user takes, through the rendered files only: bootstrap from
/// empty by the reconcile Job (a sync), grow 3 -> 5 shards (a sync: new
/// StatefulSets, then the Job moves slots to them), drain the two new shards
/// (a sync: the Job moves their slots back), remove them (a sync: their
/// StatefulSets pruned, the Job forgets their nodes). Writers run through
/// it all, their keys in slots that stay and in slots that move.
fn grow_drain_and_remove_through_syncs(engine: &str) {
    let rig = Rig::up(engine);
    let mut writers = rig.writers("stay");
    // The last slots of each range are the ones a grow gives away.
    writers.extend(RANGES.iter().enumerate().map(|(i, (_, b))| {
        let tag = tag_in(b - 60, *b);
        Writer::start(
            rig.target.clone(),
            Some(PASSWORD.into()),
            &format!("{{{tag}}}move-shard{i}"),
        )
    }));
    std::thread::sleep(Duration::from_secs(2));
    let dir = deployment(rig.ws.path(), NAME);
    let step = |body: &str, shards: u32, what: &str| {
        let text = spec(
            NAME,
            engine,
            &format!(
                "  mode: cluster\n  {body}\n  replicasPerShard: 1\n  storage: {{size: 1Gi}}\n  \
                 persistence: rdb\n  config: {{cluster-node-timeout: \"3000\"}}\n"
            ),
        );
        std::fs::write(rig.ws.path().join("specs/sim/events.yaml"), text).unwrap();
        crate::common::cli(rig.ws.path())
            .arg("build")
            .assert()
            .success();
        let t0 = Instant::now();
        let jobs = rig.sim.sync(&dir, Duration::from_secs(400));
        assert!(jobs[0].succeeded, "{what}: {}", jobs[0].logs);
        println!(
            "{what} ({engine}): synced in {:.1} s",
            t0.elapsed().as_secs_f64()
        );
        eventually(LIMIT, what, || cluster_healthy(&rig.sim, NAME, shards));
        jobs.into_iter().next().unwrap().logs
    };
    let grow = step("shards: 5", 5, "grow 3 -> 5");
    assert!(grow.contains("move slots"), "{grow}");
    let drain = step("shards: 5\n  drainShards: 2", 5, "drain 2");
    assert!(drain.contains("move slots"), "{drain}");
    let remove = step("shards: 3", SHARDS, "remove 2");
    assert!(remove.contains("forgets"), "{remove}");
    for i in 3..5 {
        assert!(
            rig.sim.try_pod(&format!("{NAME}-shard-{i}-0")).is_none(),
            "shard {i} pruned"
        );
    }
    std::thread::sleep(Duration::from_secs(1));
    let reports = stop_all(writers);
    rig.assert_kept(&format!("grow, drain, remove ({engine})"), &reports);
    let again = rig.sim.run_job(&jobs_name(&dir), LIMIT);
    assert!(again.logs.contains("nothing to change"), "{}", again.logs);
}

sim_test! {
    fn grow_drain_and_remove_through_syncs_redis() { grow_drain_and_remove_through_syncs("redis") }
}
sim_test! {
    fn grow_drain_and_remove_through_syncs_valkey() { grow_drain_and_remove_through_syncs("valkey") }
}

/// A password rotation with `previousSecretKey` under writes, as External
/// Secrets brings it (each pod's files swapped at its own moment): no
/// container restarts; every node takes the new password within 2 minutes
/// while the old one keeps working; once `previous` is removed the old one
/// is refused within 2 minutes; the repair CronJob, the reconcile Job and a
/// CLUSTER FAILOVER work afterwards; no acknowledged write is lost.
fn password_rotation(engine: &str) {
    const NEW: &str = "rotated \"cluster\\pass\" #2";
    let text = cluster_spec(NAME, engine, SHARDS).replace(
        "auth: {secretName: events-auth}",
        "auth: {secretName: events-auth, previousSecretKey: previous}",
    );
    assert!(text.contains("previousSecretKey"));
    let rig = Rig::up_spec(&text);
    let nodes: Vec<String> = (0..SHARDS)
        .flat_map(|i| (0..2).map(move |o| format!("{NAME}-shard-{i}-{o}")))
        .collect();
    let accepts = |pod: &str, password: &str| {
        let ip = rig.sim.pod(pod).ip.to_string();
        client::connect(&ip, 6379, Some(password))
            .and_then(|mut c| redis::cmd("PING").query::<String>(&mut c))
            .is_ok()
    };
    let every_node = |password: &str, accepted: bool| {
        eventually(
            LIMIT,
            &format!("every node accepts {password:?}: {accepted}"),
            || {
                let wrong: Vec<&String> = nodes
                    .iter()
                    .filter(|p| accepts(p, password) != accepted)
                    .collect();
                wrong.is_empty().then_some(()).ok_or(format!("{wrong:?}"))
            },
        )
    };

    let writers = rig.writers("rotation");
    std::thread::sleep(Duration::from_secs(1));
    let started = Instant::now();
    rig.sim
        .set_secret(&format!("{NAME}-auth"), "previous", Some(PASSWORD));
    rig.sim
        .set_secret(&format!("{NAME}-auth"), "password", Some(NEW));
    every_node(NEW, true);
    println!(
        "every node accepts the new password after {:?}",
        started.elapsed()
    );
    every_node(PASSWORD, true);
    std::thread::sleep(Duration::from_secs(2));
    let reports = stop_all(writers);
    crate::lifecycle::assert_no_restarts(&rig.sim);
    rig.sim
        .set_secret(&format!("{NAME}-auth"), "previous", None);
    every_node(PASSWORD, false);
    eventually(
        LIMIT,
        "every node authenticates with the new password",
        || {
            let behind: Vec<&String> = nodes
                .iter()
                .filter(|p| {
                    !rig.sim
                        .pod(p)
                        .logs(engine)
                        .contains("authenticates to the other pods with the current password")
                })
                .collect();
            behind.is_empty().then_some(()).ok_or(format!("{behind:?}"))
        },
    );
    let repair = rig
        .sim
        .run_job(&format!("{NAME}-repair"), Duration::from_secs(300));
    assert!(repair.succeeded, "{}", repair.logs);
    let job = rig.sim.run_job(
        &jobs_name(&deployment(rig.ws.path(), NAME)),
        Duration::from_secs(300),
    );
    assert!(job.succeeded, "{}", job.logs);
    // A failover through the new password: shard 0's replica takes over.
    let replica = format!("{NAME}-shard-0-1");
    let ip = rig.sim.pod(&replica).ip.to_string();
    let ok: String = client::connect(&ip, 6379, Some(NEW))
        .and_then(|mut c| redis::cmd("CLUSTER").arg("FAILOVER").query(&mut c))
        .expect("CLUSTER FAILOVER");
    assert_eq!(ok, "OK");
    eventually(LIMIT, "the replica took over", || {
        let role: Vec<redis::Value> = client::connect(&ip, 6379, Some(NEW))
            .and_then(|mut c| redis::cmd("ROLE").query(&mut c))
            .map_err(|e| e.to_string())?;
        format!("{role:?}")
            .contains("master")
            .then_some(())
            .ok_or(format!("{role:?}"))
    });
    for (i, r) in reports.iter().enumerate() {
        println!(
            "{}",
            r.summary(&format!("password rotation ({engine}), shard {i}"))
        );
        assert!(!r.acked.is_empty());
        let lost = client::lost(&rig.target, Some(NEW), r);
        assert!(
            lost.is_empty(),
            "shard {i}: {} acknowledged writes lost, e.g. {:?}",
            lost.len(),
            &lost[..lost.len().min(5)]
        );
    }
}

sim_test! {
    fn password_rotation_redis() { password_rotation("redis") }
}

/// A certificate renewal under writes, as cert-manager brings it: the TLS
/// Secret's certificate and key replaced by ones with a new serial, each
/// pod seeing its files swapped at its own moment. Within 3 minutes every
/// node serves the new serial on its client port and its cluster bus port,
/// with no container restart; the replicas stay in sync, a CLUSTER
/// FAILOVER afterwards works, and no acknowledged write is lost.
fn certificate_renewal(engine: &str) {
    let dir = tempfile::tempdir().unwrap();
    let ca = crate::common::Ca::new(dir.path());
    let first = crate::lifecycle::tls_secret(&ca, NAME, 0x1001);
    let client_cert = crate::lifecycle::client_files(&first, dir.path());
    let mut secrets = secrets(NAME);
    secrets.insert(format!("{NAME}-tls"), first);
    client::use_tls(ca.cert());
    let rig = Rig::up_spec_with_secrets(
        &format!(
            "{}  tls: {{secretName: {NAME}-tls}}\n",
            cluster_spec(NAME, engine, SHARDS)
        ),
        secrets,
    );
    let nodes: Vec<String> = (0..SHARDS)
        .flat_map(|i| (0..2).map(move |o| format!("{NAME}-shard-{i}-{o}")))
        .collect();
    let serials = |client: &(std::path::PathBuf, std::path::PathBuf)| -> Vec<(String, String)> {
        nodes
            .iter()
            .flat_map(|pod| [(pod.clone(), 6379), (pod.clone(), 16379)])
            .map(|(pod, port)| {
                let addr = format!("{}:{port}", rig.sim.pod(&pod).ip);
                let serial = crate::common::served_serial(&addr, (&client.0, &client.1))
                    .unwrap_or_else(|e| e);
                (format!("{pod}:{port}"), serial)
            })
            .collect()
    };
    for (port, serial) in serials(&client_cert) {
        assert_eq!(serial, "1001", "{port} serves the first certificate");
    }
    let writers = rig.writers("renewal");
    std::thread::sleep(Duration::from_secs(1));
    let started = Instant::now();
    let renewed = crate::lifecycle::renew_tls_secret(&rig.sim, &ca, NAME, 0x2002, dir.path());
    eventually(
        Duration::from_secs(180),
        "every client and cluster bus port serves the renewed certificate",
        || {
            let old: Vec<(String, String)> = serials(&renewed)
                .into_iter()
                .filter(|(_, serial)| serial != "2002")
                .collect();
            old.is_empty().then_some(()).ok_or(format!("{old:?}"))
        },
    );
    println!(
        "every client and cluster bus port serves the renewed certificate after {:.1} s",
        started.elapsed().as_secs_f64()
    );
    std::thread::sleep(Duration::from_secs(2));
    let reports = stop_all(writers);
    crate::lifecycle::assert_no_restarts(&rig.sim);
    for i in 0..SHARDS {
        wait_linked(&rig.sim, &format!("{NAME}-shard-{i}-1"), LIMIT);
    }
    eventually(LIMIT, "cluster healthy after the renewal", || {
        cluster_healthy(&rig.sim, NAME, SHARDS)
    });
    // A failover over connections made with the renewed certificates.
    let replica = format!("{NAME}-shard-0-1");
    let ok: String = query(&rig.sim, &replica, &["CLUSTER", "FAILOVER"]).expect("CLUSTER FAILOVER");
    assert_eq!(ok, "OK");
    eventually(LIMIT, "the replica took over", || {
        let role: redis::Value = query(&rig.sim, &replica, &["ROLE"]).map_err(|e| e.to_string())?;
        format!("{role:?}")
            .contains("master")
            .then_some(())
            .ok_or(format!("{role:?}"))
    });
    rig.assert_kept(&format!("certificate renewal ({engine})"), &reports);
}

sim_test! {
    fn certificate_renewal_redis() { certificate_renewal("redis") }
}
