//! The Redis Cluster slot map: which shard owns each of the 16384 hash slots.
//!
//! A new cluster gets the split `redis-cli --cluster create` makes. Every
//! later map is derived from the committed one with the fewest slot moves
//! that leave each serving shard with floor or ceil of 16384/n slots; draining
//! and removed shards own nothing. The committed text form (below) is read
//! back by the next build and by the reconcile script.

use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Hash slots in a Redis Cluster.
pub const SLOTS: usize = 16384;

/// Owner shard of every slot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotMap {
    owners: Vec<u32>,
}

/// A run of consecutive slots, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Range {
    pub first: u16,
    pub last: u16,
}

impl Range {
    #[allow(clippy::len_without_is_empty)] // a range holds at least one slot
    pub fn len(&self) -> usize {
        usize::from(self.last - self.first) + 1
    }
}

impl std::fmt::Display for Range {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.first == self.last {
            write!(f, "{}", self.first)
        } else {
            write!(f, "{}-{}", self.first, self.last)
        }
    }
}

/// Slots that change owner: a contiguous run from one shard to another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Move {
    pub range: Range,
    pub from: u32,
    pub to: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("line {line}: {message}")]
    Line { line: usize, message: String },
    #[error("slot {0} has no owner")]
    Unowned(usize),
}

impl SlotMap {
    /// The split `redis-cli --cluster create` makes for `shards` primaries
    /// (its arithmetic, float rounding included: 3 shards give 0-5460,
    /// 5461-10922, 10923-16383).
    pub fn initial(shards: u32) -> SlotMap {
        assert!(shards > 0, "a cluster has shards");
        let per_node = f64::from(SLOTS as f32 / shards as f32);
        let mut owners = vec![0; SLOTS];
        let mut first = 0usize;
        let mut cursor = 0f64;
        for shard in 0..shards {
            let mut last = (cursor + per_node - 1.0).round() as usize;
            if last >= SLOTS || shard == shards - 1 {
                last = SLOTS - 1;
            }
            last = last.max(first);
            for owner in owners.iter_mut().take(last + 1).skip(first) {
                *owner = shard;
            }
            first = last + 1;
            cursor += per_node;
        }
        SlotMap { owners }
    }

    pub fn owner(&self, slot: usize) -> u32 {
        self.owners[slot]
    }

    /// Slots each shard owns (shards owning none are absent).
    pub fn counts(&self) -> BTreeMap<u32, usize> {
        (0u32..)
            .zip(self.dense_counts(0))
            .filter(|&(_, c)| c > 0)
            .collect()
    }

    /// Slots owned by each shard, indexed by shard, at least `len` long.
    /// Owners are below [`SLOTS`] (parsing and `initial` ensure it).
    fn dense_counts(&self, len: usize) -> Vec<usize> {
        let top = self.owners.iter().max().map_or(0, |&o| o as usize + 1);
        let mut counts = vec![0usize; top.max(len)];
        for &o in &self.owners {
            counts[o as usize] += 1;
        }
        counts
    }

    /// The ranges a shard owns, ascending.
    pub fn ranges(&self, shard: u32) -> Vec<Range> {
        runs(&self.owners)
            .into_iter()
            .filter(|(o, _)| *o == shard)
            .map(|(_, r)| r)
            .collect()
    }

    /// The map derived from `self` for `serving` shards (0..serving own
    /// slots; every other shard owns none) with the fewest moves: each
    /// serving shard ends with floor or ceil of 16384/serving slots; the
    /// larger shares go to the shards that own most now (ties: lower index),
    /// donors give up their highest slots, and receivers take the donated
    /// slots in ascending order, so moved ranges stay contiguous.
    pub fn rebalance(&self, serving: u32) -> SlotMap {
        assert!(serving > 0, "a cluster has serving shards");
        let n = serving as usize;
        let counts = self.dense_counts(n);
        let mut order: Vec<u32> = (0..serving).collect();
        order.sort_by_key(|&s| (std::cmp::Reverse(counts[s as usize]), s));
        let mut target = vec![SLOTS / n; n];
        for &s in order.iter().take(SLOTS % n) {
            target[s as usize] += 1;
        }
        // Each shard keeps its lowest slots up to its target (shards beyond
        // the serving ones have none); the rest is donated.
        let mut excess: Vec<usize> = counts
            .iter()
            .enumerate()
            .map(|(s, &c)| c.saturating_sub(target.get(s).copied().unwrap_or(0)))
            .collect();
        let mut donated = vec![false; SLOTS];
        for slot in (0..SLOTS).rev() {
            let e = &mut excess[self.owners[slot] as usize];
            if *e > 0 {
                *e -= 1;
                donated[slot] = true;
            }
        }
        let mut kept = vec![0usize; n];
        for (slot, &s) in self.owners.iter().enumerate() {
            if !donated[slot] {
                // Only serving shards keep slots: every other one donates all.
                kept[s as usize] += 1;
            }
        }
        let mut owners = self.owners.clone();
        let mut receiver = 0usize;
        for (slot, owner) in owners.iter_mut().enumerate() {
            if !donated[slot] {
                continue;
            }
            while kept[receiver] >= target[receiver] {
                receiver += 1;
            }
            *owner = u32::try_from(receiver).expect("shard index fits");
            kept[receiver] += 1;
        }
        SlotMap { owners }
    }

