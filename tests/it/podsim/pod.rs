//! One pod, run the way a kubelet runs it.
//!
//! The sandbox is a "pause" process holding the pod's own network, mount and
//! UTS namespaces (hostname = pod name). Its network is one veth on the
//! simulator's bridge with an address never given out before. Each container
//! gets a root of its own inside the pod's mount namespace: the machine's
//! `/usr`, `/etc` (with the pod's hosts and resolv.conf bound over them) and
//! libraries read-only, the image's binaries at `/image/bin`, `/dev`, `/proc`,
//! and the pod's volumes at the container's `mountPath`s; with
//! `readOnlyRootFilesystem` the root itself is read-only, so a write outside
//! the volumes fails as it does in the pod. Processes run chrooted there as
//! `runAsUser`/`runAsGroup` with `fsGroup` as a supplementary group, with the
//! container's env and nothing else.

use std::collections::BTreeMap;
use std::fs;
use std::net::IpAddr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{Container, PodSpec, Probe};
use nix::sys::signal::Signal;

use super::process::Proc;

/// Secrets the test provides: name -> key -> bytes.
pub type Secrets = BTreeMap<String, BTreeMap<String, Vec<u8>>>;

/// Everything outside the pod it needs to start.
pub struct World<'a> {
    pub images: &'a Path,
    pub secrets: &'a Secrets,
    pub config_maps: &'a BTreeMap<String, BTreeMap<String, String>>,
    pub logs: &'a Path,
    pub bridge: &'a str,
    pub scale: f64,
    /// Time before a pod's first container starts (image pull, scheduling).
    pub start_delay: Duration,
}

/// What a controller asks for.
pub struct Request {
    pub name: String,
    pub namespace: String,
    /// `spec.serviceName` of the StatefulSet: the pod's DNS subdomain.
    pub subdomain: Option<String>,
    pub spec: PodSpec,
    /// Template digest: which revision of its StatefulSet the pod runs.
    pub revision: String,
    /// volume name -> folder of the pod's PersistentVolumeClaim.
    pub claims: BTreeMap<String, PathBuf>,
    pub ip: IpAddr,
    pub link: String,
    pub dir: PathBuf,
}

pub struct Pod {
    pub name: String,
    pub namespace: String,
    pub subdomain: Option<String>,
    pub ip: IpAddr,
    pub revision: String,
    spec: PodSpec,
    dir: PathBuf,
    pause: Arc<Proc>,
    scale: f64,
    start_delay: Duration,
    deleting: AtomicBool,
    gone: AtomicBool,
    /// Init containers all done.
    initialised: AtomicBool,
    /// restartPolicy Never: Some(succeeded) once every container ended.
    outcome: Mutex<Option<bool>>,
    containers: Vec<Arc<Runtime>>,
    threads: Mutex<Vec<std::thread::JoinHandle<()>>>,
}

/// A container as the kubelet tracks it.
pub struct Runtime {
    pub name: String,
    spec: Container,
    root: PathBuf,
    env: Vec<(String, String)>,
    log: PathBuf,
    proc: Mutex<Option<Arc<Proc>>>,
    ready: AtomicBool,
    pub restarts: AtomicU32,
    /// Set by whoever stops the container on purpose (liveness, deletion).
    stopping: AtomicBool,
}

