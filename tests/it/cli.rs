//! The commands as a user runs them: build, check, validate, init, schema.

use std::fs;

use crate::common::{built_demo, cli, demo_specs, tree, workspace};

#[test]
fn committed_demo_output_is_fresh() {
    cli(&crate::common::root()).arg("check").assert().code(0);
}

#[test]
fn build_twice_writes_nothing_the_second_time() {
    let ws = built_demo();
    let first = tree(&ws.path().join("output"));
    let out = cli(ws.path())
        .arg("build")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let out = String::from_utf8(out).unwrap();
    assert!(
        out.contains(" 0 written, ") && out.contains(" 0 removed"),
        "{out}"
    );
    assert_eq!(first, tree(&ws.path().join("output")));
}

#[test]
fn output_does_not_depend_on_spec_order() {
    let a = built_demo();
    // The same specs, files created in reverse order and the documents of the
    // multi-document file swapped.
    let b = tempfile::tempdir().unwrap();
    let mut files: Vec<_> = walkdir::WalkDir::new(demo_specs())
        .into_iter()
        .map(Result::unwrap)
        .filter(|e| e.file_type().is_file())
        .collect();
    files.reverse();
    for f in files {
        let rel = f.path().strip_prefix(demo_specs()).unwrap();
        let target = b.path().join("specs").join(rel);
        fs::create_dir_all(target.parent().unwrap()).unwrap();
        let text = fs::read_to_string(f.path()).unwrap();
        let docs: Vec<&str> = text.split("\n---\n").collect();
        let swapped = docs
            .iter()
            .rev()
            .copied()
            .collect::<Vec<_>>()
            .join("\n---\n");
        fs::write(target, swapped).unwrap();
    }
    cli(b.path()).arg("build").assert().success();
    assert_eq!(
        tree(&a.path().join("output")),
        tree(&b.path().join("output"))
    );
}

/// `--specs` and `--output` spelled every way people spell them give the
/// same bytes: the spec's path relative to its folder is all that counts.
#[test]
fn output_does_not_depend_on_how_the_paths_are_spelled() {
    let a = built_demo();
    let expected = tree(&a.path().join("output"));
    let ws = workspace(&demo_specs());
    let abs = ws.path().to_string_lossy().into_owned();
    for (specs, output) in [
        ("./specs", "./output"),
        ("specs/", "output/"),
        (&*format!("{abs}/specs"), "output"),
        (&*format!("{abs}/./specs/"), "./output/"),
        ("specs/../specs", "output"),
        ("./specs/cache/..", "output"),
    ] {
        let _ = fs::remove_dir_all(ws.path().join("output"));
        cli(ws.path())
            .args(["build", "--specs", specs, "--output", output])
            .assert()
            .success();
        assert_eq!(
            tree(&ws.path().join("output")),
            expected,
            "build --specs {specs} --output {output} differs"
        );
        cli(ws.path()).arg("check").assert().success();
    }
    // The folders given before the command name, as with a global option;
    // after it they win.
    let _ = fs::remove_dir_all(ws.path().join("output"));
    cli(ws.path())
        .args(["--specs", "nowhere", "--output", "./output/", "build"])
        .args(["--specs", "specs"])
        .assert()
        .success();
    assert!(
        tree(&ws.path().join("output")) == expected,
        "--output before build"
    );
}

