//! Rendering: a validated [`Redis`] becomes Kubernetes objects, then files.
//!
//! Pure and deterministic: no I/O beyond the already-loaded templates, no
//! clock, no randomness. Objects are built as typed k8s-openapi structs,
//! which serialise their fields in sorted order and skip unset ones, or as
//! JSON for custom resources (`serde_json::Value`, whose maps are sorted), so
//! key order is stable by construction; a test checks every mapping of every
//! file. Each object is written as YAML once, when it is made.

pub mod backup;
pub mod config;
pub mod gitops;
pub mod job;
pub mod monitoring;
pub mod policy;
pub mod secrets;
pub mod services;
pub mod templates;
pub mod topology;
pub mod workload;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use rayon::prelude::*;
use serde::Serialize;
use serde_json::Value;

use crate::names::{component, label};
use crate::output::{File, Summaries, header};
use crate::spec::model::Engine;
use crate::spec::validate::{Redis, Topology};
use crate::topology::slots::SlotMap;
use templates::{TemplateError, Templates};

/// Ports, fixed so that Services, probes, policies and configs agree.
pub const REDIS_PORT: i32 = 6379;
pub const BUS_PORT: i32 = 16379;
pub const SENTINEL_PORT: i32 = 26379;
pub const METRICS_PORT: i32 = 9121;

/// Typed kinds with a top-level field that sorts before `kind` (`data`,
/// `automountServiceAccountToken`...).
const KINDS_WITH_FIELDS_BEFORE_KIND: &[&str] = &["ConfigMap", "Secret", "ServiceAccount"];

/// A rendered object as a JSON value, made on demand: only a deployment
/// whose files are compared (see [`Inputs::compare_with`]) asks.
#[derive(Clone)]
pub struct Values(pub Vec<Arc<dyn Fn() -> Value + Send + Sync>>);

impl PartialEq for Values {
    fn eq(&self, _: &Values) -> bool {
        true
    }
}

impl std::fmt::Debug for Values {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} value(s)", self.0.len())
    }
}

/// One Kubernetes object, as the YAML document it is written as.
#[derive(Debug, Clone, PartialEq)]
pub struct Object {
    pub kind: String,
    pub name: String,
    pub yaml: String,
    /// The same object as a JSON value, on demand (see [`Values`]).
    pub value: Values,
}

impl Object {
    /// From a typed k8s-openapi object (whose serialisation carries apiVersion
    /// and kind), serialised straight to YAML: no intermediate JSON value.
    pub fn typed<
        T: k8s_openapi::Resource
            + k8s_openapi::Metadata<Ty = ObjectMeta>
            + Serialize
            + Send
            + Sync
            + 'static,
    >(
        obj: T,
    ) -> Object {
        // k8s-openapi writes apiVersion and kind first, then the other fields
        // sorted; where a field sorts before `kind` the object goes through a
        // (sorted) JSON value instead.
        let yaml = if KINDS_WITH_FIELDS_BEFORE_KIND.contains(&T::KIND) {
            yaml(&serde_json::to_value(&obj).expect("k8s-openapi objects serialise"))
        } else {
            yaml(&obj)
        };
        Object {
            kind: T::KIND.to_owned(),
            name: obj.metadata().name.clone().unwrap_or_default(),
            yaml,
            // Kept (not copied) until the deployment is rendered.
            value: Values(vec![Arc::new(move || {
                serde_json::to_value(&obj).expect("k8s-openapi objects serialise")
            })]),
        }
    }

    /// From JSON (custom resources, which k8s-openapi does not model).
    pub fn custom(value: Value) -> Object {
        let kind = value["kind"].as_str().unwrap_or_default().to_owned();
        let name = value["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let value = prune(value);
        Object {
            kind,
            name,
            yaml: yaml(&value),
            value: Values(vec![Arc::new(move || value.clone())]),
        }
    }

    /// `<kind>-<name>.yaml`, kind lower-cased.
    pub fn file_name(&self) -> String {
        crate::names::object_file(&self.kind, &self.name)
    }
}

/// YAML of a value whose map keys are all strings, which serde_yaml always
/// serialises.
fn yaml(value: &impl Serialize) -> String {
    serde_yaml::to_string(value).expect("objects with string keys serialise")
}

/// Drops nulls: the API server does not keep them, so committing them would
/// show as drift. Empty maps are never dropped silently (`emptyDir: {}`
/// means something); the renderers avoid producing them and a test checks.
fn prune(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, prune(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(prune).collect()),
        other => other,
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error(transparent)]
    Template(#[from] TemplateError),
    #[error(
        "Argo CD and Flux entry points need the output folder inside the git repository (or, outside git, \
         a relative path without '..'), to name it as the repository path they sync"
    )]
    OutputPath,
    #[error("cannot read the committed slot map in '{path}': {message}")]
    Topology { path: PathBuf, message: String },
}

