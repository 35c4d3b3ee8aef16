//! `cargo bench`: each stage of the pipeline, in memory (no disk, no render
//! cache), on the demo specs copied into 40 folders and namespaces: 200
//! deployments of every mode and feature. `scripts/bench` times the binary
//! end to end instead.

use std::path::{Path, PathBuf};

use criterion::{Criterion, criterion_group, criterion_main};
use redis_gitops::render::{Inputs, render_all, templates::Templates};
use redis_gitops::spec::load::load_files;
use redis_gitops::spec::validate::validate_all;

const COPIES: usize = 40;

/// The demo specs, `COPIES` times, each copy in its own folder and namespaces.
fn demo_copies(root: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let files: Vec<(PathBuf, String)> = walkdir::WalkDir::new(root)
        .sort_by_file_name()
        .into_iter()
        .map(Result::unwrap)
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let rel = e.path().strip_prefix(root).unwrap().to_path_buf();
            (rel, std::fs::read_to_string(e.path()).unwrap())
        })
        .collect();
    (0..COPIES)
        .flat_map(|copy| {
            files.iter().map(move |(rel, text)| {
                let text = text
                    .replace(
                        "namespace: payments\n",
                        &format!("namespace: payments-{copy}\n"),
                    )
                    .replace("namespace: cache\n", &format!("namespace: cache-{copy}\n"));
                (
                    root.join(format!("copy{copy}")).join(rel),
                    text.into_bytes(),
                )
            })
        })
        .collect()
}

fn pipeline(c: &mut Criterion) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("specs");
    let inputs = demo_copies(&root);
    let loaded = load_files(&root, inputs.clone());
    let (valid, diags) = validate_all(&loaded.specs, &loaded.sources);
    assert!(diags.is_empty(), "{diags:?}");
    let deployments = valid.len();
    let templates = Templates::builtin();
    let render_inputs = Inputs {
        templates: &templates,
        output_path: Some("output"),
        committed: &Default::default(),
        slot_maps: None,
        compare_with: None,
    };

    c.bench_function(&format!("load {deployments} specs"), |b| {
        b.iter(|| load_files(&root, inputs.clone()));
    });
    c.bench_function(&format!("validate {deployments} specs"), |b| {
        b.iter(|| validate_all(&loaded.specs, &loaded.sources));
    });
    c.bench_function(&format!("render {deployments} deployments"), |b| {
        b.iter(|| render_all(&valid, &render_inputs).unwrap());
    });
    let one_thread = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    c.bench_function(
        &format!("render {deployments} deployments, one thread"),
        |b| {
            b.iter(|| one_thread.install(|| render_all(&valid, &render_inputs).unwrap()));
        },
    );
}

criterion_group!(benches, pipeline);
criterion_main!(benches);