    /// Every contiguous run of slots whose owner differs between `self`
    /// and `next`, split where either owner changes.
    pub fn moves_to(&self, next: &SlotMap) -> Vec<Move> {
        let mut moves: Vec<Move> = Vec::new();
        for slot in 0..SLOTS {
            let (from, to) = (self.owners[slot], next.owners[slot]);
            if from == to {
                continue;
            }
            let slot16 = u16::try_from(slot).expect("slot fits");
            match moves.last_mut() {
                Some(m)
                    if m.from == from && m.to == to && usize::from(m.range.last) + 1 == slot =>
                {
                    m.range.last = slot16;
                }
                _ => moves.push(Move {
                    range: Range {
                        first: slot16,
                        last: slot16,
                    },
                    from,
                    to,
                }),
            }
        }
        moves
    }

    /// The committed text form: one line per range, `<shard> <first> <last>`,
    /// ascending by slot, after comment lines starting with `#`.
    pub fn to_text(&self) -> String {
        let mut out = String::from(
            "# Redis Cluster slot map, committed state: one line per range, \"<shard> <first slot> <last slot>\".\n\
             # Every slot 0-16383 appears exactly once. Generated by redis-gitops; do not edit.\n",
        );
        for (owner, range) in runs(&self.owners) {
            let _ = writeln!(out, "{owner} {} {}", range.first, range.last);
        }
        out
    }

    /// Reads the text form back; every slot must be owned exactly once.
    pub fn parse(text: &str) -> Result<SlotMap, ParseError> {
        let mut owners: Vec<Option<u32>> = vec![None; SLOTS];
        for (i, line) in text.lines().enumerate() {
            let line_no = i + 1;
            let bad = |message: String| ParseError::Line {
                line: line_no,
                message,
            };
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let fields: Vec<&str> = line.split_whitespace().collect();
            let [shard, first, last] = fields[..] else {
                return Err(bad(format!(
                    "expected '<shard> <first> <last>', found '{line}'"
                )));
            };
            let num = |s: &str| {
                s.parse::<usize>()
                    .map_err(|_| bad(format!("'{s}' is not a number")))
            };
            let (shard, first, last) = (num(shard)?, num(first)?, num(last)?);
            let shard = u32::try_from(shard)
                .ok()
                .filter(|s| (*s as usize) < SLOTS)
                .ok_or_else(|| bad(format!("shard {shard} is out of range")))?;
            if first > last || last >= SLOTS {
                return Err(bad(format!("{first}-{last} is not a slot range")));
            }
            for (slot, owner) in owners.iter_mut().enumerate().take(last + 1).skip(first) {
                if owner.is_some() {
                    return Err(bad(format!("slot {slot} is owned twice")));
                }
                *owner = Some(shard);
            }
        }
        let owners = owners
            .into_iter()
            .enumerate()
            .map(|(slot, o)| o.ok_or(ParseError::Unowned(slot)))
            .collect::<Result<_, _>>()?;
        Ok(SlotMap { owners })
    }
}

/// Runs of equal owners: (owner, range), ascending.
fn runs(owners: &[u32]) -> Vec<(u32, Range)> {
    let mut out: Vec<(u32, Range)> = Vec::new();
    for (slot, &o) in owners.iter().enumerate() {
        let slot = u16::try_from(slot).expect("slot fits");
        match out.last_mut() {
            Some((owner, r)) if *owner == o => r.last = slot,
            _ => out.push((
                o,
                Range {
                    first: slot,
                    last: slot,
                },
            )),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initial_split_matches_redis_cli() {
        // From `redis-cli --cluster create` output ("Master[i] -> Slots a - b").
        let m = SlotMap::initial(3);
        assert_eq!(
            m.to_text().lines().skip(2).collect::<Vec<_>>(),
            ["0 0 5460", "1 5461 10922", "2 10923 16383"]
        );
    }

    #[test]
    fn text_form_round_trips_and_rejects_gaps_and_overlaps() {
        let m = SlotMap::initial(7).rebalance(9);
        assert_eq!(SlotMap::parse(&m.to_text()).unwrap(), m);
        assert_eq!(
            SlotMap::parse("0 0 100\n1 100 16383\n"),
            Err(ParseError::Line {
                line: 2,
                message: "slot 100 is owned twice".into()
            })
        );
        assert_eq!(
            SlotMap::parse("0 0 100\n1 102 16383\n"),
            Err(ParseError::Unowned(101))
        );
        assert!(SlotMap::parse("0 0 16384\n").is_err());
        assert!(SlotMap::parse("zero 0 1\n").is_err());
    }
}
