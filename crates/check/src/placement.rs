//! Placement after slot moves: once every move has ended, the cluster map gives each of the
//! 16384 slots to exactly one shard, and no replica of any shard holds a key of a slot the map
//! does not give its shard (a move's copies on a target that gave up, or the keys a source left
//! behind, must be gone), nor still takes part in a move. A key held by two shards could be
//! served by both after a later map change, or come back from the dead.

use concord_core::limits::SLOTS;
use std::fmt;

/// One shard of the final map: its Raft group and the slot ranges it owns (inclusive).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Owner {
    pub group: u32,
    pub ranges: Vec<(u16, u16)>,
}

/// What one replica of a shard holds, as it reported it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Holding {
    pub group: u32,
    pub node: String,
    /// Each slot with keys and how many (every database, invisible copies too), or `None` if
    /// the replica could not be asked.
    pub slots: Option<Vec<(u16, u64)>>,
    /// The moves the replica's shard state still takes part in (`outgoing 3/2`).
    pub moves: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    /// Slots no shard owns, or that two do (first and last of each run).
    Unowned {
        ranges: Vec<(u16, u16)>,
    },
    Twice {
        ranges: Vec<(u16, u16)>,
    },
    Unreachable {
        group: u32,
        node: String,
    },
    /// Keys of slots the map gives another shard: each such slot, its keys and its owner.
    Stray {
        group: u32,
        node: String,
        slots: Vec<(u16, u64, Option<u32>)>,
    },
    StillMoving {
        group: u32,
        node: String,
        moves: Vec<String>,
    },
}

/// How many stray slots a finding names before it only counts them.
const SLOTS_NAMED_MAX: usize = 8;

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let runs = |ranges: &[(u16, u16)]| {
            ranges.iter().map(|(first, last)| format!("{first}-{last}")).collect::<Vec<_>>().join(", ")
        };
        match self {
            Problem::Unowned { ranges } => write!(f, "placement: no shard owns slots {}", runs(ranges)),
            Problem::Twice { ranges } => write!(f, "placement: two shards own slots {}", runs(ranges)),
            Problem::Unreachable { group, node } => {
                write!(f, "placement: shard {group} on {node} did not say which keys it holds")
            }
            Problem::Stray { group, node, slots } => {
                let keys: u64 = slots.iter().map(|(_, keys, _)| keys).sum();
                let named: Vec<String> = slots
                    .iter()
                    .take(SLOTS_NAMED_MAX)
                    .map(|(slot, keys, owner)| match owner {
                        Some(owner) => format!("slot {slot} ({keys} keys; shard {owner}'s)"),
                        None => format!("slot {slot} ({keys} keys; nobody's)"),
                    })
                    .collect();
                let more = slots.len().saturating_sub(SLOTS_NAMED_MAX);
                write!(
                    f,
                    "placement: shard {group} on {node} holds {keys} keys of {} slots the map does not give it: {}{}",
                    slots.len(),
                    named.join(", "),
                    if more > 0 { format!(" and {more} more") } else { String::new() }
                )
            }
            Problem::StillMoving { group, node, moves } => write!(
                f,
                "placement: shard {group} on {node} still takes part in a move the map has ended ({})",
                moves.join(", ")
            ),
        }
    }
}

/// Runs of consecutive slots for which `pick` holds.
fn runs(count: &[u8], pick: impl Fn(u8) -> bool) -> Vec<(u16, u16)> {
    let mut ranges: Vec<(u16, u16)> = Vec::new();
    for (slot, owners) in count.iter().enumerate() {
        if !pick(*owners) {
            continue;
        }
        let slot = slot as u16;
        match ranges.last_mut() {
            Some((_, last)) if *last + 1 == slot => *last = slot,
            _ => ranges.push((slot, slot)),
        }
    }
    ranges
}

