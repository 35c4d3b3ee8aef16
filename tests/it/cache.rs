//! The render cache saves time and never changes an answer: a hand-edited
//! committed file, an edited spec and a corrupt cache entry are all seen.

use std::fs;
use std::path::Path;

use crate::common::{cli, demo_specs, workspace};

fn run(dir: &Path, cache: &Path, args: &[&str], code: i32) -> String {
    let a = cli(dir)
        .env("REDIS_GITOPS_CACHE_DIR", cache)
        .args(args)
        .assert()
        .code(code);
    String::from_utf8(a.get_output().stdout.clone()).unwrap()
}

#[test]
fn the_cache_never_hides_a_change() {
    let ws = workspace(&demo_specs());
    let cache = tempfile::tempdir().unwrap();
    run(ws.path(), cache.path(), &["build"], 0);
    let entries = walkdir::WalkDir::new(cache.path())
        .into_iter()
        .filter(|e| e.as_ref().unwrap().file_type().is_file())
        .count();
    assert_eq!(entries, 6, "one entry per deployment");
    run(ws.path(), cache.path(), &["check"], 0);

    // A committed file edited by hand: the cached digest no longer matches.
    let file = ws
        .path()
        .join("output/payments/orders/externalsecret-orders-redis.yaml");
    let original = fs::read_to_string(&file).unwrap();
    fs::write(
        &file,
        original.replace("refreshInterval: 1h", "refreshInterval: 2h"),
    )
    .unwrap();
    let out = run(ws.path(), cache.path(), &["check"], 1);
    assert!(
        out.contains("stale    output/payments/orders/externalsecret-orders-redis.yaml"),
        "{out}"
    );
    let out = run(ws.path(), cache.path(), &["diff", "--exit-code"], 1);
    assert!(out.contains("+  refreshInterval: 1h"), "{out}");
    fs::write(&file, &original).unwrap();
    run(ws.path(), cache.path(), &["check"], 0);

    // Every entry corrupted: answers stay right.
    for e in walkdir::WalkDir::new(cache.path()) {
        let e = e.unwrap();
        if e.file_type().is_file() {
            fs::write(e.path(), "0000 payments/orders/kustomization.yaml\njob x\n").unwrap();
        }
    }
    run(ws.path(), cache.path(), &["check"], 0);

    // An edited spec renders anew; the warm build writes what a build
    // without any cache writes.
    let spec = ws.path().join("specs/payments/orders.yaml");
    let text = fs::read_to_string(&spec).unwrap();
    fs::write(&spec, text.replace("shards: 3", "shards: 4")).unwrap();
    run(ws.path(), cache.path(), &["check"], 1);
    run(ws.path(), cache.path(), &["build"], 0);
    // Rendering the same specs without any cache finds that output fresh.
    cli(ws.path())
        .env("REDIS_GITOPS_CACHE", "off")
        .arg("check")
        .assert()
        .code(0);
}
