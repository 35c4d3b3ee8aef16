//! The test's application: writes keys without pause and counts a write as
//! acknowledged only when `WAIT 1` on the same connection says a replica
//! has it; reads them back; records the longest stretch without a
//! successful acknowledged write.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use redis::{Connection, ConnectionAddr, IntoConnectionInfo, RedisConnectionInfo, Value};

/// Where the application finds its primary.
#[derive(Clone, Debug)]
pub enum Target {
    /// Asks the sentinels for the primary of `master`.
    Sentinel {
        sentinels: Vec<String>,
        port: u16,
        master: String,
    },
    /// Redis Cluster: any of `seeds`, then the slot owners.
    Cluster { seeds: Vec<String>, port: u16 },
}

/// The CA the servers' certificates are checked against, once a test's
/// deployment serves TLS only (each simulator test is its own process).
static TLS_CA: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();

/// From now on every connection of this process is TLS, verified against
/// `ca_pem` (the server's name or address must be in its certificate).
pub fn use_tls(ca_pem: Vec<u8>) {
    TLS_CA.set(ca_pem).expect("use_tls is called once");
}

/// One connection to `host:port`, bounded in time.
pub fn connect(host: &str, port: u16, password: Option<&str>) -> redis::RedisResult<Connection> {
    let mut settings = RedisConnectionInfo::default();
    if let Some(pw) = password {
        settings = settings.set_password(pw);
    }
    let client = match TLS_CA.get() {
        None => redis::Client::open(
            ConnectionAddr::Tcp(host.to_owned(), port)
                .into_connection_info()?
                .set_redis_settings(settings),
        )?,
        Some(ca) => redis::Client::build_with_tls(
            ConnectionAddr::TcpTls {
                host: host.to_owned(),
                port,
                insecure: false,
                tls_params: None,
            }
            .into_connection_info()?
            .set_redis_settings(settings),
            redis::TlsCertificates {
                client_tls: None,
                root_cert: Some(ca.clone()),
            },
        )?,
    };
    let con = client.get_connection_with_timeout(Duration::from_millis(500))?;
    con.set_read_timeout(Some(Duration::from_secs(3)))?;
    con.set_write_timeout(Some(Duration::from_secs(3)))?;
    Ok(con)
}

/// The primary the sentinels name (the first that answers). The rendered
/// sentinels require the deployment's password too.
pub fn sentinel_primary(
    sentinels: &[String],
    port: u16,
    master: &str,
    password: Option<&str>,
) -> Option<(String, u16)> {
    for s in sentinels {
        let Ok(mut con) = connect(s, port, password) else {
            continue;
        };
        let reply: redis::RedisResult<Option<(String, u16)>> = redis::cmd("SENTINEL")
            .arg("get-master-addr-by-name")
            .arg(master)
            .query(&mut con);
        if let Ok(Some(addr)) = reply {
            return Some(addr);
        }
    }
    None
}

/// The hash slot of a key, hash tags (`{...}`) included.
pub fn slot(key: &str) -> u16 {
    let tagged = key
        .find('{')
        .and_then(|open| {
            let rest = &key[open + 1..];
            rest.find('}').map(|close| &rest[..close])
        })
        .filter(|tag| !tag.is_empty());
    crc16::State::<crc16::XMODEM>::calculate(tagged.unwrap_or(key).as_bytes()) % 16384
}

/// A hash tag whose keys all fall in `first..=last`: keys written with
/// it live on one shard.
pub fn tag_in(first: u16, last: u16) -> String {
    (0u32..)
        .map(|i| format!("t{i}"))
        .find(|t| (first..=last).contains(&slot(&format!("{{{t}}}"))))
        .expect("some tag")
}

/// Slot ranges -> primary `(host, port)` from `CLUSTER SLOTS`.
fn cluster_slots(con: &mut Connection) -> Option<Vec<(u16, u16, String, u16)>> {
    let v: Value = redis::cmd("CLUSTER").arg("SLOTS").query(con).ok()?;
    let Value::Array(ranges) = v else { return None };
    let mut out = Vec::new();
    for r in ranges {
        let Value::Array(items) = r else { continue };
        let (Some(Value::Int(a)), Some(Value::Int(b)), Some(Value::Array(node))) =
            (items.first(), items.get(1), items.get(2))
        else {
            continue;
        };
        // [ip, port, id, {hostname: ...}]: prefer the announced hostname.
        let ip = match node.first() {
            Some(Value::BulkString(b)) => String::from_utf8_lossy(b).into_owned(),
            _ => continue,
        };
        let port = match node.get(1) {
            Some(Value::Int(p)) => *p as u16,
            _ => continue,
        };
        out.push((*a as u16, *b as u16, ip, port));
    }
    Some(out)
}

