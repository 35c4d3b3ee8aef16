//! The GitOps workflow: check, diff in every format, --from-git, and the
//! entry points (the pre-commit hooks: `precommit`).

use std::fs;
use std::path::Path;

use crate::common::{built_demo, cli, git, root};

fn stdout(assert: &assert_cmd::assert::Assert) -> String {
    String::from_utf8(assert.get_output().stdout.clone()).unwrap()
}

fn edit(path: &Path, from: &str, to: &str) {
    let text = fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "{} has '{from}'", path.display());
    fs::write(path, text.replacen(from, to, 1)).unwrap();
}

/// The +/- lines of a unified diff, without the file headers.
fn changed_lines(diff: &str) -> Vec<&str> {
    diff.lines()
        .filter(|l| (l.starts_with('+') || l.starts_with('-')) && !l.starts_with("+++"))
        .filter(|l| !l.starts_with("---"))
        .collect()
}

#[test]
fn an_edited_spec_makes_check_fail_and_diff_show_only_the_changed_field() {
    let ws = built_demo();
    cli(ws.path()).arg("check").assert().code(0);
    cli(ws.path())
        .args(["diff", "--exit-code"])
        .assert()
        .code(0);
    edit(
        &ws.path().join("specs/payments/orders.yaml"),
        "remoteProperty: password",
        "remoteProperty: redis-password",
    );
    let check = cli(ws.path()).arg("check").assert().code(1);
    let text = stdout(&check);
    assert!(
        text.contains("stale    output/payments/orders/externalsecret-orders-redis.yaml"),
        "{text}"
    );
    assert!(
        text.contains("output is stale: 1 stale, 0 missing, 0 extra"),
        "{text}"
    );
    assert!(text.contains("-      property: password\n"), "{text}");

    let diff = cli(ws.path())
        .args(["diff", "--exit-code"])
        .assert()
        .code(1);
    let text = stdout(&diff);
    assert_eq!(
        changed_lines(&text),
        [
            "-      property: password",
            "+      property: redis-password"
        ],
        "{text}"
    );
    assert!(
        text.contains(
            "~ changed ExternalSecret payments/orders-redis (external-secrets.io/v1) \
             (output/payments/orders/externalsecret-orders-redis.yaml)"
        ),
        "{text}"
    );
    assert!(
        text.ends_with("1 changed, 0 added, 0 removed in 1 deployment\n"),
        "{text}"
    );
    // Without --exit-code, differences are not a failure.
    cli(ws.path()).arg("diff").assert().code(0);
}

#[test]
fn key_order_and_formatting_never_show_as_changes() {
    let ws = built_demo();
    let file = ws
        .path()
        .join("output/payments/orders/externalsecret-orders-redis.yaml");
    let text = fs::read_to_string(&file).unwrap();
    // The same object, keys reordered, flow style, other quoting.
    let header = text.lines().next().unwrap();
    let reordered = format!(
        "{header}\nspec:\n  target: {{deletionPolicy: Retain, name: orders-redis, creationPolicy: Owner}}\n  \
         secretStoreRef: {{name: vault, kind: ClusterSecretStore}}\n  refreshInterval: \"1h\"\n  \
         data:\n    - secretKey: password\n      remoteRef: {{property: password, nullBytePolicy: Ignore, key: payments/orders-redis, \
         metadataPolicy: None, decodingStrategy: None, conversionStrategy: Default}}\n\
         metadata:\n  namespace: payments\n  name: orders-redis\n  labels:\n    team: payments\n    \
         owner: platform\n    app.kubernetes.io/part-of: orders\n    app.kubernetes.io/name: redis\n    \
         app.kubernetes.io/managed-by: redis-gitops\n    app.kubernetes.io/instance: orders\n  \
         annotations: {{argocd.argoproj.io/sync-wave: \"0\"}}\nkind: ExternalSecret\n\
         apiVersion: external-secrets.io/v1\n"
    );
    fs::write(&file, reordered).unwrap();
    let diff = cli(ws.path())
        .args(["diff", "--exit-code"])
        .assert()
        .code(0);
    assert_eq!(
        stdout(&diff),
        "0 changed, 0 added, 0 removed in 0 deployments\n"
    );
    // The bytes differ, so check (a byte-level freshness check) says so.
    let check = cli(ws.path()).arg("check").assert().code(1);
    assert!(
        stdout(&check).contains(
            "stale    output/payments/orders/externalsecret-orders-redis.yaml\n    @@ -1,21 +1,33 @@\n"
        ),
        "{}",
        stdout(&check)
    );
}

