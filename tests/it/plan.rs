//! `plan` as a user runs it: each verdict, each format, --from-git, and
//! that `build` commits the very map `plan` announced.

use std::fs;
use std::path::Path;

use proptest::strategy::Strategy as _;
use redis_gitops::topology::slots::SlotMap;

use crate::common::{built_demo, cli, git};

fn edit(path: &Path, from: &str, to: &str) {
    let text = fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "{} has '{from}'", path.display());
    fs::write(path, text.replacen(from, to, 1)).unwrap();
}

fn plan(dir: &Path, args: &[&str], code: i32) -> String {
    let a = cli(dir).arg("plan").args(args).assert().code(code);
    String::from_utf8(a.get_output().stdout.clone()).unwrap()
}

fn orders(ws: &Path) -> std::path::PathBuf {
    ws.join("specs/payments/orders.yaml")
}

fn committed_map(ws: &Path) -> SlotMap {
    let bytes = fs::read(ws.join("output/payments/orders/configmap-orders-topology.yaml")).unwrap();
    redis_gitops::topology::read_committed(&bytes).unwrap()
}

#[test]
fn an_unchanged_repository_plans_one_line_per_deployment() {
    let ws = built_demo();
    let text = plan(ws.path(), &[], 0);
    assert_eq!(
        text,
        "= cache/events: unchanged\n= cache/page-cache: unchanged\n= cache/pinned: unchanged\n\
         = payments/orders: unchanged\n= payments/orders-dr: unchanged\n= payments/sessions: unchanged\n\
         6 deployment(s): 0 changed, 6 unchanged; 0 blocked, 0 need a manual step\n"
    );
}

#[test]
fn grow_drain_and_remove_shards_the_safe_way_and_build_commits_the_planned_map() {
    let ws = built_demo();
    let before = committed_map(ws.path());
    edit(&orders(ws.path()), "shards: 3", "shards: 5");
    let text = plan(ws.path(), &[], 0);
    insta::assert_snapshot!("plan_grow_text", text);
    let json: serde_json::Value =
        serde_json::from_str(&plan(ws.path(), &["--format", "json"], 0)).unwrap();
    let planned = orders_in(&json);
    assert_eq!(planned["movedSlots"], 6553);
    assert_eq!(planned["before"]["shards"], 3);
    assert_eq!(planned["after"]["shards"], 5);
    // datasetSize 6Gi: 6553/16384 of it moves.
    assert_eq!(
        planned["movedData"],
        6 * 1024 * 1024 * 1024 * 6553u64 / 16384
    );

    // build commits exactly the map plan announced.
    cli(ws.path()).arg("build").assert().success();
    let after = committed_map(ws.path());
    let mut listed = 0;
    for m in planned["moves"].as_array().unwrap() {
        let (first, last) = (m["first"].as_u64().unwrap(), m["last"].as_u64().unwrap());
        for slot in first..=last {
            let slot = usize::try_from(slot).unwrap();
            assert_eq!(u64::from(before.owner(slot)), m["from"].as_u64().unwrap());
            assert_eq!(u64::from(after.owner(slot)), m["to"].as_u64().unwrap());
            listed += 1;
        }
    }
    let changed = (0..16384)
        .filter(|&s| before.owner(s) != after.owner(s))
        .count();
    assert_eq!(listed, changed);
    assert_eq!(
        plan(ws.path(), &[], 0).lines().nth(3).unwrap(),
        "= payments/orders: unchanged"
    );

    // Drain the two new shards: exactly the slots they own move back.
    edit(
        &orders(ws.path()),
        "shards: 5",
        "shards: 5\n  drainShards: 2",
    );
    let text = plan(ws.path(), &[], 0);
    assert!(text.contains("slots: 6553 move"), "{text}");
    assert!(
        text.contains(
            "safe     shards 5 (5 serving) -> 5 (3 serving): the draining shards keep running; the reconcile Job moves"
        ),
        "{text}"
    );
    for line in text.lines().filter(|l| l.contains(" -> shard ")) {
        assert!(
            line.contains("shard 3 -> ") || line.contains("shard 4 -> "),
            "{line}"
        );
    }
    cli(ws.path()).arg("build").assert().success();

    // Remove them: they own nothing, nothing moves.
    edit(
        &orders(ws.path()),
        "shards: 5\n  drainShards: 2",
        "shards: 3",
    );
    let text = plan(ws.path(), &[], 0);
    assert!(!text.contains("  slots: "), "{text}");
    assert!(
        text.contains(
            "safe     shards 5 (3 serving) -> 3 (3 serving): the removed shards own no slots: nothing moves; the reconcile Job forgets"
        ),
        "{text}"
    );
    cli(ws.path()).arg("build").assert().success();
    assert!(
        !ws.path()
            .join("output/payments/orders/statefulset-orders-shard-4.yaml")
            .exists()
    );
}

