//! The simulator's own tests, on a hand-written StatefulSet of `sh` pods:
//! probes gate readiness, a rolling update waits for it, the grace period
//! is enforced after `preStop`, containers restart, volumes behave as
//! Kubernetes volumes do, and the pod's user and read-only root hold.

use std::path::Path;
use std::time::{Duration, Instant};

use super::Sim;
use super::isolate::sim_test;

const LIMIT: Duration = Duration::from_secs(60);

/// A StatefulSet `t` of `replicas` pods running `script`; Ready while
/// `/scratch/ready` exists; preStop appends to `/data/prestop`.
fn manifests(dir: &Path, replicas: u32, script: &str, grace: u32) {
    std::fs::create_dir_all(dir).unwrap();
    let quoted = serde_json::to_string(script).unwrap();
    std::fs::write(
        dir.join("statefulset-t.yaml"),
        format!(
            r#"apiVersion: apps/v1
kind: StatefulSet
metadata: {{name: t, namespace: sim}}
spec:
  replicas: {replicas}
  podManagementPolicy: Parallel
  serviceName: t-headless
  selector: {{matchLabels: {{app: t}}}}
  template:
    metadata: {{labels: {{app: t}}}}
    spec:
      terminationGracePeriodSeconds: {grace}
      securityContext: {{runAsUser: 10001, runAsGroup: 10001, fsGroup: 10001}}
      containers:
      - name: main
        image: redis:7.0.15
        command: [sh, -c, {quoted}]
        env:
        - {{name: POD_NAME, valueFrom: {{fieldRef: {{fieldPath: metadata.name}}}}}}
        - {{name: POD_IP, valueFrom: {{fieldRef: {{fieldPath: status.podIP}}}}}}
        readinessProbe:
          exec: {{command: [test, -f, /scratch/ready]}}
          periodSeconds: 1
          failureThreshold: 1
        lifecycle:
          preStop:
            exec: {{command: [sh, -c, "echo \"$POD_NAME\" >> /data/prestop"]}}
        securityContext: {{readOnlyRootFilesystem: true}}
        volumeMounts:
        - {{name: data, mountPath: /data}}
        - {{name: scratch, mountPath: /scratch}}
      volumes:
      - {{name: scratch, emptyDir: {{}}}}
  volumeClaimTemplates:
  - metadata: {{name: data}}
    spec: {{accessModes: [ReadWriteOnce], resources: {{requests: {{storage: 1Gi}}}}}}
"#
        ),
    )
    .unwrap();
}

fn exec(sim: &Sim, pod: &str, script: &str) -> (Option<i32>, String) {
    sim.pod(pod)
        .exec("main", &["sh", "-c", script], Duration::from_secs(10))
}

