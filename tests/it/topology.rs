//! The slot planner, property-tested over random shard counts and random
//! committed maps, and the known cases pinned.

use proptest::prelude::*;
use redis_gitops::topology::derive;
use redis_gitops::topology::slots::{SLOTS, SlotMap};

/// The fewest slot moves that can balance `map` over `serving` shards,
/// counted from first principles: a serving shard keeps at most its target,
/// and a ceil share only helps a shard that owns more than the floor.
fn minimum_moves(map: &SlotMap, serving: u32) -> usize {
    let counts = map.counts();
    let floor = SLOTS / serving as usize;
    let ceils = SLOTS % serving as usize;
    let current = |s: u32| counts.get(&s).copied().unwrap_or(0);
    let kept_at_floor: usize = (0..serving).map(|s| current(s).min(floor)).sum();
    let could_use_ceil = (0..serving).filter(|&s| current(s) > floor).count();
    SLOTS - kept_at_floor - could_use_ceil.min(ceils)
}

fn moved(a: &SlotMap, b: &SlotMap) -> usize {
    (0..SLOTS).filter(|&s| a.owner(s) != b.owner(s)).count()
}

/// A committed map: the create split of `shards`, then random runs handed
/// to random shards (also ones beyond the new count), as years of hand
/// rebalancing might leave it.
fn committed_map() -> impl Strategy<Value = SlotMap> {
    (
        3u32..500,
        prop::collection::vec((0usize..SLOTS, 1usize..2000, 0u32..600), 0..40),
    )
        .prop_map(|(shards, edits)| {
            let mut text = SlotMap::initial(shards).to_text();
            let base = SlotMap::parse(&text).unwrap();
            let mut owners: Vec<u32> = (0..SLOTS).map(|s| base.owner(s)).collect();
            for (first, len, shard) in edits {
                for o in owners.iter_mut().skip(first).take(len) {
                    *o = shard;
                }
            }
            text = owners
                .iter()
                .enumerate()
                .map(|(slot, o)| format!("{o} {slot} {slot}\n"))
                .collect();
            SlotMap::parse(&text).unwrap()
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: crate::common::cases(300), ..ProptestConfig::default() })]

    #[test]
    fn rebalanced_maps_are_complete_balanced_minimal_and_stable(
        previous in committed_map(),
        serving in 3u32..500,
        drain in 0u32..20,
    ) {
        let shards = serving + drain;
        let derived = derive(Some(previous.clone()), shards, drain);
        let next = &derived.next;
        // Every slot owned exactly once: the text form parses back, strictly.
        prop_assert_eq!(&SlotMap::parse(&next.to_text()).unwrap(), next);
        let counts = next.counts();
        prop_assert_eq!(counts.values().sum::<usize>(), SLOTS);
        let floor = SLOTS / serving as usize;
        for s in 0..serving {
            let c = counts.get(&s).copied().unwrap_or(0);
            prop_assert!(c == floor || c == floor + 1, "shard {} owns {}", s, c);
        }
        // Draining shards (and any beyond the spec) own nothing.
        prop_assert!(counts.keys().all(|&s| s < serving), "{:?}", counts);
        prop_assert_eq!(moved(&previous, next), minimum_moves(&previous, serving));
        // Building again changes nothing.
        prop_assert_eq!(&derive(Some(next.clone()), shards, drain).next, next);
        // The moves listed are exactly the slots that change owner.
        let listed: usize = previous.moves_to(next).iter().map(|m| m.range.len()).sum();
        prop_assert_eq!(listed, moved(&previous, next));
    }

    #[test]
    fn a_new_cluster_gets_the_create_split(serving in 3u32..500) {
        let map = derive(None, serving, 0).next;
        let counts = map.counts();
        prop_assert_eq!(counts.len(), serving as usize);
        // Shards own one contiguous range each, in shard order.
        for s in 0..serving {
            prop_assert_eq!(map.ranges(s).len(), 1);
        }
        prop_assert_eq!(derive(Some(map.clone()), serving, 0).next, map);
    }
}

#[test]
fn grow_three_to_five_then_drain_two_then_remove_them() {
    let three = derive(None, 3, 0).next;
    assert_eq!(three.ranges(0)[0].to_string(), "0-5460");
    assert_eq!(three.ranges(1)[0].to_string(), "5461-10922");
    assert_eq!(three.ranges(2)[0].to_string(), "10923-16383");

    let five = derive(Some(three.clone()), 5, 0).next;
    assert_eq!(moved(&three, &five), 6553);
    // 16384 = 4 x 3277 + 3276.
    let mut counts: Vec<usize> = five.counts().into_values().collect();
    counts.sort_unstable();
    assert_eq!(counts, [3276, 3277, 3277, 3277, 3277]);

    let drained = derive(Some(five.clone()), 5, 2);
    let owned_by_drained: usize = (3..5).map(|s| five.counts()[&s]).sum();
    assert_eq!(owned_by_drained, 6553);
    assert_eq!(moved(&five, &drained.next), 6553);
    assert!(drained.stranded.is_empty());
    for slot in 0..SLOTS {
        if five.owner(slot) < 3 {
            assert_eq!(
                five.owner(slot),
                drained.next.owner(slot),
                "slot {slot} stays"
            );
        }
    }

    let removed = derive(Some(drained.next.clone()), 3, 0);
    assert_eq!(moved(&drained.next, &removed.next), 0);
    assert!(removed.stranded.is_empty());

    // Removing the two shards without draining strands their slots.
    let stranded = derive(Some(five), 3, 0).stranded;
    assert_eq!(
        stranded,
        [
            redis_gitops::topology::Stranded {
                shard: 3,
                slots: 3277
            },
            redis_gitops::topology::Stranded {
                shard: 4,
                slots: 3276
            }
        ]
    );
}
