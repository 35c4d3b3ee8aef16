//! The rendered demo output passes the tools platform teams gate on:
//! kubernetes-validate (strict, 1.33 and 1.37), the CRD schemas in
//! ../shared/schemas, checkov, and `kubectl kustomize`.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::{built_demo, run, tool, tree};

/// Custom resources ("apiVersion kind") and their schemas in ../shared/schemas/crds.
const CUSTOM: &[(&str, &str)] = &[
    (
        "monitoring.coreos.com/v1 ServiceMonitor",
        "monitoring.coreos.com/servicemonitor_v1.json",
    ),
    (
        "monitoring.coreos.com/v1 PrometheusRule",
        "monitoring.coreos.com/prometheusrule_v1.json",
    ),
    (
        "cert-manager.io/v1 Certificate",
        "cert-manager.io/certificate_v1.json",
    ),
    (
        "external-secrets.io/v1 ExternalSecret",
        "external-secrets.io/externalsecret_v1.json",
    ),
    (
        "argoproj.io/v1alpha1 Application",
        "argoproj.io/application_v1alpha1.json",
    ),
    (
        "kustomize.toolkit.fluxcd.io/v1 Kustomization",
        "kustomize.toolkit.fluxcd.io/kustomization_v1.json",
    ),
];

/// A kustomize build file, not an object.
const KUSTOMIZE: &str = "kustomize.config.k8s.io/v1beta1 Kustomization";

/// "apiVersion kind" of the object in a file.
fn kind(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let doc: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
    format!(
        "{} {}",
        doc["apiVersion"].as_str().unwrap_or_default(),
        doc["kind"].as_str().unwrap_or_default()
    )
}

fn files(out: &Path) -> Vec<PathBuf> {
    tree(out).into_keys().map(|p| out.join(p)).collect()
}

#[test]
#[ignore = "slow group `tools`: needs kubernetes-validate, checkov, check-jsonschema, kubectl, shellcheck, PyYAML (scripts/test)"]
fn kubernetes_objects_pass_strict_validation_for_1_33_and_1_37() {
    let ws = built_demo();
    let out = ws.path().join("output");
    let objects: Vec<PathBuf> = files(&out)
        .into_iter()
        .filter(|p| {
            let k = kind(p);
            k != KUSTOMIZE && !CUSTOM.iter().any(|(c, _)| *c == k)
        })
        .collect();
    assert!(objects.len() > 40, "the demo renders many objects");
    for version in ["1.33.0", "1.37.0"] {
        let (ok, text) = run(Command::new(tool("kubernetes-validate"))
            .args(["--strict", "--no-warn", "-k", version])
            .args(&objects));
        assert!(ok, "kubernetes-validate {version}:\n{text}");
    }
}

#[test]
#[ignore = "slow group `tools`: needs kubernetes-validate, checkov, check-jsonschema, kubectl, shellcheck, PyYAML (scripts/test)"]
fn custom_resources_pass_their_crd_schemas() {
    let ws = built_demo();
    let out = ws.path().join("output");
    let schemas = crate::common::root().join("../shared/schemas/crds");
    let all = files(&out);
    let tmp = tempfile::tempdir().unwrap();
    for (k, schema) in CUSTOM {
        let mine: Vec<&PathBuf> = all.iter().filter(|p| kind(p) == *k).collect();
        assert!(!mine.is_empty(), "the demo renders a {k}");
        let mut schema_path = schemas.join(schema);
        if k.ends_with(" PrometheusRule") {
            // The catalog's PrometheusRule schema carries the pattern
            // `^(?i)(abort|warn)?$` (an inline flag ECMAScript lacks), which
            // check-jsonschema rejects as a schema before validating anything.
            // Validate against a copy with the same language spelled as classes.
            let text = std::fs::read_to_string(&schema_path).unwrap();
            let fixed = text.replace(
                "^(?i)(abort|warn)?$",
                "^([Aa][Bb][Oo][Rr][Tt]|[Ww][Aa][Rr][Nn])?$",
            );
            assert_ne!(
                text, fixed,
                "the workaround still applies; remove it if the schema changed"
            );
            schema_path = tmp.path().join("prometheusrule.json");
            std::fs::write(&schema_path, fixed).unwrap();
        }
        let (ok, text) = run(Command::new(tool("check-jsonschema"))
            .arg("--schemafile")
            .arg(&schema_path)
            .args(&mine));
        assert!(ok, "{k}:\n{text}");
    }
}