/// What rendering needs besides the validated specs.
pub struct Inputs<'a> {
    pub templates: &'a Templates,
    /// The output folder as a path inside the repository (`output`), which
    /// the Argo CD and Flux entry points point at; `None` when the folder
    /// was given as an absolute path or with `..`.
    pub output_path: Option<&'a str>,
    /// The committed output (path -> bytes), whose slot maps are state.
    pub committed: &'a BTreeMap<PathBuf, Vec<u8>>,
    /// In git: the topology files (slot maps) as committed at HEAD, which
    /// stand in for those of `committed` (see `commands::project::slot_state`).
    pub slot_maps: Option<&'a BTreeMap<PathBuf, Vec<u8>>>,
    /// What the output will be compared with (`diff`, `plan`, `build`):
    /// each object of a file that differs from it there, in a deployment
    /// it has, is summarised as it is rendered, so the diff need not parse
    /// the text back.
    pub compare_with: Option<&'a BTreeMap<PathBuf, Vec<u8>>>,
}

impl Inputs<'_> {
    /// A committed file, a topology file from `slot_maps` when given.
    pub fn committed_file(&self, path: &Path) -> Option<&Vec<u8>> {
        let topology = path
            .file_name()
            .is_some_and(|n| crate::names::is_topology_file(&n.to_string_lossy()));
        match self.slot_maps {
            Some(maps) if topology => maps.get(path),
            _ => self.committed.get(path),
        }
    }
}

/// What rendering the specs gives.
#[derive(Debug)]
pub struct Rendered {
    /// Every file, sorted by path.
    pub files: Vec<File>,
    /// Per spec, in spec order: shards the spec no longer has that still own
    /// slots in the committed map, as (shard, slots). A build must refuse them.
    pub stranded: Vec<Vec<crate::topology::Stranded>>,
}

/// One deployment rendered: its folder's files.
#[derive(Debug)]
pub struct Deployment {
    pub files: Vec<File>,
    /// The name of its reconcile Job, if it has one.
    pub job: Option<String>,
    /// Shards the spec no longer has that own slots in the committed map.
    pub stranded: Vec<crate::topology::Stranded>,
}

/// Renders every deployment into files: pure, the same inputs give the
/// same bytes.
pub fn render_all(specs: &[Redis], inputs: &Inputs) -> Result<Rendered, RenderError> {
    // Deployments render in parallel; collecting an indexed parallel
    // iterator keeps spec order, and the files are sorted below anyway.
    let deployments = specs
        .par_iter()
        .map(|redis| render_deployment(redis, inputs))
        .collect::<Result<Vec<_>, RenderError>>()?;
    assemble(specs, deployments, inputs.output_path)
}

/// The whole output from each spec's deployment (in spec order): the
/// deployments' files, their Argo CD / Flux entry points with a
/// `kustomization.yaml` per entry folder, sorted by path.
pub fn assemble(
    specs: &[Redis],
    deployments: Vec<Deployment>,
    output_path: Option<&str>,
) -> Result<Rendered, RenderError> {
    // Each deployment with its Argo CD / Flux entry points (folder, object).
    let rendered: Vec<(Deployment, Vec<(PathBuf, Object)>)> = specs
        .iter()
        .zip(deployments)
        .map(|(redis, deployment)| {
            let entries = entry_points(redis, deployment.job.as_deref(), output_path)?;
            Ok((deployment, entries))
        })
        .collect::<Result<_, RenderError>>()?;
    let mut files = Vec::new();
    let mut stranded = Vec::new();
    // Entry points by folder: (folder, objects with their spec).
    let mut entries: BTreeMap<PathBuf, Vec<(Object, &Redis)>> = BTreeMap::new();
    for (redis, (d, objects)) in specs.iter().zip(rendered) {
        files.extend(d.files);
        stranded.push(d.stranded);
        for (dir, obj) in objects {
            entries.entry(dir).or_default().push((obj, redis));
        }
    }
    for (dir, mut objects) in entries {
        objects.sort_by_key(|o| o.0.file_name());
        let mut names = Vec::new();
        for (obj, redis) in &objects {
            files.push(object_file(&dir, &header(&redis.source.display()), obj));
            names.push(obj.file_name());
        }
        files.push(
            kustomization_file(
                &dir,
                &header(&format!(
                    "the specs in {}",
                    objects[0]
                        .1
                        .source
                        .parent()
                        .unwrap_or(Path::new(""))
                        .display()
                )),
                names,
            )
            .0,
        );
    }
    // Byte order of the path: as stable as component order, and far cheaper.
    files.sort_by(|a, b| a.path.as_os_str().cmp(b.path.as_os_str()));
    Ok(Rendered { files, stranded })
}