#[test]
fn a_removed_spec_is_listed_as_extra_and_build_removes_it_with_its_entry_point() {
    let ws = built_demo();
    let out = ws.path().join("output");
    fs::write(out.join("payments/_argocd/README.md"), "mine\n").unwrap();
    fs::remove_file(ws.path().join("specs/payments/sessions.yaml")).unwrap();
    let check = cli(ws.path()).arg("check").assert().code(1);
    let text = stdout(&check);
    for extra in [
        "output/payments/sessions/statefulset-sessions.yaml",
        "output/payments/_argocd/application-payments-sessions.yaml",
    ] {
        assert!(
            text.contains(&format!(
                "extra    {extra} (no spec renders it; `build` removes it)"
            )),
            "{text}"
        );
    }
    assert!(
        text.contains(
            "stale    output/payments/_argocd/kustomization.yaml\n    \
         @@ -4,4 +4,3 @@\n     resources:\n     - application-payments-orders-dr.yaml\n     \
         - application-payments-orders.yaml\n    -- application-payments-sessions.yaml\n"
        ),
        "{text}"
    );
    let diff = cli(ws.path()).arg("diff").assert().code(0);
    assert!(
        stdout(&diff).contains("- removed Application argocd/payments-sessions"),
        "{}",
        stdout(&diff)
    );
    cli(ws.path()).arg("build").assert().success();
    cli(ws.path()).arg("check").assert().code(0);
    assert!(!out.join("payments/sessions").exists());
    assert!(
        !out.join("payments/_argocd/application-payments-sessions.yaml")
            .exists()
    );
    assert_eq!(
        fs::read_to_string(out.join("payments/_argocd/README.md")).unwrap(),
        "mine\n"
    );
}

/// Removing a spec removes its objects under Argo CD as under Flux, and
/// keeps the data: the Application carries the resources finalizer (so the
/// app-of-apps' prune deletes what it deployed), every StatefulSet retains
/// its PersistentVolumeClaims when deleted or scaled down, and the plan
/// prints how to delete them once the data is not needed.
#[test]
fn removing_a_spec_prunes_its_objects_and_keeps_its_volumes() {
    let ws = built_demo();
    let out = ws.path().join("output");
    let app = yaml(&out.join("payments/_argocd/application-payments-sessions.yaml"));
    assert_eq!(
        app["metadata"]["finalizers"],
        serde_yaml::from_str::<serde_yaml::Value>("[resources-finalizer.argocd.argoproj.io]")
            .unwrap()
    );
    assert_eq!(app["spec"]["syncPolicy"]["automated"]["prune"], true);
    for entry in walkdir::WalkDir::new(&out) {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.starts_with("statefulset-") {
            continue;
        }
        let sts = yaml(entry.path());
        if sts["spec"]["volumeClaimTemplates"].is_null() {
            continue;
        }
        let policy = &sts["spec"]["persistentVolumeClaimRetentionPolicy"];
        assert_eq!(policy["whenDeleted"], "Retain", "{name}");
        assert_eq!(policy["whenScaled"], "Retain", "{name}");
    }
    fs::remove_file(ws.path().join("specs/payments/sessions.yaml")).unwrap();
    let plan = cli(ws.path()).args(["plan", "--from", "output"]).assert();
    let text = stdout(&plan);
    assert!(
        text.contains("PersistentVolumeClaims are retained"),
        "{text}"
    );
    assert!(
        text.contains("kubectl -n payments delete pvc -l app.kubernetes.io/instance=sessions"),
        "{text}"
    );
}

