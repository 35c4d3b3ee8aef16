//! Every rendered redis.conf starts a real `redis-server` 7.0 or
//! `valkey-server` 9.1, and every sentinel.conf a real `redis-sentinel`,
//! with the spec's memory settings in force.
//!
//! Substitutions (the only ones; everything else runs as rendered):
//! `bind * -::*` -> `bind 127.0.0.1` (tests never listen beyond loopback),
//! the ports -> free loopback ports, `dir /data` -> a temp dir, `/tls/` -> a
//! temp dir of certificates made with openssl, and in sentinel.conf the first
//! primary's pod hostname -> 127.0.0.1.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use redis_gitops::input::load_dir;
use redis_gitops::render::config;
use redis_gitops::render::templates::Templates;
use redis_gitops::spec::model::Engine;
use redis_gitops::spec::validate::{Redis, validate_all};

use crate::common::tool;

/// A server process, killed when dropped.
pub struct Server {
    child: Child,
    log: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A free loopback port whose cluster-bus twin (+10000) is valid too.
pub fn free_port() -> u16 {
    loop {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let p = l.local_addr().unwrap().port();
        if p < 55000 {
            return p;
        }
    }
}

fn demo() -> Vec<Redis> {
    let loaded = load_dir(&crate::common::demo_specs());
    let (valid, diags) = validate_all(&loaded.specs, &loaded.sources);
    assert!(
        diags
            .iter()
            .all(|d| d.severity != redis_gitops::diag::Severity::Error),
        "{diags:?}"
    );
    valid
}

/// A throw-away CA and a server certificate for 127.0.0.1, as `/tls/` holds them.
pub fn certs(dir: &Path) {
    let ca = crate::common::Ca::new(dir);
    let (crt, key) = ca.issue(&["IP:127.0.0.1".into(), "DNS:localhost".into()], 1);
    std::fs::write(dir.join("tls.crt"), crt).unwrap();
    std::fs::write(dir.join("tls.key"), key).unwrap();
}

struct Cli {
    port: u16,
    tls: Option<PathBuf>,
}

impl Cli {
    fn call(&self, args: &[&str]) -> Option<String> {
        let mut cmd = Command::new(tool("redis-cli"));
        cmd.args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "--raw"]);
        if let Some(dir) = &self.tls {
            cmd.args(["--tls", "--cacert"]).arg(dir.join("ca.crt"));
        }
        let out = cmd.args(args).output().ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
    }

    fn wait(&self, server: &mut Server) {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(15) {
            if self.call(&["PING"]).as_deref() == Some("PONG") {
                return;
            }
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!(
                    "server exited with {status}:\n{}",
                    std::fs::read_to_string(&server.log).unwrap_or_default()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "server did not answer:\n{}",
            std::fs::read_to_string(&server.log).unwrap_or_default()
        );
    }

    fn config(&self, key: &str) -> String {
        let out = self.call(&["CONFIG", "GET", key]).unwrap_or_default();
        out.lines().nth(1).unwrap_or_default().to_owned()
    }
}

pub fn start(binary: &str, conf: &Path, dir: &Path, extra: &[&str]) -> Server {
    let log = dir.join("server.log");
    let child = Command::new(tool(binary))
        .arg(conf)
        .args(extra)
        .stdout(Stdio::from(std::fs::File::create(&log).unwrap()))
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    Server { child, log }
}

pub fn localise(text: &str, port: u16, data: &Path, tls: &Path) -> String {
    text.replace("bind * -::*", "bind 127.0.0.1")
        .replace("port 6379\n", &format!("port {port}\n"))
        .replace(
            "cluster-port 16379\n",
            &format!("cluster-port {}\n", port + 10000),
        )
        .replace("port 26379\n", &format!("port {port}\n"))
        .replace("dir /data\n", &format!("dir {}\n", data.display()))
        .replace("/tls/", &format!("{}/", tls.display()))
}

/// What each demo deployment must run with: (name, maxmemory bytes, policy,
/// appendonly, save). Computed by hand from specs/: 75% of the memory limit
/// unless the spec says otherwise; redis.conf's default save points unless
/// spec.savePoints sets them, none without RDB snapshots.
const EXPECTED: &[(&str, &str, &str, &str, &str)] = &[
    ("orders", "3221225472", "noeviction", "yes", DEFAULT_SAVE), // 75% of 4Gi, rdb+aof
    ("sessions", "1610612736", "volatile-lru", "yes", ""),       // 1536Mi, aof
    ("page-cache", "402653184", "allkeys-lru", "no", ""),        // 75% of 512Mi, none
    ("pinned", "805306368", "noeviction", "no", DEFAULT_SAVE),   // 75% of 1Gi, rdb
    ("events", "1610612736", "noeviction", "no", "900 1 60 5000"), // 75% of 2Gi, rdb
    ("orders-dr", "3221225472", "noeviction", "no", DEFAULT_SAVE), // 75% of 4Gi, rdb
];
const DEFAULT_SAVE: &str = "3600 1 300 100 60 10000";