#[test]
fn check_reports_stale_missing_and_extra_and_build_prunes_only_generated_files() {
    let ws = built_demo();
    let out = ws.path().join("output");
    // A hand-written file in the output folder must survive everything.
    fs::write(out.join("payments/README.md"), "hand-written\n").unwrap();
    fs::write(
        out.join("payments/orders/notes.yaml"),
        "# mine\nkey: value\n",
    )
    .unwrap();
    cli(ws.path()).arg("check").assert().code(0);

    // Edit a spec: its files go stale.
    let spec = ws.path().join("specs/payments/sessions.yaml");
    let text = fs::read_to_string(&spec)
        .unwrap()
        .replace("maxmemory: 1536Mi", "maxmemory: 1Gi");
    fs::write(&spec, text).unwrap();
    // Remove a spec: its files are extra.
    fs::remove_file(ws.path().join("specs/cache/page-cache.yaml")).unwrap();
    let assert = cli(ws.path()).arg("check").assert().code(1);
    let stdout = String::from_utf8(assert.get_output().stdout.clone()).unwrap();
    assert!(
        stdout.contains("stale    output/payments/sessions/configmap-sessions-config.yaml"),
        "{stdout}"
    );
    assert!(
        stdout.contains("extra    output/cache/page-cache/statefulset-page-cache.yaml"),
        "{stdout}"
    );

    cli(ws.path()).arg("build").assert().success();
    cli(ws.path()).arg("check").assert().code(0);
    assert!(
        !out.join("cache/page-cache").exists(),
        "folder of a removed spec is pruned"
    );
    assert_eq!(
        fs::read_to_string(out.join("payments/README.md")).unwrap(),
        "hand-written\n"
    );
    assert!(out.join("payments/orders/notes.yaml").exists());
    let conf =
        fs::read_to_string(out.join("payments/sessions/configmap-sessions-config.yaml")).unwrap();
    assert!(conf.contains("maxmemory 1073741824"), "1Gi in bytes");
}

#[test]
fn build_refuses_to_overwrite_a_hand_written_file() {
    let ws = workspace(&demo_specs());
    let path = ws.path().join("output/cache/pinned/service-pinned.yaml");
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(&path, "apiVersion: v1\nkind: Service\n").unwrap();
    let assert = cli(ws.path()).arg("build").assert().code(2);
    let stderr = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
    assert!(
        stderr.contains("was not generated by redis-gitops; refusing to overwrite it"),
        "{stderr}"
    );
    assert_eq!(
        fs::read_to_string(&path).unwrap(),
        "apiVersion: v1\nkind: Service\n"
    );
    assert_eq!(
        tree(&ws.path().join("output")).len(),
        1,
        "nothing else written"
    );
}

#[test]
fn errors_write_nothing() {
    let ws = workspace(&demo_specs());
    let spec = ws.path().join("specs/payments/orders.yaml");
    let text = fs::read_to_string(&spec)
        .unwrap()
        .replace("shards: 3", "shard: 3");
    fs::write(&spec, text).unwrap();
    cli(ws.path()).arg("build").assert().code(2);
    assert!(!ws.path().join("output").exists());
}

#[test]
fn every_generated_file_has_the_header_sorted_keys_and_no_nulls_or_empty_collections() {
    let ws = built_demo();
    for (path, bytes) in tree(&ws.path().join("output")) {
        let text = String::from_utf8(bytes).unwrap();
        crate::common::assert_sorted_keys(&path.display().to_string(), &text);
        assert!(
            text.starts_with("# Generated by redis-gitops from specs/")
                || text.starts_with("# Generated by redis-gitops from the specs in specs/"),
            "{}",
            path.display()
        );
        for bad in [": null", ": {}", ": []", ": ~"] {
            assert!(
                !text.lines().any(|l| l.trim_end().ends_with(bad)),
                "{} contains '{bad}'",
                path.display()
            );
        }
    }
}

#[test]
fn init_writes_a_starter_that_validates_for_every_mode() {
    for mode in ["standalone", "sentinel", "cluster"] {
        let tmp = tempfile::tempdir().unwrap();
        cli(tmp.path())
            .args(["init", "starter", "--mode", mode, "--namespace", "team-a"])
            .assert()
            .success();
        assert!(tmp.path().join("specs/starter.yaml").exists());
        cli(tmp.path()).arg("validate").assert().code(0);
        cli(tmp.path()).arg("build").assert().code(0);
        // Never overwrites.
        let again = cli(tmp.path())
            .args(["init", "starter", "--namespace", "team-a"])
            .assert()
            .code(2);
        assert!(String::from_utf8_lossy(&again.get_output().stderr).contains("already exists"));
    }
}