#[test]
fn values_under_secret_looking_keys_are_masked_in_every_format() {
    let ws = built_demo();
    // A committed file someone edited by hand: a token and a password in
    // env vars that the specs do not render, and a key name changed.
    edit(
        &ws.path()
            .join("output/payments/orders/externalsecret-orders-redis.yaml"),
        "    secretKey: password\n",
        "    secretKey: hunter2\n",
    );
    edit(
        &ws.path()
            .join("output/payments/orders/statefulset-orders-shard-0.yaml"),
        "        env:\n",
        "        env:\n        - name: REDIS_PASSWORD\n          value: correct-horse\n        \
         - name: API_TOKEN\n          value: battery-staple\n",
    );
    for format in ["text", "markdown", "json", "github"] {
        let diff = cli(ws.path())
            .args(["diff", "--format", format])
            .assert()
            .code(0);
        let text = stdout(&diff);
        assert!(!text.contains("correct-horse"), "{format}: {text}");
        assert!(!text.contains("battery-staple"), "{format}: {text}");
        assert!(text.contains("***"), "{format}: {text}");
    }
    let diff = cli(ws.path()).arg("diff").assert().code(0);
    let lines = changed_lines(&stdout(&diff))
        .into_iter()
        .map(str::to_owned)
        .collect::<Vec<_>>();
    // secretKey names the key of the target Secret: a name, shown.
    assert_eq!(
        lines,
        [
            "-    secretKey: hunter2",
            "+    secretKey: password",
            "-        - name: REDIS_PASSWORD",
            "-          value: '***'",
            "-        - name: API_TOKEN",
            "-          value: '***'",
        ],
    );
    // Names, paths and switches that only look like secrets are shown: an
    // object missing from the output shows whole.
    fs::remove_file(
        ws.path()
            .join("output/payments/orders/statefulset-orders-shard-1.yaml"),
    )
    .unwrap();
    let text = stdout(&cli(ws.path()).arg("diff").assert().code(0));
    for shown in [
        "automountServiceAccountToken: false",
        "topologyKey: kubernetes.io/hostname",
        "key: password",
        "value: /run/redis/exporter-passwords.json",
        "value: /tls/ca.crt",
    ] {
        assert!(text.contains(shown), "{shown}:\n{text}");
    }
}

/// A change of every kind: a changed field, an added and a removed object.
fn scenario() -> tempfile::TempDir {
    let ws = built_demo();
    edit(
        &ws.path().join("specs/payments/orders.yaml"),
        "remoteProperty: password",
        "remoteProperty: redis-password",
    );
    edit(
        &ws.path().join("specs/payments/sessions.yaml"),
        "spec:\n",
        "spec:\n  metrics: {prometheusRule: false}\n",
    );
    edit(
        &ws.path().join("specs/cache/pinned.yaml"),
        "    serviceMonitor: true\n",
        "    serviceMonitor: true\n    prometheusRule: true\n",
    );
    ws
}

#[test]
fn every_format_is_snapshot_tested() {
    let ws = scenario();
    for format in ["text", "markdown", "json", "github"] {
        let diff = cli(ws.path())
            .args(["diff", "--format", format, "--exit-code"])
            .assert()
            .code(1);
        insta::assert_snapshot!(format!("diff_{format}"), stdout(&diff));
    }
    let colored = cli(ws.path())
        .args(["diff", "--color", "always"])
        .assert()
        .code(0);
    assert!(stdout(&colored).contains("\x1b[32m+      property: redis-password\x1b[0m"));
}

