//! The plan's rule book: one small function per kind of change, each
//! comparing the state before and after and adding its findings (and, for
//! the slot map, the moves). `build` refuses every blocked finding, so a
//! rule that blocks is a rule `build` enforces.

use crate::plan::{Finding, State, Verdict, Workload};
use crate::spec::model::{Mode, Persistence};
use crate::spec::quantity::Quantity;
use crate::topology::Stranded;
use crate::topology::slots::Move;

/// What the rules read and write.
pub(super) struct Cx<'a> {
    pub b: &'a State,
    pub a: &'a State,
    pub findings: Vec<Finding>,
    pub moves: Vec<Move>,
}

impl Cx<'_> {
    fn add(&mut self, verdict: Verdict, change: String, detail: impl Into<String>) {
        self.with_commands(verdict, change, detail, vec![]);
    }

    fn with_commands(
        &mut self,
        verdict: Verdict,
        change: String,
        detail: impl Into<String>,
        commands: Vec<String>,
    ) {
        self.findings.push(Finding {
            verdict,
            change,
            detail: detail.into(),
            commands,
        });
    }
}

type Rule = fn(&mut Cx<'_>);

/// Every rule, in the order users read the findings.
pub(super) const RULES: &[Rule] = &[
    mode,
    engine,
    version,
    storage,
    persistence,
    storage_class,
    tls,
    auth,
    slots,
    serving,
    pods,
    sentinels,
    resources,
];

/// The findings and slot moves of a deployment that exists before and after.
pub(super) fn compare(b: &State, a: &State) -> (Vec<Finding>, Vec<Move>) {
    let mut cx = Cx {
        b,
        a,
        findings: Vec::new(),
        moves: Vec::new(),
    };
    for rule in RULES {
        rule(&mut cx);
    }
    (cx.findings, cx.moves)
}

/// A state field that may be missing from hand-edited files.
fn show<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map_or_else(|| "?".into(), |v| v.to_string())
}

fn mode(cx: &mut Cx<'_>) {
    let (b, a) = (cx.b, cx.a);
    if b.mode != a.mode {
        cx.add(
            Verdict::Blocked,
            format!("mode {} -> {}", show(b.mode), show(a.mode)),
            format!(
                "a mode cannot change in place: render the new mode under a new name, \
                 copy the data over, move clients, then remove the spec of '{}'",
                b.name
            ),
        );
    }
}

fn engine(cx: &mut Cx<'_>) {
    let (b, a) = (cx.b, cx.a);
    if b.engine != a.engine {
        cx.add(
            Verdict::Blocked,
            format!("engine {} -> {}", show(b.engine), show(a.engine)),
            "an engine cannot change in place: deploy the new engine under a new name and \
             replicate or copy the data to it",
        );
    }
}

fn version(cx: &mut Cx<'_>) {
    let (b, a) = (cx.b, cx.a);
    if b.version == a.version {
        return;
    }
    let change = format!("version {} -> {}", show(b.version), show(a.version));
    // Without a volume no RDB or AOF file outlives the pod: nothing to load.
    let files = b.storage.is_some() || a.storage.is_some();
    if a.version < b.version && !files {
        cx.add(
            Verdict::Safe,
            change,
            "rolling restart; without storage no RDB or AOF file is kept, so the older \
             server has nothing to load (the data of each pod is lost as in any restart: \
             replicas resync from the primary)",
        );
    } else if a.version < b.version {
        cx.add(
            Verdict::Blocked,
            change,
            "a downgrade can leave RDB/AOF files the older server cannot load: \
             restore a backup into a new deployment instead",
        );
    } else {
        cx.add(
            Verdict::Safe,
            change,
            "rolling restart, one pod at a time, highest ordinal first",
        );
    }
}