#[test]
#[ignore = "slow group `tools`: needs kubernetes-validate, checkov, check-jsonschema, kubectl, shellcheck, PyYAML (scripts/test)"]
fn checkov_fails_nothing_but_the_digest_check_and_nothing_when_pinned() {
    let ws = built_demo();
    // --skip-download: checkov works offline, as CI must.
    let output = Command::new(tool("checkov"))
        .args([
            "--skip-download",
            "--framework",
            "kubernetes",
            "-o",
            "json",
            "-d",
            "output",
        ])
        // Relative: checkov skips paths with hidden components, such as the temp dir's.
        .current_dir(ws.path())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    let report: serde_json::Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("checkov json: {e}\n{text}"));
    let reports = match report {
        serde_json::Value::Array(a) => a,
        one => vec![one],
    };
    let mut failed = Vec::new();
    let mut passed = 0;
    for r in &reports {
        passed += r["summary"]["passed"].as_u64().unwrap_or(0);
        for f in r["results"]["failed_checks"]
            .as_array()
            .into_iter()
            .flatten()
        {
            failed.push((
                f["check_id"].as_str().unwrap().to_owned(),
                f["file_path"].as_str().unwrap().to_owned(),
            ));
        }
    }
    assert!(passed > 500, "checkov ran its checks ({passed} passed)");
    for (check, file) in &failed {
        assert_eq!(check, "CKV_K8S_43", "{file} fails {check}");
        assert!(
            !file.contains("/pinned/"),
            "the digest-pinned deployment fails {check} in {file}"
        );
    }
    assert!(
        failed.iter().any(|(_, f)| f.contains("/orders/")),
        "unpinned images are reported"
    );
}

#[test]
#[ignore = "slow group `tools`: needs kubernetes-validate, checkov, check-jsonschema, kubectl, shellcheck, PyYAML (scripts/test)"]
fn kustomize_builds_every_output_folder() {
    let ws = built_demo();
    let out = ws.path().join("output");
    let folders: Vec<PathBuf> = files(&out)
        .into_iter()
        .filter(|p| p.ends_with("kustomization.yaml"))
        .map(|p| p.parent().unwrap().to_path_buf())
        .collect();
    // Six deployments, and the Argo CD and Flux entry-point folders.
    assert_eq!(folders.len(), 8);
    for folder in folders {
        let (ok, text) = run(Command::new(tool("kubectl")).arg("kustomize").arg(&folder));
        assert!(ok, "{}:\n{text}", folder.display());
        let listed = std::fs::read_dir(&folder).unwrap().count() - 1;
        assert_eq!(
            text.matches("\nkind: ").count() + usize::from(text.starts_with("kind: ")),
            listed,
            "{}",
            folder.display()
        );
    }
}

