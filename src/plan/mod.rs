//! `plan`: what a change of the specs does to each deployment, from the
//! committed state (the output folder, or the output at a git revision) to
//! what the specs render now, and whether it is safe.
//!
//! Both sides are read the same way, from rendered manifests, so the plan
//! describes exactly what `build` writes: the topology (mode, shards,
//! replicas, storage, version, resources), the slot moves, the memory per
//! shard, the rollout by sync wave, and a verdict per change.

mod format;
mod state;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

pub use format::{Format, format};
use state::slash;
pub use state::{State, states};

use crate::diff::{self, Change};
use crate::output::File;
use crate::spec::model::{Mode, Persistence};
use crate::spec::quantity::Quantity;
use crate::spec::validate::Redis;
use crate::topology::slots::{Move, SLOTS};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Safe,
    Manual,
    Blocked,
}

impl Verdict {
    fn as_str(self) -> &'static str {
        match self {
            Verdict::Safe => "safe",
            Verdict::Manual => "manual",
            Verdict::Blocked => "blocked",
        }
    }
}

/// One change and what it takes.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub verdict: Verdict,
    pub change: String,
    /// Why, or how to do it safely.
    pub detail: String,
    /// Exact commands of a manual step, in order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub commands: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SlotMove {
    pub first: u16,
    pub last: u16,
    pub from: u32,
    pub to: u32,
    pub count: usize,
    /// Share of the keyspace, in percent.
    pub share: f64,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Memory {
    /// Bytes of `capacity.datasetSize` per serving shard.
    pub per_shard_before: Option<u64>,
    pub per_shard_after: Option<u64>,
    pub maxmemory_before: Option<u64>,
    pub maxmemory_after: Option<u64>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Step {
    pub sync_wave: Option<i32>,
    pub what: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentPlan {
    pub deployment: String,
    pub before: Option<State>,
    pub after: Option<State>,
    pub changed: bool,
    pub moves: Vec<SlotMove>,
    pub moved_slots: usize,
    /// Bytes of data that move: the moved share of `capacity.datasetSize`.
    pub moved_data: Option<u64>,
    pub memory: Option<Memory>,
    pub rollout: Vec<Step>,
    /// StatefulSets whose pods roll (their pod template changes), and why.
    pub restarts: Vec<Restart>,
    /// StatefulSets that exist before and after and whose pods keep running.
    pub keep_running: Vec<String>,
    pub findings: Vec<Finding>,
}

/// A StatefulSet whose pods the sync rolls, one at a time.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Restart {
    pub statefulset: String,
    /// What in the pod template changed: configuration, image, resources,
    /// labels, pod spec.
    pub because: Vec<String>,
}

impl DeploymentPlan {
    pub fn verdict(&self) -> Verdict {
        self.findings
            .iter()
            .map(|f| f.verdict)
            .max()
            .unwrap_or(Verdict::Safe)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub version: u32,
    pub deployments: Vec<DeploymentPlan>,
}

impl Plan {
    pub fn blocked(&self) -> bool {
        self.deployments
            .iter()
            .any(|d| d.verdict() == Verdict::Blocked)
    }
}

/// The plan from `committed` (output files) to `rendered`, for `specs`.
pub fn plan(
    specs: &[Redis],
    rendered: &[File],
    committed: &BTreeMap<PathBuf, Vec<u8>>,
) -> Result<Plan, diff::DiffError> {
    let report = diff::diff(rendered, committed)?;
    // Only deployments with a changed object need their state read; only
    // StatefulSets and ConfigMaps carry it.
    let touched: std::collections::BTreeSet<&str> = report
        .objects
        .iter()
        .map(|o| o.deployment.as_str())
        .collect();
    let wanted = |path: &Path| {
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        (name.starts_with("statefulset-") || name.starts_with("configmap-"))
            && path
                .parent()
                .is_some_and(|d| touched.contains(slash(d).as_str()))
    };
    let before = states(
        committed
            .iter()
            .filter(|(p, _)| wanted(p))
            .map(|(p, b)| (p.as_path(), b.as_slice())),
    );
    let after = states(
        rendered
            .iter()
            .filter(|f| wanted(&f.path))
            .map(|f| (f.path.as_path(), f.contents.as_bytes())),
    );
    // Every deployment, changed or not, gets a line.
    let all: std::collections::BTreeSet<String> = rendered
        .iter()
        .filter_map(|f| f.path.parent().map(slash))
        .chain(committed.keys().filter_map(|p| p.parent().map(slash)))
        .filter(|d| !d.split('/').any(crate::names::is_entry_folder))
        .collect();
    let datasets: BTreeMap<String, u64> = specs
        .iter()
        .filter_map(|r| {
            let d = r.dataset.as_ref()?;
            Some((
                slash(&r.dir.join(&r.name)),
                u64::try_from(d.whole_units()).unwrap_or(0),
            ))
        })
        .collect();
    let deployments = all
        .iter()
        .map(|name| {
            let objects: Vec<&diff::ObjectDiff> = report
                .objects
                .iter()
                .filter(|o| &o.deployment == name)
                .collect();
            deployment_plan(
                name,
                before.get(name),
                after.get(name),
                &objects,
                datasets.get(name).copied(),
            )
        })
        .collect();
    let mut deployments: Vec<DeploymentPlan> = deployments;
    for d in deployments.iter_mut().filter(|d| d.changed) {
        let sets = |files: Vec<(&Path, &[u8])>| -> BTreeMap<String, serde_yaml::Value> {
            files
                .into_iter()
                .filter(|(p, _)| {
                    p.parent().is_some_and(|dir| slash(dir) == d.deployment)
                        && p.file_name()
                            .is_some_and(|n| n.to_string_lossy().starts_with("statefulset-"))
                })
                .filter_map(|(_, b)| {
                    let v: serde_yaml::Value = serde_yaml::from_slice(b).ok()?;
                    Some((v["metadata"]["name"].as_str()?.to_owned(), v))
                })
                .collect()
        };
        let old = sets(
            committed
                .iter()
                .map(|(p, b)| (p.as_path(), b.as_slice()))
                .collect(),
        );
        let new = sets(
            rendered
                .iter()
                .map(|f| (f.path.as_path(), f.contents.as_bytes()))
                .collect(),
        );
        for (name, a) in &new {
            let Some(b) = old.get(name) else { continue };
            let because = template_changes(&b["spec"]["template"], &a["spec"]["template"]);
            if because.is_empty() {
                d.keep_running.push(name.clone());
            } else {
                d.restarts.push(Restart {
                    statefulset: name.clone(),
                    because,
                });
            }
        }
    }
    Ok(Plan {
        version: 1,
        deployments,
    })
}

/// What differs between two pod templates, in the words a reviewer uses.
fn template_changes(old: &serde_yaml::Value, new: &serde_yaml::Value) -> Vec<String> {
    use serde_yaml::Value;
    if old == new {
        return Vec::new();
    }
    let mut because = Vec::new();
    let checksum =
        |t: &Value| t["metadata"]["annotations"]["redis-gitops.io/config-checksum"].clone();
    if checksum(old) != checksum(new) {
        because.push("configuration");
    }
    if old["metadata"]["labels"] != new["metadata"]["labels"] {
        because.push("labels");
    }
    let each = |t: &Value, field: &str| -> Vec<Value> {
        ["initContainers", "containers"]
            .iter()
            .flat_map(|k| t["spec"][*k].as_sequence().cloned().unwrap_or_default())
            .map(|c| c[field].clone())
            .collect()
    };
    if each(old, "image") != each(new, "image") {
        because.push("image");
    }
    if each(old, "resources") != each(new, "resources") {
        because.push("resources");
    }
    // Anything else in the template: the pod spec as such.
    let strip = |t: &Value| {
        let mut t = t.clone();
        if let Some(m) = t.get_mut("metadata").and_then(Value::as_mapping_mut) {
            m.remove("labels");
            if let Some(a) = m.get_mut("annotations").and_then(Value::as_mapping_mut) {
                a.remove("redis-gitops.io/config-checksum");
            }
        }
        for k in ["initContainers", "containers"] {
            if let Some(cs) = t["spec"].get_mut(k).and_then(Value::as_sequence_mut) {
                for c in cs.iter_mut().filter_map(Value::as_mapping_mut) {
                    c.remove("image");
                    c.remove("resources");
                }
            }
        }
        t
    };
    if strip(old) != strip(new) {
        because.push("pod spec");
    }
    because.into_iter().map(str::to_owned).collect()
}

/// The findings of a deployment that exists before and after, and the slot
/// moves when it is a cluster whose change is not blocked.
#[allow(clippy::too_many_lines)] // one rule after the other, in the order users read them
fn compare(b: &State, a: &State, findings: &mut Vec<Finding>) -> Vec<Move> {
    let mut add = |verdict, change: String, detail: String, commands: Vec<String>| {
        findings.push(Finding {
            verdict,
            change,
            detail,
            commands,
        });
    };
    let mut moves = Vec::new();
    let ns = &a.namespace;
    if b.mode != a.mode {
        add(
            Verdict::Blocked,
            format!("mode {} -> {}", show(b.mode), show(a.mode)),
            format!(
                "a mode cannot change in place: render the new mode under a new name, \
                 copy the data over, move clients, then remove the spec of '{}'",
                b.name
            ),
            vec![],
        );
    }
    if b.engine != a.engine {
        add(
            Verdict::Blocked,
            format!("engine {} -> {}", show(b.engine), show(a.engine)),
            "an engine cannot change in place: deploy the new engine under a new name and \
             replicate or copy the data to it"
                .into(),
            vec![],
        );
    }
    if b.version != a.version {
        let show = |v: Option<crate::spec::validate::Version>| {
            v.map_or_else(|| "?".to_owned(), |v| v.to_string())
        };
        let (old, new) = (show(b.version), show(a.version));
        if a.version < b.version {
            add(
                Verdict::Blocked,
                format!("version {old} -> {new}"),
                "a downgrade can leave RDB/AOF files the older server cannot load: \
                 restore a backup into a new deployment instead"
                    .into(),
                vec![],
            );
        } else {
            add(
                Verdict::Safe,
                format!("version {old} -> {new}"),
                "rolling restart, one pod at a time, highest ordinal first".into(),
                vec![],
            );
        }
    }
    match (&b.storage, &a.storage) {
        (Some(old), None) => add(
            Verdict::Blocked,
            format!("storage {old} -> none"),
            "dropping persistence loses the data on the next restart; keep storage, or \
             move the data to a new deployment first"
                .into(),
            vec![],
        ),
        (None, Some(new)) => add(
            Verdict::Manual,
            format!("storage none -> {new}"),
            "volumeClaimTemplates are immutable: recreate the StatefulSets without \
             deleting their pods, then sync: Argo CD / Flux recreates them and the pods \
             roll onto new volumes"
                .into(),
            orphan_commands(ns, &b.statefulsets),
        ),
        (Some(old), Some(new)) if !old.same_amount(new) => {
            if new.millis() < old.millis() {
                add(
                    Verdict::Blocked,
                    format!("storage {old} -> {new}"),
                    "volumes cannot shrink: create a new deployment with the smaller \
                     size and move the data"
                        .into(),
                    vec![],
                );
            } else {
                // Only volumes that exist now; new pods get the new size.
                let mut commands = Vec::new();
                for (sts, replicas) in &b.statefulsets {
                    if sts.ends_with(crate::names::SENTINEL_SUFFIX) {
                        continue;
                    }
                    for i in 0..*replicas {
                        commands.push(format!(
                            "kubectl -n {ns} patch pvc data-{sts}-{i} --type merge -p \
                             '{{\"spec\":{{\"resources\":{{\"requests\":{{\"storage\":\"{new}\"}}}}}}}}'"
                        ));
                    }
                }
                commands.extend(orphan_commands(ns, &b.statefulsets));
                add(
                    Verdict::Manual,
                    format!("storage {old} -> {new}"),
                    "volumeClaimTemplates are immutable: expand each PVC (the storage \
                     class must allow volume expansion), then delete the StatefulSets \
                     with --cascade=orphan so the pods keep running, then sync: Argo CD / \
                     Flux recreates them with the new template"
                        .into(),
                    commands,
                );
            }
        }
        _ => {}
    }
    if let (Some(old), Some(new)) = (&b.persistence, &a.persistence) {
        if old != new && a.storage.is_some() {
            let aof = |p: &Persistence| matches!(p, Persistence::Aof | Persistence::RdbAof);
            let (verdict, detail) = if *new == Persistence::None {
                (
                    Verdict::Manual,
                    "nothing is written to the volume any more: a full stop of every pod \
                     (a drain, a cold start) then loses every key, and the data already on \
                     the volume is ignored at the next start. Keep rdb unless the data is a cache"
                        .to_owned(),
                )
            } else if aof(new) && !aof(old) {
                (
                    Verdict::Safe,
                    "rolling restart; each pod starts from its RDB snapshot with AOF off and \
                     turns AOF on at run time (CONFIG SET appendonly yes), so no key is lost \
                     to an empty AOF"
                        .to_owned(),
                )
            } else {
                (
                    Verdict::Safe,
                    "rolling restart; the data on the volume is loaded as before".to_owned(),
                )
            };
            add(
                verdict,
                format!("persistence {old} -> {new}"),
                detail,
                vec![],
            );
        }
    }
    if b.storage.is_some() && a.storage.is_some() && b.storage_class != a.storage_class {
        add(
            Verdict::Blocked,
            format!(
                "storageClass {} -> {}",
                b.storage_class.as_deref().unwrap_or("(default)"),
                a.storage_class.as_deref().unwrap_or("(default)")
            ),
            "volumes cannot change class in place: create a new deployment on the new \
             class and move the data"
                .into(),
            vec![],
        );
    }
    if a.mode == Some(Mode::Cluster) && b.mode == Some(Mode::Cluster) {
        let mut shards_blocked = false;
        if let (Some(old), Some(new)) = (&b.slots, &a.slots) {
            let stranded: Vec<crate::topology::Stranded> = old
                .counts()
                .into_iter()
                .filter(|(s, _)| *s >= a.shards)
                .map(|(shard, slots)| crate::topology::Stranded { shard, slots })
                .collect();
            if stranded.is_empty() {
                moves = old.moves_to(new);
            } else {
                let (shards, slots) = crate::topology::Stranded::describe(&stranded);
                shards_blocked = true;
                add(
                    Verdict::Blocked,
                    format!("shards {} -> {}", b.shards, a.shards),
                    format!(
                        "shard(s) {} still own {slots} slot(s) and would be removed with \
                         their data. Two steps: set `shards: {}` and `drainShards: {}`, build \
                         and sync (the reconcile Job moves their slots away), then lower \
                         `shards` to {} and remove drainShards",
                        shards,
                        b.shards,
                        b.shards - a.shards,
                        a.shards
                    ),
                    vec![],
                );
            }
        }
        if b.shards != a.shards || b.serving != a.serving {
            let detail = if a.shards > b.shards {
                "new shards start empty; the reconcile Job meets them and moves slots to them online, key by key"
            } else if a.serving < b.serving {
                "the draining shards keep running; the reconcile Job moves their slots to the serving shards online"
            } else {
                "the removed shards own no slots: nothing moves; the reconcile Job forgets their nodes"
            };
            if !shards_blocked {
                add(
                    Verdict::Safe,
                    format!(
                        "shards {} ({} serving) -> {} ({} serving)",
                        b.shards, b.serving, a.shards, a.serving
                    ),
                    detail.into(),
                    vec![],
                );
            }
        }
        if a.serving < b.serving && !shards_blocked {
            let (b_drain, a_drain) = (
                b.shards.saturating_sub(b.serving),
                a.shards.saturating_sub(a.serving),
            );
            let moved = if a.serving > 0 {
                format!(
                    "{}% of the keyspace moves onto {} shard(s); each holds {}% more",
                    (b.serving - a.serving) * 100 / b.serving,
                    a.serving,
                    (b.serving - a.serving) * 100 / a.serving
                )
            } else {
                "every slot would move".into()
            };
            let detail = if a.shards < b.shards && a_drain == b_drain && a_drain > 0 {
                format!(
                    "{moved}. `shards` went down while `drainShards` stayed {a_drain}: shard(s) {} \
                     now drain as well. To remove only the shards that were drained, set \
                     `shards: {}` and remove drainShards",
                    (a.serving..b.serving)
                        .map(|s| s.to_string())
                        .collect::<Vec<_>>()
                        .join(", "),
                    a.shards
                )
            } else {
                format!("{moved}; confirm the cluster has the memory for it")
            };
            add(
                Verdict::Manual,
                format!("serving shards {} -> {}", b.serving, a.serving),
                detail,
                vec![],
            );
        }
    }
    if b.pods != a.pods {
        add(
            Verdict::Safe,
            format!("pods per {} {} -> {}", if a.mode == Some(Mode::Cluster) { "shard" } else { "deployment" }, b.pods, a.pods),
            "replicas are added or removed one at a time; a removed replica holds no data of its own".into(),
            vec![],
        );
    }
    if b.sentinels != a.sentinels {
        add(
            Verdict::Safe,
            format!("sentinels {} -> {}", b.sentinels, a.sentinels),
            "sentinels discover each other; the quorum stays reachable".into(),
            vec![],
        );
    }
    let same = |x: Option<Quantity>, y: Option<Quantity>| match (x, y) {
        (Some(x), Some(y)) => x.same_amount(&y),
        (x, y) => x.is_none() && y.is_none(),
    };
    if !same(b.cpu_limit, a.cpu_limit)
        || !same(b.memory_limit, a.memory_limit)
        || b.maxmemory != a.maxmemory
    {
        add(
            Verdict::Safe,
            "resources".into(),
            "rolling restart, one pod at a time".into(),
            vec![],
        );
    }
    moves
}

fn deployment_plan(
    name: &str,
    before: Option<&State>,
    after: Option<&State>,
    objects: &[&diff::ObjectDiff],
    dataset: Option<u64>,
) -> DeploymentPlan {
    if objects.is_empty() {
        // Unchanged: one line, no state read.
        return DeploymentPlan {
            deployment: name.to_owned(),
            before: None,
            after: None,
            changed: false,
            moves: vec![],
            moved_slots: 0,
            moved_data: None,
            memory: None,
            rollout: vec![],
            restarts: vec![],
            keep_running: vec![],
            findings: vec![],
        };
    }
    let mut findings = Vec::new();
    let finding = |verdict, change: &str, detail: &str, commands: Vec<String>| Finding {
        verdict,
        change: change.into(),
        detail: detail.into(),
        commands,
    };
    let moves = match (before, after) {
        (Some(b), Some(a)) => compare(b, a, &mut findings),
        (None, _) => {
            findings.push(finding(
                Verdict::Safe,
                "new deployment",
                "created from scratch",
                vec![],
            ));
            Vec::new()
        }
        (Some(b), None) => {
            findings.push(finding(
                Verdict::Manual,
                "deployment removed",
                "its objects are pruned; PersistentVolumeClaims are retained (policy Retain): \
                 delete them once the data is no longer needed",
                vec![format!(
                    "kubectl -n {} delete pvc -l app.kubernetes.io/instance={}",
                    b.namespace, b.name
                )],
            ));
            Vec::new()
        }
    };
    let serving = |s: Option<&State>| s.map(|s| s.serving.max(1));
    let memory = dataset.map(|t| Memory {
        per_shard_before: serving(before).map(|n| t / u64::from(n)),
        per_shard_after: serving(after).map(|n| t / u64::from(n)),
        maxmemory_before: before.and_then(|s| s.maxmemory),
        maxmemory_after: after.and_then(|s| s.maxmemory),
    });
    let moved_slots: usize = moves.iter().map(|m: &Move| m.range.len()).sum();
    let moves: Vec<SlotMove> = moves
        .iter()
        .map(|m| SlotMove {
            first: m.range.first,
            last: m.range.last,
            from: m.from,
            to: m.to,
            count: m.range.len(),
            share: share(m.range.len()),
        })
        .collect();
    let moved_data = dataset.map(|t| {
        u64::try_from(u128::from(t) * moved_slots as u128 / SLOTS as u128).unwrap_or(u64::MAX)
    });
    let kustomization = objects.iter().any(|o| o.key.kind == "Kustomization");
    let files_change = objects
        .iter()
        .any(|o| o.key.kind != "Kustomization" && o.change != Change::Changed);
    if kustomization && !files_change {
        findings.push(finding(
            Verdict::Manual,
            "kustomization.yaml",
            "the committed kustomization.yaml does not list the objects that build writes \
             (a hand edit?): objects left out of it are not applied, and Argo CD / Flux \
             prune them; run `redis-gitops build`",
            vec![],
        ));
    }
    let rollout = rollout(objects, moved_slots, after);
    DeploymentPlan {
        deployment: name.to_owned(),
        before: before.cloned(),
        after: after.cloned(),
        changed: !objects.is_empty(),
        moves,
        moved_slots,
        moved_data,
        memory,
        rollout,
        restarts: vec![],
        keep_running: vec![],
        findings,
    }
}

#[allow(clippy::cast_precision_loss)]
fn share(slots: usize) -> f64 {
    (slots as f64 * 10000.0 / SLOTS as f64).round() / 100.0
}

fn orphan_commands(ns: &str, statefulsets: &[(String, u32)]) -> Vec<String> {
    statefulsets
        .iter()
        .map(|(sts, _)| format!("kubectl -n {ns} delete statefulset {sts} --cascade=orphan"))
        .collect()
}

/// The rollout in order: objects by sync wave, then the reconcile Job.
fn rollout(objects: &[&diff::ObjectDiff], moved_slots: usize, after: Option<&State>) -> Vec<Step> {
    let mut by_wave: BTreeMap<Option<i32>, Vec<String>> = BTreeMap::new();
    // A kustomization.yaml is build configuration, not applied to the cluster.
    for o in objects
        .iter()
        .filter(|o| o.key.kind != "Job" && o.key.kind != "Kustomization")
    {
        by_wave.entry(o.sync_wave).or_default().push(format!(
            "{} {} ({})",
            o.key.kind,
            o.key.name,
            o.change.as_str()
        ));
    }
    let mut steps: Vec<Step> = by_wave
        .into_iter()
        .map(|(wave, list)| Step {
            sync_wave: wave,
            what: list.join(", "),
        })
        .collect();
    let job = objects
        .iter()
        .find(|o| o.key.kind == "Job" && o.change == Change::Added);
    if let (Some(job), Some(a)) = (job, after) {
        steps.push(Step {
            sync_wave: job.sync_wave,
            what: format!(
                "after every StatefulSet is synced and healthy (PostSync hook), Job {} \
                 converges the cluster: meets new nodes, moves {moved_slots} slot(s), attaches \
                 replicas, forgets removed nodes, verifies the map ({} serving shards)",
                job.key.name, a.serving
            ),
        });
    }
    steps
}

/// A state field that may be missing from hand-edited files.
fn show<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map_or_else(|| "?".into(), |v| v.to_string())
}
