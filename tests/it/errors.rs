//! Error messages, exactly as a user sees them: one case per validation
//! rule in `tests/errors/`, each snapshot reviewed like code.

use std::fs;

use crate::common::{cli, tree};

/// Runs `validate` on a workspace holding `text` as `specs/<name>`; returns stderr.
fn validate(name: &str, text: &[u8]) -> String {
    let tmp = tempfile::tempdir().unwrap();
    fs::create_dir_all(tmp.path().join("specs")).unwrap();
    fs::write(tmp.path().join("specs").join(name), text).unwrap();
    let stderr = validate_fails(tmp.path());
    // And build writes nothing.
    cli(tmp.path()).arg("build").assert().code(2);
    assert!(!tmp.path().join("output").exists());
    stderr
}

/// Runs `validate` in `dir`, expects exit 2 within a minute (a loop on bad
/// input fails the test instead of hanging it), returns stderr.
fn validate_fails(dir: &std::path::Path) -> String {
    let out = cli(dir)
        .arg("validate")
        .timeout(std::time::Duration::from_secs(60))
        .assert()
        .code(2)
        .get_output()
        .stderr
        .clone();
    String::from_utf8(out).unwrap()
}

#[test]
fn error_messages() {
    insta::glob!("../errors", "*.yaml", |path| {
        let name = path.file_name().unwrap().to_str().unwrap();
        let stderr = validate(name, &fs::read(path).unwrap());
        insta::assert_snapshot!(stderr);
    });
}

#[test]
fn unknown_field_reads_like_a_compiler_error() {
    let stderr = validate(
        "orders.yaml",
        &fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/errors/unknown-field.yaml"
        ))
        .unwrap(),
    );
    let expected = "specs/orders.yaml:8:3: error: unknown field 'shard'; did you mean 'shards'?\n";
    assert!(stderr.starts_with(expected), "{stderr}");
    assert!(stderr.contains("8 |   shard: 3\n"), "{stderr}");
    assert!(stderr.contains("  |   ^"), "{stderr}");
}

#[test]
fn config_typos_suggest_the_real_directive() {
    let stderr = validate(
        "c.yaml",
        &fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/errors/config-did-you-mean.yaml"
        ))
        .unwrap(),
    );
    assert!(stderr.contains("specs/c.yaml:10:5: error: 'rdb-compression' is not a redis 7.2 directive; did you mean 'rdbcompression'?"), "{stderr}");
    assert!(stderr.contains("specs/c.yaml:11:5: error: 'aof-enabled' is not a redis 7.2 directive; did you mean 'appendonly'?"), "{stderr}");
    assert!(
        stderr.contains("error: 2 errors; nothing was written"),
        "{stderr}"
    );
}

#[test]
fn all_errors_of_all_specs_are_reported_in_one_run() {
    let tmp = tempfile::tempdir().unwrap();
    let specs = tmp.path().join("specs/team");
    fs::create_dir_all(&specs).unwrap();
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/errors/");
    for case in ["maxmemory-policy", "sentinel-quorum", "capacity"] {
        fs::copy(
            format!("{dir}{case}.yaml"),
            specs.join(format!("{case}.yaml")),
        )
        .unwrap();
    }
    let stderr = validate_fails(tmp.path());
    for needle in [
        "specs/team/capacity.yaml:",
        "specs/team/maxmemory-policy.yaml:",
        "specs/team/sentinel-quorum.yaml:",
    ] {
        assert!(stderr.contains(needle), "{needle} missing in {stderr}");
    }
}

/// A typo in a defaults file is one error, at its line: the specs below it
/// do not each report the fields that file would have given them.
#[test]
fn a_typo_in_a_defaults_file_is_reported_once_where_it_is() {
    let tmp = tempfile::tempdir().unwrap();
    let team = tmp.path().join("specs/team");
    fs::create_dir_all(&team).unwrap();
    fs::write(
        team.join("_defaults.yaml"),
        "metadata:\n  namespace: t\nspec:\n  persistance: rdb\n  version: \"7.2.5\"\n",
    )
    .unwrap();
    for n in ["a", "b"] {
        fs::write(
            team.join(format!("{n}.yaml")),
            format!(
                "apiVersion: redis-gitops/v1\nkind: Redis\nmetadata: {{name: {n}}}\nspec: {{}}\n"
            ),
        )
        .unwrap();
    }
    let stderr = validate_fails(tmp.path());
    let errors: Vec<&str> = stderr.lines().filter(|l| l.contains("error")).collect();
    assert_eq!(
        errors,
        [
            "specs/team/_defaults.yaml:4:3: error: unknown field 'persistance'; did you mean 'persistence'?",
            "error: 1 error; nothing was written"
        ],
        "{stderr}"
    );
}

