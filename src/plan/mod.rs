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

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::Serialize;

pub use format::{Format, format};
pub use state::{Facts, State, Workload, facts, states};
use state::{Template, states_of};

use crate::diff::{self, Change};
use crate::names::slash;
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
    // One pass: the diff parses each differing document once and hands the
    // objects that carry state to the planner's extractor.
    let compared = diff::compare(rendered, committed)?;
    let report = compared.report;
    // Only deployments with a changed object need their state read.
    let touched: BTreeSet<&str> = report
        .objects
        .iter()
        .map(|o| o.deployment.as_str())
        .collect();
    // Their files that are the same on both sides were not parsed: read
    // once, they hold for both sides.
    let stateful = |path: &Path| {
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        name.starts_with(KIND_STATEFULSET) || name.starts_with(KIND_CONFIGMAP)
    };
    let same: Vec<Fact> = rendered
        .par_iter()
        .filter(|f| {
            stateful(&f.path)
                && committed
                    .get(&f.path)
                    .is_some_and(|c| c.as_slice() == f.contents.as_bytes())
                && f.path
                    .parent()
                    .is_some_and(|d| touched.contains(slash(d).as_str()))
        })
        .flat_map_iter(|f| {
            diff::extract(&f.path, f.contents.as_bytes())
                .unwrap_or_default()
                .into_iter()
                .map(|(d, facts)| (d, f.path.clone(), facts))
        })
        .collect();
    let side = |parsed| in_file_order(parsed, &same, &touched);
    let (old_facts, new_facts) = (side(&compared.committed), side(&compared.rendered));
    let before = states_of(old_facts.iter().map(|(d, _, f)| (d.as_str(), f)));
    let after = states_of(new_facts.iter().map(|(d, _, f)| (d.as_str(), f)));
    let (old_sets, new_sets) = (templates(&old_facts), templates(&new_facts));
    // Every deployment, changed or not, gets a line.
    let all: BTreeSet<String> = rendered
        .iter()
        .map(|f| &f.path)
        .chain(committed.keys())
        .filter_map(|p| p.parent())
        .map(slash)
        .filter(|d| !d.split('/').any(crate::names::is_entry_folder))
        .collect();
    let datasets: BTreeMap<String, u64> = specs
        .iter()
        .filter_map(|r| {
            let d = r.dataset.as_ref()?;
            Some((
                crate::names::deployment(&r.dir, &r.name),
                u64::try_from(d.whole_units()).unwrap_or(0),
            ))
        })
        .collect();
    // Each object is assigned to its deployment once (linear in objects
    // and deployments).
    let mut objects: BTreeMap<&str, Vec<&diff::ObjectDiff>> = BTreeMap::new();
    for o in &report.objects {
        objects.entry(o.deployment.as_str()).or_default().push(o);
    }
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
                let old = old_sets.get(name.as_str()).unwrap_or(&none);
                for (sts, a) in new_sets.get(name.as_str()).unwrap_or(&none) {
                    let Some(b) = old.get(sts) else { continue };
                    let because = b.changes(a);
                    if because.is_empty() {
                        d.keep_running.push((*sts).to_owned());
                    } else {
                        d.restarts.push(Restart {
                            statefulset: (*sts).to_owned(),
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

type Fact = (String, PathBuf, Facts);

/// The facts of one side (those parsed, and those of the files the same on
/// both sides) for the touched deployments, in file order.
fn in_file_order<'a>(
    parsed: &'a [Fact],
    same: &'a [Fact],
    touched: &BTreeSet<&str>,
) -> Vec<&'a Fact> {
    let mut facts: Vec<&Fact> = parsed
        .iter()
        .chain(same)
        .filter(|(d, _, _)| touched.contains(d.as_str()))
        .collect();
    facts.sort_by(|a, b| (&a.0, a.1.as_os_str()).cmp(&(&b.0, b.1.as_os_str())));
    facts
}

/// The pod templates of the StatefulSets, by deployment and name.
fn templates<'a>(facts: &[&'a Fact]) -> BTreeMap<&'a str, BTreeMap<&'a str, &'a Template>> {
    let mut out: BTreeMap<&str, BTreeMap<&str, &Template>> = BTreeMap::new();
    for (d, _, f) in facts {
        if let Facts::StatefulSet(sts) = f {
            out.entry(d.as_str())
                .or_default()
                .insert(sts.name.as_str(), &sts.template);
        }
    }
    out
}

/// The file name prefixes of the kinds that carry state.
const KIND_STATEFULSET: &str = "statefulset-";
const KIND_CONFIGMAP: &str = "configmap-";

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
