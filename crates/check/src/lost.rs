//! Lost, phantom and duplicated writes, judged from the final state of the keys that only grow:
//! every acknowledged APPEND to a set key must be in its final value exactly once, nothing may be
//! there that no attempted write put there, and a counter must end between the increments that
//! were acknowledged and those plus the ones whose outcome is unknown.

use crate::history::{Command, History, Outcome, Value};
use crate::workload::{family, Family, TOKEN_END};
use std::collections::BTreeMap;
use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    /// An acknowledged write is missing from the final state.
    Lost { key: String, op: usize, token: String },
    /// A token in the final state that no write (or only a refused one) carried.
    Phantom { key: String, token: String },
    /// A write the node refused took effect after all.
    FailedLanded { key: String, op: usize, token: String },
    /// A token appears more than once: a write was applied twice.
    Duplicated { key: String, token: String, times: usize },
    /// A counter ended below its acknowledged increments.
    CounterLost { key: String, value: i64, acknowledged: u64 },
    /// A counter ended above every increment that could have happened.
    CounterDuplicated { key: String, value: i64, acknowledged: u64, unknown: u64 },
    /// The final value is not what this key can ever hold.
    Malformed { key: String, value: String },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Lost { key, op, token } => {
                write!(f, "lost write: {key} lacks {token:?}, acknowledged to operation #{op}")
            }
            Problem::Phantom { key, token } => write!(f, "phantom write: {key} holds {token:?}, which nobody wrote"),
            Problem::FailedLanded { key, op, token } => {
                write!(f, "refused write landed: {key} holds {token:?} from operation #{op}, which was refused")
            }
            Problem::Duplicated { key, token, times } => {
                write!(f, "duplicated write: {key} holds {token:?} {times} times")
            }
            Problem::CounterLost { key, value, acknowledged } => {
                write!(f, "lost increments: {key} = {value} after {acknowledged} acknowledged INCRs")
            }
            Problem::CounterDuplicated { key, value, acknowledged, unknown } => write!(
                f,
                "duplicated increments: {key} = {value} after {acknowledged} acknowledged and {unknown} unknown INCRs"
            ),
            Problem::Malformed { key, value } => write!(f, "malformed value: {key} = {value:?}"),
        }
    }
}

