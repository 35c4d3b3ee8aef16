//! The pre-commit hooks, run by the real `pre-commit` (slow group
//! `precommit`: the first run compiles this crate into pre-commit's cache).

use std::fs;
use std::path::Path;
use std::process::Command;

use crate::common::{cli, git, root, run, tool};

fn edit(path: &Path, from: &str, to: &str) {
    let text = fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "{} has '{from}'", path.display());
    fs::write(path, text.replacen(from, to, 1)).unwrap();
}

/// `pre-commit try-repo` of this project's hooks in `repo`: on the staged
/// files, or on all with `all`. pre-commit installs the hook (cargo install
/// of this crate) into its cache, kept in target/ so that later runs reuse it.
fn try_repo(repo: &Path, hook: &str, all: bool) -> (bool, String) {
    run(Command::new(tool("pre-commit"))
        .args(["try-repo"])
        .arg(root())
        .arg(hook)
        .args(all.then_some("--all-files"))
        .env("PRE_COMMIT_HOME", root().join("target/pre-commit-cache"))
        .env("CARGO_TARGET_DIR", root().join("target/pre-commit-build"))
        // The hooks' mechanics are under test, not the binary's speed:
        // an unoptimised install compiles in a fraction of the time.
        .env("CARGO_PROFILE_RELEASE_OPT_LEVEL", "0")
        .current_dir(repo))
}

/// The real `pre-commit try-repo` against a throw-away repository: the check
/// hook fails on stale output and passes on fresh; the build hook re-renders.
#[test]
#[ignore = "slow group `precommit`: needs pre-commit (scripts/test)"]
fn pre_commit_hooks_run_with_the_real_pre_commit() {
    let ws = tempfile::tempdir().unwrap();
    let repo = ws.path();
    crate::common::copy_dir(&root().join("specs"), &repo.join("specs"));
    cli(repo).arg("build").assert().success();
    git(repo, &["init", "-q"]);
    git(repo, &["add", "."]);
    git(repo, &["commit", "-qm", "specs and fresh output"]);
    // A spec edit, staged, without re-rendering: the output is stale.
    edit(
        &repo.join("specs/payments/orders.yaml"),
        "remoteProperty: password",
        "remoteProperty: redis-password",
    );
    git(repo, &["add", "specs"]);
    let try_repo_on = |hook: &str, all: bool| try_repo(repo, hook, all);
    let try_repo = |hook: &str| try_repo_on(hook, true);
    let (ok, text) = try_repo("redis-gitops-check");
    assert!(!ok, "stale output fails the check hook:\n{text}");
    assert!(
        text.contains("stale    output/payments/orders/externalsecret-orders-redis.yaml"),
        "{text}"
    );

    let (ok, text) = try_repo("redis-gitops-build");
    assert!(
        !ok,
        "the build hook changes files, which pre-commit reports:\n{text}"
    );
    assert!(text.contains("files were modified by this hook"), "{text}");
    assert!(
        fs::read_to_string(repo.join("output/payments/orders/externalsecret-orders-redis.yaml"))
            .unwrap()
            .contains("property: redis-password")
    );

    let (ok, text) = try_repo("redis-gitops-check");
    assert!(ok, "fresh output passes the check hook:\n{text}");
    let (ok, text) = try_repo("redis-gitops-build");
    assert!(ok, "a fresh build changes nothing:\n{text}");

    // A commit that only hand-edits output/ runs the check hook too.
    git(repo, &["add", "."]);
    git(repo, &["commit", "-qm", "re-rendered"]);
    edit(
        &repo.join("output/payments/orders/externalsecret-orders-redis.yaml"),
        "property: redis-password",
        "property: hand-edited",
    );
    git(repo, &["add", "output"]);
    let (ok, text) = try_repo_on("redis-gitops-check", false);
    assert!(!ok, "a hand edit of output/ fails the check hook:\n{text}");
    assert!(
        text.contains("stale    output/payments/orders/externalsecret-orders-redis.yaml"),
        "{text}"
    );
}

/// In a monorepo (the project in `platform/redis/`), the check hook runs
/// on the staged spec, finds the project and refuses stale output; the
/// build hook re-renders it there.
#[test]
#[ignore = "slow group `precommit`: needs pre-commit (scripts/test)"]
fn the_hooks_work_in_a_monorepo_subfolder() {
    let ws = tempfile::tempdir().unwrap();
    let repo = ws.path();
    let project = repo.join("platform/redis");
    crate::common::copy_dir(&root().join("specs"), &project.join("specs"));
    cli(&project).arg("build").assert().success();
    fs::write(repo.join("README.md"), "a monorepo\n").unwrap();
    git(repo, &["init", "-q"]);
    git(repo, &["add", "."]);
    git(repo, &["commit", "-qm", "specs and fresh output"]);
    let try_repo = |hook: &str| try_repo(repo, hook, false);
    edit(
        &project.join("specs/payments/orders.yaml"),
        "remoteProperty: password",
        "remoteProperty: redis-password",
    );
    git(repo, &["add", "platform"]);
    let (ok, text) = try_repo("redis-gitops-check");
    assert!(
        !ok,
        "stale output in a subfolder fails the check hook:\n{text}"
    );
    assert!(!text.contains("no files to check"), "{text}");
    assert!(
        text.contains("stale    output/payments/orders/externalsecret-orders-redis.yaml"),
        "{text}"
    );
    let (ok, text) = try_repo("redis-gitops-build");
    assert!(!ok, "the build hook changes files:\n{text}");
    assert!(
        fs::read_to_string(project.join("output/payments/orders/externalsecret-orders-redis.yaml"))
            .unwrap()
            .contains("property: redis-password")
    );
    git(repo, &["add", "platform"]);
    let (ok, text) = try_repo("redis-gitops-check");
    assert!(ok, "fresh output passes:\n{text}");
    // A commit outside the project does not run the hooks at all.
    git(repo, &["commit", "-qm", "re-rendered"]);
    fs::write(repo.join("README.md"), "a monorepo, edited\n").unwrap();
    git(repo, &["add", "README.md"]);
    let (ok, text) = try_repo("redis-gitops-check");
    assert!(ok && text.contains("no files to check"), "{text}");
}