/// `init` into a folder with a `_defaults.yaml` leaves out what it sets,
/// so the defaults keep applying, and says so.
#[test]
fn init_leaves_out_what_the_folders_defaults_set() {
    let ws = tempfile::tempdir().unwrap();
    let team = ws.path().join("specs/team");
    fs::create_dir_all(&team).unwrap();
    fs::write(
        team.join("_defaults.yaml"),
        "metadata:\n  namespace: payments\nspec:\n  version: \"7.2.5\"\n  resources: {limits: {memory: 2Gi}}\n",
    )
    .unwrap();
    cli(ws.path())
        .args([
            "init",
            "orders",
            "--mode",
            "cluster",
            "--file",
            "specs/team/orders.yaml",
        ])
        .assert()
        .success();
    let text = fs::read_to_string(team.join("orders.yaml")).unwrap();
    for gone in [
        "namespace:",
        "version:",
        "resources:",
        "requests:",
        "limits:",
    ] {
        assert!(!text.contains(gone), "{gone} in\n{text}");
    }
    assert!(
        text.contains(
            "  # from specs/team/_defaults.yaml: metadata.namespace, spec.version, spec.resources\n"
        ),
        "{text}"
    );
    cli(ws.path()).arg("build").assert().success();
    let sts = fs::read_to_string(
        ws.path()
            .join("output/team/orders/statefulset-orders-shard-0.yaml"),
    )
    .unwrap();
    assert!(sts.contains("namespace: payments"), "{sts}");
    assert!(sts.contains("memory: 2Gi"), "{sts}");
    // A namespace given on the command line is written.
    cli(ws.path())
        .args([
            "init",
            "cache",
            "--namespace",
            "other",
            "--file",
            "specs/team/cache.yaml",
        ])
        .assert()
        .success();
    let text = fs::read_to_string(team.join("cache.yaml")).unwrap();
    assert!(text.contains("  namespace: other\n"), "{text}");
}

/// `init` run from a folder below specs/ writes there, with that folder's
/// defaults; `--file` is relative to where it runs; with no namespace
/// anywhere it asks for one instead of inventing it.
#[test]
fn init_writes_into_the_folder_it_is_run_from() {
    let ws = crate::common::workspace(&crate::common::demo_specs());
    let payments = ws.path().join("specs/payments");
    let a = cli(&payments)
        .args(["init", "ledger", "--mode", "sentinel"])
        .assert()
        .success();
    assert_eq!(
        String::from_utf8_lossy(&a.get_output().stdout),
        "wrote specs/payments/ledger.yaml\n"
    );
    let text = fs::read_to_string(payments.join("ledger.yaml")).unwrap();
    assert!(
        !text.contains("namespace:"),
        "payments/_defaults.yaml sets it:\n{text}"
    );
    assert!(
        text.contains(
            "# from specs/payments/_defaults.yaml, specs/_defaults.yaml: metadata.namespace"
        ),
        "{text}"
    );
    cli(&payments)
        .args(["init", "wallet", "--file", "wallet.yaml"])
        .assert()
        .success();
    assert!(payments.join("wallet.yaml").exists());
    cli(ws.path()).arg("build").assert().success();
    assert!(
        ws.path()
            .join("output/payments/ledger/statefulset-ledger.yaml")
            .exists()
    );
    // No namespace in any defaults file and none given.
    let bare = tempfile::tempdir().unwrap();
    fs::create_dir_all(bare.path().join("specs")).unwrap();
    let a = cli(bare.path()).args(["init", "orders"]).assert().code(2);
    let err = String::from_utf8_lossy(&a.get_output().stderr);
    assert!(
        err.contains("no namespace for 'orders': pass --namespace"),
        "{err}"
    );
    assert!(!bare.path().join("specs/orders.yaml").exists());
}

