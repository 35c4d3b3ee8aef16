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

/// A throw-away certificate authority made with openssl in `dir`, which
/// issues server certificates as cert-manager would: P-256 keys, the names
/// and addresses as subjectAltNames, the serial chosen by the test.
pub struct Ca {
    dir: PathBuf,
}

impl Ca {
    pub fn new(dir: &Path) -> Ca {
        let ca = Ca {
            dir: dir.to_owned(),
        };
        ca.openssl(&[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.crt",
            "-days",
            "2",
            "-subj",
            "/CN=test-ca",
        ]);
        ca
    }

    /// The CA certificate (PEM).
    pub fn cert(&self) -> Vec<u8> {
        std::fs::read(self.dir.join("ca.crt")).unwrap()
    }

    /// A new key and a certificate for `sans` (`DNS:...`, `IP:...`) with
    /// this serial: (certificate, key), PEM.
    pub fn issue(&self, sans: &[String], serial: u32) -> (Vec<u8>, Vec<u8>) {
        let name = format!("server-{serial}");
        std::fs::write(
            self.dir.join(format!("{name}.ext")),
            format!("subjectAltName={}\n", sans.join(",")),
        )
        .unwrap();
        let (key, csr, crt, ext) = (
            format!("{name}.key"),
            format!("{name}.csr"),
            format!("{name}.crt"),
            format!("{name}.ext"),
        );
        self.openssl(&[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            &key,
            "-out",
            &csr,
            "-subj",
            "/CN=redis",
        ]);
        self.openssl(&[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-set_serial",
            &serial.to_string(),
            "-out",
            &crt,
            "-days",
            "1",
            "-extfile",
            &ext,
        ]);
        (
            std::fs::read(self.dir.join(&crt)).unwrap(),
            std::fs::read(self.dir.join(&key)).unwrap(),
        )
    }

    fn openssl(&self, args: &[&str]) {
        let out = Command::new(tool("openssl"))
            .args(args)
            .current_dir(&self.dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// The serial (hex, as openssl prints it) of the certificate the TLS server
/// at `addr` (`ip:port`) presents now, or why there is none; `client` is a
/// certificate and key the server accepts (the cluster bus asks for one).
pub fn served_serial(addr: &str, client: (&Path, &Path)) -> Result<String, String> {
    let out = Command::new(tool("openssl"))
        .args(["s_client", "-connect", addr, "-cert"])
        .arg(client.0)
        .arg("-key")
        .arg(client.1)
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| e.to_string())?;
    if !out
        .stdout
        .windows(27)
        .any(|w| w == b"-----BEGIN CERTIFICATE-----")
    {
        return Err(format!(
            "{addr}: no certificate: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    // openssl x509 reads the first certificate of its input.
    let mut x509 = Command::new(tool("openssl"))
        .args(["x509", "-noout", "-serial"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    std::io::Write::write_all(&mut x509.stdin.take().unwrap(), &out.stdout)
        .map_err(|e| e.to_string())?;
    let out = x509.wait_with_output().map_err(|e| e.to_string())?;
    Ok(String::from_utf8_lossy(&out.stdout)
        .trim()
        .trim_start_matches("serial=")
        .to_owned())
}
