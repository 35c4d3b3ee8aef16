//! `plan`: what a change of the specs does to each deployment, from the
//! committed state (the output folder, or the output at a git revision) to
//! what the specs render now, and whether it is safe.
//!
//! Both sides are read the same way, from rendered manifests, so the plan
//! describes exactly what `build` writes: the topology (mode, shards,
//! replicas, storage, version, resources), the slot moves, the memory per
//! shard, the rollout by sync wave, and a verdict per change.

mod format;
mod rules;
mod state;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

pub use format::{Format, format};
use state::{KIND_CONFIGMAP, KIND_STATEFULSET, slash};
pub use state::{State, Workload, states};

use crate::diff::{self, Change};
use crate::output::File;
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
        (name.starts_with(KIND_STATEFULSET) || name.starts_with(KIND_CONFIGMAP))
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
    // Each file and object is assigned to its deployment once (linear in
    // files and deployments); only changed deployments' StatefulSets are
    // parsed, for which pods roll.
    let mut objects: BTreeMap<&str, Vec<&diff::ObjectDiff>> = BTreeMap::new();
    for o in &report.objects {
        objects.entry(o.deployment.as_str()).or_default().push(o);
    }
    let statefulsets = |files: &mut dyn Iterator<Item = (&Path, &[u8])>| {
        let mut out: BTreeMap<String, BTreeMap<String, serde_yaml::Value>> = BTreeMap::new();
        for (path, bytes) in files {
            let is_sts = path
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(KIND_STATEFULSET));
            let Some(dir) = path.parent().filter(|_| is_sts) else {
                continue;
            };
            let deployment = slash(dir);
            if !touched.contains(deployment.as_str()) {
                continue;
            }
            let Ok(v) = serde_yaml::from_slice::<serde_yaml::Value>(bytes) else {
                continue;
            };
            if let Some(name) = v["metadata"]["name"].as_str() {
                out.entry(deployment)
                    .or_default()
                    .insert(name.to_owned(), v);
            }
        }
        out
    };
    let old_sets = statefulsets(&mut committed.iter().map(|(p, b)| (p.as_path(), b.as_slice())));
    let new_sets = statefulsets(
        &mut rendered
            .iter()
            .map(|f| (f.path.as_path(), f.contents.as_bytes())),
    );
    let none = BTreeMap::new();
    let deployments = all
        .iter()
        .map(|name| {
            let mut d = deployment_plan(
                name,
                before.get(name),
                after.get(name),
                objects.get(name.as_str()).map_or(&[][..], Vec::as_slice),
                datasets.get(name).copied(),
            );
            if d.changed {
                let old = old_sets.get(name).unwrap_or(&none);
                for (sts, a) in new_sets.get(name).unwrap_or(&none) {
                    let Some(b) = old.get(sts) else { continue };
                    let because = template_changes(&b["spec"]["template"], &a["spec"]["template"]);
                    if because.is_empty() {
                        d.keep_running.push(sts.clone());
                    } else {
                        d.restarts.push(Restart {
                            statefulset: sts.clone(),
                            because,
                        });
                    }
                }
            }
            d
        })
        .collect();
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
        (Some(b), Some(a)) => {
            let (found, moves) = rules::compare(b, a);
            findings = found;
            moves
        }
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
            let volumes = b.statefulsets.iter().any(|w| !w.claims.is_empty());
            findings.push(if volumes {
                finding(
                    Verdict::Manual,
                    "deployment removed",
                    "its objects are pruned; PersistentVolumeClaims are retained (policy Retain): \
                     delete them once the data is no longer needed",
                    vec![format!(
                        "kubectl -n {} delete pvc -l {}={}",
                        b.namespace,
                        crate::names::label::INSTANCE,
                        b.name
                    )],
                )
            } else {
                finding(
                    Verdict::Safe,
                    "deployment removed",
                    "its objects are pruned; it had no volumes, so nothing is left behind",
                    vec![],
                )
            });
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

fn share(slots: usize) -> f64 {
    (slots as f64 * 10000.0 / SLOTS as f64).round() / 100.0
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
    // A new Job (a new topology), or the same one changed (its image): Argo
    // CD's hook policy and Flux's force annotation replace it, and it runs.
    let job = objects
        .iter()
        .find(|o| o.key.kind == "Job" && o.change != Change::Removed);
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