/// What a Helm user reaches for on day one: machine-readable `validate` and
/// `check`, completions, a man page, and exit codes in every `--help`.
#[test]
fn validate_and_check_speak_json_and_github_and_help_names_exit_codes() {
    let ws = crate::common::workspace(&crate::common::demo_specs());
    let out = |args: &[&str], code: i32| {
        let a = cli(ws.path()).args(args).assert().code(code);
        String::from_utf8(a.get_output().stdout.clone()).unwrap()
    };
    let v: serde_json::Value =
        serde_json::from_str(&out(&["validate", "--format", "json"], 0)).unwrap();
    assert_eq!(
        (v["valid"].as_bool(), v["specs"].as_u64()),
        (Some(true), Some(6)),
        "{v}"
    );
    cli(ws.path()).arg("build").assert().success();
    let v: serde_json::Value =
        serde_json::from_str(&out(&["check", "--format", "json"], 0)).unwrap();
    assert_eq!(v["fresh"], true, "{v}");
    fs::write(
        ws.path().join("specs/payments/orders.yaml"),
        fs::read_to_string(ws.path().join("specs/payments/orders.yaml"))
            .unwrap()
            .replace("shards: 3", "shards: 4"),
    )
    .unwrap();
    let v: serde_json::Value =
        serde_json::from_str(&out(&["check", "--format", "json"], 1)).unwrap();
    assert_eq!(v["fresh"], false);
    assert!(
        v["stale"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p == "output/payments/orders/configmap-orders-topology.yaml"),
        "{v}"
    );
    assert!(
        v["missing"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p == "output/payments/orders/statefulset-orders-shard-3.yaml"),
        "{v}"
    );
    let gh = out(&["check", "--format", "github"], 1);
    assert!(
        gh.lines().all(|l| l.starts_with("::error file=output/")),
        "{gh}"
    );

    fs::write(ws.path().join("specs/bad.yaml"), "apiVersion: redis-gitops/v1\nkind: Redis\nmetadata: {name: b, namespace: b}\nspec:\n  shard: 3\n").unwrap();
    let v: serde_json::Value =
        serde_json::from_str(&out(&["validate", "--format", "json"], 2)).unwrap();
    assert_eq!(v["valid"], false);
    let d = &v["diagnostics"][0];
    assert_eq!(
        (d["file"].as_str(), d["line"].as_u64(), d["column"].as_u64()),
        (Some("specs/bad.yaml"), Some(5), Some(3)),
        "{v}"
    );
    assert!(
        d["message"]
            .as_str()
            .unwrap()
            .contains("unknown field 'shard'"),
        "{v}"
    );
    let v: serde_json::Value =
        serde_json::from_str(&out(&["check", "--format", "json"], 2)).unwrap();
    assert_eq!(v["fresh"], false);
    assert!(!v["diagnostics"].as_array().unwrap().is_empty(), "{v}");
    let gh = out(&["validate", "--format", "github"], 2);
    assert!(
        gh.starts_with("::error file=specs/bad.yaml,line=5,col=3::unknown field 'shard'"),
        "{gh}"
    );

    assert!(out(&["completions", "bash"], 0).contains("redis-gitops"));
    assert!(out(&["completions", "zsh"], 0).contains("#compdef redis-gitops"));
    let man = out(&["man"], 0);
    assert!(
        man.contains(".TH redis-gitops 1") && man.contains("plan"),
        "{man}"
    );
    for command in [
        "build",
        "check",
        "diff",
        "plan",
        "validate",
        "schema",
        "init",
        "completions",
        "man",
    ] {
        let help = out(&[command, "--help"], 0);
        assert!(help.contains("Exit status: 0"), "{command} --help");
        // Only commands that work on a project take its folders.
        let project = !matches!(command, "schema" | "completions" | "man");
        for option in ["--specs", "--output", "--templates"] {
            assert_eq!(help.contains(option), project, "{command} --help: {option}");
        }
    }
}

/// `metrics.serviceMonitorLabels` (the demo's payments defaults set
/// `release: kube-prometheus-stack`) label the ServiceMonitor and the
/// PrometheusRule, which kube-prometheus-stack selects by that label.
#[test]
fn service_monitor_labels_reach_the_monitoring_objects() {
    let ws = built_demo();
    for file in ["servicemonitor-orders.yaml", "prometheusrule-orders.yaml"] {
        let text = fs::read_to_string(ws.path().join("output/payments/orders").join(file)).unwrap();
        let v: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
        assert_eq!(
            v["metadata"]["labels"]["release"], "kube-prometheus-stack",
            "{file}"
        );
    }
}