/// Routes commands to the right primary, following the deployment through
/// failovers.
pub struct Router {
    target: Target,
    password: Option<String>,
    /// Sentinel: the one connection to the primary.
    primary: Option<Connection>,
    /// Cluster: slot -> node, and a connection per node.
    owners: Vec<Option<(String, u16)>>,
    nodes: BTreeMap<(String, u16), Connection>,
}

impl Router {
    pub fn new(target: Target, password: Option<String>) -> Router {
        Router {
            target,
            password,
            primary: None,
            owners: vec![None; 16384],
            nodes: BTreeMap::new(),
        }
    }

    fn forget(&mut self) {
        self.primary = None;
        self.nodes.clear();
        self.owners = vec![None; 16384];
    }

    /// The connection that serves `key`.
    fn route(&mut self, key: &str) -> Option<&mut Connection> {
        match self.target.clone() {
            Target::Sentinel {
                sentinels,
                port,
                master,
            } => {
                if self.primary.is_none() {
                    let (host, p) =
                        sentinel_primary(&sentinels, port, &master, self.password.as_deref())?;
                    self.primary = Some(connect(&host, p, self.password.as_deref()).ok()?);
                }
                self.primary.as_mut()
            }
            Target::Cluster { seeds, port } => {
                let s = usize::from(slot(key));
                if self.owners[s].is_none() {
                    for seed in &seeds {
                        let Ok(mut con) = connect(seed, port, self.password.as_deref()) else {
                            continue;
                        };
                        if let Some(ranges) = cluster_slots(&mut con) {
                            for (a, b, host, p) in ranges {
                                for i in a..=b {
                                    self.owners[usize::from(i)] = Some((host.clone(), p));
                                }
                            }
                            break;
                        }
                    }
                }
                let owner = self.owners[s].clone()?;
                if !self.nodes.contains_key(&owner) {
                    let con = connect(&owner.0, owner.1, self.password.as_deref()).ok()?;
                    self.nodes.insert(owner.clone(), con);
                }
                self.nodes.get_mut(&owner)
            }
        }
    }

    /// SET then `WAIT 1 <wait_ms>` on the same connection: Ok(true) when
    /// a replica acknowledged it.
    pub fn write_acked(&mut self, key: &str, value: &str, wait_ms: u64) -> Result<bool, String> {
        let con = self.route(key).ok_or("no route")?;
        let reply: redis::RedisResult<(String, i64)> = redis::pipe()
            .cmd("SET")
            .arg(key)
            .arg(value)
            .cmd("WAIT")
            .arg(1)
            .arg(wait_ms)
            .query(con);
        match reply {
            Ok((_, n)) => Ok(n >= 1),
            Err(e) => {
                self.handle(&e, key);
                Err(e.to_string())
            }
        }
    }

    /// GET, following the deployment (None: no such key).
    pub fn read(&mut self, key: &str) -> Result<Option<String>, String> {
        let con = self.route(key).ok_or("no route")?;
        let reply: redis::RedisResult<Option<String>> = redis::cmd("GET").arg(key).query(con);
        reply.map_err(|e| {
            self.handle(&e, key);
            e.to_string()
        })
    }

    fn handle(&mut self, e: &redis::RedisError, key: &str) {
        if let Some((addr, _)) = e.redirect_node() {
            if let Some((host, port)) = addr.rsplit_once(':') {
                if let Ok(port) = port.parse() {
                    self.owners[usize::from(slot(key))] = Some((host.to_owned(), port));
                    return;
                }
            }
        }
        self.forget();
    }
}

