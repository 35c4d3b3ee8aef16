//! Backups and restores on the pod simulator, against a real S3-compatible
//! server (moto's server mode, listening only on the simulator's bridge in
//! the test's own network namespace) through the real rclone the rendered
//! job runs: acknowledged keys backed up, the deployment lost, a new one
//! restored from the bucket with every key; retention; a corrupt object
//! refused with nothing written; a re-created pod keeping its newer data.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::common::tool;
use crate::lifecycle::{
    LIMIT, PASSWORD, cluster_healthy, cluster_spec, cluster_target, deployment, eventually, render,
    secrets, sentinel_target, spec, wait_linked,
};
use crate::podsim::Sim;
use crate::podsim::client::{self, Writer, tag_in};
use crate::podsim::isolate::sim_test;

/// The object store: moto on the simulator's bridge address.
const ENDPOINT: &str = "http://10.88.0.1:5000";
const BUCKET: &str = "redis-backups";

/// moto's S3 server, ended (by its PID) when dropped.
struct Moto(Child);

impl Moto {
    fn start() -> Moto {
        let child = Command::new(tool("moto_server"))
            .args(["-H", "10.88.0.1", "-p", "5000"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("moto_server starts");
        let moto = Moto(child);
        eventually(LIMIT, "moto answers", || {
            rclone(&["mkdir", &format!("store:{BUCKET}")]).map(|_| ())
        });
        moto
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// rclone, configured as the rendered pods configure it.
fn rclone(args: &[&str]) -> Result<String, String> {
    let out = Command::new(tool("rclone"))
        .args(args)
        // The machine's CA bundle for HTTPS: the store here speaks HTTP.
        .env_remove("AWS_CA_BUNDLE")
        .env("RCLONE_CONFIG", "/dev/null")
        .env("RCLONE_CONFIG_STORE_TYPE", "s3")
        .env("RCLONE_CONFIG_STORE_PROVIDER", "Other")
        .env("RCLONE_CONFIG_STORE_ENV_AUTH", "true")
        .env("RCLONE_CONFIG_STORE_ENDPOINT", ENDPOINT)
        .env("RCLONE_CONFIG_STORE_FORCE_PATH_STYLE", "true")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .output()
        .map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// The backups in the bucket under `prefix`: (name, complete).
fn backups(prefix: &str) -> Vec<(String, bool)> {
    let names = rclone(&["lsf", "--dirs-only", &format!("store:{BUCKET}/{prefix}/")]).unwrap();
    names
        .lines()
        .map(|n| n.trim_end_matches('/').to_owned())
        .map(|n| {
            let files = rclone(&["lsf", &format!("store:{BUCKET}/{prefix}/{n}/")]).unwrap();
            let complete = files.lines().any(|f| f == "manifest.json");
            (n, complete)
        })
        .collect()
}

/// The deployments' auth Secrets and the bucket's credentials.
fn all_secrets(names: &[&str]) -> crate::podsim::Secrets {
    let mut all = crate::podsim::Secrets::new();
    for name in names {
        all.extend(secrets(name));
    }
    all.insert(
        "backup-s3".into(),
        [
            ("AWS_ACCESS_KEY_ID".to_owned(), b"test".to_vec()),
            ("AWS_SECRET_ACCESS_KEY".to_owned(), b"test".to_vec()),
        ]
        .into(),
    );
    all
}

/// Waits until `pod`'s restore init container says `why` it refuses, and
/// checks that nothing was written to its volume; the restore's log.
fn refused(sim: &Sim, pod: &str, why: &str) -> String {
    eventually(LIMIT, &format!("{pod}'s restore refuses: {why}"), || {
        let logs = sim
            .try_pod(pod)
            .map(|p| p.logs("restore"))
            .unwrap_or_default();
        logs.contains(why).then_some(()).ok_or(logs)
    });
    let written: Vec<_> = std::fs::read_dir(sim.volume("data", pod))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(written.is_empty(), "{pod}'s volume: {written:?}");
    sim.pod(pod).logs("restore")
}

fn s3(prefix: &str) -> String {
    format!(
        "{{bucket: {BUCKET}, prefix: {prefix}, endpoint: \"{ENDPOINT}\", credentialsSecret: backup-s3}}"
    )
}

fn sentinel_spec(name: &str, engine: &str, extra: &str) -> String {
    spec(
        name,
        engine,
        &format!(
            "  mode: sentinel\n  replicas: 3\n  storage: {{size: 1Gi}}\n  persistence: rdb\n  \
             sentinel: {{replicas: 3, quorum: 2, downAfterMilliseconds: 2000, failoverTimeout: 10000}}\n{extra}"
        ),
    )
}

/// Sentinel mode, end to end: keys acknowledged by WAIT 1, backed up
/// `keep + 2` times (exactly `keep` complete backups remain), every pod of
/// the deployment gone, a new deployment restored from `latest` with every
/// key; its pod 0 re-created later keeps its newer data; a corrupted object
/// stops a third deployment's pod 0 with a message, its volume untouched.
fn backup_and_restore_sentinel(engine: &str) {
    let sim = Sim::new(all_secrets(&["sessions", "restored", "broken"]));
    let _moto = Moto::start();
    let keep = 2;
    let ws = render(&[
        (
            "sim/sessions.yaml",
            &sentinel_spec(
                "sessions",
                engine,
                &format!(
                    "  backup: {{schedule: \"0 * * * *\", keep: {keep}, s3: {}}}\n",
                    s3("sim/sessions")
                ),
            ),
        ),
        (
            "sim/restored.yaml",
            &sentinel_spec(
                "restored",
                engine,
                &format!("  restore: {{from: latest, s3: {}}}\n", s3("sim/sessions")),
            ),
        ),
    ]);
    sim.sync(&deployment(ws.path(), "sessions"), LIMIT);
    for p in ["sessions-1", "sessions-2"] {
        wait_linked(&sim, p, LIMIT);
    }
    let w = Writer::start(sentinel_target("sessions"), Some(PASSWORD.into()), "kept");
    std::thread::sleep(Duration::from_secs(3));
    let before = w.stop();
    assert!(!before.acked.is_empty());
    // A backup while writes go on: the longest stretch without an
    // acknowledged write while it runs.
    let w = Writer::start(sentinel_target("sessions"), Some(PASSWORD.into()), "during");
    std::thread::sleep(Duration::from_secs(1));
    let mut runs = Vec::new();
    for _ in 0..keep + 2 {
        let run = sim.run_job("sessions-backup", LIMIT);
        assert!(run.succeeded, "{}", run.logs);
        runs.push(run);
        // Backup names have a resolution of a second.
        std::thread::sleep(Duration::from_millis(1100));
    }
    let during = w.stop();
    println!(
        "backup under writes ({engine}): {}",
        during.summary("writes while 4 backups ran")
    );
    assert!(
        during.longest_gap < Duration::from_secs(1),
        "writes stopped for {:?} while the backups ran",
        during.longest_gap
    );
    assert!(
        runs[0].logs.contains("from sessions-1") || runs[0].logs.contains("from sessions-2"),
        "the snapshot comes from a replica:\n{}",
        runs[0].logs
    );
    let kept = backups("sim/sessions");
    assert_eq!(
        kept.iter().filter(|(_, complete)| *complete).count(),
        keep as usize,
        "retention keeps {keep}: {kept:?}"
    );
    assert_eq!(kept.len(), keep as usize, "{kept:?}");

    // The namespace is lost: every pod and volume of the deployment.
    sim.stop_everything(false);
    sim.apply(&deployment(ws.path(), "restored"));
    sim.wait_ready("restored-0", LIMIT);
    for p in ["restored-1", "restored-2"] {
        wait_linked(&sim, p, LIMIT);
    }
    assert!(
        sim.pod("restored-0")
            .logs("restore")
            .contains("restore: shard 0 restored from backup"),
        "{}",
        sim.pod("restored-0").logs("restore")
    );
    let target = sentinel_target("restored");
    let lost = client::lost(&target, Some(PASSWORD), &before);
    assert!(
        lost.is_empty(),
        "{} of {} keys acknowledged before the backup are not back, e.g. {:?}",
        lost.len(),
        before.acked.len(),
        &lost[..lost.len().min(5)]
    );
    println!(
        "restored ({engine}): all {} keys acknowledged before the backup are back",
        before.acked.len()
    );

    // Newer data, then pod 0 re-created on its volume: no second restore.
    let w = Writer::start(target.clone(), Some(PASSWORD.into()), "newer");
    std::thread::sleep(Duration::from_secs(2));
    let newer = w.stop();
    sim.delete_pod("restored-0");
    sim.wait_ready("restored-0", LIMIT);
    let logs = sim.pod("restored-0").logs("restore");
    assert!(logs.contains("this volume keeps its data"), "{logs}");
    eventually(LIMIT, "newer keys still there", || {
        let lost = client::lost(&target, Some(PASSWORD), &newer);
        lost.is_empty().then_some(()).ok_or(format!("{lost:?}"))
    });

    // One byte of the newest backup's object changed: a restore of it stops.
    let (newest, _) = kept.iter().max().unwrap().clone();
    let object = format!("store:{BUCKET}/sim/sessions/{newest}/shard-0.rdb");
    let local = tempfile::tempdir().unwrap();
    let file = local.path().join("shard-0.rdb");
    rclone(&["copyto", &object, &file.to_string_lossy()]).unwrap();
    let mut bytes = std::fs::read(&file).unwrap();
    let at = bytes.len() / 2;
    bytes[at] ^= 0x01;
    std::fs::write(&file, bytes).unwrap();
    rclone(&["copyto", &file.to_string_lossy(), &object]).unwrap();
    std::fs::write(
        ws.path().join("specs/sim/broken.yaml"),
        sentinel_spec(
            "broken",
            engine,
            &format!(
                "  restore: {{from: {newest}, s3: {}}}\n",
                s3("sim/sessions")
            ),
        ),
    )
    .unwrap();
    crate::common::cli(ws.path())
        .arg("build")
        .assert()
        .success();
    sim.apply(&deployment(ws.path(), "broken"));
    let logs = refused(&sim, "broken-0", "the object is corrupt");
    assert!(
        logs.contains(&format!("sim/sessions/{newest}/shard-0.rdb")),
        "{logs}"
    );
    assert!(logs.contains("nothing was written to the volume"), "{logs}");
}

sim_test! {
    fn backup_and_restore_sentinel_redis() { backup_and_restore_sentinel("redis") }
}

/// Cluster mode (3 shards x 1 replica), end to end: keys acknowledged in
/// every shard's slots, a backup (one snapshot per shard, from replicas,
/// the live slot map in the manifest), every pod and volume gone, a new
/// deployment restored from `latest` shard by shard onto its committed
/// map: every slot covered and every key back.
fn backup_and_restore_cluster(engine: &str) {
    let sim = Sim::new(all_secrets(&["events", "eventsdr", "eventsbad"]));
    let _moto = Moto::start();
    let ws = render(&[
        (
            "sim/events.yaml",
            &format!(
                "{}  backup: {{schedule: \"@hourly\", s3: {}}}\n",
                cluster_spec("events", engine, 3),
                s3("sim/events")
            ),
        ),
        (
            "sim/eventsdr.yaml",
            &format!(
                "{}  restore: {{from: latest, s3: {}}}\n",
                cluster_spec("eventsdr", engine, 3),
                s3("sim/events")
            ),
        ),
    ]);
    let jobs = sim.sync(&deployment(ws.path(), "events"), LIMIT);
    assert!(jobs[0].succeeded, "{}", jobs[0].logs);
    for i in 0..3 {
        wait_linked(&sim, &format!("events-shard-{i}-1"), LIMIT);
    }
    eventually(LIMIT, "cluster healthy", || {
        cluster_healthy(&sim, "events", 3)
    });
    let writers: Vec<Writer> = [(0, 5460), (5461, 10922), (10923, 16383)]
        .iter()
        .enumerate()
        .map(|(i, (a, b))| {
            Writer::start(
                cluster_target("events", 3),
                Some(PASSWORD.into()),
                &format!("{{{}}}kept-shard{i}", tag_in(*a, *b)),
            )
        })
        .collect();
    std::thread::sleep(Duration::from_secs(3));
    let reports: Vec<_> = writers.into_iter().map(Writer::stop).collect();
    let run = sim.run_job("events-backup", LIMIT);
    assert!(run.succeeded, "{}", run.logs);
    let kept = backups("sim/events");
    assert_eq!(kept.len(), 1, "{kept:?}");
    let manifest = rclone(&[
        "cat",
        &format!("store:{BUCKET}/sim/events/{}/manifest.json", kept[0].0),
    ])
    .unwrap();
    // The committed topology's hash, as the reconcile Job's name carries it.
    let job = crate::lifecycle::jobs_name(&deployment(ws.path(), "events"));
    let hash = job.trim_start_matches("events-reconcile-");
    assert!(
        manifest.contains(&format!("\"topologyHash\": \"{hash}\"")),
        "{manifest}"
    );
    for (shard, slots) in ["0-5460", "5461-10922", "10923-16383"].iter().enumerate() {
        assert!(
            manifest.contains(&format!(
                "\"shard\": {shard}, \"object\": \"shard-{shard}.rdb\""
            )) && manifest.contains(&format!("\"slots\": \"{slots}\"")),
            "{manifest}"
        );
    }

    sim.stop_everything(false);
    let jobs = sim.sync(&deployment(ws.path(), "eventsdr"), LIMIT);
    assert!(jobs[0].succeeded, "{}", jobs[0].logs);
    eventually(LIMIT, "the restored cluster healthy", || {
        cluster_healthy(&sim, "eventsdr", 3)
    });
    for i in 0..3 {
        let logs = sim.pod(&format!("eventsdr-shard-{i}-0")).logs("restore");
        assert!(
            logs.contains(&format!(
                "restore: shard {i} restored from backup {}",
                kept[0].0
            )),
            "{logs}"
        );
    }
    let target = cluster_target("eventsdr", 3);
    for (i, r) in reports.iter().enumerate() {
        assert!(!r.acked.is_empty());
        let lost = client::lost(&target, Some(PASSWORD), r);
        assert!(
            lost.is_empty(),
            "shard {i}: {} of {} keys acknowledged before the backup are not back, e.g. {:?}",
            lost.len(),
            r.acked.len(),
            &lost[..lost.len().min(5)]
        );
        println!(
            "restored cluster ({engine}), shard {i}: all {} keys acknowledged before the backup are back",
            r.acked.len()
        );
    }

    // A deployment of another shard count refuses the backup: no pod 0
    // loads a snapshot whose slots its shard does not serve.
    std::fs::write(
        ws.path().join("specs/sim/eventsbad.yaml"),
        format!(
            "{}  restore: {{from: latest, s3: {}}}\n",
            cluster_spec("eventsbad", engine, 4),
            s3("sim/events")
        ),
    )
    .unwrap();
    crate::common::cli(ws.path())
        .arg("build")
        .assert()
        .success();
    sim.apply(&deployment(ws.path(), "eventsbad"));
    refused(
        &sim,
        "eventsbad-shard-0-0",
        "has 3 shards, this deployment serves 4",
    );
}

sim_test! {
    fn backup_and_restore_cluster_valkey() { backup_and_restore_cluster("valkey") }
}

/// Standalone mode: keys backed up, the pod and its volume lost, a new
/// deployment restored with every key; a backup whose object is missing
/// stops the restore with a message naming it, the volume untouched.
fn backup_and_restore_standalone(engine: &str) {
    let sim = Sim::new(all_secrets(&["queue", "queuedr", "queuebad"]));
    let _moto = Moto::start();
    let standalone = |name: &str, extra: &str| {
        spec(
            name,
            engine,
            &format!("  storage: {{size: 1Gi}}\n  persistence: rdb\n{extra}"),
        )
    };
    let ws = render(&[
        (
            "sim/queue.yaml",
            &standalone(
                "queue",
                &format!(
                    "  backup: {{schedule: \"@daily\", s3: {}}}\n",
                    s3("sim/queue")
                ),
            ),
        ),
        (
            "sim/queuedr.yaml",
            &standalone(
                "queuedr",
                &format!("  restore: {{from: latest, s3: {}}}\n", s3("sim/queue")),
            ),
        ),
    ]);
    sim.sync(&deployment(ws.path(), "queue"), LIMIT);
    sim.wait_ready("queue-0", LIMIT);
    // No replica to acknowledge a WAIT: 5,000 keys written (each SET
    // answered OK) before the backup, read back after the restore.
    let keys: Vec<(String, String)> = (0..5000)
        .map(|i| (format!("kept:{i}"), format!("value {i} of {engine}")))
        .collect();
    let ip = sim.pod("queue-0").ip.to_string();
    let mut con = client::connect(&ip, 6379, Some(PASSWORD)).unwrap();
    let mut pipe = redis::pipe();
    for (k, v) in &keys {
        pipe.set(k, v);
    }
    let _: () = pipe.query(&mut con).unwrap();
    let run = sim.run_job("queue-backup", LIMIT);
    assert!(run.succeeded, "{}", run.logs);
    assert!(run.logs.contains("from the primary"), "{}", run.logs);
    let kept = backups("sim/queue");
    assert_eq!(kept.len(), 1, "{kept:?}");

    sim.stop_everything(false);
    sim.apply(&deployment(ws.path(), "queuedr"));
    sim.wait_ready("queuedr-0", LIMIT);
    let ip = sim.pod("queuedr-0").ip.to_string();
    let mut con = client::connect(&ip, 6379, Some(PASSWORD)).unwrap();
    let lost: Vec<&String> = keys
        .iter()
        .filter(|(k, v)| {
            redis::cmd("GET")
                .arg(k)
                .query::<Option<String>>(&mut con)
                .unwrap()
                .as_ref()
                != Some(v)
        })
        .map(|(k, _)| k)
        .collect();
    assert!(
        lost.is_empty(),
        "{} of {} keys written before the backup are not back, e.g. {:?}",
        lost.len(),
        keys.len(),
        &lost[..lost.len().min(5)]
    );
    println!(
        "restored standalone ({engine}): all {} keys written before the backup are back",
        keys.len()
    );

    // The backup's object deleted (its manifest kept): the restore stops.
    let name = &kept[0].0;
    rclone(&[
        "deletefile",
        &format!("store:{BUCKET}/sim/queue/{name}/shard-0.rdb"),
    ])
    .unwrap();
    std::fs::write(
        ws.path().join("specs/sim/queuebad.yaml"),
        standalone(
            "queuebad",
            &format!("  restore: {{from: {name}, s3: {}}}\n", s3("sim/queue")),
        ),
    )
    .unwrap();
    crate::common::cli(ws.path())
        .arg("build")
        .assert()
        .success();
    sim.apply(&deployment(ws.path(), "queuebad"));
    refused(
        &sim,
        "queuebad-0",
        &format!(
            "store:{BUCKET}/sim/queue/{name}/shard-0.rdb is missing: backup {name} is not whole"
        ),
    );
}

sim_test! {
    fn backup_and_restore_standalone_valkey() { backup_and_restore_standalone("valkey") }
}