#[test]
fn committed_schema_matches_the_spec_types() {
    let out = cli(&crate::common::root())
        .arg("schema")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let committed =
        fs::read(crate::common::root().join("schema/redis-gitops.schema.json")).unwrap();
    assert!(
        out == committed,
        "schema/redis-gitops.schema.json is stale: run `redis-gitops schema > schema/redis-gitops.schema.json`"
    );
    let schema: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let spec = &schema["$defs"]["Spec"];
    assert_eq!(
        spec["additionalProperties"], false,
        "unknown fields are rejected"
    );
    assert!(
        spec["properties"]["replicasPerShard"]["description"]
            .as_str()
            .unwrap()
            .contains("replicas")
    );
}

#[test]
fn templates_can_be_overridden_by_file_name() {
    let ws = workspace(&demo_specs());
    let templates = ws.path().join("my-templates");
    fs::create_dir_all(&templates).unwrap();
    fs::write(
        templates.join("probe.sh.j2"),
        "#!/bin/sh\n# custom probe for {{ name }}\nexit 0\n",
    )
    .unwrap();
    cli(ws.path())
        .args(["build", "--templates", "my-templates"])
        .assert()
        .success();
    let out = ws.path().join("output");
    let cm = fs::read_to_string(out.join("cache/pinned/configmap-pinned-config.yaml")).unwrap();
    assert!(cm.contains("# custom probe for pinned"), "{cm}");
    // Templates not overridden stay the built-in ones.
    assert!(cm.contains("exec redis-server"), "{cm}");
    // The same override must be given to check, or the output is stale.
    cli(ws.path())
        .args(["check", "--templates", "my-templates"])
        .assert()
        .code(0);
    cli(ws.path()).arg("check").assert().code(1);
}

/// A typo in `--templates` or in an override's file name is an error that
/// names it, not a silent fall-back to the built-in templates.
#[test]
fn a_missing_templates_folder_or_an_unknown_template_file_is_an_error() {
    let ws = workspace(&demo_specs());
    let out = cli(ws.path())
        .args(["build", "--templates", "my-templatse"])
        .assert()
        .code(2);
    let err = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    assert_eq!(err, "error: --templates my-templatse: no such folder\n");
    let templates = ws.path().join("my-templates");
    fs::create_dir_all(&templates).unwrap();
    fs::write(templates.join("start-redis.j2"), "#!/bin/sh\n").unwrap();
    let out = cli(ws.path())
        .args(["build", "--templates", "my-templates"])
        .assert()
        .code(2);
    let err = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    assert!(
        err.contains(
            "'my-templates/start-redis.j2' is not a template; did you mean 'start-redis.sh.j2'?"
        ),
        "{err}"
    );
    assert!(err.contains("nothing was written"), "{err}");
    assert!(!ws.path().join("output").exists());
}

#[test]
fn an_output_folder_inside_the_specs_folder_or_around_it_is_refused() {
    let ws = workspace(&demo_specs());
    let before = tree(&ws.path().join("specs"));
    for (specs, output) in [
        ("specs", "specs/output"),
        ("specs", "."),
        ("./specs/", "./specs/../specs"),
    ] {
        let out = cli(ws.path())
            .args(["build", "--specs", specs, "--output", output])
            .assert()
            .code(2);
        let err = String::from_utf8(out.get_output().stderr.clone()).unwrap();
        assert!(
            err.contains("are inside one another"),
            "{specs} {output}: {err}"
        );
        assert!(err.contains("nothing was written"), "{err}");
    }
    assert_eq!(tree(&ws.path().join("specs")), before);
    assert!(!ws.path().join("output").exists());
}

