//! Fleet scale: the commands' work grows linearly with the number of
//! deployments. Timed as CPU seconds of the CLI process (user + system, from
//! the kernel's accounting of waited-for children), which another test on
//! the other core does not inflate the way it inflates wall time.

use crate::common::{cli, git};
use std::path::Path;

/// `n` specs in the spread of `scripts/bench`: a third of each mode,
/// clusters of 3 to 30 shards, metrics and an Argo CD Application on each.
fn generate(dir: &Path, n: usize) {
    let specs = dir.join("specs");
    std::fs::create_dir_all(&specs).unwrap();
    std::fs::write(
        specs.join("_defaults.yaml"),
        "spec:\n  version: \"7.2.5\"\n  \
         metrics: {enabled: true, serviceMonitor: true, prometheusRule: true}\n  \
         gitops:\n    argocd: {project: bench, repoURL: https://git.example.com/redis.git, targetRevision: main}\n",
    )
    .unwrap();
    for i in 0..n {
        let team = format!("team-{}", i % 50);
        let mode = match i % 3 {
            0 => "mode: standalone".to_owned(),
            1 => "mode: sentinel\n  replicas: 3\n  sentinel: {replicas: 3, quorum: 2}".to_owned(),
            _ => format!(
                "mode: cluster\n  shards: {}\n  replicasPerShard: 1",
                3 + i % 28
            ),
        };
        std::fs::create_dir_all(specs.join(&team)).unwrap();
        std::fs::write(
            specs.join(&team).join(format!("redis-{i}.yaml")),
            format!(
                "apiVersion: redis-gitops/v1\nkind: Redis\nmetadata:\n  name: redis-{i}\n  \
                 namespace: {team}\nspec:\n  {mode}\n  resources:\n    \
                 requests: {{cpu: 500m, memory: 2Gi}}\n    limits: {{cpu: \"1\", memory: 2Gi}}\n  \
                 maxmemoryPolicy: allkeys-lru\n  storage: {{size: {}Gi}}\n  persistence: rdb\n",
                5 + i % 20
            ),
        )
        .unwrap();
    }
}

/// CPU seconds (user + system) of every child this process has waited for.
fn children_cpu() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    // Fields after the command name (which may hold spaces) start at 3.
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = rest.split(' ').collect();
    // cutime and cstime are fields 16 and 17, in clock ticks (USER_HZ, 100).
    let ticks: u64 = fields[13].parse::<u64>().unwrap() + fields[14].parse::<u64>().unwrap();
    ticks as f64 / 100.0
}

/// The CPU seconds of `redis-gitops <command> -q` in `dir` (the lower of
/// two runs); the command must succeed, `build` with its output restored
/// to the committed one first.
fn cpu_of(dir: &Path, command: &str) -> f64 {
    (0..2)
        .map(|_| {
            git(dir, &["checkout", "-q", "--", "output"]);
            let before = children_cpu();
            let out = cli(dir)
                .args([command, "-q"])
                .env("REDIS_GITOPS_CACHE", "off")
                .output()
                .unwrap();
            // plan exits 0 on this change (a version bump rolls, it blocks nothing).
            assert!(
                out.status.success(),
                "{command}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            children_cpu() - before
        })
        .fold(f64::INFINITY, f64::min)
}

/// A repository of `n` specs with its output committed, then the fleet-wide
/// change of a `_defaults.yaml` edit (every spec's version bumped).
fn fleet(n: usize) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    generate(tmp.path(), n);
    cli(tmp.path())
        .args(["build", "-q"])
        .env("REDIS_GITOPS_CACHE", "off")
        .assert()
        .success();
    git(tmp.path(), &["init", "-q"]);
    git(tmp.path(), &["add", "-A"]);
    git(tmp.path(), &["commit", "-qm", "fleet"]);
    let defaults = tmp.path().join("specs/_defaults.yaml");
    let text = std::fs::read_to_string(&defaults).unwrap();
    std::fs::write(&defaults, text.replace("7.2.5", "7.4.0")).unwrap();
    tmp
}

/// After a fleet-wide change, `plan`, `diff` and `build` at 2,000
/// deployments cost at most 7 times their cost at 500. Linear work is 4
/// times (4 times the deployments and files; measured 4.4 to 4.7, the rest
/// is caches and sorted maps growing), and work that walks every file once
/// per deployment (the regression this guards against) is 16 times.
#[test]
#[ignore = "slow group `scale`: thousands of deployments (scripts/test)"]
fn plan_diff_and_build_after_a_fleet_change_grow_linearly() {
    let small = fleet(500);
    let large = fleet(2000);
    let mut report = Vec::new();
    for command in ["plan", "diff", "build"] {
        let a = cpu_of(small.path(), command);
        let b = cpu_of(large.path(), command);
        report.push(format!("{command}: {a:.2} s at 500, {b:.2} s at 2000"));
        assert!(
            b <= 7.0 * a.max(0.05),
            "{command} is not linear: {a:.2} s of CPU at 500 deployments, {b:.2} s at 2000\n{}",
            report.join("\n")
        );
    }
    println!("{}", report.join("\n"));
}
