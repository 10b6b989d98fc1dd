//! Convergence: once faults are healed and the writes have stopped, the replicas of each Raft
//! group must have applied the same log and hold the same state, byte for byte (equal
//! digests). Groups are judged apart: a shard's replicas live on some of the nodes only, and
//! different groups are at unrelated log positions.

use std::collections::BTreeMap;
use std::fmt;

/// What one replica of one group reported: its applied log index and the digest of its state
/// there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Replica {
    /// The Raft group: 0 for the metadata group, 1.. for the data shards.
    pub group: u32,
    pub node: String,
    /// `None` if the replica could not be asked.
    pub state: Option<(u64, String)>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Divergence {
    Unreachable {
        group: u32,
        node: String,
    },
    /// Not every replica of the group caught up with the others.
    Behind {
        group: u32,
        node: String,
        applied: u64,
        highest: u64,
    },
    /// Same log position, different state: the group's replicas diverged.
    Differs {
        group: u32,
        index: u64,
        digests: Vec<(String, String)>,
    },
}

/// "group 0 (metadata)" or "shard 2".
struct GroupName(u32);

impl fmt::Display for GroupName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            0 => write!(f, "metadata group"),
            shard => write!(f, "shard {shard}"),
        }
    }
}

impl fmt::Display for Divergence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Divergence::Unreachable { group, node } => {
                write!(f, "{}: replica {node} did not answer after healing", GroupName(*group))
            }
            Divergence::Behind { group, node, applied, highest } => write!(
                f,
                "{}: replica {node} applied up to {applied}, others up to {highest}, and did not catch up",
                GroupName(*group)
            ),
            Divergence::Differs { group, index, digests } => {
                write!(f, "{}: replicas differ at log index {index}:", GroupName(*group))?;
                for (node, digest) in digests {
                    write!(f, " {node}={digest}")?;
                }
                Ok(())
            }
        }
    }
}

/// Compares the replicas of each group among themselves.
pub fn check(replicas: &[Replica]) -> Vec<Divergence> {
    let mut groups: BTreeMap<u32, Vec<&Replica>> = BTreeMap::new();
    for replica in replicas {
        groups.entry(replica.group).or_default().push(replica);
    }
    groups.into_iter().flat_map(|(group, replicas)| check_group(group, &replicas)).collect()
}

fn check_group(group: u32, replicas: &[&Replica]) -> Vec<Divergence> {
    let mut problems = Vec::new();
    let known: Vec<(&str, u64, &str)> = replicas
        .iter()
        .filter_map(|r| r.state.as_ref().map(|(index, digest)| (r.node.as_str(), *index, digest.as_str())))
        .collect();
    for replica in replicas.iter().filter(|r| r.state.is_none()) {
        problems.push(Divergence::Unreachable { group, node: replica.node.clone() });
    }
    let Some(highest) = known.iter().map(|(_, index, _)| *index).max() else { return problems };
    for (node, index, _) in &known {
        if *index < highest {
            problems.push(Divergence::Behind { group, node: node.to_string(), applied: *index, highest });
        }
    }
    let at_highest: Vec<(String, String)> = known
        .iter()
        .filter(|(_, index, _)| *index == highest)
        .map(|(node, _, digest)| (node.to_string(), digest.to_string()))
        .collect();
    if at_highest.iter().any(|(_, digest)| *digest != at_highest[0].1) {
        problems.push(Divergence::Differs { group, index: highest, digests: at_highest });
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    fn replica(group: u32, node: &str, index: u64, digest: &str) -> Replica {
        Replica { group, node: node.into(), state: Some((index, digest.into())) }
    }

    #[test]
    fn equal_replicas_converge_and_others_do_not() {
        assert!(check(&[replica(1, "a", 9, "x"), replica(1, "b", 9, "x"), replica(1, "c", 9, "x")]).is_empty());
        let differs = check(&[replica(1, "a", 9, "x"), replica(1, "b", 9, "y")]);
        assert!(matches!(&differs[..], [Divergence::Differs { group: 1, index: 9, .. }]));
        let behind = check(&[replica(1, "a", 9, "x"), replica(1, "b", 7, "x")]);
        assert!(matches!(&behind[..], [Divergence::Behind { group: 1, applied: 7, highest: 9, .. }]));
        let gone = check(&[replica(1, "a", 9, "x"), Replica { group: 1, node: "b".into(), state: None }]);
        assert!(matches!(&gone[..], [Divergence::Unreachable { group: 1, .. }]));
    }

    #[test]
    fn each_group_is_compared_only_among_its_own_replicas() {
        // Two shards on different nodes at unrelated positions, each converged.
        let converged = [
            replica(0, "a", 40, "m"),
            replica(0, "b", 40, "m"),
            replica(0, "c", 40, "m"),
            replica(1, "a", 9, "x"),
            replica(1, "b", 9, "x"),
            replica(2, "b", 120, "y"),
            replica(2, "c", 120, "y"),
        ];
        assert!(check(&converged).is_empty(), "{:?}", check(&converged));
        // One replica of shard 2 behind, and shard 1's replicas differing: each named with its
        // group; shard 1's position is not judged against shard 2's.
        let broken =
            [replica(1, "a", 9, "x"), replica(1, "b", 9, "z"), replica(2, "b", 120, "y"), replica(2, "c", 100, "w")];
        let problems = check(&broken);
        assert!(
            matches!(
                &problems[..],
                [
                    Divergence::Differs { group: 1, index: 9, .. },
                    Divergence::Behind { group: 2, applied: 100, highest: 120, .. }
                ]
            ),
            "{problems:?}"
        );
        assert!(problems[0].to_string().starts_with("shard 1: replicas differ at log index 9"), "{}", problems[0]);
        let meta = check(&[replica(0, "a", 5, "m"), Replica { group: 0, node: "b".into(), state: None }]);
        assert_eq!(meta[0].to_string(), "metadata group: replica b did not answer after healing");
    }
}