#[test]
fn removing_shards_that_own_slots_is_blocked_and_build_refuses_it() {
    let ws = built_demo();
    edit(&orders(ws.path()), "shards: 3", "shards: 5");
    cli(ws.path()).arg("build").assert().success();
    let committed = crate::common::tree(&ws.path().join("output"));
    edit(&orders(ws.path()), "shards: 5", "shards: 3");
    let text = plan(ws.path(), &[], 1);
    assert!(
        text.contains(
            "blocked  shards 5 -> 3: shard(s) 3, 4 still own 6553 slot(s) and would be removed with their data. \
             Two steps: set `shards: 5` and `drainShards: 2`, build and sync"
        ),
        "{text}"
    );
    // Twice with one render cache: the refused build leaves a cache entry for
    // exactly these inputs, and the second build must still refuse.
    let cache = tempfile::tempdir().unwrap();
    for _ in 0..2 {
        let build = cli(ws.path())
            .env("REDIS_GITOPS_CACHE_DIR", cache.path())
            .arg("build")
            .assert()
            .code(2);
        let err = String::from_utf8(build.get_output().stderr.clone()).unwrap();
        assert!(
            err.contains(
                "specs/payments/orders.yaml: removing shard(s) 3, 4 of 'orders' would lose the 6553 slot(s) they own"
            ),
            "{err}"
        );
        assert_eq!(crate::common::tree(&ws.path().join("output")), committed);
    }
}

/// (spec file, from, to, verdict line the plan must print, exit code)
const VERDICTS: &[(&str, &str, &str, &str, i32)] = &[
    (
        "payments/orders.yaml",
        "size: 10Gi",
        "size: 5Gi",
        "blocked  storage 10Gi -> 5Gi: volumes cannot shrink",
        1,
    ),
    (
        "payments/orders.yaml",
        "storageClass: fast-ssd",
        "storageClass: standard",
        "blocked  storageClass fast-ssd -> standard",
        1,
    ),
    (
        "cache/page-cache.yaml",
        "  engine: valkey\n",
        "  engine: valkey\n  mode: sentinel\n",
        "blocked  mode standalone -> sentinel: a mode cannot change in place",
        1,
    ),
    (
        "cache/page-cache.yaml",
        "engine: valkey",
        "engine: redis",
        "blocked  engine valkey -> redis",
        1,
    ),
    (
        "payments/sessions.yaml",
        "spec:\n",
        "spec:\n  version: \"7.0.15\"\n",
        "blocked  version 7.2.5 -> 7.0.15: a downgrade",
        1,
    ),
    (
        "payments/sessions.yaml",
        "spec:\n",
        "spec:\n  version: \"7.4.2\"\n",
        "safe     version 7.2.5 -> 7.4.2: rolling restart",
        0,
    ),
    (
        "payments/orders.yaml",
        "size: 10Gi",
        "size: 20Gi",
        "manual   storage 10Gi -> 20Gi: volumeClaimTemplates are immutable",
        0,
    ),
];

#[test]
fn each_verdict() {
    for (file, from, to, line, code) in VERDICTS {
        let ws = built_demo();
        edit(&ws.path().join("specs").join(file), from, to);
        let text = plan(ws.path(), &[], *code);
        assert!(text.contains(line), "{file}: {to}\n{text}");
    }
    // Storage growth prints the exact commands, for existing volumes only.
    let ws = built_demo();
    edit(&orders(ws.path()), "size: 10Gi", "size: 20Gi");
    let text = plan(ws.path(), &[], 0);
    for cmd in [
        "$ kubectl -n payments patch pvc data-orders-shard-0-0 --type merge -p '{\"spec\":{\"resources\":{\"requests\":{\"storage\":\"20Gi\"}}}}'",
        "$ kubectl -n payments patch pvc data-orders-shard-2-1 ",
        "$ kubectl -n payments delete statefulset orders-shard-2 --cascade=orphan",
    ] {
        assert!(text.contains(cmd), "{cmd}\n{text}");
    }
    // Sentinel mode: only the Redis StatefulSet's volumes grow; the
    // sentinels' StatefulSet keeps its template and is left alone.
    let ws = built_demo();
    edit(
        &ws.path().join("specs/payments/sessions.yaml"),
        "size: 5Gi",
        "size: 8Gi",
    );
    let text = plan(ws.path(), &[], 0);
    assert!(
        text.contains("$ kubectl -n payments delete statefulset sessions --cascade=orphan"),
        "{text}"
    );
    assert!(text.contains("patch pvc data-sessions-2 "), "{text}");
    assert!(
        !text.contains("sessions-sentinel --cascade")
            && !text.contains("pvc data-sessions-sentinel"),
        "{text}"
    );
    // The same amounts written another way render the same bytes: nothing to plan.
    let ws = built_demo();
    edit(&orders(ws.path()), "size: 10Gi", "size: 10240Mi");
    edit(
        &orders(ws.path()),
        "limits: {cpu: \"2\"",
        "limits: {cpu: 2000m",
    );
    let text = plan(ws.path(), &[], 0);
    assert!(
        !text.contains("storage") && !text.contains("resources"),
        "{text}"
    );
    // A quorum above the sentinels never gets this far: validation stops it (exit 2).
    let ws = built_demo();
    edit(
        &ws.path().join("specs/payments/sessions.yaml"),
        "spec:\n",
        "spec:\n  sentinel: {replicas: 3, quorum: 4}\n",
    );
    cli(ws.path()).arg("plan").assert().code(2);
}