fn must(mut cmd: Command, what: &str) {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        out.status.success(),
        "{what}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// A Kubernetes quantity as a tmpfs size (`16Mi` -> `16m`).
fn tmpfs_size(q: &str) -> Option<String> {
    let (n, unit) = q.split_at(q.find(|c: char| !c.is_ascii_digit()).unwrap_or(q.len()));
    let unit = match unit {
        "" => "",
        "Ki" => "k",
        "Mi" => "m",
        "Gi" => "g",
        _ => return None,
    };
    Some(format!("{n}{unit}"))
}

fn secs(v: Option<i32>, default: i32) -> Duration {
    Duration::from_secs(u64::try_from(v.unwrap_or(default)).unwrap_or(0))
}

impl Pod {
    /// Creates the sandbox, its network, volumes and container roots. The
    /// containers start with [`Pod::start`].
    pub fn create(world: &World, req: Request) -> Arc<Pod> {
        let Request {
            name,
            namespace,
            subdomain,
            spec,
            revision,
            claims,
            ip,
            link,
            dir,
        } = req;
        fs::create_dir_all(&dir).unwrap();
        let pause = Proc::spawn({
            let mut c = Command::new("unshare");
            c.args([
                "--net",
                "--mount",
                "--uts",
                "--propagation",
                "private",
                "--",
                "sh",
                "-c",
                "hostname \"$1\" && exec sleep infinity",
                "pause",
                &name,
            ])
            .stdin(Stdio::null());
            c
        });
        let deadline = Instant::now() + Duration::from_secs(10);
        while fs::read_to_string(format!("/proc/{}/comm", pause.pid))
            .map_or(true, |c| c.trim() != "sleep")
        {
            assert!(
                Instant::now() < deadline && pause.exited().is_none(),
                "{name}: the pod sandbox did not start"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        let pid = pause.pid.to_string();

        // Network: a veth from the bridge into the pod, the pod's address on it.
        must(
            {
                let mut c = Command::new("ip");
                c.args([
                    "link", "add", &link, "type", "veth", "peer", "name", "eth0", "netns", &pid,
                ]);
                c
            },
            "veth",
        );
        must(
            {
                let mut c = Command::new("ip");
                c.args(["link", "set", &link, "master", world.bridge, "up"]);
                c
            },
            "bridge port",
        );
        // An IPv6 pod has that address only (no duplicate detection: the
        // simulator hands each address out once).
        let (prefix, nodad) = if ip.is_ipv6() {
            (64, " nodad")
        } else {
            (16, "")
        };
        must(
            {
                let mut c = Command::new("nsenter");
                c.args(["-t", &pid, "-n", "sh", "-c"]).arg(format!(
                    "ip link set lo up && ip addr add {ip}/{prefix} dev eth0{nodad} && ip link set eth0 up"
                ));
                c
            },
            "pod address",
        );

        let pod_sc = spec.security_context.clone().unwrap_or_default();
        let fs_group = pod_sc.fs_group.map(|g| g as u32);
        fs::write(dir.join("hosts"), "").unwrap();
        fs::write(
            dir.join("resolv.conf"),
            "# No DNS server in the simulator: names come from the hosts file.\n\
             nameserver 127.0.0.1\noptions attempts:1 timeout:1\n",
        )
        .unwrap();

        // Volumes.
        let mut script = String::from("set -e\n");
        let mut volumes: BTreeMap<String, PathBuf> = BTreeMap::new();
        for v in spec.volumes.iter().flatten() {
            let path = dir.join("volumes").join(&v.name);
            fs::create_dir_all(&path).unwrap();
            if let Some(cm) = &v.config_map {
                let data = world
                    .config_maps
                    .get(&cm.name)
                    .unwrap_or_else(|| panic!("{name}: ConfigMap {} does not exist", cm.name));
                project_config_map(&path, data, cm, fs_group);
            } else if v.secret.is_some() || v.projected.is_some() {
                let files = secret_files(v, world.secrets)
                    .unwrap_or_else(|e| panic!("{name}: volume {}: {e}", v.name));
                write_atomically(&path, &files, fs_group);
            } else if let Some(e) = &v.empty_dir {
                let size = e
                    .size_limit
                    .as_ref()
                    .and_then(|q| tmpfs_size(&q.0))
                    .map(|s| format!(",size={s}"))
                    .unwrap_or_default();
                // Lives in the pod's mount namespace: gone with the pod.
                script.push_str(&format!(
                    "mount -t tmpfs -o mode=1777{size} tmpfs {}\n",
                    quote(&path.to_string_lossy())
                ));
            } else {
                panic!("{name}: volume {} of a kind the simulator lacks", v.name);
            }
            volumes.insert(v.name.clone(), path);
        }
        for (vol, path) in &claims {
            fs::create_dir_all(path).unwrap();
            if let Some(g) = fs_group {
                // fsGroup: the volume belongs to the group, setgid, group-writable.
                std::os::unix::fs::chown(path, Some(0), Some(g)).unwrap();
                fs::set_permissions(path, fs::Permissions::from_mode(0o2775)).unwrap();
            }
            volumes.insert(vol.clone(), path.clone());
        }

        // Container roots.
        let mut runtimes = Vec::new();
        let all = spec
            .init_containers
            .iter()
            .flatten()
            .chain(spec.containers.iter());
        for c in all {
            if c.command.as_ref().is_none_or(|c| c.is_empty()) {
                // Only the image's entrypoint would run it (the metrics
                // exporter): not simulated.
                continue;
            }
            let root = dir.join("roots").join(&c.name);
            script.push_str(&container_root(&root, c, &volumes, &dir, world.images));
            let env = env_of(c, &name, &namespace, ip, world.secrets);
            runtimes.push(Arc::new(Runtime {
                name: c.name.clone(),
                spec: c.clone(),
                root,
                env,
                log: world.logs.join(format!("{name}.{}.log", c.name)),
                proc: Mutex::new(None),
                ready: AtomicBool::new(false),
                restarts: AtomicU32::new(0),
                stopping: AtomicBool::new(false),
            }));
        }
        let mut mount = Command::new("nsenter");
        mount.args(["-t", &pid, "-m", "sh", "-c", &script]);
        must(mount, "pod mounts");

        Arc::new(Pod {
            name,
            namespace,
            subdomain,
            ip,
            revision,
            spec,
            dir,
            pause,
            scale: world.scale,
            start_delay: world.start_delay,
            deleting: AtomicBool::new(false),
            gone: AtomicBool::new(false),
            initialised: AtomicBool::new(false),
            outcome: Mutex::new(None),
            containers: runtimes,
            threads: Mutex::new(Vec::new()),
        })
    }

    pub fn hosts_file(&self) -> PathBuf {
        self.dir.join("hosts")
    }

    /// The pod's DNS names: `<pod>.<service>.<namespace>.svc[.cluster.local]`.
    pub fn dns_names(&self) -> Vec<String> {
        match &self.subdomain {
            Some(svc) => {
                let short = format!("{}.{svc}.{}.svc", self.name, self.namespace);
                vec![format!("{short}.cluster.local"), short]
            }
            None => Vec::new(),
        }
    }

    fn scaled(&self, d: Duration) -> Duration {
        d.mul_f64(self.scale)
    }

    fn is_init(&self, c: &Runtime) -> bool {
        self.spec
            .init_containers
            .iter()
            .flatten()
            .any(|i| i.name == c.name)
    }

    fn restart_never(&self) -> bool {
        self.spec.restart_policy.as_deref() == Some("Never")
    }

    /// Starts the kubelet's work for this pod: init containers in order,
    /// then every container with its probes, restarts and back-off.
    pub fn start(self: &Arc<Self>) {
        let pod = Arc::clone(self);
        let t = std::thread::spawn(move || pod.kubelet());
        self.threads.lock().unwrap().push(t);
    }

    fn kubelet(self: Arc<Self>) {
        // Scheduling and the image pull.
        self.sleep(self.start_delay);
        let (inits, mains): (Vec<_>, Vec<_>) = self
            .containers
            .iter()
            .cloned()
            .partition(|c| self.is_init(c));
        for c in &inits {
            let mut backoff = self.scaled(Duration::from_secs(10));
            loop {
                if self.deleting.load(Ordering::SeqCst) {
                    return;
                }
                let code = self.run_container(c);
                if self.deleting.load(Ordering::SeqCst) {
                    return;
                }
                if code == Some(0) {
                    break;
                }
                if self.restart_never() {
                    *self.outcome.lock().unwrap() = Some(false);
                    return;
                }
                self.sleep(backoff);
                backoff = (backoff * 2).min(self.scaled(Duration::from_secs(300)));
                c.restarts.fetch_add(1, Ordering::SeqCst);
            }
        }
        self.initialised.store(true, Ordering::SeqCst);
        let handles: Vec<_> = mains
            .into_iter()
            .map(|c| {
                let pod = Arc::clone(&self);
                std::thread::spawn(move || pod.supervise(&c))
            })
            .collect();
        for h in handles {
            let _ = h.join();
        }
        if self.restart_never() && !self.deleting.load(Ordering::SeqCst) {
            let ok = self
                .containers
                .iter()
                .filter(|c| !self.is_init(c))
                .all(|c| c.restarts.load(Ordering::SeqCst) == 0 && c.exit_ok());
            *self.outcome.lock().unwrap() = Some(ok);
        }
    }

    /// Sleeps, waking early when the pod is being deleted.
    fn sleep(&self, d: Duration) {
        let end = Instant::now() + d;
        while Instant::now() < end && !self.deleting.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(20).min(end - Instant::now()));
        }
    }

    /// Runs an init container to its end; its exit code.
    fn run_container(&self, c: &Runtime) -> Option<i32> {
        let p = Proc::spawn(self.command(c, &c.argv(), true));
        *c.proc.lock().unwrap() = Some(Arc::clone(&p));
        loop {
            if let Some(s) = p.wait_for(Duration::from_millis(100)) {
                p.kill_group();
                return s.code();
            }
            if self.deleting.load(Ordering::SeqCst) {
                p.kill_group();
                p.wait_for(Duration::from_secs(5));
                return None;
            }
        }
    }

    /// One container's life: start, probe, restart with back-off (as the
    /// kubelet: the first restart at once, then 10 s doubling to 5 min,
    /// reset after 10 min of running).
    fn supervise(&self, c: &Runtime) {
        let mut backoff = Duration::ZERO;
        loop {
            if self.deleting.load(Ordering::SeqCst) {
                return;
            }
            let began = Instant::now();
            c.stopping.store(false, Ordering::SeqCst);
            let p = Proc::spawn(self.command(c, &c.argv(), true));
            *c.proc.lock().unwrap() = Some(Arc::clone(&p));
            self.probe_while_running(c, &p);
            c.ready.store(false, Ordering::SeqCst);
            if self.deleting.load(Ordering::SeqCst) {
                return;
            }
            // The runtime's PID namespace ends with its first process.
            p.wait_for(Duration::from_secs(60));
            p.kill_group();
            if self.restart_never() {
                return;
            }
            if began.elapsed() > Duration::from_secs(600) {
                backoff = Duration::ZERO;
            }
            self.sleep(backoff);
            backoff = (backoff * 2)
                .max(self.scaled(Duration::from_secs(10)))
                .min(self.scaled(Duration::from_secs(300)));
            // restartCount counts restarts made, after the back-off.
            c.restarts.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// Probes a running container until it exits, fails its liveness (or
    /// startup) probe and is stopped, or the pod is deleted.
    fn probe_while_running(&self, c: &Runtime, p: &Proc) {
        let start = Instant::now();
        let s = &c.spec;
        let delay = |probe: &Option<Probe>| {
            probe.as_ref().map_or(Duration::ZERO, |p| {
                self.scaled(secs(p.initial_delay_seconds, 0))
            })
        };
        let period = |probe: &Probe| self.scaled(secs(probe.period_seconds, 10));
        let mut started = s.startup_probe.is_none();
        let mut started_at = start;
        let mut next_startup = start + delay(&s.startup_probe);
        let mut next_ready = start + delay(&s.readiness_probe);
        let mut next_live = start + delay(&s.liveness_probe);
        let (mut startup_fails, mut ready_fails, mut ready_ok, mut live_fails) = (0, 0, 0, 0);
        if started && s.readiness_probe.is_none() {
            c.ready.store(true, Ordering::SeqCst);
        }
        loop {
            if p.exited().is_some() || self.deleting.load(Ordering::SeqCst) {
                return;
            }
            if c.stopping.load(Ordering::SeqCst) {
                return;
            }
            let now = Instant::now();
            if !started {
                let probe = s.startup_probe.as_ref().unwrap();
                if now >= next_startup {
                    next_startup = now + period(probe);
                    if self.probe(c, probe) {
                        started = true;
                        started_at = Instant::now();
                        next_ready = started_at;
                        next_live = started_at;
                        if s.readiness_probe.is_none() {
                            c.ready.store(true, Ordering::SeqCst);
                        }
                    } else {
                        startup_fails += 1;
                        if startup_fails >= probe.failure_threshold.unwrap_or(3) {
                            self.stop(c, self.grace());
                            return;
                        }
                    }
                }
            } else {
                if let Some(probe) = &s.readiness_probe {
                    if now >= next_ready.max(started_at) {
                        next_ready = now + period(probe);
                        if self.probe(c, probe) {
                            ready_fails = 0;
                            ready_ok += 1;
                            if ready_ok >= probe.success_threshold.unwrap_or(1) {
                                c.ready.store(true, Ordering::SeqCst);
                            }
                        } else {
                            ready_ok = 0;
                            ready_fails += 1;
                            if ready_fails >= probe.failure_threshold.unwrap_or(3) {
                                c.ready.store(false, Ordering::SeqCst);
                            }
                        }
                    }
                }
                if let Some(probe) = &s.liveness_probe {
                    if now >= next_live.max(started_at) {
                        next_live = now + period(probe);
                        if self.probe(c, probe) {
                            live_fails = 0;
                        } else {
                            live_fails += 1;
                            if live_fails >= probe.failure_threshold.unwrap_or(3) {
                                self.stop(c, self.grace());
                                return;
                            }
                        }
                    }
                }
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// One exec probe, bounded by its timeout.
    fn probe(&self, c: &Runtime, probe: &Probe) -> bool {
        let Some(exec) = probe.exec.as_ref().and_then(|e| e.command.clone()) else {
            // httpGet / tcpSocket probes belong to containers not simulated.
            return true;
        };
        let limit = secs(probe.timeout_seconds, 1);
        Proc::run(self.command(c, &exec, false), limit) == Some(0)
    }

    pub fn grace(&self) -> Duration {
        secs(
            self.spec.termination_grace_period_seconds.map(|g| g as i32),
            30,
        )
    }

    /// Stops a container as the kubelet does: `preStop`, SIGTERM, SIGKILL
    /// when `grace` is over. Returns how long it took.
    fn stop(&self, c: &Runtime, grace: Duration) -> Duration {
        c.stopping.store(true, Ordering::SeqCst);
        let t0 = Instant::now();
        let Some(p) = c.proc.lock().unwrap().clone() else {
            return Duration::ZERO;
        };
        if p.exited().is_none() {
            let hook = c
                .spec
                .lifecycle
                .as_ref()
                .and_then(|l| l.pre_stop.as_ref())
                .and_then(|h| h.exec.as_ref())
                .and_then(|e| e.command.clone());
            if let Some(hook) = hook.filter(|_| !grace.is_zero()) {
                let code = Proc::run(self.command(c, &hook, true), grace);
                append(&c.log, &format!("[podsim] preStop exited with {code:?}\n"));
            }
            let left = grace.saturating_sub(t0.elapsed());
            p.signal(Signal::SIGTERM);
            if p.wait_for(left).is_none() {
                append(&c.log, "[podsim] grace period over: SIGKILL\n");
            }
        }
        p.kill_group();
        p.wait_for(Duration::from_secs(10));
        t0.elapsed()
    }

    /// Deletes the pod: every container stopped (in parallel) within
    /// `grace`, then the sandbox. Blocks until the pod is gone.
    pub fn delete(&self, grace: Duration) {
        if self.deleting.swap(true, Ordering::SeqCst) {
            while !self.gone.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(20));
            }
            return;
        }
        std::thread::scope(|scope| {
            for c in &self.containers {
                scope.spawn(move || self.stop(c, grace));
            }
        });
        for t in self.threads.lock().unwrap().drain(..) {
            let _ = t.join();
        }
        self.pause.kill_group();
        self.pause.wait_for(Duration::from_secs(10));
        self.gone.store(true, Ordering::SeqCst);
    }

    /// kill -9 of a container's processes; the kubelet restarts it.
    pub fn kill_container(&self, name: &str) {
        let c = self.container(name);
        if let Some(p) = c.proc.lock().unwrap().clone() {
            p.kill_group();
        }
    }

    fn container(&self, name: &str) -> &Runtime {
        self.containers
            .iter()
            .find(|c| c.name == name)
            .unwrap_or_else(|| panic!("{}: no container {name}", self.name))
    }

    pub fn is_deleting(&self) -> bool {
        self.deleting.load(Ordering::SeqCst)
    }

    /// Ready: initialised, and every container simulated is ready.
    pub fn ready(&self) -> bool {
        !self.is_deleting()
            && self.initialised.load(Ordering::SeqCst)
            && self
                .containers
                .iter()
                .filter(|c| !self.is_init(c))
                .all(|c| c.ready.load(Ordering::SeqCst))
    }

    pub fn outcome(&self) -> Option<bool> {
        *self.outcome.lock().unwrap()
    }

    /// The containers simulated (init containers first).
    pub fn container_names(&self) -> Vec<String> {
        self.containers.iter().map(|c| c.name.clone()).collect()
    }

    pub fn restarts(&self, container: &str) -> u32 {
        self.container(container).restarts.load(Ordering::SeqCst)
    }

    /// `kubectl exec`: runs `argv` in the container; (exit code, output).
    pub fn exec(&self, container: &str, argv: &[&str], limit: Duration) -> (Option<i32>, String) {
        let c = self.container(container);
        let argv: Vec<String> = argv.iter().map(|s| (*s).to_owned()).collect();
        let mut cmd = self.command(c, &argv, false);
        let out = self.dir.join(format!("exec-{}.out", std::process::id()));
        let file = fs::File::create(&out).unwrap();
        cmd.stdout(file.try_clone().unwrap()).stderr(file);
        let code = Proc::run(cmd, limit);
        let text = fs::read_to_string(&out).unwrap_or_default();
        let _ = fs::remove_file(&out);
        (code, text)
    }

    /// The logs of a container, every restart included.
    pub fn logs(&self, container: &str) -> String {
        fs::read_to_string(&self.container(container).log).unwrap_or_default()
    }

    /// Replaces the files of a ConfigMap volume, as the kubelet does some
    /// time after the ConfigMap changed (each file atomically).
    pub fn refresh_config_map(&self, name: &str, data: &BTreeMap<String, String>) {
        for v in self.spec.volumes.iter().flatten() {
            let Some(cm) = v.config_map.as_ref().filter(|cm| cm.name == name) else {
                continue;
            };
            let path = self.dir.join("volumes").join(&v.name);
            project_config_map(&path, data, cm, self.fs_group());
        }
    }

    /// The pod's fsGroup: the group its volumes' files belong to.
    fn fs_group(&self) -> Option<u32> {
        self.spec
            .security_context
            .as_ref()
            .and_then(|s| s.fs_group)
            .map(|g| g as u32)
    }

    /// Rewrites every Secret volume from `secrets`, as the kubelet does some
    /// time after a Secret changed (all files of a volume at once).
    pub fn refresh_secrets(&self, secrets: &Secrets) {
        if self.gone.load(std::sync::atomic::Ordering::SeqCst) {
            return;
        }
        let fs_group = self.fs_group();
        for v in self.spec.volumes.iter().flatten() {
            if v.secret.is_none() && v.projected.is_none() {
                continue;
            }
            // A volume the kubelet cannot fill keeps its files (it retries).
            if let Ok(files) = secret_files(v, secrets) {
                write_atomically(&self.dir.join("volumes").join(&v.name), &files, fs_group);
            }
        }
    }

    /// The command line that runs `argv` in container `c`: the pod's
    /// namespaces, the container's root, user and env.
    fn command(&self, c: &Runtime, argv: &[String], logged: bool) -> Command {
        let sc = c.spec.security_context.clone().unwrap_or_default();
        let pod_sc = self.spec.security_context.clone().unwrap_or_default();
        let user = sc.run_as_user.or(pod_sc.run_as_user);
        let group = sc.run_as_group.or(pod_sc.run_as_group).or(user);
        let mut cmd = Command::new("nsenter");
        cmd.args([
            "-t",
            &self.pause.pid.to_string(),
            "-n",
            "-m",
            "-u",
            "--",
            "chroot",
        ]);
        if let Some(u) = user {
            cmd.arg(format!("--userspec={u}:{}", group.unwrap_or(u)));
            if let Some(g) = pod_sc.fs_group {
                cmd.arg(format!("--groups={g}"));
            }
        }
        cmd.arg(&c.root).args(["/usr/bin/env", "-i"]);
        for (k, v) in &c.env {
            cmd.arg(format!("{k}={v}"));
        }
        cmd.args(argv).stdin(Stdio::null());
        if logged {
            let f = fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&c.log)
                .unwrap();
            cmd.stdout(f.try_clone().unwrap()).stderr(f);
        } else {
            cmd.stdout(Stdio::null()).stderr(Stdio::null());
        }
        cmd
    }
}

impl Runtime {
    fn argv(&self) -> Vec<String> {
        let mut v = self.spec.command.clone().unwrap_or_default();
        v.extend(self.spec.args.clone().unwrap_or_default());
        v
    }

    fn exit_ok(&self) -> bool {
        self.proc
            .lock()
            .unwrap()
            .as_ref()
            .and_then(|p| p.exited())
            .is_some_and(|s| s.success())
    }
}

fn append(path: &Path, text: &str) {
    use std::io::Write;
    if let Ok(mut f) = fs::OpenOptions::new().create(true).append(true).open(path) {
        let _ = f.write_all(text.as_bytes());
    }
}

/// Writes a ConfigMap volume (see [`project`]).
fn project_config_map(
    dir: &Path,
    data: &BTreeMap<String, String>,
    source: &k8s_openapi::api::core::v1::ConfigMapVolumeSource,
    group: Option<u32>,
) {
    let bytes: BTreeMap<String, Vec<u8>> = data
        .iter()
        .map(|(k, v)| (k.clone(), v.clone().into_bytes()))
        .collect();
    project(
        dir,
        &bytes,
        source.items.as_deref(),
        source.default_mode.unwrap_or(0o644),
        group,
    );
}

/// The files of a Secret volume, or of a projected volume of Secrets:
/// (path, bytes, mode). A missing Secret or key is an error unless its
/// source is optional, as the kubelet has it.
fn secret_files(
    v: &k8s_openapi::api::core::v1::Volume,
    secrets: &Secrets,
) -> Result<Vec<(String, Vec<u8>, i32)>, String> {
    use k8s_openapi::api::core::v1::KeyToPath;
    let mut files = Vec::new();
    let mut add = |name: &str,
                   items: Option<&[KeyToPath]>,
                   optional: bool,
                   mode: i32|
     -> Result<(), String> {
        let Some(data) = secrets.get(name) else {
            return if optional {
                Ok(())
            } else {
                Err(format!("Secret {name} is not among the test's secrets"))
            };
        };
        match items {
            Some(items) => {
                for i in items {
                    match data.get(&i.key) {
                        Some(b) => files.push((i.path.clone(), b.clone(), i.mode.unwrap_or(mode))),
                        None if optional => {}
                        None => return Err(format!("key {} missing from Secret {name}", i.key)),
                    }
                }
            }
            None => files.extend(data.iter().map(|(k, b)| (k.clone(), b.clone(), mode))),
        }
        Ok(())
    };
    if let Some(s) = &v.secret {
        add(
            s.secret_name.as_deref().unwrap_or_default(),
            s.items.as_deref(),
            s.optional.unwrap_or(false),
            s.default_mode.unwrap_or(0o644),
        )?;
    }
    if let Some(p) = &v.projected {
        for source in p.sources.iter().flatten() {
            let s = source
                .secret
                .as_ref()
                .ok_or("a projected source of a kind the simulator lacks")?;
            add(
                &s.name,
                s.items.as_deref(),
                s.optional.unwrap_or(false),
                p.default_mode.unwrap_or(0o644),
            )?;
        }
    }
    Ok(files)
}

/// Writes a Secret volume's files as the kubelet does, so a running pod
/// sees the whole change at once: the files go into a new hidden folder,
/// the `..data` link is swapped to it by a rename, and each visible name
/// is a link through `..data` (a name whose key is gone is removed).
fn write_atomically(dir: &Path, files: &[(String, Vec<u8>, i32)], group: Option<u32>) {
    // One writer at a time, as the kubelet's per-volume lock.
    static LOCK: Mutex<()> = Mutex::new(());
    let _held = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    static GENERATION: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let generation = format!(
        "..gen{}",
        GENERATION.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
    );
    let staged = dir.join(&generation);
    fs::create_dir_all(&staged).unwrap();
    for (path, bytes, mode) in files {
        let target = staged.join(path);
        if let Some(parent) = target.parent() {
            fs::create_dir_all(parent).unwrap();
        }
        fs::write(&target, bytes).unwrap();
        fs::set_permissions(&target, fs::Permissions::from_mode(*mode as u32)).unwrap();
        std::os::unix::fs::chown(&target, Some(0), Some(group.unwrap_or(0))).unwrap();
    }
    let tmp = dir.join("..data_tmp");
    let _ = fs::remove_file(&tmp);
    std::os::unix::fs::symlink(&generation, &tmp).unwrap();
    fs::rename(&tmp, dir.join("..data")).unwrap();
    let visible: std::collections::BTreeSet<String> = files
        .iter()
        .map(|(p, _, _)| p.split('/').next().unwrap().to_owned())
        .collect();
    for name in &visible {
        let link = dir.join(name);
        if fs::symlink_metadata(&link).is_err() {
            std::os::unix::fs::symlink(format!("..data/{name}"), &link).unwrap();
        }
    }
    for e in fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with("..") {
            if name.starts_with("..gen") && name != generation {
                fs::remove_dir_all(e.path()).unwrap();
            }
        } else if !visible.contains(&name) {
            fs::remove_file(e.path()).unwrap();
        }
    }
}

/// Writes a ConfigMap volume: every key, or the listed items,
/// with their modes, owned by root and the pod's fsGroup.
fn project(
    dir: &Path,
    data: &BTreeMap<String, Vec<u8>>,
    items: Option<&[k8s_openapi::api::core::v1::KeyToPath]>,
    default_mode: i32,
    group: Option<u32>,
) {
    let files: Vec<(String, &Vec<u8>, i32)> = match items {
        Some(items) => items
            .iter()
            .map(|i| {
                let bytes = data
                    .get(&i.key)
                    .unwrap_or_else(|| panic!("key {} missing from {}", i.key, dir.display()));
                (i.path.clone(), bytes, i.mode.unwrap_or(default_mode))
            })
            .collect(),
        None => data
            .iter()
            .map(|(k, v)| (k.clone(), v, default_mode))
            .collect(),
    };
    for (path, bytes, mode) in files {
        let target = dir.join(&path);
        if let Some(parent) = target.parent() {
            fs::create_dir_all(parent).unwrap();
        }
        let tmp = dir.join(format!(".{path}.tmp"));
        fs::write(&tmp, bytes).unwrap();
        fs::set_permissions(&tmp, fs::Permissions::from_mode(mode as u32)).unwrap();
        std::os::unix::fs::chown(&tmp, Some(0), Some(group.unwrap_or(0))).unwrap();
        fs::rename(&tmp, &target).unwrap();
    }
}

/// The env of a container: values, the Downward API fields the rendered
/// pods use, and Secret keys; plus what a runtime sets.
fn env_of(
    c: &Container,
    pod: &str,
    namespace: &str,
    ip: IpAddr,
    secrets: &Secrets,
) -> Vec<(String, String)> {
    // The image's binaries first, then the machine's.
    let path = "/image/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    let mut env = vec![
        ("PATH".to_owned(), path.to_owned()),
        ("HOSTNAME".to_owned(), pod.to_owned()),
        ("HOME".to_owned(), "/".to_owned()),
    ];
    for e in c.env.iter().flatten() {
        let value = if let Some(v) = &e.value {
            v.clone()
        } else if let Some(from) = &e.value_from {
            if let Some(f) = &from.field_ref {
                match f.field_path.as_str() {
                    "metadata.name" => pod.to_owned(),
                    "metadata.namespace" => namespace.to_owned(),
                    "status.podIP" => ip.to_string(),
                    other => panic!("fieldRef {other} is not simulated"),
                }
            } else if let Some(s) = &from.secret_key_ref {
                let bytes = secrets
                    .get(&s.name)
                    .and_then(|d| d.get(&s.key))
                    .unwrap_or_else(|| panic!("secretKeyRef {}/{} missing", s.name, s.key));
                String::from_utf8(bytes.clone()).expect("UTF-8 secret in env")
            } else {
                panic!("env {} from a source the simulator lacks", e.name)
            }
        } else {
            String::new()
        };
        env.push((e.name.clone(), value));
    }
    env
}

/// The mount commands of one container's root (run in the pod's mount
/// namespace), after making its folders.
fn container_root(
    root: &Path,
    c: &Container,
    volumes: &BTreeMap<String, PathBuf>,
    pod_dir: &Path,
    images: &Path,
) -> String {
    let r = root.to_string_lossy().into_owned();
    let mut s = format!("mount --bind {0} {0}\n", quote(&r));
    fs::create_dir_all(root).unwrap();
    fs::set_permissions(root, fs::Permissions::from_mode(0o755)).unwrap();
    for top in ["usr", "etc", "bin", "sbin", "lib", "lib64", "opt"] {
        let host = Path::new("/").join(top);
        let Ok(meta) = fs::symlink_metadata(&host) else {
            continue;
        };
        let inside = root.join(top);
        if meta.file_type().is_symlink() {
            let target = fs::read_link(&host).unwrap();
            if fs::symlink_metadata(&inside).is_err() {
                std::os::unix::fs::symlink(target, &inside).unwrap();
            }
        } else {
            fs::create_dir_all(&inside).unwrap();
            s.push_str(&format!(
                "mount --bind -o ro {} {}\n",
                quote(&host.to_string_lossy()),
                quote(&inside.to_string_lossy())
            ));
        }
    }
    for (file, from) in [("hosts", "hosts"), ("resolv.conf", "resolv.conf")] {
        s.push_str(&format!(
            "mount --bind -o ro {} {}\n",
            quote(&pod_dir.join(from).to_string_lossy()),
            quote(&format!("{r}/etc/{file}"))
        ));
    }
    for (dir, from) in [("dev", "/dev"), ("proc", "/proc")] {
        fs::create_dir_all(root.join(dir)).unwrap();
        s.push_str(&format!(
            "mount --rbind {from} {}\n",
            quote(&format!("{r}/{dir}"))
        ));
    }
    let engine = if c.image.as_deref().unwrap_or("").contains("valkey") {
        "valkey"
    } else {
        "redis"
    };
    fs::create_dir_all(root.join("image/bin")).unwrap();
    s.push_str(&format!(
        "mount --bind -o ro {} {}\n",
        quote(&images.join(engine).to_string_lossy()),
        quote(&format!("{r}/image/bin"))
    ));
    for m in c.volume_mounts.iter().flatten() {
        assert!(m.sub_path.is_none(), "subPath mounts are not simulated");
        let src = volumes
            .get(&m.name)
            .unwrap_or_else(|| panic!("{}: no volume {}", c.name, m.name));
        let at = root.join(m.mount_path.trim_start_matches('/'));
        fs::create_dir_all(&at).unwrap();
        let ro = if m.read_only == Some(true) {
            "-o ro "
        } else {
            ""
        };
        s.push_str(&format!(
            "mount --bind {ro}{} {}\n",
            quote(&src.to_string_lossy()),
            quote(&at.to_string_lossy())
        ));
    }
    let read_only = c
        .security_context
        .as_ref()
        .and_then(|s| s.read_only_root_filesystem)
        == Some(true);
    if read_only {
        s.push_str(&format!("mount -o remount,bind,ro {}\n", quote(&r)));
    }
    s
}
