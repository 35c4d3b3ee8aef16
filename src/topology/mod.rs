//! Cluster topology as committed state: the slot map, how the next one is
//! derived from the committed one, and reading it back from the output.
//! Pure functions; the planner is property-tested.

pub mod slots;

use std::path::{Path, PathBuf};

use slots::SlotMap;

/// The slot map a build commits, and what deriving it found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Derived {
    pub next: SlotMap,
    /// Shards no longer in the spec that own slots in the committed map.
    /// Building such a map would lose their data.
    pub stranded: Vec<Stranded>,
}

/// A shard removed from the spec while it still owns slots.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stranded {
    pub shard: u32,
    /// The slots it owns in the committed map.
    pub slots: usize,
}

impl Stranded {
    /// The shards, comma-separated, and their slots in all.
    pub fn describe(stranded: &[Stranded]) -> (String, usize) {
        let shards: Vec<String> = stranded.iter().map(|s| s.shard.to_string()).collect();
        (shards.join(", "), stranded.iter().map(|s| s.slots).sum())
    }
}

/// The next map for a cluster of `shards` of which the last `drain` own nothing.
pub fn derive(previous: Option<SlotMap>, shards: u32, drain: u32) -> Derived {
    let serving = shards.saturating_sub(drain).max(1);
    let next = match &previous {
        Some(map) => map.rebalance(serving),
        None => SlotMap::initial(serving),
    };
    let stranded = previous
        .as_ref()
        .map(|m| {
            m.counts()
                .into_iter()
                .filter(|(s, _)| *s >= shards)
                .map(|(shard, slots)| Stranded { shard, slots })
                .collect()
        })
        .unwrap_or_default();
    Derived { next, stranded }
}

/// The ConfigMap holding a deployment's topology, relative to the output folder.
pub fn committed_file(dir: &Path, name: &str) -> PathBuf {
    crate::names::topology_file(dir, name)
}

/// The data key of the slot map in that ConfigMap.
pub const SLOTS_KEY: &str = "slots";

/// Reads the slot map out of a committed topology ConfigMap.
pub fn read_committed(bytes: &[u8]) -> Result<SlotMap, String> {
    #[derive(serde::Deserialize)]
    struct ConfigMap {
        data: Option<std::collections::BTreeMap<String, serde_yaml::Value>>,
    }
    let text = std::str::from_utf8(bytes).map_err(|e| format!("not valid UTF-8: {e}"))?;
    let cm: ConfigMap = serde_saphyr::from_str(text)
        .map_err(|e| format!("not valid YAML: {}", e.without_snippet()))?;
    let text = cm
        .data
        .as_ref()
        .and_then(|d| d.get(SLOTS_KEY))
        .and_then(serde_yaml::Value::as_str)
        .ok_or_else(|| format!("no data.{SLOTS_KEY}"))?;
    SlotMap::parse(text).map_err(|e| format!("data.{SLOTS_KEY}: {e}"))
}