/// `--quiet` means the same for every command: nothing on stdout or
/// stderr but errors, the exit code tells.
#[test]
fn quiet_means_the_same_for_every_command() {
    let ws = built_demo();
    // A change the specs make: check stale, diff and plan see it.
    let orders = ws.path().join("specs/payments/orders.yaml");
    let text = fs::read_to_string(&orders).unwrap();
    fs::write(&orders, text.replacen("shards: 3", "shards: 4", 1)).unwrap();
    for (args, code) in [
        (&["validate", "--quiet"][..], 0),
        (&["check", "--quiet"], 1),
        (&["diff", "--quiet", "--exit-code"], 1),
        (&["diff", "-q", "--format", "json"], 0),
        (&["plan", "--quiet"], 0),
        (&["plan", "-q", "--format", "markdown"], 0),
        (&["build", "--quiet"], 0),
        (&["check", "-q"], 0),
    ] {
        let out = cli(ws.path()).args(args).assert().code(code);
        let o = out.get_output();
        assert!(
            o.stdout.is_empty(),
            "{args:?} printed {}",
            String::from_utf8_lossy(&o.stdout)
        );
        assert!(
            o.stderr.is_empty(),
            "{args:?} printed {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    // Errors still print.
    fs::write(
        &orders,
        "apiVersion: redis-gitops/v1\nkind: Redis\nmetadata: {name: x}\nspec: {shard: 3}\n",
    )
    .unwrap();
    let out = cli(ws.path()).args(["check", "--quiet"]).assert().code(2);
    assert!(!out.get_output().stderr.is_empty());
}

/// The largest cluster validation accepts (1000 nodes) renders, and no
/// object exceeds what the API server stores (1 MiB; the topology
/// ConfigMap is the largest).
#[test]
fn the_largest_accepted_cluster_fits_the_api_server() {
    let ws = tempfile::tempdir().unwrap();
    fs::create_dir_all(ws.path().join("specs")).unwrap();
    fs::write(
        ws.path().join("specs/big.yaml"),
        "apiVersion: redis-gitops/v1\nkind: Redis\nmetadata: {name: big, namespace: t}\n\
         spec:\n  mode: cluster\n  version: \"7.2.5\"\n  shards: 500\n  replicasPerShard: 1\n  \
         resources: {limits: {memory: 1Gi}}\n  storage: {size: 1Gi}\n  auth: {secretName: big}\n  \
         metrics: {enabled: true, serviceMonitor: true, prometheusRule: true}\n",
    )
    .unwrap();
    cli(ws.path()).arg("build").assert().success();
    let files = tree(&ws.path().join("output"));
    assert!(files.len() > 1000, "{} files", files.len());
    let (largest, size) = files
        .iter()
        .map(|(p, b)| (p.clone(), b.len()))
        .max_by_key(|(_, n)| *n)
        .unwrap();
    assert!(size < 1 << 20, "{} is {size} bytes", largest.display());
    let topology = &files[std::path::Path::new("big/configmap-big-topology.yaml")];
    assert!(topology.len() < 1 << 20);
    println!(
        "largest object {} ({size} bytes); topology {} bytes",
        largest.display(),
        topology.len()
    );
}

/// Errors of templates and git revisions read once, in the user's words.
#[test]
fn template_and_revision_errors_read_once_without_internals() {
    let ws = workspace(&demo_specs());
    let templates = ws.path().join("tpl");
    fs::create_dir_all(&templates).unwrap();
    fs::write(templates.join("probe.sh.j2"), "{{ nope }\n").unwrap();
    let out = cli(ws.path())
        .args(["build", "--templates", "tpl"])
        .assert()
        .code(2);
    let err = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    assert_eq!(
        err,
        "error: template 'probe.sh.j2': syntax error: unexpected `}`, expected end of variable block (in probe.sh.j2:1)\n"
    );
    crate::common::git(ws.path(), &["init", "-q"]);
    let out = cli(ws.path())
        .args(["diff", "--from-git", "nonexistent-ref"])
        .assert()
        .code(2);
    let err = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    assert_eq!(
        err,
        "error: cannot read the output at git revision 'nonexistent-ref': no such commit in this repository\n"
    );
}

#[test]
fn a_misspelt_template_variable_is_an_error_not_an_empty_string() {
    let ws = workspace(&demo_specs());
    let templates = ws.path().join("t");
    fs::create_dir_all(&templates).unwrap();
    fs::write(templates.join("redis.conf.j2"), "port {{ ports.rediss }}\n").unwrap();
    let assert = cli(ws.path())
        .args(["build", "--templates", "t"])
        .assert()
        .code(2);
    let stderr = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
    assert!(stderr.contains("template 'redis.conf.j2'"), "{stderr}");
    assert!(!ws.path().join("output").exists(), "nothing written");
}

#[test]
fn color_is_chosen_by_the_flag_and_quiet_silences_the_summary() {
    let tmp = tempfile::tempdir().unwrap();
    fs::create_dir_all(tmp.path().join("specs")).unwrap();
    fs::copy(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/errors/unknown-field.yaml"
        ),
        tmp.path().join("specs/x.yaml"),
    )
    .unwrap();
    let stderr = |color: &str| {
        let out = cli(tmp.path())
            .args(["validate", "--color", color])
            .assert()
            .code(2)
            .get_output()
            .stderr
            .clone();
        String::from_utf8(out).unwrap()
    };
    assert!(
        stderr("always").contains("\u{1b}["),
        "ANSI styling with --color always"
    );
    assert!(
        !stderr("never").contains('\u{1b}'),
        "no styling with --color never"
    );

    let ws = workspace(&demo_specs());
    let out = cli(ws.path())
        .args(["build", "--quiet"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert!(out.is_empty(), "{}", String::from_utf8_lossy(&out));
    let out = cli(ws.path())
        .arg("build")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert!(
        String::from_utf8(out)
            .unwrap()
            .contains("6 deployment(s): 0 written, 104 unchanged, 0 removed")
    );
}

/// Cluster placement: a shard's pods never share a node by default; with
/// `shardAntiAffinity: preferred` they avoid it; every pod of the
/// deployment spreads over nodes either way.
#[test]
fn shard_pods_never_share_a_node_unless_the_spec_prefers() {
    use crate::lifecycle::{cluster_spec, render};
    let affinity = |text: &str| {
        let ws = render(&[("sim/events.yaml", text)]);
        let sts: k8s_openapi::api::apps::v1::StatefulSet = serde_yaml::from_str(
            &fs::read_to_string(
                ws.path()
                    .join("output/sim/events/statefulset-events-shard-1.yaml"),
            )
            .unwrap(),
        )
        .unwrap();
        let pod = sts.spec.unwrap().template.spec.unwrap();
        let anti = pod.affinity.unwrap().pod_anti_affinity.unwrap();
        let spread_keys: Vec<String> = pod
            .topology_spread_constraints
            .unwrap()
            .into_iter()
            .map(|c| c.topology_key)
            .collect();
        (anti, spread_keys)
    };
    let shard_selector = |term: &k8s_openapi::api::core::v1::PodAffinityTerm| {
        term.label_selector
            .as_ref()
            .unwrap()
            .match_labels
            .as_ref()
            .unwrap()
            .get("redis-gitops.io/shard")
            .cloned()
    };
    let (anti, keys) = affinity(&cluster_spec("events", "redis", 3));
    let required = anti
        .required_during_scheduling_ignored_during_execution
        .unwrap();
    assert_eq!(required.len(), 1);
    assert_eq!(required[0].topology_key, "kubernetes.io/hostname");
    assert_eq!(shard_selector(&required[0]).as_deref(), Some("1"));
    assert_eq!(
        keys,
        ["topology.kubernetes.io/zone", "kubernetes.io/hostname"]
    );

    let preferred_spec = cluster_spec("events", "redis", 3).replace(
        "  mode: cluster\n",
        "  mode: cluster\n  scheduling: {shardAntiAffinity: preferred}\n",
    );
    let (anti, _) = affinity(&preferred_spec);
    assert!(
        anti.required_during_scheduling_ignored_during_execution
            .is_none()
    );
    let preferred = anti
        .preferred_during_scheduling_ignored_during_execution
        .unwrap();
    assert_eq!(
        shard_selector(&preferred[0].pod_affinity_term).as_deref(),
        Some("1")
    );
    assert_eq!(preferred[0].weight, 100);
}

/// A rotation window through External Secrets: the ExternalSecret fills the
/// previous key from the store's previous version; the pods mount the
/// previous key from an optional source (it may be removed), the current
/// one from a required source.
#[test]
fn previous_password_comes_from_the_stores_previous_version() {
    let tmp = tempfile::tempdir().unwrap();
    fs::create_dir_all(tmp.path().join("specs")).unwrap();
    fs::write(
        tmp.path().join("specs/queues.yaml"),
        "apiVersion: redis-gitops/v1\nkind: Redis\nmetadata: {name: queues, namespace: payments}\n\
         spec:\n  mode: standalone\n  version: \"7.2.5\"\n  resources: {limits: {memory: 1Gi}}\n  \
         auth:\n    secretName: queues-redis\n    previousSecretKey: previous\n    externalSecret:\n      \
         secretStoreRef: {name: aws}\n      remoteKey: payments/queues\n      previousVersion: AWSPREVIOUS\n",
    )
    .unwrap();
    cli(tmp.path()).arg("build").assert().success();
    let out = tmp.path().join("output/queues");
    let es: serde_yaml::Value = serde_yaml::from_str(
        &fs::read_to_string(out.join("externalsecret-queues-redis.yaml")).unwrap(),
    )
    .unwrap();
    let data = es["spec"]["data"].as_sequence().unwrap();
    assert_eq!(data.len(), 2, "{data:?}");
    assert_eq!(data[0]["secretKey"], "password");
    assert!(data[0]["remoteRef"].get("version").is_none());
    assert_eq!(data[1]["secretKey"], "previous");
    assert_eq!(data[1]["remoteRef"]["key"], "payments/queues");
    assert_eq!(data[1]["remoteRef"]["version"], "AWSPREVIOUS");
    let sts: serde_yaml::Value =
        serde_yaml::from_str(&fs::read_to_string(out.join("statefulset-queues.yaml")).unwrap())
            .unwrap();
    let volumes = sts["spec"]["template"]["spec"]["volumes"]
        .as_sequence()
        .unwrap();
    let auth = volumes.iter().find(|v| v["name"] == "auth").unwrap();
    let sources = auth["projected"]["sources"].as_sequence().unwrap();
    assert_eq!(sources[0]["secret"]["items"][0]["key"], "password");
    assert_eq!(sources[0]["secret"]["items"][0]["path"], "password");
    assert!(sources[0]["secret"].get("optional").is_none());
    assert_eq!(sources[1]["secret"]["items"][0]["key"], "previous");
    assert_eq!(sources[1]["secret"]["items"][0]["path"], "previous");
    assert_eq!(sources[1]["secret"]["optional"], true);
}

/// A certificate from cert-manager gets an alert a week before it expires,
/// on cert-manager's own metric for that Certificate; a Secret the user
/// names gets none (the compiler cannot know what fills it).
#[test]
fn certificate_expiry_alert_follows_cert_manager() {
    let tmp = tempfile::tempdir().unwrap();
    fs::create_dir_all(tmp.path().join("specs")).unwrap();
    let spec = |name: &str, tls: &str| {
        format!(
            "apiVersion: redis-gitops/v1\nkind: Redis\nmetadata: {{name: {name}, namespace: payments}}\n\
             spec:\n  mode: standalone\n  version: \"7.2.5\"\n  resources: {{limits: {{memory: 1Gi}}}}\n  \
             metrics: {{enabled: true, prometheusRule: true}}\n  tls: {tls}\n"
        )
    };
    fs::write(
        tmp.path().join("specs/issued.yaml"),
        spec("issued", "{certManager: {issuerRef: {name: internal-ca}}}"),
    )
    .unwrap();
    fs::write(
        tmp.path().join("specs/named.yaml"),
        spec("named", "{secretName: named-tls}"),
    )
    .unwrap();
    cli(tmp.path()).arg("build").assert().success();
    let rules = |name: &str| -> Vec<serde_yaml::Value> {
        let rule: serde_yaml::Value = serde_yaml::from_str(
            &fs::read_to_string(
                tmp.path()
                    .join(format!("output/{name}/prometheusrule-{name}.yaml")),
            )
            .unwrap(),
        )
        .unwrap();
        rule["spec"]["groups"][0]["rules"]
            .as_sequence()
            .unwrap()
            .clone()
    };
    let issued = rules("issued");
    let expiry = issued
        .iter()
        .find(|r| r["alert"] == "RedisCertificateExpiresSoon")
        .expect("an expiry alert");
    let expr = expiry["expr"].as_str().unwrap();
    assert!(
        expr.contains(
            "certmanager_certificate_expiration_timestamp_seconds{exported_namespace=\"payments\",name=\"issued-tls\"} - time() < 7 * 86400"
        ),
        "{expr}"
    );
    assert!(
        !rules("named")
            .iter()
            .any(|r| r["alert"] == "RedisCertificateExpiresSoon")
    );
}
