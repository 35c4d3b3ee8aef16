//! The loader, validator and renderer never panic, whatever the input:
//! mutated demo specs, random bytes, empty, huge and deeply nested files.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use proptest::prelude::*;
use redis_gitops::output::File;
use redis_gitops::render::{Inputs, render_all, templates::Templates};
use redis_gitops::spec::load::load_files;
use redis_gitops::spec::validate::{Redis, validate_all};

fn demo_inputs() -> Vec<(PathBuf, Vec<u8>)> {
    let root = crate::common::demo_specs();
    walkdir::WalkDir::new(&root)
        .sort_by_file_name()
        .into_iter()
        .map(Result::unwrap)
        .filter(|e| e.file_type().is_file())
        .map(|e| (e.path().to_path_buf(), std::fs::read(e.path()).unwrap()))
        .collect()
}

/// The whole pipeline short of writing: must return, never panic.
fn compile(root: &Path, inputs: Vec<(PathBuf, Vec<u8>)>) {
    let loaded = load_files(root, inputs);
    let (valid, _diags) = validate_all(&loaded.specs, &loaded.sources);
    let files = render(&valid, None);
    for file in &files {
        crate::common::assert_sorted_keys(&file.path.display().to_string(), &file.contents);
    }
    summaries_are_the_text(&valid, &files);
}

fn render(valid: &[Redis], compare_with: Option<&BTreeMap<PathBuf, Vec<u8>>>) -> Vec<File> {
    let templates = Templates::builtin();
    render_all(
        valid,
        &Inputs {
            templates: &templates,
            output_path: Some("output"),
            committed: &Default::default(),
            slot_maps: None,
            compare_with,
        },
    )
    .unwrap()
    .files
}

/// The same text with a blank line more: the same objects, other bytes.
fn respaced(files: &[File]) -> BTreeMap<PathBuf, Vec<u8>> {
    files
        .iter()
        .map(|f| (f.path.clone(), format!("{}\n", f.contents).into_bytes()))
        .collect()
}

/// The diff takes the renderer's summaries for what it renders now, and
/// reads what is committed from its text: both must describe the same
/// objects, or a fleet-wide change would show objects as changed that are
/// not (or hide real ones).
fn summaries_are_the_text(valid: &[Redis], files: &[File]) {
    let committed = respaced(files);
    let summarised = render(valid, Some(&committed));
    let entry = |f: &&File| {
        f.path
            .components()
            .any(|c| c.as_os_str().to_string_lossy().starts_with('_'))
    };
    assert!(
        summarised
            .iter()
            .filter(|f| !entry(f))
            .all(|f| f.summaries.0.is_some()),
        "every file of a deployment that differs is summarised"
    );
    let report = redis_gitops::diff::diff(&summarised, &committed).unwrap();
    let shown: Vec<String> = report.objects.iter().map(|o| o.key.to_string()).collect();
    assert!(shown.is_empty(), "summaries and text differ: {shown:?}");
}

#[test]
fn the_renderers_summaries_describe_what_it_writes() {
    let root = crate::common::demo_specs();
    let loaded = load_files(&root, demo_inputs());
    let (valid, _) = validate_all(&loaded.specs, &loaded.sources);
    let files = render(&valid, None);
    assert!(
        files.iter().all(|f| f.summaries.0.is_none()),
        "none unless asked"
    );
    summaries_are_the_text(&valid, &files);
    // And the comparison can fail: a label changed in the committed text shows.
    let mut committed = respaced(&files);
    let (path, bytes) = committed
        .iter_mut()
        .find(|(p, _)| p.to_string_lossy().contains("statefulset-"))
        .unwrap();
    *bytes = String::from_utf8(bytes.clone())
        .unwrap()
        .replace("managed-by: redis-gitops", "managed-by: helm")
        .into_bytes();
    let path = path.clone();
    let summarised = render(&valid, Some(&committed));
    let report = redis_gitops::diff::diff(&summarised, &committed).unwrap();
    let changed: Vec<&PathBuf> = report.objects.iter().map(|o| &o.file).collect();
    assert_eq!(changed, [&path]);
}

#[derive(Debug, Clone)]
enum Mutation {
    Delete(usize),
    Duplicate(usize),
    Replace(usize, String),
    Insert(usize, String),
    Byte(usize, u8),
}