/// Checks the final values (GET's reply per key) of the set and counter keys.
pub fn check(history: &History, finals: &BTreeMap<String, Value>) -> Vec<Problem> {
    // Per key: each appended token and its writer's outcome; counters' INCR tallies.
    let mut appends: BTreeMap<&str, BTreeMap<String, (usize, &Outcome)>> = BTreeMap::new();
    let mut increments: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    for op in &history.ops {
        for command in op.call.commands() {
            match (family(command.key()), command) {
                (Some(Family::Set), Command::Append { key, value }) => {
                    let token = value.trim_end_matches(TOKEN_END).to_string();
                    appends.entry(key).or_default().insert(token, (op.id, &op.outcome));
                }
                (Some(Family::Counter), Command::Incr { key }) => {
                    let tally = increments.entry(key).or_default();
                    match op.outcome {
                        Outcome::Done(_) => tally.0 += 1,
                        Outcome::Unknown(_) => tally.1 += 1,
                        Outcome::Failed(_) => {}
                    }
                }
                _ => {}
            }
        }
    }
    let mut problems = Vec::new();
    for (key, reply) in finals {
        let value = match reply {
            Value::Nil => None,
            Value::Bytes(text) => Some(text.clone()),
            // The final reads of other families are other commands' replies.
            _ if !matches!(family(key), Some(Family::Set | Family::Counter)) => continue,
            other => {
                problems.push(Problem::Malformed { key: key.clone(), value: other.to_string() });
                continue;
            }
        };
        match family(key) {
            Some(Family::Set) => {
                let written = appends.get(key.as_str());
                let text = value.as_deref().unwrap_or("");
                if !text.is_empty() && !text.ends_with(TOKEN_END) {
                    problems.push(Problem::Malformed { key: key.clone(), value: text.to_string() });
                }
                let mut found: BTreeMap<&str, usize> = BTreeMap::new();
                for token in text.split(TOKEN_END).filter(|t| !t.is_empty()) {
                    *found.entry(token).or_default() += 1;
                }
                for (token, times) in &found {
                    match written.and_then(|w| w.get(*token)) {
                        None => problems.push(Problem::Phantom { key: key.clone(), token: token.to_string() }),
                        Some((op, Outcome::Failed(_))) => {
                            problems.push(Problem::FailedLanded { key: key.clone(), op: *op, token: token.to_string() })
                        }
                        Some(_) => {}
                    }
                    if *times > 1 {
                        problems.push(Problem::Duplicated {
                            key: key.clone(),
                            token: token.to_string(),
                            times: *times,
                        });
                    }
                }
                for (token, (op, outcome)) in written.into_iter().flatten() {
                    if matches!(outcome, Outcome::Done(_)) && !found.contains_key(token.as_str()) {
                        problems.push(Problem::Lost { key: key.clone(), op: *op, token: token.clone() });
                    }
                }
            }
            Some(Family::Counter) => {
                let (acknowledged, unknown) = increments.get(key.as_str()).copied().unwrap_or((0, 0));
                let parsed = match &value {
                    None => Some(0),
                    Some(text) => text.parse::<i64>().ok(),
                };
                let Some(count) = parsed else {
                    problems.push(Problem::Malformed { key: key.clone(), value: value.clone().unwrap_or_default() });
                    continue;
                };
                if count < acknowledged as i64 {
                    problems.push(Problem::CounterLost { key: key.clone(), value: count, acknowledged });
                } else if count > (acknowledged + unknown) as i64 {
                    problems.push(Problem::CounterDuplicated { key: key.clone(), value: count, acknowledged, unknown });
                }
            }
            _ => {}
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::Call;

    fn append(h: &mut History, token: &str, outcome: Outcome) -> usize {
        let call = Call::One(Command::Append { key: "set:0".into(), value: format!("{token};") });
        h.push(1, call, 0, 1, outcome)
    }

    fn incr(h: &mut History, outcome: Outcome) {
        h.push(1, Call::One(Command::Incr { key: "ctr:0".into() }), 0, 1, outcome);
    }

    fn finals(pairs: &[(&str, Option<&str>)]) -> BTreeMap<String, Value> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.map_or(Value::Nil, |v| Value::Bytes(v.to_string())))).collect()
    }

    #[test]
    fn a_clean_run_has_no_problems() {
        let mut h = History::default();
        append(&mut h, "a", Outcome::Done(vec![Value::Int(2)]));
        append(&mut h, "b", Outcome::Unknown("timeout".into()));
        append(&mut h, "c", Outcome::Unknown("timeout".into()));
        incr(&mut h, Outcome::Done(vec![Value::Int(1)]));
        incr(&mut h, Outcome::Unknown("timeout".into()));
        assert!(check(&h, &finals(&[("set:0", Some("a;c;")), ("ctr:0", Some("2"))])).is_empty());
        assert!(check(&h, &finals(&[("set:0", Some("a;")), ("ctr:0", Some("1"))])).is_empty());
    }

    #[test]
    fn lost_phantom_refused_and_duplicated_writes_are_reported() {
        let mut h = History::default();
        let a = append(&mut h, "a", Outcome::Done(vec![Value::Int(2)]));
        let b = append(&mut h, "b", Outcome::Failed("TRYAGAIN".into()));
        append(&mut h, "c", Outcome::Done(vec![Value::Int(4)]));
        let problems = check(&h, &finals(&[("set:0", Some("b;c;c;z;"))]));
        assert!(problems.contains(&Problem::Lost { key: "set:0".into(), op: a, token: "a".into() }));
        assert!(problems.contains(&Problem::FailedLanded { key: "set:0".into(), op: b, token: "b".into() }));
        assert!(problems.contains(&Problem::Duplicated { key: "set:0".into(), token: "c".into(), times: 2 }));
        assert!(problems.contains(&Problem::Phantom { key: "set:0".into(), token: "z".into() }));
        assert_eq!(problems.len(), 4, "{problems:?}");
    }

    #[test]
    fn counters_stay_within_their_increments() {
        let mut h = History::default();
        incr(&mut h, Outcome::Done(vec![Value::Int(1)]));
        incr(&mut h, Outcome::Done(vec![Value::Int(2)]));
        incr(&mut h, Outcome::Failed("TRYAGAIN".into()));
        let lost = check(&h, &finals(&[("ctr:0", Some("1"))]));
        assert!(matches!(&lost[..], [Problem::CounterLost { value: 1, acknowledged: 2, .. }]), "{lost:?}");
        let duplicated = check(&h, &finals(&[("ctr:0", Some("3"))]));
        assert!(matches!(&duplicated[..], [Problem::CounterDuplicated { value: 3, .. }]), "{duplicated:?}");
        assert!(check(&h, &finals(&[("ctr:0", Some("2"))])).is_empty());
    }
}