#[test]
fn an_error_in_a_defaults_file_points_at_the_defaults_file() {
    let tmp = tempfile::tempdir().unwrap();
    let specs = tmp.path().join("specs/team");
    fs::create_dir_all(&specs).unwrap();
    fs::write(
        tmp.path().join("specs/_defaults.yaml"),
        "metadata:\n  namespace: team\nspec:\n  version: \"7.2.5\"\n  maxmemoryPolicy: lru\n",
    )
    .unwrap();
    fs::write(specs.join("a.yaml"), "apiVersion: redis-gitops/v1\nkind: Redis\nmetadata: {name: a}\nspec:\n  resources: {limits: {memory: 1Gi}}\n").unwrap();
    let stderr = validate_fails(tmp.path());
    assert!(
        stderr.starts_with("specs/_defaults.yaml:5:20: error: unknown value 'lru'"),
        "{stderr}"
    );
    assert_eq!(
        stderr.matches("error:").count(),
        2,
        "one error and the summary: {stderr}"
    );
}

#[test]
fn defaults_cascade_nearest_wins_maps_merge_lists_replace() {
    let tmp = tempfile::tempdir().unwrap();
    let s = tmp.path().join("specs");
    fs::create_dir_all(s.join("team/sub")).unwrap();
    fs::write(s.join("_defaults.yaml"), "metadata:\n  namespace: outer\n  labels: {a: outer, b: outer}\nspec:\n  version: \"7.0.15\"\n  config: {hz: \"10\", maxclients: \"100\"}\n  scheduling:\n    tolerations: [{key: outer, operator: Exists}]\n").unwrap();
    fs::write(s.join("team/_defaults.yaml"), "metadata:\n  namespace: inner\n  labels: {b: inner}\nspec:\n  config: {hz: \"15\"}\n  scheduling:\n    tolerations: [{key: inner, operator: Exists}]\n").unwrap();
    fs::write(s.join("team/sub/x.yaml"), "apiVersion: redis-gitops/v1\nkind: Redis\nmetadata: {name: x, labels: {c: own}}\nspec:\n  config: {maxclients: \"5\"}\n  resources: {limits: {memory: 1Gi}}\n").unwrap();
    cli(tmp.path()).arg("build").assert().success();
    let files = tree(&tmp.path().join("output"));
    let sts =
        String::from_utf8(files[std::path::Path::new("team/sub/x/statefulset-x.yaml")].clone())
            .unwrap();
    let doc: serde_yaml::Value = serde_yaml::from_str(&sts).unwrap();
    assert_eq!(
        doc["metadata"]["namespace"], "inner",
        "nearest defaults win"
    );
    assert_eq!(doc["metadata"]["labels"]["a"], "outer", "maps merge deeply");
    assert_eq!(doc["metadata"]["labels"]["b"], "inner");
    assert_eq!(doc["metadata"]["labels"]["c"], "own");
    let tolerations = doc["spec"]["template"]["spec"]["tolerations"]
        .as_sequence()
        .unwrap();
    assert_eq!(tolerations.len(), 1, "lists replace");
    assert_eq!(tolerations[0]["key"], "inner");
    let cm = String::from_utf8(
        files[std::path::Path::new("team/sub/x/configmap-x-config.yaml")].clone(),
    )
    .unwrap();
    assert!(cm.contains("hz 15\\n") || cm.contains("hz 15\n"), "{cm}");
    assert!(
        cm.contains("maxclients 5"),
        "the spec's own value wins: {cm}"
    );
}