fn storage(cx: &mut Cx<'_>) {
    let (b, a) = (cx.b, cx.a);
    let ns = &a.namespace;
    match (&b.storage, &a.storage) {
        (Some(old), None) => cx.add(
            Verdict::Blocked,
            format!("storage {old} -> none"),
            "dropping persistence loses the data on the next restart; keep storage, or \
             move the data to a new deployment first",
        ),
        (None, Some(new)) => cx.with_commands(
            Verdict::Manual,
            format!("storage none -> {new}"),
            "volumeClaimTemplates are immutable. In order: 1. push the change (its sync \
             fails on these StatefulSets: a forbidden update, expected); 2. delete them \
             without their pods (the commands below); 3. Argo CD (selfHeal, or the next \
             sync) or Flux recreates them with the new template and the pods roll onto \
             new volumes. Deleting before the push lets a self-healing Argo CD recreate \
             them from the old template at once",
            orphan_commands(ns, &claims_change(b, a)),
        ),
        (Some(old), Some(new)) if !old.same_amount(new) => {
            if new.millis() < old.millis() {
                cx.add(
                    Verdict::Blocked,
                    format!("storage {old} -> {new}"),
                    "volumes cannot shrink: create a new deployment with the smaller \
                     size and move the data",
                );
                return;
            }
            // Only the volumes that exist now, of the StatefulSets whose
            // templates change (not the sentinels'); new pods get the new size.
            let changing = claims_change(b, a);
            let mut commands: Vec<String> = changing
                .iter()
                .flat_map(|w| w.pvcs())
                .map(|pvc| {
                    format!(
                        "kubectl -n {ns} patch pvc {pvc} --type merge -p \
                         '{{\"spec\":{{\"resources\":{{\"requests\":{{\"storage\":\"{new}\"}}}}}}}}'"
                    )
                })
                .collect();
            commands.extend(orphan_commands(ns, &changing));
            cx.with_commands(
                Verdict::Manual,
                format!("storage {old} -> {new}"),
                "volumeClaimTemplates are immutable. In order: 1. expand each PVC (the \
                 storage class must allow volume expansion); 2. push the change (its sync \
                 fails on these StatefulSets: a forbidden update, expected); 3. delete \
                 them with --cascade=orphan so the pods keep running; 4. Argo CD \
                 (selfHeal, or the next sync) or Flux recreates them with the new \
                 template. Deleting before the push lets a self-healing Argo CD recreate \
                 them from the old template at once",
                commands,
            );
        }
        _ => {}
    }
}

fn orphan_commands(ns: &str, statefulsets: &[&Workload]) -> Vec<String> {
    statefulsets
        .iter()
        .map(|w| {
            format!(
                "kubectl -n {ns} delete statefulset {} --cascade=orphan",
                w.name
            )
        })
        .collect()
}

/// The StatefulSets of `b` whose volumeClaimTemplates differ in `a`: only
/// they need recreating (the sentinels' keeps its own volume).
fn claims_change<'a>(b: &'a State, a: &State) -> Vec<&'a Workload> {
    b.statefulsets
        .iter()
        .filter(|w| {
            a.statefulsets
                .iter()
                .find(|x| x.name == w.name)
                .is_some_and(|x| x.claims != w.claims)
        })
        .collect()
}

fn persistence(cx: &mut Cx<'_>) {
    let (b, a) = (cx.b, cx.a);
    let (Some(old), Some(new)) = (b.persistence, a.persistence) else {
        return;
    };
    if old == new || a.storage.is_none() {
        return;
    }
    let aof = |p: Persistence| matches!(p, Persistence::Aof | Persistence::RdbAof);
    let (verdict, detail) = if new == Persistence::None {
        (
            Verdict::Manual,
            "nothing is written to the volume any more: a full stop of every pod \
             (a drain, a cold start) then loses every key, and the data already on \
             the volume is ignored at the next start. Keep rdb unless the data is a cache",
        )
    } else if aof(new) && !aof(old) {
        (
            Verdict::Safe,
            "rolling restart; each pod starts from its RDB snapshot with AOF off and \
             turns AOF on at run time (CONFIG SET appendonly yes), so no key is lost \
             to an empty AOF",
        )
    } else {
        (
            Verdict::Safe,
            "rolling restart; the data on the volume is loaded as before",
        )
    };
    cx.add(verdict, format!("persistence {old} -> {new}"), detail);
}

