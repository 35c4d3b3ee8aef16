//! Fixtures shared by the integration tests.

use std::path::{Path, PathBuf};
use std::process::Command;

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn demo_specs() -> PathBuf {
    root().join("specs")
}

/// The CLI, run in `dir`, with a render cache of that folder's own (below
/// cargo's per-target temp dir), never the user's or another test's.
pub fn cli(dir: &Path) -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("redis-gitops").expect("binary built");
    let name: String = dir
        .to_string_lossy()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let cache = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("cache")
        .join(name);
    cmd.current_dir(dir)
        .env("NO_COLOR", "1")
        .env("REDIS_GITOPS_CACHE_DIR", cache);
    cmd
}

/// A temp dir holding a copy of `specs` as `specs/`.
pub fn workspace(specs: &Path) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("temp dir");
    copy_dir(specs, &tmp.path().join("specs"));
    tmp
}

pub fn copy_dir(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from).sort_by_file_name() {
        let entry = entry.expect("readable");
        let target = to.join(entry.path().strip_prefix(from).expect("below"));
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target).expect("mkdir");
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

/// Renders the demo specs into a fresh `output/` and returns the workspace.
pub fn built_demo() -> tempfile::TempDir {
    let ws = workspace(&demo_specs());
    cli(ws.path()).arg("build").assert().success();
    ws
}

/// Every file below `dir`, relative path -> bytes.
pub fn tree(dir: &Path) -> std::collections::BTreeMap<PathBuf, Vec<u8>> {
    walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .map(|e| e.expect("readable"))
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let rel = e.path().strip_prefix(dir).expect("below").to_path_buf();
            (rel, std::fs::read(e.path()).expect("read"))
        })
        .collect()
}

/// Path of an external tool; panics (fails the test) when it is missing:
/// `scripts/test` installs every tool the tests use.
pub fn tool(name: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("'{name}' is not installed: run scripts/test, which installs it"))
}

/// Runs a tool, returning (success, stdout + stderr).
pub fn run(cmd: &mut Command) -> (bool, String) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// git in `dir`, with a throw-away identity; fails the test when git fails.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let (ok, text) = run(Command::new(tool("git"))
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args([
            "-c",
            "commit.gpgsign=false",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .current_dir(dir));
    assert!(ok, "git {args:?}: {text}");
    text
}

/// Every mapping of every YAML document in `text` has its keys in strictly
/// ascending byte order (the output's "stable key order" rule).
pub fn assert_sorted_keys(name: &str, text: &str) {
    fn walk(name: &str, at: &str, value: &serde_yaml::Value) {
        match value {
            serde_yaml::Value::Mapping(map) => {
                let keys: Vec<&str> = map.keys().map(|k| k.as_str().unwrap_or("")).collect();
                assert!(
                    keys.windows(2).all(|w| w[0] < w[1]),
                    "{name}: keys of {at} are not sorted: {keys:?}"
                );
                for (k, v) in map {
                    walk(name, &format!("{at}.{}", k.as_str().unwrap_or("?")), v);
                }
            }
            serde_yaml::Value::Sequence(items) => {
                for (i, v) in items.iter().enumerate() {
                    walk(name, &format!("{at}[{i}]"), v);
                }
            }
            _ => {}
        }
    }
    for doc in serde_yaml::Deserializer::from_str(text) {
        let value = serde::Deserialize::deserialize(doc).unwrap();
        walk(name, "", &value);
    }
}

/// Cases of a property test: `full` in the `properties` group
/// (`REDIS_GITOPS_PROPTEST=full`, as `scripts/test` runs it), a tenth of it
/// (at least 2) in the fast tier that plain `cargo test` runs.
pub fn cases(full: u32) -> u32 {
    if std::env::var("REDIS_GITOPS_PROPTEST").is_ok_and(|v| v == "full") {
        full
    } else {
        (full / 10).max(2)
    }
}