fn object_file(dir: &Path, header: &str, obj: &Object) -> File {
    File::text(dir.join(obj.file_name()), [header, &obj.yaml].concat())
}

/// A `kustomization.yaml` listing `names` (sorted here), and its value.
fn kustomization_file(dir: &Path, header: &str, mut names: Vec<String>) -> (File, Values) {
    names.sort();
    let kustomization = serde_json::json!({
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": names,
    });
    let file = File::text(
        dir.join("kustomization.yaml"),
        [header, &yaml(&kustomization)].concat(),
    );
    (file, Values(vec![Arc::new(move || kustomization.clone())]))
}

/// The slot map a cluster deployment commits, derived from the committed one.
fn slot_map(
    redis: &Redis,
    inputs: &Inputs,
) -> Result<Option<crate::topology::Derived>, RenderError> {
    let Topology::Cluster {
        shards,
        drain_shards,
        ..
    } = redis.topology
    else {
        return Ok(None);
    };
    let path = crate::topology::committed_file(&redis.dir, &redis.name);
    let previous = inputs
        .committed_file(&path)
        .map(|bytes| crate::topology::read_committed(bytes))
        .transpose()
        .map_err(|message| RenderError::Topology { path, message })?;
    Ok(Some(crate::topology::derive(
        previous,
        shards,
        drain_shards,
    )))
}

/// The Argo CD Application and Flux Kustomization of one deployment, each
/// with the folder it goes in.
fn entry_points(
    redis: &Redis,
    job: Option<&str>,
    output_path: Option<&str>,
) -> Result<Vec<(PathBuf, Object)>, RenderError> {
    let mut out = Vec::new();
    let has_entries = redis.gitops.argocd.is_some() || redis.gitops.flux.is_some();
    let output_path = match output_path {
        Some(p) => p,
        None if has_entries => return Err(RenderError::OutputPath),
        None => "",
    };
    if let Some(argo) = &redis.gitops.argocd {
        out.push((
            redis.dir.join(gitops::ARGOCD_DIR),
            gitops::application(redis, argo, output_path),
        ));
    }
    if let Some(flux) = &redis.gitops.flux {
        let mut health = gitops::statefulsets(redis);
        health.extend(job.map(|j| ("Job", j.to_owned())));
        out.push((
            redis.dir.join(gitops::FLUX_DIR),
            gitops::kustomization(redis, flux, output_path, &health),
        ));
    }
    Ok(out)
}

/// The files of one deployment (its objects and a `kustomization.yaml`):
/// pure, a function of the spec and the inputs only.
pub fn render_deployment(redis: &Redis, inputs: &Inputs) -> Result<Deployment, RenderError> {
    let dir = redis.dir.join(&redis.name);
    let header = header(&redis.source.display());
    let mut files = Vec::new();
    let mut names = Vec::new();
    let (map, stranded) = match slot_map(redis, inputs)? {
        Some(derived) => (Some(derived.next), derived.stranded),
        None => (None, Vec::new()),
    };
    let mut job = None;
    let mut values = Vec::new();
    for obj in render_objects(redis, inputs.templates, map.as_ref())? {
        files.push(object_file(&dir, &header, &obj));
        names.push(obj.file_name());
        if obj.kind == "Job" {
            job = Some(obj.name.clone());
        }
        values.push(obj.value);
    }
    let (kustomization, value) = kustomization_file(&dir, &header, names);
    files.push(kustomization);
    values.push(value);
    if let Some(against) = inputs.compare_with {
        // Only a deployment that is there to compare with: a new one's
        // files are all added, and only a printed diff reads them.
        let there = against
            .range::<Path, _>((
                std::ops::Bound::Excluded(dir.as_path()),
                std::ops::Bound::Unbounded,
            ))
            .next()
            .is_some_and(|(p, _)| p.starts_with(&dir));
        for (file, values) in files.iter_mut().zip(values).filter(|_| there) {
            if against.get(&file.path).map(Vec::as_slice) != Some(file.contents.as_bytes()) {
                file.summaries = Summaries(Some(
                    values
                        .0
                        .iter()
                        .enumerate()
                        .map(|(doc, value)| crate::diff::summarise(&file.path, doc, value()))
                        .collect(),
                ));
            }
        }
    }
    Ok(Deployment {
        files,
        job,
        stranded,
    })
}