fn token() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("0".to_owned()),
        Just("-1".to_owned()),
        Just("99999999999999999999".to_owned()),
        Just("~".to_owned()),
        Just("[]".to_owned()),
        Just("{}".to_owned()),
        Just("\"\"".to_owned()),
        Just("&a x".to_owned()),
        Just("*a".to_owned()),
        Just("<<: *a".to_owned()),
        Just("---".to_owned()),
        Just("shards: 0".to_owned()),
        Just("mode: cluster".to_owned()),
        Just("drainShards: 9".to_owned()),
        Just("maxmemory: 0%".to_owned()),
        Just("memory: 0".to_owned()),
        Just("  - x".to_owned()),
        Just("\t".to_owned()),
        Just("!!binary AAAA".to_owned()),
        Just("version: \"1.0\"".to_owned()),
        "[ -~]{0,12}",
    ]
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        any::<usize>().prop_map(Mutation::Delete),
        any::<usize>().prop_map(Mutation::Duplicate),
        (any::<usize>(), token()).prop_map(|(i, t)| Mutation::Replace(i, t)),
        (any::<usize>(), token()).prop_map(|(i, t)| Mutation::Insert(i, t)),
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Byte(i, b)),
    ]
}

fn apply(bytes: &[u8], m: &Mutation) -> Vec<u8> {
    let text = String::from_utf8_lossy(bytes);
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    if lines.is_empty() {
        lines.push(String::new());
    }
    let n = lines.len();
    match m {
        Mutation::Delete(i) => {
            lines.remove(i % n);
        }
        Mutation::Duplicate(i) => {
            let l = lines[i % n].clone();
            lines.insert(i % n, l);
        }
        Mutation::Replace(i, t) => {
            // Keep the key, replace the value (or the whole line).
            let l = &mut lines[i % n];
            *l = match l.split_once(": ") {
                Some((k, _)) => format!("{k}: {t}"),
                None => t.clone(),
            };
        }
        Mutation::Insert(i, t) => lines.insert(i % n, t.clone()),
        Mutation::Byte(i, b) => {
            let mut raw = lines.join("\n").into_bytes();
            if !raw.is_empty() {
                let at = i % raw.len();
                raw[at] = *b;
            }
            return raw;
        }
    }
    lines.join("\n").into_bytes()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: crate::common::cases(3000), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn mutated_specs_never_panic(file in any::<usize>(), mutations in prop::collection::vec(mutation(), 1..6)) {
        let mut inputs = demo_inputs();
        let i = file % inputs.len();
        for m in &mutations {
            inputs[i].1 = apply(&inputs[i].1, m);
        }
        compile(&crate::common::demo_specs(), inputs);
    }

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        compile(Path::new("specs"), vec![(PathBuf::from("specs/x.yaml"), bytes)]);
    }
}

#[test]
fn degenerate_inputs_are_handled() {
    let huge_list = format!(
        "apiVersion: redis-gitops/v1\nkind: Redis\nmetadata: {{name: a, namespace: b}}\nspec:\n  version: \"7.2.5\"\n  resources: {{limits: {{memory: 1Gi}}}}\n  config:\n{}",
        (0..50_000)
            .map(|i| format!("    k{i}: v\n"))
            .collect::<String>()
    );
    let cases: Vec<Vec<u8>> = vec![
        Vec::new(),
        b"---\n---\n".to_vec(),
        b"\xff\xfe\x00".to_vec(),
        "[".repeat(100_000).into_bytes(),
        "a: ".repeat(10_000).into_bytes(),
        huge_list.into_bytes(),
        b"&a [*a]".to_vec(),
    ];
    for bytes in cases {
        compile(
            Path::new("specs"),
            vec![(PathBuf::from("specs/x.yaml"), bytes)],
        );
    }
}

/// Rendering in parallel (the default) gives the very bytes of rendering on
/// one thread, for the demo repeated many times under other names.
#[test]
fn parallel_rendering_gives_the_bytes_of_serial_rendering() {
    let root = crate::common::demo_specs();
    let mut inputs = Vec::new();
    for copy in 0..20 {
        for (path, bytes) in demo_inputs() {
            let rel = path.strip_prefix(&root).unwrap();
            let text = String::from_utf8(bytes)
                .unwrap()
                .replace(
                    "namespace: payments\n",
                    &format!("namespace: payments-{copy}\n"),
                )
                .replace("namespace: cache\n", &format!("namespace: cache-{copy}\n"));
            // The same specs in other folders and namespaces.
            inputs.push((
                root.join(format!("copy{copy}")).join(rel),
                text.into_bytes(),
            ));
        }
    }
    let loaded = load_files(&root, inputs);
    let (valid, diags) = validate_all(&loaded.specs, &loaded.sources);
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(valid.len(), 120);
    let templates = Templates::builtin();
    let inputs = Inputs {
        templates: &templates,
        output_path: Some("output"),
        committed: &Default::default(),
        slot_maps: None,
        compare_with: None,
    };
    let parallel = render_all(&valid, &inputs).unwrap().files;
    let serial = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap()
        .install(|| render_all(&valid, &inputs).unwrap().files);
    assert_eq!(parallel, serial);
}