/// What a writer saw.
#[derive(Debug, Default)]
pub struct Report {
    /// Acknowledged writes: key -> value.
    pub acked: BTreeMap<String, String>,
    /// Writes sent that no replica acknowledged in time, or that failed.
    pub unacked: u64,
    pub errors: u64,
    /// The first and the last error seen, for failure messages.
    pub first_error: Option<String>,
    pub last_error: Option<String>,
    /// The longest stretch in which writes failed (no write was taken):
    /// the availability gap.
    pub longest_gap: Duration,
    /// When (since the writer started) that stretch began.
    pub gap_at: Duration,
    /// The longest stretch without an acknowledged write (writes taken but
    /// no replica to confirm them count here, not above).
    pub longest_unacked: Duration,
    pub elapsed: Duration,
}

pub struct Writer {
    stop: Arc<AtomicBool>,
    handle: std::thread::JoinHandle<Report>,
}

impl Writer {
    /// Writes `<prefix>-<n>` keys without pause until stopped.
    pub fn start(target: Target, password: Option<String>, prefix: &str) -> Writer {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let prefix = prefix.to_owned();
        let handle = std::thread::spawn(move || {
            let mut router = Router::new(target, password);
            let mut report = Report::default();
            let start = Instant::now();
            let mut last_ok = start;
            let mut last_acked = start;
            let mut n: u64 = 0;
            let served = |report: &mut Report, last_ok: &mut Instant| {
                let now = Instant::now();
                if now - *last_ok > report.longest_gap {
                    report.longest_gap = now - *last_ok;
                    report.gap_at = *last_ok - start;
                }
                *last_ok = now;
            };
            while !flag.load(Ordering::SeqCst) {
                n += 1;
                let key = format!("{prefix}-{n}");
                let value = format!("{prefix}-{n}-{}", n * 7919 % 100_003);
                match router.write_acked(&key, &value, 1000) {
                    Ok(true) => {
                        served(&mut report, &mut last_ok);
                        report.longest_unacked = report.longest_unacked.max(last_ok - last_acked);
                        last_acked = last_ok;
                        report.acked.insert(key, value);
                    }
                    Ok(false) => {
                        served(&mut report, &mut last_ok);
                        report.unacked += 1;
                    }
                    Err(e) => {
                        report.first_error.get_or_insert_with(|| e.clone());
                        report.last_error = Some(e);
                        report.errors += 1;
                        report.unacked += 1;
                        std::thread::sleep(Duration::from_millis(50));
                    }
                }
            }
            served(&mut report, &mut last_ok);
            report.longest_unacked = report.longest_unacked.max(Instant::now() - last_acked);
            report.elapsed = start.elapsed();
            report
        });
        Writer { stop, handle }
    }

    pub fn stop(self) -> Report {
        self.stop.store(true, Ordering::SeqCst);
        self.handle.join().expect("writer thread")
    }
}

/// Reads every acknowledged key back; the keys lost or changed (empty: none).
pub fn lost(target: &Target, password: Option<&str>, report: &Report) -> Vec<String> {
    let mut router = Router::new(target.clone(), password.map(str::to_owned));
    let mut lost = Vec::new();
    for (key, value) in &report.acked {
        let mut tries = 0;
        let got = loop {
            match router.read(key) {
                Ok(v) => break v,
                Err(e) => {
                    tries += 1;
                    assert!(tries < 100, "cannot read {key} back: {e}");
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
        };
        if got.as_deref() != Some(value.as_str()) {
            lost.push(format!("{key}: wrote {value:?}, read {got:?}"));
        }
    }
    lost
}

impl Report {
    /// One line for the test output (and the README's figures).
    pub fn summary(&self, what: &str) -> String {
        format!(
            "{what}: {} acknowledged writes in {:.1} s ({} not acknowledged, {} errors); \
             longest stretch of failing writes {:.2} s (from {:.1} s), \
             without an acknowledged write {:.2} s{}",
            self.acked.len(),
            self.elapsed.as_secs_f64(),
            self.unacked,
            self.errors,
            self.longest_gap.as_secs_f64(),
            self.gap_at.as_secs_f64(),
            self.longest_unacked.as_secs_f64(),
            match (&self.first_error, &self.last_error) {
                (Some(a), Some(b)) => format!("; first error: {a}; last: {b}"),
                _ => String::new(),
            }
        )
    }
}