/// Every object of one deployment, in a stable order.
pub fn render_objects(
    redis: &Redis,
    templates: &Templates,
    slots: Option<&SlotMap>,
) -> Result<Vec<Object>, RenderError> {
    let config = config::render(redis, templates)?;
    let mut objects = vec![config.object.clone()];
    let topology = match slots {
        Some(map) => topology::render(redis, map, templates)?,
        None => None,
    };
    let job_hash = topology.as_ref().map(|(_, hash)| hash.clone());
    objects.extend(topology.map(|(obj, _)| obj));
    objects.extend([
        Object::typed(policy::service_account(redis)),
        Object::typed(policy::network_policy(redis)),
    ]);
    objects.extend(services::render(redis).into_iter().map(Object::typed));
    objects.extend(
        workload::render(redis, &config.checksums)
            .into_iter()
            .map(Object::typed),
    );
    objects.extend(
        policy::disruption_budgets(redis)
            .into_iter()
            .map(Object::typed),
    );
    objects.extend(monitoring::render(redis));
    objects.extend(secrets::render(redis));
    objects.extend(backup::cron_job(redis).map(Object::typed));
    objects.extend(backup::service_account(redis).map(Object::typed));
    objects.extend(backup::network_policy(redis).map(Object::typed));
    if let Some(hash) = job_hash {
        objects.push(Object::typed(job::network_policy(redis)));
        objects.push(Object::typed(job::render(redis, &hash)));
        if let Some(schedule) = &redis.repair_schedule {
            objects.push(Object::typed(job::repair(redis, schedule)));
        }
    }
    Ok(objects)
}

/// Workload roles, used in names, labels and selectors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Component {
    /// Redis servers of standalone and sentinel mode.
    Server,
    Sentinel,
    /// One cluster shard.
    Shard(u32),
    /// The cluster reconcile Job.
    Reconcile,
    /// The backup CronJob.
    Backup,
    /// Objects of the whole deployment.
    Deployment,
}

impl Component {
    fn label(self) -> &'static str {
        match self {
            Component::Server => component::SERVER,
            Component::Sentinel => component::SENTINEL,
            Component::Shard(_) => component::SHARD,
            Component::Reconcile => component::RECONCILE,
            Component::Backup => component::BACKUP,
            Component::Deployment => component::DEPLOYMENT,
        }
    }
}

pub fn app_name(engine: Engine) -> &'static str {
    match engine {
        Engine::Redis => "redis",
        Engine::Valkey => "valkey",
    }
}

/// Labels that select the pods of `component` (only ones that never change).
pub fn selector(redis: &Redis, component: Component) -> BTreeMap<String, String> {
    let mut labels = BTreeMap::from([
        (label::NAME.to_owned(), app_name(redis.engine).to_owned()),
        (label::INSTANCE.to_owned(), redis.name.clone()),
    ]);
    if component != Component::Deployment {
        labels.insert(label::COMPONENT.into(), component.label().into());
    }
    if let Component::Shard(i) = component {
        labels.insert(label::SHARD.into(), i.to_string());
    }
    labels
}

/// Every label of an object of `component`: selector, ownership and the spec's own.
pub fn labels(redis: &Redis, component: Component) -> BTreeMap<String, String> {
    with_labels(redis.labels.clone(), redis, component)
}

/// `user`'s labels under the compiler's own: the selector's, managed-by and part-of.
pub fn with_labels(
    mut user: BTreeMap<String, String>,
    redis: &Redis,
    component: Component,
) -> BTreeMap<String, String> {
    user.extend(selector(redis, component));
    user.insert(label::MANAGED_BY.into(), "redis-gitops".into());
    user.insert(label::PART_OF.into(), redis.name.clone());
    user
}

/// The registry credentials every pod the deployment renders pulls with.
pub fn image_pull_secrets(
    redis: &Redis,
) -> Option<Vec<k8s_openapi::api::core::v1::LocalObjectReference>> {
    (!redis.image_pull_secrets.is_empty()).then(|| {
        redis
            .image_pull_secrets
            .iter()
            .map(|name| k8s_openapi::api::core::v1::LocalObjectReference { name: name.clone() })
            .collect()
    })
}

/// When Argo CD applies an object relative to the others of the deployment:
/// configuration, identity and policy first, then workloads.
#[derive(Debug, Clone, Copy)]
pub enum Wave {
    Prerequisite = 0,
    Workload = 1,
    /// After the workloads: the cluster reconcile Job.
    Reconcile = 2,
}

