//! Convergence: once faults are healed and the writes have stopped, every replica must have
//! applied the same log and hold the same state, byte for byte (equal digests).

use std::fmt;

/// What one replica reported: its applied log index and the digest of its state there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Replica {
    pub node: String,
    /// `None` if the replica could not be asked.
    pub state: Option<(u64, String)>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Divergence {
    Unreachable {
        node: String,
    },
    /// Not every replica caught up with the others.
    Behind {
        node: String,
        applied: u64,
        highest: u64,
    },
    /// Same log position, different state: the replicas diverged.
    Differs {
        index: u64,
        digests: Vec<(String, String)>,
    },
}

impl fmt::Display for Divergence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Divergence::Unreachable { node } => write!(f, "replica {node} did not answer after healing"),
            Divergence::Behind { node, applied, highest } => {
                write!(f, "replica {node} applied up to {applied}, others up to {highest}, and did not catch up")
            }
            Divergence::Differs { index, digests } => {
                write!(f, "replicas differ at log index {index}:")?;
                for (node, digest) in digests {
                    write!(f, " {node}={digest}")?;
                }
                Ok(())
            }
        }
    }
}

pub fn check(replicas: &[Replica]) -> Vec<Divergence> {
    let mut problems = Vec::new();
    let known: Vec<(&str, u64, &str)> = replicas
        .iter()
        .filter_map(|r| r.state.as_ref().map(|(index, digest)| (r.node.as_str(), *index, digest.as_str())))
        .collect();
    for replica in replicas.iter().filter(|r| r.state.is_none()) {
        problems.push(Divergence::Unreachable { node: replica.node.clone() });
    }
    let Some(highest) = known.iter().map(|(_, index, _)| *index).max() else { return problems };
    for (node, index, _) in &known {
        if *index < highest {
            problems.push(Divergence::Behind { node: node.to_string(), applied: *index, highest });
        }
    }
    let at_highest: Vec<(String, String)> = known
        .iter()
        .filter(|(_, index, _)| *index == highest)
        .map(|(node, _, digest)| (node.to_string(), digest.to_string()))
        .collect();
    if at_highest.iter().any(|(_, digest)| *digest != at_highest[0].1) {
        problems.push(Divergence::Differs { index: highest, digests: at_highest });
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    fn replica(node: &str, index: u64, digest: &str) -> Replica {
        Replica { node: node.into(), state: Some((index, digest.into())) }
    }

    #[test]
    fn equal_replicas_converge_and_others_do_not() {
        assert!(check(&[replica("a", 9, "x"), replica("b", 9, "x"), replica("c", 9, "x")]).is_empty());
        let differs = check(&[replica("a", 9, "x"), replica("b", 9, "y")]);
        assert!(matches!(&differs[..], [Divergence::Differs { index: 9, .. }]));
        let behind = check(&[replica("a", 9, "x"), replica("b", 7, "x")]);
        assert!(matches!(&behind[..], [Divergence::Behind { applied: 7, highest: 9, .. }]));
        let gone = check(&[replica("a", 9, "x"), Replica { node: "b".into(), state: None }]);
        assert!(matches!(&gone[..], [Divergence::Unreachable { .. }]));
    }
}