fn storage_class(cx: &mut Cx<'_>) {
    let (b, a) = (cx.b, cx.a);
    if b.storage.is_some() && a.storage.is_some() && b.storage_class != a.storage_class {
        cx.add(
            Verdict::Blocked,
            format!(
                "storageClass {} -> {}",
                b.storage_class.as_deref().unwrap_or("(default)"),
                a.storage_class.as_deref().unwrap_or("(default)")
            ),
            "volumes cannot change class in place: create a new deployment on the new \
             class and move the data",
        );
    }
}

/// TLS on or off: every client must change how it connects, and during the
/// roll old and new pods cannot replicate from each other.
fn tls(cx: &mut Cx<'_>) {
    let (Some(old), Some(new)) = (cx.b.tls, cx.a.tls) else {
        return;
    };
    if old == new {
        return;
    }
    let (change, clients) = if new {
        (
            "TLS off -> on",
            "the Redis port then speaks TLS only (`port 0`, `tls-port`): a plain-text \
             client loses its connection as soon as the pod it talks to rolls",
        )
    } else {
        (
            "TLS on -> off",
            "the Redis port then speaks plain text only: a TLS client loses its \
             connection as soon as the pod it talks to rolls",
        )
    };
    cx.add(
        Verdict::Manual,
        change.into(),
        format!(
            "{clients}; while the pods roll, a rolled replica cannot sync from a primary \
             that has not rolled (replication{} switches with them), so the roll can \
             stall. In order: 1. prepare every client for the new setting (CA and TLS \
             options, or none); 2. in a maintenance window, stop the writers; 3. push \
             and sync, and wait until every pod is Ready; 4. start the clients with \
             the new setting. Without a window: deploy the new setting as a new \
             deployment, move the clients, then remove this one",
            if cx.a.mode == Some(Mode::Cluster) {
                " and the cluster bus"
            } else {
                ""
            }
        ),
    );
}

/// A password required or dropped: clients must change what they send.
fn auth(cx: &mut Cx<'_>) {
    let (Some(old), Some(new)) = (cx.b.auth, cx.a.auth) else {
        return;
    };
    if old == new {
        return;
    }
    let (change, detail) = if new {
        (
            "auth off -> on",
            "each pod requires the password once it rolls: clients that do not send it \
             get NOAUTH. In order: 1. create the Secret; 2. deploy clients that send \
             the password and retry AUTH after a NOAUTH (Redis refuses AUTH while no \
             password is set); 3. push and sync",
        )
    } else {
        (
            "auth on -> off",
            "each pod stops requiring the password once it rolls; clients that still \
             send AUTH get an error from Redis (no password is set). In order: 1. \
             deploy clients that tolerate that error or send no password; 2. push and \
             sync; 3. remove the Secret",
        )
    };
    cx.add(Verdict::Manual, change.into(), detail);
}

fn both_clusters(cx: &Cx<'_>) -> bool {
    cx.a.mode == Some(Mode::Cluster) && cx.b.mode == Some(Mode::Cluster)
}

/// Shards the change removes while the committed map gives them slots.
fn stranded(b: &State, a: &State) -> Vec<Stranded> {
    let Some(old) = &b.slots else {
        return Vec::new();
    };
    old.counts()
        .into_iter()
        .filter(|(s, _)| *s >= a.shards)
        .map(|(shard, slots)| Stranded { shard, slots })
        .collect()
}

/// Cluster: shards added or removed, and the slot moves.
fn slots(cx: &mut Cx<'_>) {
    if !both_clusters(cx) {
        return;
    }
    let (b, a) = (cx.b, cx.a);
    let stranded = stranded(b, a);
    if !stranded.is_empty() {
        let (shards, slots) = Stranded::describe(&stranded);
        cx.add(
            Verdict::Blocked,
            format!("shards {} -> {}", b.shards, a.shards),
            format!(
                "shard(s) {shards} still own {slots} slot(s) and would be removed with \
                 their data. Two steps: set `shards: {}` and `drainShards: {}`, build \
                 and sync (the reconcile Job moves their slots away), then lower \
                 `shards` to {} and remove drainShards",
                b.shards,
                b.shards - a.shards,
                a.shards
            ),
        );
        return;
    }
    if let (Some(old), Some(new)) = (&b.slots, &a.slots) {
        cx.moves = old.moves_to(new);
    }
    if b.shards != a.shards || b.serving != a.serving {
        let detail = if a.shards > b.shards {
            "new shards start empty; the reconcile Job meets them and moves slots to them online, key by key"
        } else if a.serving < b.serving {
            "the draining shards keep running; the reconcile Job moves their slots to the serving shards online"
        } else {
            "the removed shards own no slots: nothing moves; the reconcile Job forgets their nodes"
        };
        cx.add(
            Verdict::Safe,
            format!(
                "shards {} ({} serving) -> {} ({} serving)",
                b.shards, b.serving, a.shards, a.serving
            ),
            detail,
        );
    }
}