/// Argo CD compares list items field by field: a field the API server
/// defaults inside a list shows the object OutOfSync forever unless it is
/// rendered. Every default the ExternalSecret CRD gives `data[].remoteRef`
/// and `target` (read from the CRD schema, not from our code) is spelled out.
#[test]
#[ignore = "slow group `tools`: needs kubernetes-validate, checkov, check-jsonschema, kubectl, shellcheck, PyYAML (scripts/test)"]
fn external_secrets_spell_out_the_defaults_of_their_crd() {
    let ws = built_demo();
    let crd: serde_json::Value = serde_json::from_slice(
        &std::fs::read(
            crate::common::root()
                .join("../shared/schemas/crds/external-secrets.io/externalsecret_v1.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let spec = &crd["properties"]["spec"]["properties"];
    let text = std::fs::read_to_string(
        ws.path()
            .join("output/payments/orders/externalsecret-orders-redis.yaml"),
    )
    .unwrap();
    let object: serde_json::Value = serde_yaml::from_str(&text).unwrap();
    let mut checked = 0;
    for (schema, rendered) in [
        (
            &spec["data"]["items"]["properties"]["remoteRef"]["properties"],
            &object["spec"]["data"][0]["remoteRef"],
        ),
        (&spec["target"]["properties"], &object["spec"]["target"]),
    ] {
        for (field, s) in schema.as_object().unwrap() {
            if let Some(default) = s.get("default") {
                assert_eq!(&rendered[field], default, "{field} in\n{text}");
                checked += 1;
            }
        }
    }
    assert!(checked >= 5, "the CRD schema has defaults to check");
}

/// Every field a CRD defaults inside a list item that we render: Argo CD
/// compares such lists item by item, so a default the API server fills in
/// there shows the object OutOfSync forever unless it is rendered. Walks
/// each rendered custom resource along its CRD schema.
#[test]
#[ignore = "slow group `tools`: needs kubernetes-validate, checkov, check-jsonschema, kubectl, shellcheck, PyYAML (scripts/test)"]
fn no_custom_resource_leaves_a_list_item_default_to_the_api_server() {
    fn walk(
        schema: &serde_json::Value,
        value: &serde_json::Value,
        in_list: bool,
        at: &str,
        out: &mut Vec<String>,
    ) {
        if let (Some(props), Some(obj)) = (schema["properties"].as_object(), value.as_object()) {
            for (name, s) in props {
                match obj.get(name) {
                    Some(v) => walk(s, v, in_list, &format!("{at}.{name}"), out),
                    None if in_list && s.get("default").is_some() => {
                        out.push(format!("{at}.{name} (default {})", s["default"]));
                    }
                    None => {}
                }
            }
        }
        if let (Some(items), Some(list)) = (schema.get("items"), value.as_array()) {
            for (i, v) in list.iter().enumerate() {
                walk(items, v, true, &format!("{at}[{i}]"), out);
            }
        }
    }
    let ws = built_demo();
    let out = ws.path().join("output");
    let schemas = crate::common::root().join("../shared/schemas/crds");
    let all = files(&out);
    let mut missing = Vec::new();
    let mut walked = 0;
    for (k, schema) in CUSTOM {
        let schema: serde_json::Value =
            serde_json::from_slice(&std::fs::read(schemas.join(schema)).unwrap()).unwrap();
        for path in all.iter().filter(|p| kind(p) == *k) {
            let value: serde_json::Value =
                serde_yaml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
            walk(
                &schema,
                &value,
                false,
                &path.display().to_string(),
                &mut missing,
            );
            walked += 1;
        }
    }
    assert!(walked >= CUSTOM.len());
    assert!(
        missing.is_empty(),
        "defaults left to the API server:\n{}",
        missing.join("\n")
    );
}

/// The committed JSON Schema serves editors: check-jsonschema accepts
/// every document of the demo specs (defaults files included) and rejects
/// the type, enum and range errors that validation rejects.
#[test]
#[ignore = "slow group `tools`: needs kubernetes-validate, checkov, check-jsonschema, kubectl, shellcheck, PyYAML (scripts/test)"]
fn the_json_schema_accepts_the_demo_specs_and_rejects_type_and_enum_errors() {
    let root = crate::common::root();
    let schema = root.join("schema/redis-gitops.schema.json");
    let tmp = tempfile::tempdir().unwrap();
    // check-jsonschema reads one YAML document per file: split them.
    let split = |path: &Path, tag: &str| -> Vec<PathBuf> {
        let text = std::fs::read_to_string(path).unwrap();
        text.split("\n---\n")
            .enumerate()
            .map(|(i, doc)| {
                let out = tmp.path().join(format!("{tag}-{i}.yaml"));
                std::fs::write(&out, doc).unwrap();
                out
            })
            .collect()
    };
    let check = |file: &Path| {
        run(Command::new(tool("check-jsonschema"))
            .arg("--schemafile")
            .arg(&schema)
            .arg(file))
    };
    let mut accepted = 0;
    for entry in walkdir::WalkDir::new(root.join("specs")).sort_by_file_name() {
        let entry = entry.unwrap();
        if !entry.file_type().is_file() {
            continue;
        }
        let tag = entry
            .path()
            .strip_prefix(root.join("specs"))
            .unwrap()
            .to_string_lossy()
            .replace('/', "_");
        for doc in split(entry.path(), &tag) {
            let (ok, text) = check(&doc);
            assert!(ok, "{}: {text}", entry.path().display());
            accepted += 1;
        }
    }
    assert!(accepted >= 8, "{accepted} documents");
    // (error input, its documents the schema must reject)
    for (file, docs) in [
        ("shards-three.yaml", &[0][..]),
        ("storage-scalar.yaml", &[0]),
        ("version-boolean.yaml", &[0]),
        ("unknown-mode.yaml", &[0]),
        ("maxmemory-policy.yaml", &[0]),
        ("unknown-field.yaml", &[0]),
        ("limits.yaml", &[0, 1, 3]),
    ] {
        let parts = split(&root.join("tests/errors").join(file), file);
        for i in docs {
            let (ok, text) = check(&parts[*i]);
            assert!(!ok, "{file} document {i} passes the schema:\n{text}");
        }
    }
    // `required` as validation has it: a spec document names its apiVersion,
    // kind and metadata.name; a defaults document (none of them) needs none,
    // and `spec` may come from the defaults.
    for (doc, passes) in [
        (
            "apiVersion: redis-gitops/v1\nkind: Redis\nmetadata: {name: a}\n",
            true,
        ),
        (
            "metadata: {namespace: a}\nspec: {version: \"7.2.4\"}\n",
            true,
        ),
        ("apiVersion: redis-gitops/v1\nmetadata: {name: a}\n", false),
        (
            "apiVersion: redis-gitops/v1\nkind: Redis\nmetadata: {namespace: a}\n",
            false,
        ),
        ("kind: Redis\nmetadata: {name: a}\n", false),
        ("metadata: {name: a}\nspec: {version: \"7.2.4\"}\n", false),
        (
            "apiVersion: redis-gitops/v2\nkind: Redis\nmetadata: {name: a}\n",
            false,
        ),
        // No boolean where a quantity or a version is expected.
        ("spec: {resources: {limits: {memory: true}}}\n", false),
        ("spec: {resources: {requests: {cpu: false}}}\n", false),
        ("spec: {version: true}\n", false),
        ("spec: {storage: {size: true}}\n", false),
        // Closed sets validation refuses.
        (
            "spec: {gitops: {flux: {sourceRef: {kind: GitRepo, name: r}}}}\n",
            false,
        ),
        (
            "spec: {auth: {externalSecret: {secretStoreRef: {kind: Vault, name: v}}}}\n",
            false,
        ),
    ] {
        let file = tmp.path().join("required.yaml");
        std::fs::write(&file, doc).unwrap();
        let (ok, text) = check(&file);
        assert_eq!(ok, passes, "{doc}\n{text}");
    }
    // The schema's closed list of eviction policies is the servers' own
    // (the maxmemory-policy enum of the engines' config.c), plus Redis 8.6's
    // two LRM policies (from its release notes: no 8.6 source in reach).
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&schema).unwrap()).unwrap();
    let mut listed: Vec<&str> = doc["$defs"]["MaxmemoryPolicy"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    listed.sort_unstable();
    use redis_gitops::spec::directives::{Kind, table};
    use redis_gitops::spec::model::Engine;
    for (engine, version) in [
        (Engine::Redis, (7, 0)),
        (Engine::Redis, (8, 0)),
        (Engine::Valkey, (9, 1)),
    ] {
        let Some(Kind::Enum { values, .. }) = table(engine, version).get("maxmemory-policy") else {
            panic!("{engine}: maxmemory-policy is not an enum in the table")
        };
        let mut values = values.clone();
        values.extend(["allkeys-lrm", "volatile-lrm"]);
        values.sort_unstable();
        assert_eq!(listed, values, "{engine} {version:?}");
    }
}

/// Where an object of each schema definition sits under `spec:`, with what
/// it needs besides; `@` is where a field goes.
const SCHEMA_CONTEXTS: &[(&str, &str)] = &[
    ("Spec", "@"),
    ("Sentinel", "sentinel: {@}"),
    // A quorum up to 15 needs 15 sentinels.
    ("Sentinel.quorum", "sentinel: {replicas: 15@}"),
    ("Scheduling", "scheduling: {@}"),
    // Two lines: savePoints needs a persistence that snapshots.
    (
        "SavePoint",
        "persistence: rdb\n  savePoints: [{seconds: 60@}]",
    ),
    (
        "SavePoint.seconds",
        "persistence: rdb\n  savePoints: [{changes: 1@}]",
    ),
    ("Repair", "repair: {@}"),
    ("Auth", "auth: {secretName: s@}"),
    (
        "ExternalSecret",
        "auth: {secretName: s, externalSecret: {secretStoreRef: {name: st}, remoteKey: k@}}",
    ),
    (
        "StoreRef",
        "auth: {secretName: s, externalSecret: {secretStoreRef: {name: st@}, remoteKey: k}}",
    ),
    ("CertManager", "tls: {certManager: {issuerRef: {name: i}@}}"),
    ("IssuerRef", "tls: {certManager: {issuerRef: {name: i@}}}"),
    ("Gitops", "gitops: {@}"),
    (
        "ArgoCd",
        "gitops: {argocd: {repoURL: \"https://git.example.com/p.git\"@}}",
    ),
    ("Flux", "gitops: {flux: {sourceRef: {name: r}@}}"),
    ("SourceRef", "gitops: {flux: {sourceRef: {name: r@}}}"),
    (
        "Backup",
        "backup: {schedule: \"0 * * * *\", s3: {bucket: b3k, credentialsSecret: s}@}",
    ),
    (
        "S3",
        "backup: {schedule: \"0 * * * *\", s3: {bucket: b3k, credentialsSecret: s@}}",
    ),
];

/// The line under `spec:` that sets `def.field` to `value` (or, with
/// `None`, the same context without it).
fn schema_context(def: &str, field: &str, value: Option<&serde_json::Value>) -> String {
    let own = format!("{def}.{field}");
    let (_, context) = SCHEMA_CONTEXTS
        .iter()
        .find(|(d, _)| *d == own)
        .or_else(|| SCHEMA_CONTEXTS.iter().find(|(d, _)| *d == def))
        .unwrap_or_else(|| panic!("no context for {own}: add one"));
    let at = context.find('@').unwrap();
    let kv = match value {
        None => String::new(),
        Some(v) if at == 0 || context[..at].ends_with('{') => format!("{field}: {v}"),
        Some(v) => format!(", {field}: {v}"),
    };
    context.replace('@', &kv)
}

/// The deployment a minimal spec of `mode` with `line` under `spec:`
/// resolves to; None when it has an error.
fn resolve_with(mode: &str, line: &str) -> Option<redis_gitops::spec::validate::Redis> {
    use redis_gitops::spec::load::load_files;
    use redis_gitops::spec::validate::validate_all;
    let mode = if mode.is_empty() {
        String::new()
    } else {
        format!("  mode: {mode}\n")
    };
    let text = format!(
        "apiVersion: redis-gitops/v1\nkind: Redis\nmetadata: {{name: d, namespace: t}}\nspec:\n  \
         version: \"7.2.5\"\n  resources: {{limits: {{memory: 1Gi}}}}\n  storage: {{size: 1Gi}}\n{mode}  {line}\n"
    );
    let root = Path::new("/specs");
    let loaded = load_files(root, vec![(root.join("d.yaml"), text.into_bytes())]);
    let (mut valid, diags) = validate_all(&loaded.specs, &loaded.sources);
    let errors = diags
        .iter()
        .any(|d| d.severity == redis_gitops::diag::Severity::Error);
    (loaded.diagnostics.is_empty() && !errors).then(|| valid.remove(0))
}

/// Every (definition, field, property) of the committed JSON Schema.
fn schema_properties() -> Vec<(String, String, serde_json::Value)> {
    let root = crate::common::root();
    let schema: serde_json::Value = serde_json::from_slice(
        &std::fs::read(root.join("schema/redis-gitops.schema.json")).unwrap(),
    )
    .unwrap();
    let mut out = Vec::new();
    for (def, body) in schema["$defs"].as_object().unwrap() {
        for (field, prop) in body["properties"].as_object().into_iter().flatten() {
            out.push((def.clone(), field.clone(), prop.clone()));
        }
    }
    out
}

/// The modes a spec may have (standalone written as no `mode` line).
const MODES: [&str; 3] = ["", "sentinel", "cluster"];

/// Every `default` the JSON Schema announces is the one validation applies:
/// a spec that writes the default out resolves to the same deployment as
/// one that leaves it out (in each mode where the field applies).
#[test]
#[ignore = "slow group `tools`: needs kubernetes-validate, checkov, check-jsonschema, kubectl, shellcheck, PyYAML (scripts/test)"]
fn the_json_schema_defaults_are_the_defaults_validation_applies() {
    let mut checked = 0;
    for (def, field, prop) in schema_properties() {
        let Some(default) = prop.get("default") else {
            continue;
        };
        let mut modes = 0;
        for mode in MODES {
            let without = resolve_with(mode, &schema_context(&def, &field, None));
            let written = resolve_with(mode, &schema_context(&def, &field, Some(default)));
            let (Some(without), Some(written)) = (without, written) else {
                continue;
            };
            assert_eq!(
                written, without,
                "{def}.{field}: {default} is not the default in mode '{mode}'"
            );
            modes += 1;
        }
        assert!(
            modes > 0,
            "{def}.{field}: no mode takes {}",
            schema_context(&def, &field, Some(default))
        );
        checked += 1;
    }
    assert!(checked >= 30, "{checked} defaults checked");
}

/// Every `minimum` and `maximum` of the JSON Schema is validation's: the
/// bound itself validates (in some mode), one beyond it validates in none.
#[test]
#[ignore = "slow group `tools`: needs kubernetes-validate, checkov, check-jsonschema, kubectl, shellcheck, PyYAML (scripts/test)"]
fn the_json_schema_bounds_are_the_bounds_validation_applies() {
    let mut checked = 0;
    for (def, field, prop) in schema_properties() {
        for (key, step) in [("minimum", -1i64), ("maximum", 1)] {
            let Some(bound) = prop.get(key).and_then(serde_json::Value::as_i64) else {
                continue;
            };
            let at = serde_json::json!(bound);
            let beyond = serde_json::json!(bound + step);
            let line = |v| schema_context(&def, &field, Some(v));
            assert!(
                MODES.iter().any(|m| resolve_with(m, &line(&at)).is_some()),
                "{def}.{field}: {key} {bound} is refused in every mode ({})",
                line(&at)
            );
            assert!(
                MODES
                    .iter()
                    .all(|m| resolve_with(m, &line(&beyond)).is_none()),
                "{def}.{field}: {} beyond the {key} is accepted ({})",
                bound + step,
                line(&beyond)
            );
            checked += 1;
        }
    }
    assert!(checked >= 8, "{checked} bounds checked");
}

#[test]
#[ignore = "slow group `tools`: needs kubernetes-validate, checkov, check-jsonschema, kubectl, shellcheck, PyYAML (scripts/test)"]
fn outputs_read_back_identically_with_a_yaml_1_1_parser() {
    // Kubernetes reads YAML 1.1, where `yes`, `no`, `on`, `off` are booleans
    // and `0644`-like strings are numbers: every string must survive.
    let ws = built_demo();
    let script = r#"
import json, sys, yaml
for path in sys.argv[1:]:
    with open(path) as f:
        for doc in yaml.safe_load_all(f):
            print(json.dumps(doc, sort_keys=True))
"#;
    let files: Vec<_> = tree(&ws.path().join("output"))
        .into_keys()
        .map(|p| ws.path().join("output").join(p))
        .collect();
    let out = std::process::Command::new(tool("python3"))
        .arg("-c")
        .arg(script)
        .args(&files)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let yaml11: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let ours: Vec<serde_json::Value> = files
        .iter()
        .map(|f| serde_yaml::from_str(&std::fs::read_to_string(f).unwrap()).unwrap())
        .collect();
    assert_eq!(yaml11.len(), ours.len());
    for ((a, b), f) in yaml11.iter().zip(&ours).zip(&files) {
        assert_eq!(a, b, "{} reads differently under YAML 1.1", f.display());
    }
}

/// shellcheck finds nothing, at style level, in the scripts the demo specs
/// render (each deployment's ConfigMap data, one folder per deployment, so
/// `# shellcheck source=` directives reach common.sh and cluster.env) nor in
/// the project's own `scripts/` and `.ci/run`. A rule turned off in a
/// script says why on its line.
#[test]
#[ignore = "slow group `tools`: needs kubernetes-validate, checkov, check-jsonschema, kubectl, shellcheck, PyYAML (scripts/test)"]
fn shellcheck_finds_nothing_in_rendered_or_project_scripts() {
    let ws = built_demo();
    let out = ws.path().join("output");
    let folders = tempfile::tempdir().unwrap();
    let mut checked = 0;
    for file in files(&out) {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        if !name.starts_with("configmap-") {
            continue;
        }
        let cm: k8s_openapi::api::core::v1::ConfigMap =
            serde_yaml::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        let deployment = file.parent().unwrap().strip_prefix(&out).unwrap();
        let dir = folders
            .path()
            .join(deployment.to_string_lossy().replace('/', "__"));
        std::fs::create_dir_all(&dir).unwrap();
        for (key, value) in cm.data.unwrap_or_default() {
            std::fs::write(dir.join(key), value).unwrap();
        }
    }
    let mut findings = String::new();
    for dir in std::fs::read_dir(folders.path()).unwrap() {
        let dir = dir.unwrap().path();
        let scripts: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".sh"))
            .collect();
        if scripts.is_empty() {
            continue;
        }
        checked += scripts.len();
        let (ok, text) = run(Command::new(tool("shellcheck"))
            .args([
                "-s",
                "sh",
                "-x",
                "-P",
                "SCRIPTDIR",
                "-S",
                "style",
                "-e",
                "SC1091",
                "-f",
                "gcc",
            ])
            .args(&scripts)
            .current_dir(&dir));
        if !ok {
            findings.push_str(&format!("{}:\n{text}", dir.display()));
        }
    }
    assert!(checked >= 10, "only {checked} rendered scripts found");
    let root = crate::common::root();
    let (ok, text) = run(Command::new(tool("shellcheck"))
        .args([
            "-S",
            "style",
            "-f",
            "gcc",
            "scripts/test",
            "scripts/bench",
            ".ci/run",
        ])
        .current_dir(&root));
    if !ok {
        findings.push_str(&format!("project scripts:\n{text}"));
    }
    assert!(findings.is_empty(), "shellcheck:\n{findings}");
}
