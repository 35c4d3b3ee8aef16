//! Every simulator test runs in namespaces of its own: the test binary runs
//! itself again, that one test only, under
//! `unshare --net --mount --pid --fork --kill-child`. Inside, the network has
//! only the addresses the simulator makes, mounts (the private hosts file,
//! tmpfs, bind mounts) are invisible to the machine, and when the test ends,
//! however it ends, the kernel kills every process of its PID namespace.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::tool;

const INSIDE: &str = "REDIS_GITOPS_PODSIM_INSIDE";

/// Longest a simulator test may run before it is killed.
const LIMIT: Duration = Duration::from_secs(600);

/// Runs `body` inside the simulator's namespaces. `path` is the test's
/// `module_path!()::name`.
pub fn isolated(path: &str, body: impl FnOnce()) {
    if std::env::var_os(INSIDE).is_some() {
        body();
        return;
    }
    // One simulator at a time: their processes and probe timeouts would
    // compete for the machine's two cores, and the tests are about time.
    static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let name = path.strip_prefix("it::").unwrap_or(path);
    // This very binary, even when cargo has replaced the file meanwhile: an
    // inherited descriptor of it (unshare mounts a new /proc before exec,
    // where this process's /proc entries do not exist).
    let binary = std::fs::File::open("/proc/self/exe").expect("own binary");
    nix::fcntl::fcntl(
        &binary,
        nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::empty()),
    )
    .expect("descriptor kept across exec");
    let exe = format!("/proc/self/fd/{}", std::os::fd::AsRawFd::as_raw_fd(&binary));
    let mut child = Command::new(tool("unshare"))
        .args([
            "--net",
            "--mount",
            "--uts",
            "--pid",
            "--fork",
            "--kill-child",
            "--mount-proc",
            "--propagation",
            "private",
            "--",
        ])
        .arg(exe)
        // --include-ignored: the by-hand runner is #[ignore]; --exact picks one.
        .args([
            "--exact",
            name,
            "--include-ignored",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env(INSIDE, "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("unshare runs");
    if std::env::var_os("PODSIM_DIR").is_some() {
        // By hand: say how to get inside (the PID namespace's first process).
        let mut children = String::new();
        for _ in 0..50 {
            std::thread::sleep(Duration::from_millis(100));
            children = std::fs::read_to_string(format!("/proc/{0}/task/{0}/children", child.id()))
                .unwrap_or_default();
            if !children.trim().is_empty() {
                break;
            }
        }
        eprintln!(
            "podsim: a shell inside the simulator: nsenter --target {} --net --mount --pid -- sh",
            children.trim()
        );
    }
    // Both pipes drained on threads, so a chatty test never blocks on them.
    let mut out = child.stdout.take().expect("stdout");
    let mut err = child.stderr.take().expect("stderr");
    let read_out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let read_err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break Some(status);
        }
        if start.elapsed() > LIMIT {
            // --kill-child: the test's PID namespace dies with unshare.
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let stdout = read_out.join().unwrap_or_default();
    let stderr = read_err.join().unwrap_or_default();
    // Printed through the harness, so it shows with the test's result.
    print!("{stdout}");
    eprint!("{stderr}");
    match status {
        None => panic!("{name}: still running after {LIMIT:?}, killed"),
        Some(s) => {
            assert!(s.success(), "{name} failed inside the simulator ({s})");
            assert!(
                stdout.contains("1 passed"),
                "{name}: the inner run did not run exactly this test"
            );
        }
    }
}

/// A simulator test: `#[test]` that runs its body inside [`isolated`].
macro_rules! sim_test {
    ($(#[$meta:meta])* fn $name:ident() $body:block) => {
        $(#[$meta])*
        #[test]
        #[ignore = "slow group: the pod simulator needs root, unshare and the servers (scripts/test)"]
        fn $name() {
            $crate::podsim::isolate::isolated(
                concat!(module_path!(), "::", stringify!($name)),
                || $body,
            )
        }
    };
}
pub(crate) use sim_test;