/// Cluster: fewer shards own slots; always a finding, since the same
/// keyspace then lives on fewer shards.
fn serving(cx: &mut Cx<'_>) {
    let (b, a) = (cx.b, cx.a);
    if !both_clusters(cx) || a.serving >= b.serving || !stranded(b, a).is_empty() {
        return;
    }
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
    cx.add(
        Verdict::Manual,
        format!("serving shards {} -> {}", b.serving, a.serving),
        detail,
    );
}

fn pods(cx: &mut Cx<'_>) {
    let (b, a) = (cx.b, cx.a);
    if b.pods != a.pods {
        let per = if a.mode == Some(Mode::Cluster) {
            "shard"
        } else {
            "deployment"
        };
        cx.add(
            Verdict::Safe,
            format!("pods per {per} {} -> {}", b.pods, a.pods),
            "replicas are added or removed one at a time; a removed replica holds no data of its own",
        );
    }
}

fn sentinels(cx: &mut Cx<'_>) {
    let (b, a) = (cx.b, cx.a);
    if b.sentinels != a.sentinels {
        cx.add(
            Verdict::Safe,
            format!("sentinels {} -> {}", b.sentinels, a.sentinels),
            "sentinels discover each other; the quorum stays reachable",
        );
    }
}

fn resources(cx: &mut Cx<'_>) {
    let (b, a) = (cx.b, cx.a);
    let same = |x: Option<Quantity>, y: Option<Quantity>| match (x, y) {
        (Some(x), Some(y)) => x.same_amount(&y),
        (x, y) => x.is_none() && y.is_none(),
    };
    if !same(b.cpu_limit, a.cpu_limit)
        || !same(b.memory_limit, a.memory_limit)
        || b.maxmemory != a.maxmemory
    {
        cx.add(
            Verdict::Safe,
            "resources".into(),
            "rolling restart, one pod at a time",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::model::Engine;
    use crate::spec::validate::Version;
    use crate::topology::slots::SlotMap;

    fn q(text: &str) -> Option<Quantity> {
        Some(Quantity::parse(text).unwrap())
    }

    fn workload(name: &str, replicas: u32, size: &str) -> Workload {
        Workload {
            name: name.into(),
            replicas,
            claims: vec![("data".into(), Some(size.into()), None)],
        }
    }

    /// A sentinel deployment `s` of 3 pods on 5Gi, 3 sentinels on 100Mi.
    fn sentinel() -> State {
        State {
            name: "s".into(),
            namespace: "ns".into(),
            mode: Some(Mode::Sentinel),
            engine: Some(Engine::Redis),
            version: Some(Version {
                major: 7,
                minor: 2,
                patch: 5,
            }),
            shards: 1,
            pods: 3,
            sentinels: 3,
            quorum: Some(2),
            storage: q("5Gi"),
            cpu_limit: q("1"),
            memory_limit: q("2Gi"),
            maxmemory: Some(1 << 30),
            persistence: Some(Persistence::Aof),
            statefulsets: vec![workload("s", 3, "5Gi"), workload("s-sentinel", 3, "100Mi")],
            ..State::default()
        }
    }

    /// A cluster `c` of `shards` shards, `serving` of them owning slots.
    fn cluster(shards: u32, serving: u32) -> State {
        State {
            name: "c".into(),
            namespace: "ns".into(),
            mode: Some(Mode::Cluster),
            shards,
            serving,
            pods: 2,
            slots: Some(SlotMap::initial(serving)),
            ..sentinel()
        }
    }

    /// The findings of one rule alone, as "verdict change" lines.
    fn run(rule: Rule, b: &State, a: &State) -> Vec<String> {
        let mut cx = Cx {
            b,
            a,
            findings: Vec::new(),
            moves: Vec::new(),
        };
        rule(&mut cx);
        cx.findings
            .iter()
            .map(|f| format!("{} {}", f.verdict.as_str(), f.change))
            .collect()
    }

    #[test]
    fn no_change_no_finding() {
        let (findings, moves) = compare(&sentinel(), &sentinel());
        assert!(findings.is_empty() && moves.is_empty(), "{findings:?}");
        let (findings, moves) = compare(&cluster(3, 3), &cluster(3, 3));
        assert!(findings.is_empty() && moves.is_empty(), "{findings:?}");
    }

    #[test]
    fn a_mode_change_is_blocked() {
        let a = State {
            mode: Some(Mode::Standalone),
            ..sentinel()
        };
        assert_eq!(
            run(mode, &sentinel(), &a),
            ["blocked mode sentinel -> standalone"]
        );
    }

    #[test]
    fn an_engine_change_is_blocked() {
        let a = State {
            engine: Some(Engine::Valkey),
            ..sentinel()
        };
        assert_eq!(
            run(engine, &sentinel(), &a),
            ["blocked engine redis -> valkey"]
        );
    }

    #[test]
    fn a_downgrade_is_blocked_and_an_upgrade_safe() {
        let old = State {
            version: Some(Version {
                major: 7,
                minor: 0,
                patch: 15,
            }),
            ..sentinel()
        };
        assert_eq!(
            run(version, &sentinel(), &old),
            ["blocked version 7.2.5 -> 7.0.15"]
        );
        assert_eq!(
            run(version, &old, &sentinel()),
            ["safe version 7.0.15 -> 7.2.5"]
        );
    }

    #[test]
    fn a_downgrade_without_storage_is_safe() {
        let cache = |v| State {
            storage: None,
            version: Some(v),
            ..sentinel()
        };
        let (new, old) = (
            Version {
                major: 7,
                minor: 2,
                patch: 5,
            },
            Version {
                major: 7,
                minor: 0,
                patch: 15,
            },
        );
        assert_eq!(
            run(version, &cache(new), &cache(old)),
            ["safe version 7.2.5 -> 7.0.15"]
        );
    }

    #[test]
    fn storage_shrinks_are_blocked_and_growth_names_only_the_changing_volumes() {
        let smaller = State {
            storage: q("4Gi"),
            ..sentinel()
        };
        assert_eq!(
            run(storage, &sentinel(), &smaller),
            ["blocked storage 5Gi -> 4Gi"]
        );
        let none = State {
            storage: None,
            ..sentinel()
        };
        assert_eq!(
            run(storage, &sentinel(), &none),
            ["blocked storage 5Gi -> none"]
        );
        // The same amount written another way is no change.
        let same = State {
            storage: q("5120Mi"),
            ..sentinel()
        };
        assert!(run(storage, &sentinel(), &same).is_empty());

        let mut bigger = State {
            storage: q("8Gi"),
            ..sentinel()
        };
        bigger.statefulsets[0] = workload("s", 3, "8Gi");
        let mut cx = Cx {
            b: &sentinel(),
            a: &bigger,
            findings: vec![],
            moves: vec![],
        };
        storage(&mut cx);
        let f = &cx.findings[0];
        assert_eq!(
            (f.verdict, f.change.as_str()),
            (Verdict::Manual, "storage 5Gi -> 8Gi")
        );
        let targets: Vec<&str> = f
            .commands
            .iter()
            .map(|c| c.split_whitespace().nth(5).unwrap())
            .collect();
        // Every pod's volume of the Redis StatefulSet, then that StatefulSet;
        // the sentinels' volumes and StatefulSet stay as they are.
        assert_eq!(targets, ["data-s-0", "data-s-1", "data-s-2", "s"]);
        assert!(f.commands[3].ends_with("delete statefulset s --cascade=orphan"));
        // With a self-healing Argo CD the push comes before the delete.
        let (push, delete) = (
            f.detail.find("push the change"),
            f.detail.find("delete them"),
        );
        assert!(push.is_some() && push < delete, "{}", f.detail);
    }

    #[test]
    fn persistence_off_is_manual_and_on_is_safe() {
        let off = State {
            persistence: Some(Persistence::None),
            ..sentinel()
        };
        assert_eq!(
            run(persistence, &sentinel(), &off),
            ["manual persistence aof -> none"]
        );
        let rdb = State {
            persistence: Some(Persistence::Rdb),
            ..sentinel()
        };
        assert_eq!(
            run(persistence, &rdb, &sentinel()),
            ["safe persistence rdb -> aof"]
        );
        // Without a volume nothing was ever kept.
        let cache = |p| State {
            storage: None,
            persistence: Some(p),
            ..sentinel()
        };
        assert!(
            run(
                persistence,
                &cache(Persistence::Rdb),
                &cache(Persistence::None)
            )
            .is_empty()
        );
    }

    #[test]
    fn a_storage_class_change_is_blocked() {
        let a = State {
            storage_class: Some("fast".into()),
            ..sentinel()
        };
        assert_eq!(
            run(storage_class, &sentinel(), &a),
            ["blocked storageClass (default) -> fast"]
        );
    }

    #[test]
    fn growing_moves_slots_and_removing_owners_is_blocked() {
        let mut grown = cluster(4, 4);
        grown.slots = Some(SlotMap::initial(3).rebalance(4));
        let mut cx = Cx {
            b: &cluster(3, 3),
            a: &grown,
            findings: vec![],
            moves: vec![],
        };
        slots(&mut cx);
        assert_eq!(
            cx.findings[0].change,
            "shards 3 (3 serving) -> 4 (4 serving)"
        );
        let moved: usize = cx.moves.iter().map(|m| m.range.len()).sum();
        assert_eq!(moved, 4096, "a quarter of the slots move to the new shard");

        assert_eq!(
            run(slots, &cluster(4, 4), &cluster(3, 3)),
            ["blocked shards 4 -> 3"]
        );
        // Neither a serving drop follows from it: the change does not happen.
        assert!(run(serving, &cluster(4, 4), &cluster(3, 3)).is_empty());
    }

    #[test]
    fn fewer_serving_shards_is_always_a_finding() {
        let mut draining = cluster(4, 3);
        draining.slots = Some(SlotMap::initial(4).rebalance(3));
        assert_eq!(
            run(serving, &cluster(4, 4), &draining),
            ["manual serving shards 4 -> 3"]
        );
        assert!(run(serving, &cluster(3, 3), &cluster(4, 4)).is_empty());
    }

    #[test]
    fn tls_or_auth_switched_is_a_manual_step_for_clients() {
        let on = State {
            tls: Some(true),
            auth: Some(true),
            ..sentinel()
        };
        let off = State {
            tls: Some(false),
            auth: Some(false),
            ..sentinel()
        };
        assert_eq!(run(tls, &off, &on), ["manual TLS off -> on"]);
        assert_eq!(run(tls, &on, &off), ["manual TLS on -> off"]);
        assert_eq!(run(auth, &off, &on), ["manual auth off -> on"]);
        assert_eq!(run(auth, &on, &off), ["manual auth on -> off"]);
        // A record from before these fields: no finding.
        let unknown = State {
            tls: None,
            auth: None,
            ..sentinel()
        };
        assert!(run(tls, &unknown, &on).is_empty() && run(auth, &unknown, &on).is_empty());
    }

    #[test]
    fn replicas_sentinels_and_resources_roll_safely() {
        let a = State {
            pods: 4,
            ..sentinel()
        };
        assert_eq!(
            run(pods, &sentinel(), &a),
            ["safe pods per deployment 3 -> 4"]
        );
        let a = State {
            sentinels: 5,
            ..sentinel()
        };
        assert_eq!(run(sentinels, &sentinel(), &a), ["safe sentinels 3 -> 5"]);
        let a = State {
            maxmemory: Some(1 << 29),
            ..sentinel()
        };
        assert_eq!(run(resources, &sentinel(), &a), ["safe resources"]);
        let a = State {
            cpu_limit: q("1000m"),
            ..sentinel()
        };
        assert!(run(resources, &sentinel(), &a).is_empty(), "1 CPU is 1000m");
    }
}