/// `build` refuses every transition `plan` blocks, with the plan's own
/// words and nothing written; `--allow-blocked <deployment>` writes it.
#[test]
fn build_refuses_every_blocked_transition() {
    for (file, from, to, line, code) in VERDICTS {
        let ws = built_demo();
        let before = crate::common::tree(&ws.path().join("output"));
        edit(&ws.path().join("specs").join(file), from, to);
        let build = cli(ws.path()).arg("build").assert();
        if *code == 0 {
            build.success();
            continue;
        }
        let out = build.code(2).get_output().clone();
        let err = String::from_utf8(out.stderr).unwrap();
        let deployment = format!(
            "{}/{}",
            file.split('/').next().unwrap(),
            if file.contains("orders") {
                "orders"
            } else if file.contains("sessions") {
                "sessions"
            } else {
                "page-cache"
            }
        );
        let reason = line.strip_prefix("blocked  ").unwrap();
        assert!(
            err.contains(&format!("error: {deployment}: blocked: {reason}")),
            "{file}: {to}\n{err}"
        );
        assert!(
            err.contains(&format!("build --allow-blocked {deployment}")),
            "{err}"
        );
        assert!(err.contains("nothing was written"), "{err}");
        assert_eq!(
            crate::common::tree(&ws.path().join("output")),
            before,
            "{file}: a refused build wrote"
        );
        // Allowed for another deployment only: still refused.
        cli(ws.path())
            .args(["build", "--allow-blocked", "cache/pinned"])
            .assert()
            .code(2);
        let wrong = cli(ws.path())
            .args(["build", "--allow-blocked", "orders"])
            .assert()
            .code(2);
        let err = String::from_utf8(wrong.get_output().stderr.clone()).unwrap();
        assert!(
            err.contains("--allow-blocked orders: no deployment of that name"),
            "{err}"
        );
        let allowed = cli(ws.path())
            .args(["build", "--allow-blocked", &deployment])
            .assert()
            .success();
        let err = String::from_utf8(allowed.get_output().stderr.clone()).unwrap();
        assert!(err.contains("writing a blocked change as asked"), "{err}");
        cli(ws.path()).arg("check").assert().success();
    }
}

/// Lowering `shards` while `drainShards` stays drains shards nobody meant
/// to drain: the drop in serving shards is a finding with the fix.
#[test]
fn a_drop_in_serving_shards_is_always_a_finding() {
    let ws = built_demo();
    edit(
        &orders(ws.path()),
        "shards: 3",
        "shards: 8\n  drainShards: 2",
    );
    cli(ws.path()).arg("build").assert().success();
    edit(&orders(ws.path()), "shards: 8", "shards: 6");
    let text = plan(ws.path(), &[], 0);
    assert!(
        text.contains(
            "manual   serving shards 6 -> 4: 33% of the keyspace moves onto 4 shard(s); each holds 50% more. \
             `shards` went down while `drainShards` stayed 2: shard(s) 4, 5 now drain as well. \
             To remove only the shards that were drained, set `shards: 6` and remove drainShards"
        ),
        "{text}"
    );
    // A drain the user asked for is a finding too.
    edit(
        &orders(ws.path()),
        "shards: 6\n  drainShards: 2",
        "shards: 8\n  drainShards: 3",
    );
    let text = plan(ws.path(), &[], 0);
    assert!(
        text.contains("manual   serving shards 6 -> 5: 16% of the keyspace moves onto 5 shard(s); each holds 20% more; confirm"),
        "{text}"
    );
}

/// The plan says which StatefulSets roll their pods and why, and which
/// keep running.
#[test]
fn plan_lists_the_pods_that_roll_and_why() {
    let ws = built_demo();
    edit(&orders(ws.path()), "hz: \"20\"", "hz: \"15\"");
    edit(
        &ws.path().join("specs/payments/sessions.yaml"),
        "spec:\n",
        "spec:\n  version: \"7.4.2\"\n",
    );
    let text = plan(ws.path(), &[], 0);
    for line in [
        "  pods roll (configuration): orders-shard-0, orders-shard-1, orders-shard-2\n",
        "  pods roll (image): sessions, sessions-sentinel\n",
    ] {
        assert!(text.contains(line), "{line}\n{text}");
    }
    // Growing the cluster rolls nothing that runs: the new map is the Job's.
    let ws = built_demo();
    edit(&orders(ws.path()), "shards: 3", "shards: 4");
    let text = plan(ws.path(), &[], 0);
    assert!(
        text.contains("  pods keep running: orders-shard-0, orders-shard-1, orders-shard-2\n"),
        "{text}"
    );
    assert!(!text.contains("pods roll"), "{text}");
    // A label on the deployment is in every pod template.
    let ws = built_demo();
    edit(
        &orders(ws.path()),
        "metadata:\n",
        "metadata:\n  labels: {cost-centre: \"42\"}\n",
    );
    let text = plan(ws.path(), &[], 0);
    assert!(
        text.contains("  pods roll (labels): orders-shard-0, orders-shard-1, orders-shard-2\n"),
        "{text}"
    );
}

