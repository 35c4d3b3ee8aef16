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
        let ws = render(&[("sim/events.yaml", &cluster_spec(NAME, engine, SHARDS))]);
        let sim = Sim::new(secrets(NAME));
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
    let writers = rig.writers("cold");
    std::thread::sleep(Duration::from_secs(2));
    let reports = stop_all(writers);
    rig.sim.stop_everything(true);
    rig.sim.resume_all();
    for i in 0..SHARDS {
        rig.sim
            .wait_rolled_out(&format!("{NAME}-shard-{i}"), Duration::from_secs(180));
    }
    eventually(LIMIT, "cluster healthy after a cold start", || {
        cluster_healthy(&rig.sim, NAME, SHARDS)
    });
    rig.assert_kept(&format!("cold start ({engine})"), &reports);
    let again = rig
        .sim
        .run_job(&jobs_name(&deployment(rig.ws.path(), NAME)), LIMIT);
    assert!(again.succeeded, "{}", again.logs);
    // The reconcile Job verifies ownership against the committed map.
    assert!(again.logs.contains("nothing to change"), "{}", again.logs);
}

sim_test! {
    fn cold_start_keeps_slots_and_keys_redis() { cold_start_keeps_slots_and_keys("redis") }
}
sim_test! {
    fn cold_start_keeps_slots_and_keys_valkey() { cold_start_keeps_slots_and_keys("valkey") }
}