/// Checks the final map (`owners`) and what each replica holds, once no move is in progress.
pub fn check(owners: &[Owner], holdings: &[Holding]) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut owner_of: Vec<Option<u32>> = vec![None; usize::from(SLOTS)];
    let mut count = vec![0u8; usize::from(SLOTS)];
    for owner in owners {
        for &(first, last) in &owner.ranges {
            for slot in first..=last.min(SLOTS - 1) {
                count[usize::from(slot)] = count[usize::from(slot)].saturating_add(1);
                owner_of[usize::from(slot)] = Some(owner.group);
            }
        }
    }
    let unowned = runs(&count, |owners| owners == 0);
    if !unowned.is_empty() {
        problems.push(Problem::Unowned { ranges: unowned });
    }
    let twice = runs(&count, |owners| owners > 1);
    if !twice.is_empty() {
        problems.push(Problem::Twice { ranges: twice });
    }
    for holding in holdings {
        let (group, node) = (holding.group, holding.node.clone());
        let Some(slots) = &holding.slots else {
            problems.push(Problem::Unreachable { group, node });
            continue;
        };
        let stray: Vec<(u16, u64, Option<u32>)> = slots
            .iter()
            .filter_map(|&(slot, keys)| {
                let owner = owner_of.get(usize::from(slot)).copied().flatten();
                (owner != Some(group)).then_some((slot, keys, owner))
            })
            .collect();
        if !stray.is_empty() {
            problems.push(Problem::Stray { group, node: node.clone(), slots: stray });
        }
        if !holding.moves.is_empty() {
            problems.push(Problem::StillMoving { group, node, moves: holding.moves.clone() });
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owners() -> Vec<Owner> {
        vec![
            Owner { group: 1, ranges: vec![(0, 99), (200, 8191)] },
            Owner { group: 2, ranges: vec![(100, 199), (8192, 16383)] },
        ]
    }

    fn holding(group: u32, slots: Vec<(u16, u64)>) -> Holding {
        Holding { group, node: "n1".into(), slots: Some(slots), moves: Vec::new() }
    }

    #[test]
    fn keys_in_their_shards_slots_pass() {
        let holdings = [holding(1, vec![(0, 3), (99, 1), (5000, 2)]), holding(2, vec![(100, 1), (16383, 4)])];
        assert_eq!(check(&owners(), &holdings), []);
    }

    #[test]
    fn a_key_of_another_shards_slot_is_found() {
        // Slot 150 moved to shard 2; shard 1 kept a key of it behind.
        let holdings = [holding(1, vec![(0, 3), (150, 2)]), holding(2, vec![(150, 2)])];
        let problems = check(&owners(), &holdings);
        assert_eq!(problems, [Problem::Stray { group: 1, node: "n1".into(), slots: vec![(150, 2, Some(2))] }]);
        assert!(problems[0].to_string().contains("slot 150 (2 keys; shard 2's)"), "{}", problems[0]);
    }

    #[test]
    fn the_map_must_give_every_slot_to_one_shard() {
        let mut map = owners();
        map[0].ranges = vec![(0, 99), (300, 8200)];
        let problems = check(&map, &[]);
        assert_eq!(
            problems,
            [Problem::Unowned { ranges: vec![(200, 299)] }, Problem::Twice { ranges: vec![(8192, 8200)] }]
        );
        let nobody = check(&map, &[holding(1, vec![(250, 1)])]);
        assert!(nobody.contains(&Problem::Stray { group: 1, node: "n1".into(), slots: vec![(250, 1, None)] }));
    }

    #[test]
    fn silent_replicas_and_moves_left_behind_are_found() {
        let silent = Holding { group: 2, node: "n3".into(), slots: None, moves: Vec::new() };
        let moving =
            Holding { group: 1, node: "n2".into(), slots: Some(Vec::new()), moves: vec!["incoming 4/2".into()] };
        let problems = check(&owners(), &[silent, moving]);
        assert_eq!(
            problems,
            [
                Problem::Unreachable { group: 2, node: "n3".into() },
                Problem::StillMoving { group: 1, node: "n2".into(), moves: vec!["incoming 4/2".into()] }
            ]
        );
    }
}