sim_test! {
    fn a_failing_readiness_probe_keeps_a_pod_unready() {
        let tmp = tempfile::tempdir().unwrap();
        manifests(tmp.path(), 1, "exec sleep 1000", 5);
        let sim = Sim::new(Default::default());
        sim.apply(tmp.path());
        let deadline = Instant::now() + Duration::from_secs(4);
        while Instant::now() < deadline {
            if let Some(p) = sim.try_pod("t-0") {
                assert!(!p.ready(), "Ready although its probe fails");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        exec(&sim, "t-0", "touch /scratch/ready");
        sim.wait_ready("t-0", Duration::from_secs(5));
        exec(&sim, "t-0", "rm /scratch/ready");
        std::thread::sleep(Duration::from_secs(3));
        assert!(!sim.pod("t-0").ready(), "still Ready after its probe failed");
    }
}

sim_test! {
    fn pods_run_as_their_user_on_a_read_only_root_with_their_names() {
        let tmp = tempfile::tempdir().unwrap();
        manifests(tmp.path(), 2, "touch /scratch/ready; exec sleep 1000", 5);
        let sim = Sim::new(Default::default());
        sim.apply(tmp.path());
        sim.wait_rolled_out("t", LIMIT);
        let (_, who) = exec(&sim, "t-0", "id -u; id -G; hostname; echo $POD_NAME $POD_IP");
        let ip = sim.pod("t-0").ip;
        assert_eq!(who, format!("10001\n10001\nt-0\nt-0 {ip}\n"));
        let (code, out) = exec(&sim, "t-0", "touch /outside");
        assert_ne!(code, Some(0), "a write outside the volumes succeeded: {out}");
        assert!(out.contains("Read-only file system"), "{out}");
        let (code, _) = exec(&sim, "t-0", "touch /data/x /scratch/x");
        assert_eq!(code, Some(0), "volumes are writable");
        // DNS: a peer by its headless-service names, not the machine's hosts.
        let peer = sim.pod("t-1").ip;
        let (_, hosts) = exec(
            &sim,
            "t-0",
            "getent hosts t-1.t-headless.sim.svc; getent hosts t-1.t-headless.sim.svc.cluster.local",
        );
        assert!(hosts.starts_with(&format!("{peer} ")), "{hosts}");
        assert_eq!(hosts.lines().count(), 2, "{hosts}");
        // Each pod has its own port space: both listen on the same port.
        for pod in ["t-0", "t-1"] {
            let (code, out) = exec(
                &sim,
                pod,
                "redis-server --port 7777 --daemonize yes --dir /data >/dev/null && sleep 0.3 && redis-cli -p 7777 ping",
            );
            assert_eq!((code, out.trim()), (Some(0), "PONG"), "{pod}");
        }
    }
}

sim_test! {
    fn a_recreated_pod_gets_a_new_ip_keeps_its_volume_and_loses_its_empty_dir() {
        let tmp = tempfile::tempdir().unwrap();
        manifests(tmp.path(), 1, "touch /scratch/ready; exec sleep 1000", 5);
        let sim = Sim::new(Default::default());
        sim.apply(tmp.path());
        let before = sim.wait_ready("t-0", LIMIT).ip;
        exec(&sim, "t-0", "echo kept > /data/f; echo gone > /scratch/f");
        sim.delete_pod("t-0");
        let after = sim.wait_ready("t-0", LIMIT).ip;
        assert_ne!(before, after, "same IP after re-creation");
        let (_, out) = exec(&sim, "t-0", "cat /data/f; cat /scratch/f 2>&1; cat /data/prestop");
        assert!(out.starts_with("kept\n"), "{out}");
        assert!(out.contains("No such file"), "emptyDir survived: {out}");
        assert!(out.ends_with("t-0\n"), "preStop did not run: {out}");
    }
}

sim_test! {
    fn a_forced_deletion_skips_pre_stop_and_a_lost_volume_comes_back_empty() {
        let tmp = tempfile::tempdir().unwrap();
        manifests(tmp.path(), 1, "touch /scratch/ready; exec sleep 1000", 30);
        let sim = Sim::new(Default::default());
        sim.apply(tmp.path());
        sim.wait_ready("t-0", LIMIT);
        exec(&sim, "t-0", "echo kept > /data/f");
        let t0 = Instant::now();
        sim.force_delete_pod("t-0");
        assert!(t0.elapsed() < Duration::from_secs(3), "{:?}", t0.elapsed());
        sim.wait_ready("t-0", LIMIT);
        let (_, out) = exec(&sim, "t-0", "cat /data/f; cat /data/prestop 2>&1");
        assert!(out.starts_with("kept\n") && out.contains("No such file"), "{out}");
        sim.lose_pod_and_volume("t-0");
        sim.wait_ready("t-0", LIMIT);
        let (_, out) = exec(&sim, "t-0", "cat /data/f 2>&1");
        assert!(out.contains("No such file"), "the volume survived: {out}");
    }
}

sim_test! {
    fn a_container_that_exits_is_restarted_with_back_off() {
        let tmp = tempfile::tempdir().unwrap();
        manifests(tmp.path(), 1, "touch /scratch/ready; echo run >> /data/runs; sleep 3; exit 3", 5);
        let sim = Sim::new(Default::default());
        sim.apply(tmp.path());
        sim.wait_ready("t-0", LIMIT);
        // It exits after 3 s and is restarted at once; after its second
        // exit, 10 s later (back-off).
        let wait_restarts = |n: u32, limit: Duration| {
            let start = Instant::now();
            while sim.pod("t-0").restarts("main") < n {
                assert!(start.elapsed() < limit, "not restarted");
                std::thread::sleep(Duration::from_millis(50));
            }
            start.elapsed()
        };
        let first = wait_restarts(1, Duration::from_secs(10));
        assert!(first < Duration::from_secs(5), "first restart after {first:?}");
        let second = wait_restarts(2, Duration::from_secs(40));
        // 3 s of running plus the 10 s back-off; the upper bound leaves room
        // for a loaded 2-core machine (CI runs the other tests alongside).
        assert!(
            second >= Duration::from_secs(12) && second < Duration::from_secs(25),
            "second restart {second:?} after the first"
        );
        // restartCount counts a restart when it is made: the third run's
        // first line may come a moment later.
        let deadline = Instant::now() + Duration::from_secs(10);
        let runs = loop {
            let (_, runs) = exec(&sim, "t-0", "cat /data/runs");
            if runs.lines().count() >= 3 || Instant::now() > deadline {
                break runs;
            }
            std::thread::sleep(Duration::from_millis(100));
        };
        assert_eq!(runs, "run\nrun\nrun\n");
    }
}

sim_test! {
    fn the_grace_period_is_enforced_after_pre_stop() {
        let tmp = tempfile::tempdir().unwrap();
        // Ignores SIGTERM: only SIGKILL at the end of the grace period stops it.
        manifests(tmp.path(), 1, "trap '' TERM; touch /scratch/ready; while :; do sleep 0.1; done", 3);
        let sim = Sim::new(Default::default());
        sim.apply(tmp.path());
        sim.wait_ready("t-0", LIMIT);
        sim.pause("t");
        let t0 = Instant::now();
        sim.delete_pod("t-0");
        let took = t0.elapsed();
        assert!(took >= Duration::from_secs(3) && took < Duration::from_secs(5), "{took:?}");
        assert!(sim.try_pod("t-0").is_none());
    }
}

sim_test! {
    fn a_rolling_update_goes_down_from_the_highest_ordinal_and_waits_for_readiness() {
        let tmp = tempfile::tempdir().unwrap();
        manifests(tmp.path(), 3, "touch /scratch/ready; exec sleep 1000", 5);
        let sim = Sim::new(Default::default());
        sim.apply(tmp.path());
        sim.wait_rolled_out("t", LIMIT);
        let old = sim.pod("t-0").revision.clone();
        // The new revision is Ready only once /data/go exists.
        manifests(tmp.path(), 3, "rm -f /scratch/ready; while [ ! -f /data/go ]; do sleep 0.2; done; touch /scratch/ready; exec sleep 1000", 5);
        sim.apply(tmp.path());
        let deadline = Instant::now() + LIMIT;
        while sim.try_pod("t-2").is_none_or(|p| p.revision == old) {
            assert!(Instant::now() < deadline, "t-2 not updated");
            std::thread::sleep(Duration::from_millis(100));
        }
        std::thread::sleep(Duration::from_secs(3));
        assert_eq!(sim.pod("t-1").revision, old, "t-1 rolled before t-2 was Ready");
        assert_eq!(sim.pod("t-0").revision, old);
        for pod in ["t-2", "t-1", "t-0"] {
            while sim.try_pod(pod).is_none_or(|p| p.revision == old) {
                assert!(Instant::now() < deadline, "{pod} not updated");
                std::thread::sleep(Duration::from_millis(100));
            }
            exec(&sim, pod, "touch /data/go");
            sim.wait_ready(pod, LIMIT);
        }
        sim.wait_rolled_out("t", LIMIT);
    }
}

/// Not a check: runs the folder `PODSIM_DIR` for `PODSIM_SECONDS`
/// (default 300), every Secret key set to `podsim` (see the README).
#[test]
#[ignore = "runs a deployment by hand: PODSIM_DIR=output/<team>/<name> (scripts/test skips it)"]
fn run_by_hand() {
    super::isolate::isolated(concat!(module_path!(), "::run_by_hand"), || {
        let dir = std::path::PathBuf::from(std::env::var("PODSIM_DIR").expect("PODSIM_DIR"));
        let seconds: u64 = std::env::var("PODSIM_SECONDS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(300);
        let m = super::manifest::read(&dir);
        let mut secrets = super::Secrets::new();
        let specs = m
            .stateful_sets
            .values()
            .filter_map(|s| s.spec.as_ref()?.template.spec.clone())
            .chain(
                m.jobs
                    .values()
                    .filter_map(|j| j.spec.as_ref()?.template.spec.clone()),
            );
        for spec in specs {
            for v in spec.volumes.iter().flatten() {
                let Some(secret) = &v.secret else { continue };
                let name = secret.secret_name.clone().unwrap_or_default();
                let keys: Vec<String> = match &secret.items {
                    Some(items) => items.iter().map(|i| i.key.clone()).collect(),
                    None => panic!(
                        "Secret {name} (all keys, e.g. TLS) is not generated by hand: use a spec without tls"
                    ),
                };
                let entry = secrets.entry(name).or_default();
                for k in keys {
                    entry.insert(k, b"podsim".to_vec());
                }
            }
        }
        let sim = Sim::new(secrets);
        let jobs = sim.sync(&dir, Duration::from_secs(300));
        for j in &jobs {
            println!(
                "job: succeeded {} after {} attempt(s)\n{}",
                j.succeeded, j.attempts, j.logs
            );
        }
        println!("{}", sim.describe());
        println!("logs: {}", sim.logs_dir().display());
        std::thread::sleep(Duration::from_secs(seconds));
    });
}