#[test]
#[ignore = "slow group `servers`: needs redis-server, redis-sentinel, valkey-server (scripts/test)"]
fn every_rendered_config_starts_a_real_server_with_the_spec_settings() {
    let templates = Templates::builtin();
    let demo = demo();
    assert_eq!(
        demo.len(),
        EXPECTED.len(),
        "every demo deployment has an expectation"
    );
    for redis in &demo {
        let (_, maxmemory, policy, aof, save) = EXPECTED
            .iter()
            .find(|e| e.0 == redis.name)
            .expect("expectation");
        let files = config::files(redis, &templates).unwrap();
        let tmp = tempfile::tempdir().unwrap();
        let tls_dir = tmp.path().join("tls");
        std::fs::create_dir_all(&tls_dir).unwrap();
        if redis.tls.is_some() {
            certs(&tls_dir);
        }
        let port = free_port();
        let conf = tmp.path().join("redis.conf");
        std::fs::write(
            &conf,
            localise(&files["redis.conf"], port, tmp.path(), &tls_dir),
        )
        .unwrap();
        let binary = match redis.engine {
            Engine::Redis => "redis-server",
            Engine::Valkey => "valkey-server",
        };
        let mut server = start(binary, &conf, tmp.path(), &[]);
        let cli = Cli {
            port,
            tls: redis.tls.as_ref().map(|_| tls_dir.clone()),
        };
        cli.wait(&mut server);
        assert_eq!(&cli.config("maxmemory"), maxmemory, "{}", redis.name);
        assert_eq!(&cli.config("maxmemory-policy"), policy, "{}", redis.name);
        assert_eq!(&cli.config("appendonly"), aof, "{}", redis.name);
        assert_eq!(&cli.config("save"), save, "{}", redis.name);
        let cluster = cli.call(&["INFO", "cluster"]).unwrap_or_default();
        let is_cluster = matches!(
            redis.topology,
            redis_gitops::spec::validate::Topology::Cluster { .. }
        );
        assert!(
            cluster.contains(if is_cluster {
                "cluster_enabled:1"
            } else {
                "cluster_enabled:0"
            }),
            "{}: {cluster}",
            redis.name
        );
        if redis.name == "orders" {
            assert_eq!(
                cli.config("hz"),
                "20",
                "config directives from the spec are in force"
            );
        }
        if let Some(sentinel_conf) = files.get("sentinel.conf") {
            let sport = free_port();
            let sdir = tmp.path().join("sentinel");
            std::fs::create_dir_all(&sdir).unwrap();
            let first = format!(
                "{0}-0.{0}-headless.{1}.svc {2}",
                redis.name, redis.namespace, 6379
            );
            assert!(
                sentinel_conf.contains(&first),
                "sentinel.conf monitors pod 0 on first boot"
            );
            let text = localise(sentinel_conf, sport, &sdir, &tls_dir)
                .replace(&first, &format!("127.0.0.1 {port}"));
            let sconf = sdir.join("sentinel.conf");
            std::fs::write(&sconf, text).unwrap();
            let mut sentinel = start("redis-sentinel", &sconf, &sdir, &[]);
            let scli = Cli {
                port: sport,
                tls: cli.tls.clone(),
            };
            scli.wait(&mut sentinel);
            let primary = scli
                .call(&["SENTINEL", "get-master-addr-by-name", &redis.name])
                .unwrap_or_default();
            assert_eq!(
                primary,
                format!("127.0.0.1\n{port}"),
                "sentinel monitors the primary"
            );
            let quorum = scli
                .call(&["SENTINEL", "master", &redis.name])
                .unwrap_or_default();
            let fields: Vec<&str> = quorum.lines().collect();
            let at = fields
                .iter()
                .position(|f| *f == "quorum")
                .expect("quorum field");
            assert_eq!(fields[at + 1], "2", "quorum from the spec");
        }
    }
}

#[test]
#[ignore = "slow group `servers`: needs redis-server, redis-sentinel, valkey-server (scripts/test)"]
fn every_rendered_script_parses_as_posix_sh() {
    let templates = Templates::builtin();
    for redis in &demo() {
        for (name, text) in config::files(redis, &templates).unwrap() {
            if !name.ends_with(".sh") {
                continue;
            }
            let tmp = tempfile::NamedTempFile::new().unwrap();
            std::fs::write(tmp.path(), &text).unwrap();
            // Debian's /bin/sh is dash, as in the official redis and valkey images.
            let out = Command::new(tool("dash"))
                .arg("-n")
                .arg(tmp.path())
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}/{name}: {}",
                redis.name,
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}