#[test]
fn duplicate_deployments_are_reported_at_the_second() {
    let tmp = tempfile::tempdir().unwrap();
    let s = tmp.path().join("specs");
    fs::create_dir_all(s.join("b")).unwrap();
    let spec = "apiVersion: redis-gitops/v1\nkind: Redis\nmetadata: {name: x, namespace: n}\nspec:\n  version: \"7.2.5\"\n  resources: {limits: {memory: 1Gi}}\n";
    fs::write(s.join("a.yaml"), spec).unwrap();
    fs::write(s.join("b/a.yaml"), spec).unwrap();
    let stderr = validate_fails(tmp.path());
    assert!(
        stderr.starts_with("specs/b/a.yaml:3:18: error: 'x' in namespace 'n' is defined twice"),
        "{stderr}"
    );
}

#[test]
fn non_utf8_and_empty_inputs_are_errors_not_panics() {
    let stderr = validate("bin.yaml", b"apiVersion: redis-gitops/v1\nkind: \xff\xfe\n");
    assert!(
        stderr.starts_with("specs/bin.yaml:2:7: error: file is not valid UTF-8"),
        "{stderr}"
    );
}

/// A damaged committed slot map is state that cannot be trusted: build and
/// check stop naming the file and the fault, and build writes nothing.
#[test]
fn a_damaged_committed_slot_map_stops_build_and_check() {
    let ws = crate::common::built_demo();
    let map = ws
        .path()
        .join("output/payments/orders/configmap-orders-topology.yaml");
    let good = fs::read_to_string(&map).unwrap();
    for (damage, expected) in [
        (
            good.replace("    1 5461 10922\n", ""),
            "slot 5461 has no owner",
        ),
        (
            good.replace("    1 5461 10922\n", "    1 5461 10923\n"),
            "slot 10923 is owned twice",
        ),
        (good.replace("  slots: |", "  slot: |"), "no data.slots"),
        (good.replace("data:\n", "data: [\n"), "not valid YAML"),
    ] {
        assert_ne!(damage, good);
        fs::write(&map, &damage).unwrap();
        let before = tree(&ws.path().join("output"));
        for cmd in ["build", "check"] {
            let out = cli(ws.path())
                .arg(cmd)
                .assert()
                .code(2)
                .get_output()
                .stderr
                .clone();
            let stderr = String::from_utf8(out).unwrap();
            assert!(
                stderr.contains("cannot read the committed slot map in 'output/payments/orders/configmap-orders-topology.yaml'")
                    && stderr.contains(expected),
                "{cmd}: {stderr}"
            );
        }
        assert_eq!(tree(&ws.path().join("output")), before, "nothing written");
    }
}

/// Every value of the wrong kind in a file is reported, up to 20; past
/// 64 KiB (no spec is that long) only the first, so a huge file costs one
/// parse, not one per error.
#[test]
fn values_of_the_wrong_kind_are_all_reported_within_bounds() {
    let head =
        "apiVersion: redis-gitops/v1\nkind: Redis\nmetadata: {name: a, namespace: t}\nspec:\n";
    let tmp = tempfile::tempdir().unwrap();
    fs::create_dir_all(tmp.path().join("specs")).unwrap();
    let bad: String = (0..30).map(|i| format!("  labels{i}: [x]\n")).collect();
    fs::write(tmp.path().join("specs/a.yaml"), format!("{head}{bad}")).unwrap();
    let stderr = validate_fails(tmp.path());
    assert_eq!(
        stderr.matches(": error: unknown field").count(),
        20,
        "{stderr}"
    );
    let padding: String = (0..3000)
        .map(|i| format!("# padding line {i:05} of a very long file\n"))
        .collect();
    fs::write(
        tmp.path().join("specs/a.yaml"),
        format!("{head}  shards: three\n  replicas: x\n{padding}"),
    )
    .unwrap();
    let stderr = validate_fails(tmp.path());
    assert!(
        stderr.contains("got 'three'") && !stderr.contains("got 'x'"),
        "{stderr}"
    );
    // A quote inside a plain scalar of a collection being read past (once
    // an endless loop).
    fs::write(
        tmp.path().join("specs/a.yaml"),
        format!("{head}  scheduling: {{tolerations: {{key: it's}}}}\n  shards: x\n"),
    )
    .unwrap();
    let stderr = validate_fails(tmp.path());
    assert!(
        stderr.contains("expected a list") && stderr.contains("got 'x'"),
        "{stderr}"
    );
}