#[test]
fn json_format_parses_back_with_a_stable_shape() {
    let ws = scenario();
    let diff = cli(ws.path())
        .args(["diff", "--format", "json"])
        .assert()
        .code(0);
    let doc: serde_json::Value = serde_json::from_str(&stdout(&diff)).unwrap();
    assert_eq!(doc["version"], 1);
    assert_eq!(
        doc["summary"],
        serde_json::json!({"changed": 3, "added": 1, "removed": 1, "deployments": 3})
    );
    let objects = doc["objects"].as_array().unwrap();
    let summary: Vec<(String, String, String)> = objects
        .iter()
        .map(|o| {
            (
                o["change"].as_str().unwrap().to_owned(),
                o["kind"].as_str().unwrap().to_owned(),
                o["path"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (
                "changed".into(),
                "Kustomization".into(),
                "output/cache/pinned/kustomization.yaml".into()
            ),
            (
                "added".into(),
                "PrometheusRule".into(),
                "output/cache/pinned/prometheusrule-pinned.yaml".into()
            ),
            (
                "changed".into(),
                "ExternalSecret".into(),
                "output/payments/orders/externalsecret-orders-redis.yaml".into()
            ),
            (
                "changed".into(),
                "Kustomization".into(),
                "output/payments/sessions/kustomization.yaml".into()
            ),
            (
                "removed".into(),
                "PrometheusRule".into(),
                "output/payments/sessions/prometheusrule-sessions.yaml".into()
            ),
        ]
    );
    for o in objects {
        for key in [
            "apiVersion",
            "kind",
            "namespace",
            "name",
            "file",
            "deployment",
            "diff",
        ] {
            assert!(o[key].is_string(), "{key} in {o}");
        }
    }
}

/// A hand edit that drops a resource from a kustomization.yaml is a change
/// for diff and plan, not only for check.
#[test]
fn a_resource_dropped_from_a_kustomization_shows_in_diff_and_plan() {
    let ws = built_demo();
    edit(
        &ws.path().join("output/payments/orders/kustomization.yaml"),
        "- statefulset-orders-shard-2.yaml\n",
        "",
    );
    let diff = cli(ws.path())
        .args(["diff", "--exit-code"])
        .assert()
        .code(1);
    let text = stdout(&diff);
    assert!(
        text.contains("~ changed Kustomization payments/orders (kustomize.config.k8s.io/v1beta1)"),
        "{text}"
    );
    assert_eq!(changed_lines(&text), ["+- statefulset-orders-shard-2.yaml"]);
    let plan = cli(ws.path()).arg("plan").assert().code(0);
    let text = stdout(&plan);
    assert!(text.contains("! payments/orders (manual)"), "{text}");
    assert!(
        text.contains("manual   kustomization.yaml: the committed kustomization.yaml does not list the objects that build writes"),
        "{text}"
    );
    assert!(
        !text.contains("Kustomization payments/orders (changed)"),
        "{text}"
    );
}

/// A markdown diff fits a pull-request comment: adding a 10-shard cluster
/// (about 100 KB of diff) stays under the 60,000-character default, keeps
/// the summary, and names what it leaves out.
#[test]
fn a_markdown_diff_fits_a_pull_request_comment() {
    let ws = built_demo();
    fs::write(
        ws.path().join("specs/payments/big.yaml"),
        "apiVersion: redis-gitops/v1\nkind: Redis\nmetadata: {name: big}\nspec:\n  mode: cluster\n  \
         shards: 10\n  resources: {limits: {memory: 1Gi}}\n  storage: {size: 1Gi}\n",
    )
    .unwrap();
    let full = stdout(
        &cli(ws.path())
            .args(["diff", "--format", "markdown", "--max-chars", "10000000"])
            .assert()
            .code(0),
    );
    assert!(
        full.chars().count() > 65_536,
        "the case is too small to prove anything: {}",
        full.len()
    );
    assert!(!full.contains("not shown"));
    let md = stdout(
        &cli(ws.path())
            .args(["diff", "--format", "markdown"])
            .assert()
            .code(0),
    );
    let n = md.chars().count();
    assert!(n <= 60_000, "{n} characters");
    assert!(
        md.starts_with("### redis-gitops diff\n\n**"),
        "{}",
        &md[..200]
    );
    assert!(
        md.contains("object(s) not shown** (the comment would exceed 60000 characters"),
        "{}",
        &md[md.len() - 2000..]
    );
    // Workloads first: the StatefulSets made it in.
    assert!(
        md.contains("<code>StatefulSet payments/big-shard-0"),
        "{md}"
    );
}

#[test]
fn diff_from_git_reads_the_committed_output_without_touching_the_work_tree() {
    let ws = built_demo();
    git(ws.path(), &["init", "-q"]);
    git(ws.path(), &["add", "."]);
    git(ws.path(), &["commit", "-qm", "first"]);
    edit(
        &ws.path().join("specs/payments/orders.yaml"),
        "remoteProperty: password",
        "remoteProperty: redis-password",
    );
    cli(ws.path()).arg("build").assert().success();
    // The work tree is fresh now, the commit is not.
    cli(ws.path())
        .args(["diff", "--exit-code", "--working-tree"])
        .assert()
        .code(0);
    // In a git repository the default is HEAD.
    cli(ws.path())
        .args(["diff", "--exit-code"])
        .assert()
        .code(1);
    let before = git(ws.path(), &["status", "--porcelain"]);
    let diff = cli(ws.path())
        .args(["diff", "--exit-code", "--from-git", "HEAD"])
        .assert()
        .code(1);
    assert_eq!(
        changed_lines(&stdout(&diff)),
        [
            "-      property: password",
            "+      property: redis-password"
        ]
    );
    assert_eq!(git(ws.path(), &["status", "--porcelain"]), before);
    // From a subfolder-less revision name that does not exist: an error, exit 2.
    let bad = cli(ws.path())
        .args(["diff", "--from-git", "no-such-ref"])
        .assert()
        .code(2);
    let err = String::from_utf8(bad.get_output().stderr.clone()).unwrap();
    assert!(
        err.contains("cannot read the output at git revision 'no-such-ref'"),
        "{err}"
    );
}

/// Like git and cargo, the commands work from any folder of the project,
/// and Argo CD / Flux paths are relative to the git repository's top: a
/// project in a monorepo's subfolder, an absolute --output inside it.
#[test]
fn commands_find_the_project_and_entry_points_name_repository_paths() {
    let mono = tempfile::tempdir().unwrap();
    let project = mono.path().join("platform/redis");
    crate::common::copy_dir(&root().join("specs"), &project.join("specs"));
    git(mono.path(), &["init", "-q"]);
    // From a subfolder of the project, with the default folders.
    let sub = project.join("specs/payments");
    cli(&sub).arg("build").assert().success();
    assert!(project.join("output/payments/orders").is_dir());
    cli(&sub).arg("check").assert().success();
    let app = yaml(&project.join("output/payments/_argocd/application-payments-orders.yaml"));
    assert_eq!(
        app["spec"]["source"]["path"],
        "platform/redis/output/payments/orders"
    );
    let flux = yaml(&project.join("output/cache/_flux/kustomization-cache-events.yaml"));
    assert_eq!(flux["spec"]["path"], "./platform/redis/output/cache/events");
    // An absolute --output inside the repository names the same paths.
    let before = crate::common::tree(&project.join("output"));
    let abs = project.join("output");
    cli(&project)
        .args(["build", "--output"])
        .arg(&abs)
        .assert()
        .success();
    assert_eq!(crate::common::tree(&project.join("output")), before);
}

/// From the top of a monorepo, `check` and `build` given files (as the
/// pre-commit hooks pass them) work on the project each file belongs to.
#[test]
fn check_and_build_work_on_the_projects_of_the_files_they_are_given() {
    let mono = tempfile::tempdir().unwrap();
    let top = mono.path();
    let project = top.join("platform/redis");
    crate::common::copy_dir(&root().join("specs"), &project.join("specs"));
    fs::create_dir_all(top.join("docs/specs")).unwrap();
    fs::write(top.join("docs/specs/api.yaml"), "openapi: 3.1.0\n").unwrap();
    git(top, &["init", "-q"]);
    let spec = "platform/redis/specs/payments/orders.yaml";
    // Not a project yet (no output/): nothing to do, and it says so.
    let a = cli(top).args(["check", spec]).assert().success();
    assert!(String::from_utf8_lossy(&a.get_output().stderr).contains("no redis-gitops project"));
    cli(&project).arg("build").assert().success();
    let a = cli(top)
        .args(["check", spec, "docs/specs/api.yaml"])
        .assert()
        .success();
    assert!(stdout(&a).contains("output is fresh"), "{}", stdout(&a));
    edit(&top.join(spec), "shards: 3", "shards: 4");
    let a = cli(top).args(["check", spec]).assert().code(1);
    assert!(stdout(&a).contains("stale"), "{}", stdout(&a));
    // An output file names its project as well; build re-renders it.
    cli(top)
        .args([
            "build",
            "--quiet",
            "platform/redis/output/payments/orders/kustomization.yaml",
        ])
        .assert()
        .success();
    cli(top).args(["check", spec]).assert().success();
    // Another tool's specs/ folder is no project.
    let a = cli(top)
        .args(["check", "docs/specs/api.yaml"])
        .assert()
        .success();
    assert!(String::from_utf8_lossy(&a.get_output().stderr).contains("no redis-gitops project"));
    cli(top)
        .args(["check", "--specs", "x", spec])
        .assert()
        .code(2);
    // Without a file, from the top: it names the projects below.
    let a = cli(top).arg("check").assert().code(2);
    let err = String::from_utf8_lossy(&a.get_output().stderr);
    assert!(
        err.contains("no specs/ folder here or above; the projects below are: platform/redis"),
        "{err}"
    );
    // Commands that need no project still work there.
    cli(top).arg("schema").assert().success();
    cli(top).args(["completions", "bash"]).assert().success();
}

#[test]
fn entry_points_point_at_the_deployment_folders() {
    let ws = built_demo();
    let out = ws.path().join("output");
    let app: serde_yaml::Value = serde_yaml::from_str(
        &fs::read_to_string(out.join("payments/_argocd/application-payments-orders.yaml")).unwrap(),
    )
    .unwrap();
    assert_eq!(app["spec"]["source"]["path"], "output/payments/orders");
    assert_eq!(app["spec"]["destination"]["namespace"], "payments");
    assert_eq!(app["metadata"]["namespace"], "argocd");
    let ks: serde_yaml::Value = serde_yaml::from_str(
        &fs::read_to_string(out.join("cache/_flux/kustomization-cache-events.yaml")).unwrap(),
    )
    .unwrap();
    assert_eq!(ks["spec"]["path"], "./output/cache/events");
    assert_eq!(ks["spec"]["prune"], true);
    let checks: Vec<&str> = ks["spec"]["healthChecks"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    for shard in 0..6 {
        assert!(
            checks.contains(&format!("events-shard-{shard}").as_str()),
            "{checks:?}"
        );
    }
    // Every object of a deployment carries a sync wave; workloads come after
    // their configuration.
    let wave = |file: &str| {
        let v: serde_yaml::Value =
            serde_yaml::from_str(&fs::read_to_string(out.join(file)).unwrap()).unwrap();
        v["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"]
            .as_str()
            .unwrap()
            .parse::<i32>()
            .unwrap()
    };
    assert!(
        wave("payments/orders/configmap-orders-config.yaml")
            < wave("payments/orders/statefulset-orders-shard-0.yaml")
    );
    // Outside git, an absolute --output names no repository path.
    let abs = cli(ws.path())
        .args(["build", "--output"])
        .arg(ws.path().join("elsewhere"))
        .assert()
        .code(2);
    let err = String::from_utf8(abs.get_output().stderr.clone()).unwrap();
    assert!(
        err.contains(
            "Argo CD and Flux entry points need the output folder inside the git repository"
        ),
        "{err}"
    );
}

fn yaml(path: &Path) -> serde_yaml::Value {
    serde_yaml::from_str(&fs::read_to_string(path).unwrap()).unwrap()
}

/// The reconcile Job runs after the sync (Argo CD hook), is replaced rather
/// than patched (Flux force), is bounded, and is named by the topology hash
/// so that a new slot map is a new Job that Flux waits for.
#[test]
fn the_reconcile_job_is_a_hook_named_by_the_topology() {
    let ws = built_demo();
    let dir = ws.path().join("output/payments/orders");
    let topology = yaml(&dir.join("configmap-orders-topology.yaml"));
    let env = topology["data"]["cluster.env"].as_str().unwrap();
    let hash = env
        .lines()
        .find_map(|l| l.strip_prefix("topology_hash="))
        .unwrap()
        .to_owned();
    let job_file = dir.join(format!("job-orders-reconcile-{hash}.yaml"));
    let job = yaml(&job_file);
    let a = &job["metadata"]["annotations"];
    assert_eq!(a["argocd.argoproj.io/hook"], "PostSync");
    assert_eq!(
        a["argocd.argoproj.io/hook-delete-policy"],
        "BeforeHookCreation"
    );
    assert_eq!(a["kustomize.toolkit.fluxcd.io/force"], "enabled");
    assert_eq!(a["argocd.argoproj.io/sync-wave"], "2");
    let spec = &job["spec"];
    assert_eq!(spec["backoffLimit"], 3);
    assert!(spec["activeDeadlineSeconds"].as_u64().unwrap() > 0);
    assert!(spec["ttlSecondsAfterFinished"].as_u64().unwrap() > 0);
    let pod = &spec["template"]["spec"];
    assert_eq!(pod["automountServiceAccountToken"], false);
    assert_eq!(
        pod["containers"][0]["command"],
        serde_yaml::to_value(["sh", "/topology/reconcile.sh"]).unwrap()
    );
    assert_eq!(
        pod["containers"][0]["image"], "redis:7.2.5",
        "the engine image"
    );
    // Its NetworkPolicy: out to the Redis port of the deployment's pods, and DNS.
    let policy = yaml(&dir.join("networkpolicy-orders-reconcile.yaml"));
    let ports: Vec<i64> = policy["spec"]["egress"]
        .as_sequence()
        .unwrap()
        .iter()
        .flat_map(|r| r["ports"].as_sequence().unwrap().iter())
        .map(|p| p["port"].as_i64().unwrap())
        .collect();
    assert_eq!(ports, [6379, 53, 53]);
    // Flux waits for it; Argo CD's app-of-apps does not list hooks separately.
    let flux = yaml(
        &ws.path()
            .join("output/cache/_flux/kustomization-cache-events.yaml"),
    );
    let events_job = fs::read_dir(ws.path().join("output/cache/events"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .find(|n| n.starts_with("job-"))
        .unwrap();
    assert!(
        flux["spec"]["healthChecks"]
            .as_sequence()
            .unwrap()
            .iter()
            .any(|c| c["kind"] == "Job"
                && format!("job-{}.yaml", c["name"].as_str().unwrap()) == events_job),
        "{events_job}"
    );
    // A new map is a new Job; the old one is pruned by the next build.
    edit(
        &ws.path().join("specs/payments/orders.yaml"),
        "shards: 3",
        "shards: 4",
    );
    cli(ws.path()).arg("build").assert().success();
    assert!(!job_file.exists());
    let jobs = fs::read_dir(&dir)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with("job-")
        })
        .count();
    assert_eq!(jobs, 1);
}

/// `diff` and `plan` say what they compare with before the first commit
/// and outside git too; a shallow clone's missing history is named with the
/// CI setting that fetches it.
#[test]
fn diff_and_plan_say_what_they_compare_with() {
    let ws = built_demo();
    let stderr = |args: &[&str]| {
        let a = cli(ws.path()).args(args).assert().success();
        String::from_utf8_lossy(&a.get_output().stderr).into_owned()
    };
    for command in ["diff", "plan"] {
        let text = stderr(&[command]);
        assert!(
            text.contains(&format!(
                "{command}: not in a git repository: comparing with output as it is on disk"
            )),
            "{text}"
        );
    }
    git(ws.path(), &["init", "-q"]);
    for command in ["diff", "plan"] {
        let text = stderr(&[command]);
        assert!(
            text.contains(&format!(
                "{command}: no commit yet: comparing with output as it is on disk"
            )),
            "{text}"
        );
    }
    git(ws.path(), &["add", "."]);
    git(ws.path(), &["commit", "-qm", "one"]);
    edit(
        &ws.path().join("specs/payments/orders.yaml"),
        "shards: 3",
        "shards: 4",
    );
    cli(ws.path()).arg("build").assert().success();
    git(ws.path(), &["commit", "-qam", "two"]);
    let shallow = tempfile::tempdir().unwrap();
    let url = format!("file://{}", ws.path().display());
    git(shallow.path(), &["clone", "-q", "--depth", "1", &url, "c"]);
    let clone = shallow.path().join("c");
    let a = cli(&clone)
        .args(["diff", "--from-git", "HEAD~1"])
        .assert()
        .code(2);
    let text = String::from_utf8_lossy(&a.get_output().stderr);
    assert!(
        text.contains("shallow clone") && text.contains("fetch-depth: 0"),
        "{text}"
    );
}