pub fn meta(
    redis: &Redis,
    name: impl Into<String>,
    component: Component,
    wave: Wave,
) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.into()),
        namespace: Some(redis.namespace.clone()),
        labels: Some(labels(redis, component)),
        annotations: Some(BTreeMap::from([(
            "argocd.argoproj.io/sync-wave".to_owned(),
            (redis.gitops.sync_wave + wave as i32).to_string(),
        )])),
        ..ObjectMeta::default()
    }
}

/// The same metadata as JSON, for custom resources.
pub fn meta_json(redis: &Redis, name: &str, component: Component, wave: Wave) -> Value {
    serde_json::to_value(meta(redis, name, component, wave)).expect("ObjectMeta serialises")
}

/// The headless Service every pod is registered under.
pub fn headless_name(redis: &Redis) -> String {
    crate::names::headless(&redis.name)
}

/// The stable in-cluster DNS name of a pod (completed by the pod search path).
pub fn pod_host(redis: &Redis, pod: &str) -> String {
    format!("{pod}.{}.{}.svc", headless_name(redis), redis.namespace)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::{Path, PathBuf};

    use super::templates::Templates;
    use super::{Inputs, render_all};

    /// Every object of the demo specs, rendered in process.
    fn demo() -> Vec<crate::output::File> {
        let files: Vec<(PathBuf, Vec<u8>)> = [
            ("_defaults.yaml", include_str!("../../specs/_defaults.yaml")),
            (
                "cache/_defaults.yaml",
                include_str!("../../specs/cache/_defaults.yaml"),
            ),
            (
                "cache/page-cache.yaml",
                include_str!("../../specs/cache/page-cache.yaml"),
            ),
            (
                "cache/pinned.yaml",
                include_str!("../../specs/cache/pinned.yaml"),
            ),
            (
                "payments/_defaults.yaml",
                include_str!("../../specs/payments/_defaults.yaml"),
            ),
            (
                "payments/orders.yaml",
                include_str!("../../specs/payments/orders.yaml"),
            ),
            (
                "payments/sessions.yaml",
                include_str!("../../specs/payments/sessions.yaml"),
            ),
        ]
        .into_iter()
        .map(|(p, t)| (Path::new("specs").join(p), t.as_bytes().to_vec()))
        .collect();
        let loaded = crate::spec::load::load_files(Path::new("specs"), files);
        let (specs, diags) = crate::spec::validate::validate_all(&loaded.specs, &loaded.sources);
        assert!(
            diags
                .iter()
                .all(|d| d.severity != crate::diag::Severity::Error),
            "{diags:?}"
        );
        let templates = Templates::builtin();
        let committed = BTreeMap::new();
        render_all(
            &specs,
            &Inputs {
                templates: &templates,
                output_path: Some("output"),
                committed: &committed,
                slot_maps: None,
                compare_with: None,
            },
        )
        .unwrap()
        .files
    }

    fn assert_sorted(v: &serde_yaml::Value, at: &str) {
        match v {
            serde_yaml::Value::Mapping(m) => {
                let keys: Vec<String> = m
                    .keys()
                    .map(|k| k.as_str().unwrap_or("?").to_owned())
                    .collect();
                let mut sorted = keys.clone();
                sorted.sort();
                assert_eq!(keys, sorted, "keys of {at} are not sorted");
                for (k, v) in m {
                    assert_sorted(v, &format!("{at}.{}", k.as_str().unwrap_or("?")));
                }
            }
            serde_yaml::Value::Sequence(s) => {
                for (i, v) in s.iter().enumerate() {
                    assert_sorted(v, &format!("{at}[{i}]"));
                }
            }
            _ => {}
        }
    }

    /// Every kind rendered, typed or custom, serialises with every mapping's
    /// keys sorted: a new typed kind whose struct puts a field before `kind`
    /// (as ConfigMap does with `binaryData`) fails here, at once, until it
    /// is added to KINDS_WITH_FIELDS_BEFORE_KIND.
    #[test]
    fn every_rendered_kind_serialises_with_sorted_keys() {
        let files = demo();
        let mut kinds = std::collections::BTreeSet::new();
        for f in &files {
            let v: serde_yaml::Value = serde_yaml::from_str(&f.contents).unwrap();
            kinds.insert(v["kind"].as_str().unwrap_or_default().to_owned());
            assert_sorted(&v, &f.path.display().to_string());
        }
        for k in [
            "ConfigMap",
            "CronJob",
            "Job",
            "NetworkPolicy",
            "PodDisruptionBudget",
            "Service",
            "ServiceAccount",
            "StatefulSet",
        ] {
            assert!(kinds.contains(k), "the demo renders no {k}: {kinds:?}");
        }
    }
}