/// `plan --from-git REF` describes exactly what `build` writes against the
/// state committed at REF: 6 shards committed; 8; drain 2; 6 again. The
/// maps at REF and now have the same shard count but different owners, and
/// the plan lists exactly the slots whose owner differs, with the Job that
/// is committed now.
#[test]
fn plan_from_git_lists_every_slot_whose_owner_differs() {
    let ws = built_demo();
    let repo = ws.path();
    edit(&orders(repo), "shards: 3", "shards: 6");
    cli(repo).arg("build").assert().success();
    git(repo, &["init", "-q"]);
    git(repo, &["add", "."]);
    git(repo, &["commit", "-qm", "six shards"]);
    for (from, to) in [
        ("shards: 6", "shards: 8"),
        ("shards: 8", "shards: 8\n  drainShards: 2"),
        ("shards: 8\n  drainShards: 2", "shards: 6"),
    ] {
        edit(&orders(repo), from, to);
        cli(repo).arg("build").assert().success();
        git(repo, &["add", "-A"]);
        git(repo, &["commit", "-qm", to]);
    }
    let map = |rev: &str| {
        let text = git(
            repo,
            &[
                "show",
                &format!("{rev}:output/payments/orders/configmap-orders-topology.yaml"),
            ],
        );
        let v: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
        SlotMap::parse(v["data"]["slots"].as_str().unwrap()).unwrap()
    };
    let (then, now) = (map("HEAD~3"), map("HEAD"));
    let differ = (0..16384)
        .filter(|s| then.owner(*s) != now.owner(*s))
        .count();
    assert!(differ > 0, "the scenario must leave the maps different");
    let json = plan(repo, &["--from-git", "HEAD~3", "--format", "json"], 0);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let orders = v["deployments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["deployment"] == "payments/orders")
        .unwrap();
    assert_eq!(orders["movedSlots"], differ, "{json}");
    let mut listed = 0;
    for m in orders["moves"].as_array().unwrap() {
        for s in m["first"].as_u64().unwrap()..=m["last"].as_u64().unwrap() {
            let s = usize::try_from(s).unwrap();
            assert_eq!(
                u64::from(then.owner(s)),
                m["from"].as_u64().unwrap(),
                "slot {s}"
            );
            assert_eq!(
                u64::from(now.owner(s)),
                m["to"].as_u64().unwrap(),
                "slot {s}"
            );
            listed += 1;
        }
    }
    assert_eq!(listed, differ);
    let job = git(repo, &["ls-files", "output/payments/orders/job-*"]);
    let job = job
        .trim()
        .rsplit('/')
        .next()
        .unwrap()
        .trim_start_matches("job-")
        .trim_end_matches(".yaml");
    assert!(json.contains(job), "the committed Job {job}:\n{json}");
}

/// A map built but never committed was never applied: in a git
/// repository the next build starts afresh from the spec (a new 3-shard
/// cluster edited to 6 before its first commit gets six even, contiguous
/// ranges), while a committed map is state that later builds preserve.
#[test]
fn a_map_never_committed_is_not_state() {
    let ws = built_demo();
    let repo = ws.path();
    fs::remove_dir_all(repo.join("output")).unwrap();
    git(repo, &["init", "-q"]);
    git(repo, &["add", "specs"]);
    git(repo, &["commit", "-qm", "specs, nothing deployed yet"]);
    cli(repo).arg("build").assert().success();
    edit(&orders(repo), "shards: 3", "shards: 6");
    cli(repo).arg("build").assert().success();
    let map = committed_map(repo);
    for shard in 0..6 {
        let ranges = map.ranges(shard);
        assert_eq!(ranges.len(), 1, "shard {shard} is fragmented: {ranges:?}");
        assert!((2730..=2731).contains(&ranges[0].len()), "{ranges:?}");
    }
    cli(repo).arg("check").assert().success();
    // Committed (and so deployed): the next change moves as few slots as it can.
    git(repo, &["add", "."]);
    git(repo, &["commit", "-qm", "six shards"]);
    edit(&orders(repo), "shards: 6", "shards: 7");
    cli(repo).arg("build").assert().success();
    let after = committed_map(repo);
    let moved = (0..16384)
        .filter(|s| map.owner(*s) != after.owner(*s))
        .count();
    assert_eq!(
        moved, 2340,
        "16384 / 7 slots move to the new shard, no more"
    );
}

/// A commit that forgot new files (`git commit -a` after a grow) leaves a
/// committed state whose topology names more shards than it has
/// StatefulSets: plan and build still answer, never panic.
#[test]
fn a_partly_committed_grow_is_no_panic() {
    let ws = built_demo();
    let repo = ws.path();
    git(repo, &["init", "-q"]);
    git(repo, &["add", "."]);
    git(repo, &["commit", "-qm", "three shards"]);
    edit(&orders(repo), "shards: 3", "shards: 5");
    cli(repo).arg("build").assert().success();
    git(
        repo,
        &["commit", "-qam", "five shards, new files forgotten"],
    );
    edit(&orders(repo), "shards: 5", "shards: 5\n  drainShards: 2");
    plan(repo, &[], 0);
    cli(repo).arg("build").assert().success();
}

/// In git, the committed state is found however the output folder is
/// spelled: `./output/` changed the slot map (the map at HEAD was not found
/// under that spelling) before.
#[test]
fn the_committed_state_is_found_however_the_output_is_spelled() {
    let ws = built_demo();
    let repo = ws.path();
    edit(&orders(repo), "shards: 3", "shards: 5");
    cli(repo).arg("build").assert().success();
    git(repo, &["init", "-q"]);
    git(repo, &["add", "."]);
    git(repo, &["commit", "-qm", "five shards"]);
    for out in ["./output/", "output/", "./output"] {
        let build = cli(repo)
            .args(["build", "--specs", "./specs/", "--output", out])
            .assert()
            .success();
        let said = String::from_utf8(build.get_output().stdout.clone()).unwrap();
        assert!(said.contains(" 0 written,"), "{out}: {said}");
        assert_eq!(git(repo, &["status", "--porcelain"]).trim(), "", "{out}");
        let diff = cli(repo)
            .args(["diff", "--exit-code", "--from-git", "HEAD", "--output", out])
            .assert()
            .code(0);
        assert!(
            String::from_utf8(diff.get_output().stdout.clone())
                .unwrap()
                .starts_with("0 changed")
        );
    }
}

#[test]
fn markdown_and_json_formats() {
    let ws = built_demo();
    edit(&orders(ws.path()), "size: 10Gi", "size: 5Gi");
    let md = plan(ws.path(), &["--format", "markdown"], 1);
    assert!(md.starts_with("### redis-gitops plan\n"), "{md}");
    assert!(
        md.contains("#### x payments/orders (blocked)\n\n```text\n"),
        "{md}"
    );
    assert!(md.contains("- `= payments/sessions: unchanged`"), "{md}");
    let json: serde_json::Value =
        serde_json::from_str(&plan(ws.path(), &["--format", "json"], 1)).unwrap();
    assert_eq!(json["version"], 1);
    let orders = &json["deployments"][3];
    assert_eq!(orders["deployment"], "payments/orders");
    assert_eq!(orders["findings"][0]["verdict"], "blocked");
    assert_eq!(orders["before"]["storage"], "10Gi");
    assert_eq!(orders["after"]["storage"], "5Gi");
}

#[test]
fn plan_from_git_compares_with_a_committed_revision() {
    let ws = built_demo();
    git(ws.path(), &["init", "-q"]);
    git(ws.path(), &["add", "."]);
    git(ws.path(), &["commit", "-qm", "three shards"]);
    edit(&orders(ws.path()), "shards: 3", "shards: 5");
    cli(ws.path()).arg("build").assert().success();
    // In a git repository plan and diff compare with HEAD by default, so the
    // build run first hides nothing from review.
    for args in [&[][..], &["--from-git", "HEAD"]] {
        let text = plan(ws.path(), args, 0);
        assert!(text.contains("slots: 6553 move"), "{args:?}: {text}");
    }
    let out = cli(ws.path()).arg("plan").assert().success();
    let err = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    assert!(
        err.contains(
            "plan: comparing with output as committed at HEAD (--working-tree: as it is on disk)"
        ),
        "{err}"
    );
    let diff = cli(ws.path())
        .args(["diff", "--exit-code"])
        .assert()
        .code(1);
    let text = String::from_utf8(diff.get_output().stdout.clone()).unwrap();
    assert!(
        text.contains("+ added StatefulSet payments/orders-shard-4"),
        "{text}"
    );
    // Against the work tree nothing is left to do.
    let text = plan(ws.path(), &["--working-tree"], 0);
    assert!(text.contains("= payments/orders: unchanged"), "{text}");
    cli(ws.path())
        .args(["diff", "--exit-code", "--working-tree"])
        .assert()
        .code(0);
    // Committed: HEAD and the work tree agree again.
    git(ws.path(), &["add", "."]);
    git(ws.path(), &["commit", "-qm", "five shards"]);
    assert!(plan(ws.path(), &[], 0).contains("= payments/orders: unchanged"));
    // --from DIR reads another folder as the committed state; a missing
    // one is an error, not an empty state.
    fs::create_dir_all(ws.path().join("empty")).unwrap();
    let text = plan(ws.path(), &["--from", "empty"], 0);
    assert!(text.contains("safe     new deployment"), "{text}");
    let out = cli(ws.path())
        .args(["plan", "--from", "no-such-dir"])
        .assert()
        .code(2);
    let err = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    assert!(
        err.contains("plan --from no-such-dir: no such folder"),
        "{err}"
    );
}

/// payments/orders in `plan --format json`.
fn orders_in(plan: &serde_json::Value) -> serde_json::Value {
    plan["deployments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["deployment"] == "payments/orders")
        .unwrap()
        .clone()
}

/// One spec edit of the property test below.
#[derive(Debug, Clone)]
struct Edit {
    shards: u32,
    drain: u32,
    size_gi: u32,
}

fn write_orders(ws: &Path, original: &str, e: &Edit) {
    let mut text = original.replacen("  shards: 3\n", &format!("  shards: {}\n", e.shards), 1);
    if e.drain > 0 {
        text = text.replacen(
            &format!("  shards: {}\n", e.shards),
            &format!("  shards: {}\n  drainShards: {}\n", e.shards, e.drain),
            1,
        );
    }
    text = text.replacen("size: 10Gi", &format!("size: {}Gi", e.size_gi), 1);
    fs::write(orders(ws), text).unwrap();
}

fn map_at(repo: &Path, rev: &str) -> SlotMap {
    let text = git(
        repo,
        &[
            "show",
            &format!("{rev}:output/payments/orders/configmap-orders-topology.yaml"),
        ],
    );
    let v: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
    SlotMap::parse(v["data"]["slots"].as_str().unwrap()).unwrap()
}

/// Builds and commits `edits` one by one, then checks `plan --from-git`
/// from every earlier commit (the property test below).
fn replay(edits: &[Edit]) -> Result<(), proptest::test_runner::TestCaseError> {
    use proptest::prelude::*;
    let ws = built_demo();
    let repo = ws.path();
    let original = fs::read_to_string(orders(repo)).unwrap();
    git(repo, &["init", "-q"]);
    git(repo, &["add", "."]);
    git(repo, &["commit", "-qm", "start"]);
    let mut commits = 1;
    for e in edits {
        write_orders(repo, &original, e);
        let blocked = cli(repo).args(["plan", "--working-tree"]).output().unwrap();
        let before = crate::common::tree(&repo.join("output"));
        let build = cli(repo).arg("build").output().unwrap();
        match blocked.status.code() {
            Some(1) => {
                prop_assert_eq!(
                    build.status.code(),
                    Some(2),
                    "{:?}: build wrote a blocked change",
                    e
                );
                prop_assert_eq!(&crate::common::tree(&repo.join("output")), &before);
                fs::write(
                    orders(repo),
                    git(repo, &["show", "HEAD:specs/payments/orders.yaml"]),
                )
                .unwrap();
                continue;
            }
            Some(0) => prop_assert_eq!(
                build.status.code(),
                Some(0),
                "{:?}: {}",
                e,
                String::from_utf8_lossy(&build.stderr)
            ),
            other => prop_assert!(false, "plan exited {:?}", other),
        }
        git(repo, &["add", "-A"]);
        if git(repo, &["status", "--porcelain"]).trim().is_empty() {
            continue;
        }
        git(repo, &["commit", "-qm", &format!("{e:?}")]);
        commits += 1;
    }
    let now = map_at(repo, "HEAD");
    for back in 1..commits {
        let rev = format!("HEAD~{back}");
        let then = map_at(repo, &rev);
        let differ = (0..16384)
            .filter(|s| then.owner(*s) != now.owner(*s))
            .count();
        let out = cli(repo)
            .args(["plan", "--from-git", &rev, "--format", "json"])
            .output()
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let d = orders_in(&v);
        // Slots a commit between gave away from shards removed since
        // cannot move in one sync from `rev`: their StatefulSets go
        // first. Plan blocks that jump and moves nothing of theirs.
        let shards_now = u32::try_from(d["after"]["shards"].as_u64().unwrap()).unwrap();
        let stranded = (0..16384).filter(|s| then.owner(*s) >= shards_now).count();
        let blocked = d["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["verdict"] == "blocked")
            .map(|f| f["detail"].as_str().unwrap().to_string());
        if stranded > 0 {
            let said =
                format!(" still own {stranded} slot(s) and would be removed with their data");
            prop_assert!(
                blocked.as_deref().is_some_and(|b| b.contains(&said)),
                "from {}: {:?}",
                rev,
                blocked
            );
        } else {
            prop_assert_eq!(blocked, None, "from {}", rev);
        }
        prop_assert_eq!(
            d["movedSlots"].as_u64().unwrap_or(0),
            (differ - stranded) as u64,
            "from {}",
            rev
        );
        for m in d["moves"].as_array().cloned().unwrap_or_default() {
            for s in m["first"].as_u64().unwrap()..=m["last"].as_u64().unwrap() {
                let s = usize::try_from(s).unwrap();
                prop_assert_eq!(u64::from(then.owner(s)), m["from"].as_u64().unwrap());
                prop_assert_eq!(u64::from(now.owner(s)), m["to"].as_u64().unwrap());
            }
        }
    }
    Ok(())
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig {
        cases: crate::common::cases(12), failure_persistence: None, ..proptest::prelude::ProptestConfig::default()
    })]

    /// Random sequences of edits (grow, drain, remove, storage growth and
    /// shrink) committed to a real git repository: `build` writes exactly
    /// when `plan --working-tree` blocks nothing, and `plan --from-git` at
    /// any earlier commit lists exactly the slots whose owner differs, and
    /// blocks the jump when shards drained in between are gone now (found by
    /// CI: 8 shards, drain 1, 7 shards, then a plan from the 8-shard commit).
    #[test]
    fn plan_from_any_commit_is_exact_and_build_never_writes_what_plan_blocks(
        edits in proptest::collection::vec(
            (3u32..9, 0u32..3, proptest::sample::select(vec![5u32, 10, 20]))
                .prop_map(|(shards, drain, size_gi)| Edit { shards, drain: drain.min(shards - 3), size_gi }),
            1..4,
        )
    ) {
        replay(&edits)?;
    }
}

/// The sequence CI found: a plan from before a drain, to after the drained
/// shard is gone, must block (one sync would delete the shard's data).
#[test]
fn a_plan_across_a_drain_and_removal_blocks() {
    let edit = |shards, drain| Edit {
        shards,
        drain,
        size_gi: 10,
    };
    replay(&[edit(8, 0), edit(8, 1), edit(7, 0)]).unwrap();
}

/// The state plan reads back from rendered files is the state of the spec
/// that rendered them, for every demo deployment: mode, engine, version,
/// shards, serving shards, pods, sentinels, quorum, the storage size and
/// the memory and CPU limits (as amounts), maxmemory, persistence.
#[test]
fn the_state_read_from_rendered_files_is_the_specs() {
    use redis_gitops::spec::quantity::Quantity;
    use redis_gitops::spec::validate::Topology;
    let ws = built_demo();
    let out = ws.path().join("output");
    let files = crate::common::tree(&out);
    let states = redis_gitops::plan::states(files.iter().map(|(p, b)| (p.as_path(), b.as_slice())));
    let loaded = redis_gitops::input::load_dir(&crate::common::demo_specs());
    let (specs, _) = redis_gitops::spec::validate::validate_all(&loaded.specs, &loaded.sources);
    assert_eq!(states.len(), specs.len());
    for r in &specs {
        let key = format!("{}/{}", r.dir.display(), r.name);
        let s = &states[&key];
        assert_eq!(s.mode, Some(r.mode()), "{key}");
        assert_eq!(s.engine, Some(r.engine), "{key}");
        assert_eq!(s.version, Some(r.version), "{key}");
        let (shards, serving, pods, sentinels, quorum) = match r.topology {
            Topology::Standalone => (1, 0, 1, 0, None),
            Topology::Sentinel {
                replicas,
                sentinels,
                quorum,
                ..
            } => (1, 0, replicas, sentinels, Some(quorum)),
            Topology::Cluster {
                shards,
                replicas_per_shard,
                drain_shards,
            } => (
                shards,
                shards - drain_shards,
                1 + replicas_per_shard,
                0,
                None,
            ),
        };
        assert_eq!(s.shards, shards, "{key}");
        if r.mode() == redis_gitops::spec::model::Mode::Cluster {
            assert_eq!(s.serving, serving, "{key}");
        }
        assert_eq!(s.pods, pods, "{key}");
        assert_eq!(s.sentinels, sentinels, "{key}");
        assert_eq!(s.quorum, quorum, "{key}");
        let same = |a: Option<Quantity>, b: Option<Quantity>| match (a, b) {
            (Some(a), Some(b)) => a.same_amount(&b),
            (a, b) => a.is_none() && b.is_none(),
        };
        assert!(
            same(s.storage, r.storage.as_ref().map(|st| st.size)),
            "{key}: storage {:?}",
            s.storage
        );
        assert!(
            same(s.memory_limit, Some(r.resources.limits.memory)),
            "{key}: memory limit"
        );
        assert!(
            same(s.cpu_limit, r.resources.limits.cpu),
            "{key}: cpu limit"
        );
        assert_eq!(s.maxmemory, Some(r.maxmemory_bytes), "{key}");
        assert_eq!(s.persistence, Some(r.persistence), "{key}");
    }
}

/// The planner reads state, not text: with a `--templates` override that
/// writes redis.conf in another order, case, spacing and comment, every
/// change plans exactly as with the built-in templates.
#[test]
fn a_reformatted_redis_conf_plans_like_the_built_in_one() {
    let builtin =
        fs::read_to_string(crate::common::root().join("templates/redis.conf.j2")).unwrap();
    let head = "maxmemory {{ maxmemory }}\nmaxmemory-policy {{ maxmemory_policy }}\n\
                {% if rdb %}save{% for seconds, changes in save_points %} {{ seconds }} {{ changes }}{% endfor %}\n{% else %}save \"\"\n\
                {% endif %}appendonly {{ \"yes\" if aof else \"no\" }}\n";
    assert!(
        builtin.contains(head),
        "the built-in template changed: update this test"
    );
    let reformatted = format!(
        "## {{{{ name }}}}: laid out our way\n\
         APPENDONLY   {{{{ \"yes\" if aof else \"no\" }}}}\n\
         {{% if rdb %}}SAVE\t{{% for s, c in save_points %}}{{{{ s }}}}  {{{{ c }}}} {{% endfor %}}\n{{% else %}}SAVE \"\"\n{{% endif %}}\
         MAXMEMORY-POLICY  {{{{ maxmemory_policy }}}}\n\
         MAXMEMORY\t{{{{ maxmemory }}}}\n{}",
        builtin.replace(head, "")
    );
    let edits: &[(&str, &str, &str, &str)] = &[
        (
            "payments/sessions.yaml",
            "persistence: aof",
            "persistence: rdb",
            "safe     persistence aof -> rdb",
        ),
        (
            "payments/sessions.yaml",
            "persistence: aof",
            "persistence: none",
            "manual   persistence aof -> none",
        ),
        (
            "payments/sessions.yaml",
            "maxmemory: 1536Mi",
            "maxmemory: 1Gi",
            "safe     resources",
        ),
        (
            "payments/orders.yaml",
            "shards: 3",
            "shards: 4",
            "safe     shards 3 (3 serving) -> 4 (4 serving)",
        ),
        (
            "payments/sessions.yaml",
            "size: 5Gi",
            "size: 8Gi",
            "manual   storage 5Gi -> 8Gi",
        ),
    ];
    for (file, from, to, line) in edits {
        let mut texts = Vec::new();
        for custom in [false, true] {
            let ws = crate::common::workspace(&crate::common::demo_specs());
            let templates = ws.path().join("templates");
            fs::create_dir_all(&templates).unwrap();
            let mut args = vec![];
            if custom {
                fs::write(templates.join("redis.conf.j2"), &reformatted).unwrap();
                args = vec!["--templates", "templates"];
            }
            cli(ws.path()).args(&args).arg("build").assert().success();
            if custom {
                let conf = fs::read_to_string(
                    ws.path()
                        .join("output/payments/sessions/configmap-sessions-config.yaml"),
                )
                .unwrap();
                assert!(conf.contains("MAXMEMORY"), "the override is in use: {conf}");
            }
            edit(&ws.path().join("specs").join(file), from, to);
            let out = cli(ws.path()).args(&args).arg("plan").assert();
            texts.push(String::from_utf8(out.get_output().stdout.clone()).unwrap());
        }
        assert!(texts[0].contains(line), "{file}: {to}\n{}", texts[0]);
        assert_eq!(
            texts[0], texts[1],
            "{file}: {to} plans differently with the reformatted template"
        );
    }
}

/// Turning TLS on or off, or a password, breaks every existing client: a
/// manual finding that names what clients must change and in which order,
/// in text and in JSON; `build` still writes it (nothing is blocked).
#[test]
fn tls_and_auth_switches_are_manual_findings_for_clients() {
    let cases = [
        (
            "payments/sessions.yaml",
            "  tls: {secretName: sessions-tls}\n",
            "",
            "TLS on -> off",
        ),
        (
            "payments/sessions.yaml",
            "  auth: {secretName: sessions-redis, previousSecretKey: previous}   # a rotation window (README: Rotating secrets)\n",
            "",
            "auth on -> off",
        ),
        (
            "cache/pinned.yaml",
            "spec:\n",
            "spec:\n  tls: {secretName: pinned-tls}\n",
            "TLS off -> on",
        ),
    ];
    for (file, from, to, change) in cases {
        let ws = built_demo();
        edit(&ws.path().join("specs").join(file), from, to);
        let text = plan(ws.path(), &[], 0);
        assert!(
            text.contains(&format!("manual   {change}: ")),
            "{file}\n{text}"
        );
        assert!(text.contains("In order: 1."), "{text}");
        let json: serde_json::Value =
            serde_json::from_str(&plan(ws.path(), &["--format", "json"], 0)).unwrap();
        let findings: Vec<&serde_json::Value> = json["deployments"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|d| d["findings"].as_array().unwrap())
            .filter(|f| f["change"] == change)
            .collect();
        assert_eq!(findings.len(), 1, "{json}");
        assert_eq!(findings[0]["verdict"], "manual");
    }
}

/// A cache without storage: a downgrade leaves no file to load (safe), and
/// its removal leaves no volume behind (no `delete pvc` step). A changed
/// reconcile Job (a new image) is in the rollout as a new one is.
#[test]
fn a_cache_without_storage_and_a_changed_reconcile_job() {
    let ws = built_demo();
    let cache = ws.path().join("specs/cache/page-cache.yaml");
    edit(&cache, "version: \"8.1.1\"", "version: \"8.0.2\"");
    let text = plan(ws.path(), &[], 0);
    assert!(
        text.contains("safe     version 8.1.1 -> 8.0.2: rolling restart; without storage"),
        "{text}"
    );
    fs::remove_file(&cache).unwrap();
    let text = plan(ws.path(), &[], 0);
    assert!(
        text.contains("safe     deployment removed: its objects are pruned; it had no volumes"),
        "{text}"
    );
    assert!(!text.contains("delete pvc"), "{text}");

    let ws = built_demo();
    edit(
        &orders(ws.path()),
        "  mode: cluster\n",
        "  mode: cluster\n  image: redis:7.2.6\n",
    );
    let text = plan(ws.path(), &[], 0);
    assert!(
        text.contains("converges the cluster"),
        "the Job runs again:\n{text}"
    );
}
