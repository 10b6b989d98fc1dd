//! The sequential specification of one key: a Redis string that may carry an expiry, or a
//! Redis set (SADD, SREM, SISMEMBER, SCARD, SMEMBERS; sets carry no expiry in the workload).
//! Lists are not modelled here: the queue checker ([`crate::queue`]) judges them.
//!
//! Expiry makes the key's state depend on time, which a linearization order alone does not
//! give. The leader stamps each write with its clock, so a deadline set by `SET .. PX ms` lies
//! in `[invoked + ms, completed + ms]` of that write; an operation runs at some instant inside
//! its own `[invoked, completed]`. The model keeps the deadline as a window and narrows it
//! with each observation, so it only ever allows what some choice of instants explains. The
//! step is nondeterministic (a key may or may not have expired before an operation), so the
//! checker tracks the set of states a prefix can end in.

use crate::history::{Command, Value};
use std::collections::BTreeSet;

pub const NOT_AN_INTEGER: &str = "ERR value is not an integer or out of range";
pub const WRONG_TYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";

/// An instant in milliseconds; `FOREVER` for an operation whose outcome is unknown.
pub type Ms = u64;
pub const FOREVER: Ms = u64::MAX;

/// Bounds on a key's expiry deadline: the key is gone at `t` iff `deadline <= t`, for some
/// deadline in `lo..=hi`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Deadline {
    pub lo: Ms,
    pub hi: Ms,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum KeyState {
    /// Anything (where a checked window starts in the middle of a history).
    Unknown,
    Absent,
    Present {
        value: String,
        deadline: Option<Deadline>,
    },
    /// A Redis set, never empty (Redis deletes a set whose last member goes).
    Members(BTreeSet<String>),
}

/// The members of a set key (none if it is absent), or the state back if it holds a string.
fn members(state: KeyState) -> Result<BTreeSet<String>, KeyState> {
    match state {
        KeyState::Absent => Ok(BTreeSet::new()),
        KeyState::Members(members) => Ok(members),
        other => Err(other),
    }
}

fn from_members(members: BTreeSet<String>) -> KeyState {
    if members.is_empty() {
        KeyState::Absent
    } else {
        KeyState::Members(members)
    }
}

fn members_reply(members: &BTreeSet<String>) -> Value {
    Value::Array(members.iter().map(|member| Value::Bytes(member.clone())).collect())
}

/// A Redis set command on a known state: its reply and the new state.
fn apply_to_set(state: KeyState, command: &Command) -> (Value, KeyState) {
    let mut set = match members(state) {
        Ok(set) => set,
        Err(state) => return (Value::Error(WRONG_TYPE.into()), state),
    };
    let reply = match command {
        Command::SAdd { members, .. } => {
            Value::Int(members.iter().filter(|m| set.insert(m.to_string())).count() as i64)
        }
        Command::SRem { members, .. } => Value::Int(members.iter().filter(|m| set.remove(m.as_str())).count() as i64),
        Command::SIsMember { member, .. } => Value::Int(i64::from(set.contains(member))),
        Command::SCard { .. } => Value::Int(set.len() as i64),
        Command::SMembers { .. } => members_reply(&set),
        other => unreachable!("{other} is not a set command"),
    };
    (reply, from_members(set))
}

/// Whether `command` works on a Redis set.
pub fn is_set_command(command: &Command) -> bool {
    matches!(
        command,
        Command::SAdd { .. }
            | Command::SRem { .. }
            | Command::SIsMember { .. }
            | Command::SCard { .. }
            | Command::SMembers { .. }
    )
}

/// One operation on one key: its commands on this key (a transaction may hold several), the
/// replies when known, and the window it ran in.
#[derive(Clone, Debug)]
pub struct KeyOp {
    /// The operation's id in the history.
    pub id: usize,
    pub commands: Vec<Command>,
    /// One reply per command, or `None` if the outcome is unknown.
    pub replies: Option<Vec<Value>>,
    pub start_ms: Ms,
    /// `FOREVER` if the outcome is unknown: it may take effect at any later time.
    pub end_ms: Ms,
}

fn add(a: Ms, b: Ms) -> Ms {
    a.saturating_add(b)
}

/// Parses a value the way INCR does: a decimal i64 without leading `+`, spaces or zeros.
fn integer(value: &str) -> Option<i64> {
    let parsed: i64 = value.parse().ok()?;
    (parsed.to_string() == value).then_some(parsed)
}

/// The states `state` may be in when `op` takes effect: expired or not, as the windows allow.
fn before(state: &KeyState, op: &KeyOp) -> Vec<KeyState> {
    match state {
        KeyState::Present { value, deadline: Some(deadline) } => {
            let mut states = Vec::with_capacity(2);
            // Expired first: deadline <= t for some t <= end.
            if deadline.lo <= op.end_ms {
                states.push(KeyState::Absent);
            }
            // Still there: deadline > t for some t >= start.
            if op.start_ms < deadline.hi {
                let lo = deadline.lo.max(add(op.start_ms, 1));
                states
                    .push(KeyState::Present { value: value.clone(), deadline: Some(Deadline { lo, hi: deadline.hi }) });
            }
            states
        }
        other => vec![other.clone()],
    }
}

/// Applies one command to a known state (never `Unknown`); returns the reply and new state.
fn apply(state: KeyState, command: &Command, op: &KeyOp) -> (Value, KeyState) {
    let deadline_in = |ms: Ms| Deadline { lo: add(op.start_ms, ms), hi: add(op.end_ms, ms) };
    match (command, state) {
        (Command::SAdd { .. } | Command::SRem { .. } | Command::SIsMember { .. }, state)
        | (Command::SCard { .. } | Command::SMembers { .. }, state) => apply_to_set(state, command),
        (Command::Push { .. } | Command::Pop { .. } | Command::BlockingPop { .. }, _)
        | (Command::LLen { .. } | Command::LRange { .. }, _) => {
            unreachable!("lists are judged by the queue checker; `linearizable::per_key` leaves them out")
        }
        (
            Command::XAdd { .. }
            | Command::XGroupCreate { .. }
            | Command::XReadGroup { .. }
            | Command::XAck { .. }
            | Command::XRange { .. }
            | Command::XInfoFull { .. },
            _,
        ) => unreachable!("streams are judged by the stream checker; `linearizable::per_key` leaves them out"),
        (Command::Get { .. } | Command::Incr { .. } | Command::Append { .. }, state @ KeyState::Members(_)) => {
            (Value::Error(WRONG_TYPE.into()), state)
        }
        (Command::Del { .. }, KeyState::Members(_)) => (Value::Int(1), KeyState::Absent),
        (Command::PExpire { .. }, KeyState::Members(_)) => {
            unreachable!("the workload never sets a deadline on a Redis set, so the model holds none")
        }
        (Command::Get { .. }, KeyState::Present { value, deadline }) => {
            (Value::Bytes(value.clone()), KeyState::Present { value, deadline })
        }
        (Command::Get { .. }, state) => (Value::Nil, state),
        (Command::Set { value, px_ms, .. }, _) => {
            (Value::Ok, KeyState::Present { value: value.clone(), deadline: px_ms.map(deadline_in) })
        }
        (Command::Incr { .. }, KeyState::Present { value, deadline }) => {
            match integer(&value).and_then(|n| n.checked_add(1)) {
                Some(n) => (Value::Int(n), KeyState::Present { value: n.to_string(), deadline }),
                None => (Value::Error(NOT_AN_INTEGER.into()), KeyState::Present { value, deadline }),
            }
        }
        (Command::Incr { .. }, _) => (Value::Int(1), KeyState::Present { value: "1".into(), deadline: None }),
        (Command::Append { value: suffix, .. }, KeyState::Present { value, deadline }) => {
            let value = value + suffix;
            (Value::Int(value.len() as i64), KeyState::Present { value, deadline })
        }
        (Command::Append { value, .. }, _) => {
            (Value::Int(value.len() as i64), KeyState::Present { value: value.clone(), deadline: None })
        }
        (Command::Del { .. }, KeyState::Present { .. }) => (Value::Int(1), KeyState::Absent),
        (Command::Del { .. }, state) => (Value::Int(0), state),
        (Command::PExpire { ms, .. }, KeyState::Present { value, .. }) => {
            (Value::Int(1), KeyState::Present { value, deadline: Some(deadline_in(*ms)) })
        }
        (Command::PExpire { .. }, state) => (Value::Int(0), state),
    }
}

/// From an unknown state, the states consistent with a command's reply (or any reply).
fn apply_unknown(command: &Command, reply: Option<&Value>, op: &KeyOp) -> Option<KeyState> {
    let unknown_deadline = Some(Deadline { lo: 0, hi: FOREVER });
    Some(match (command, reply) {
        (Command::Get { .. }, Some(Value::Nil)) => KeyState::Absent,
        (Command::Get { .. }, Some(Value::Bytes(value))) => {
            KeyState::Present { value: value.clone(), deadline: unknown_deadline }
        }
        (Command::Get { .. }, None) => KeyState::Unknown,
        (Command::Set { .. }, Some(Value::Ok) | None) => return Some(apply(KeyState::Absent, command, op).1),
        (Command::Incr { .. }, Some(Value::Int(n))) => {
            KeyState::Present { value: n.to_string(), deadline: unknown_deadline }
        }
        (Command::Incr { .. } | Command::Append { .. } | Command::PExpire { .. }, _) => {
            if let Some(Value::Error(text)) = reply {
                if !(matches!(command, Command::Incr { .. }) && text == NOT_AN_INTEGER) {
                    return None;
                }
            }
            KeyState::Unknown
        }
        (Command::Del { .. }, Some(Value::Int(0 | 1)) | None) => KeyState::Absent,
        // SMEMBERS tells the whole state; the other set commands tell only part of it.
        (Command::SMembers { .. }, Some(reply)) => {
            from_members(reply.strings()?.into_iter().map(str::to_string).collect())
        }
        (
            Command::SAdd { .. } | Command::SRem { .. } | Command::SIsMember { .. } | Command::SCard { .. },
            None | Some(Value::Int(_)),
        ) => KeyState::Unknown,
        (Command::SMembers { .. }, None) => KeyState::Unknown,
        _ => return None,
    })
}

/// Every state the key may be in after `op`, starting from `state`; empty if the replies
/// cannot be explained from it.
///
/// An operation whose outcome is unknown is taken to run at any time at all (not only after
/// its call): a looser model for it, so that two unknown operations with the same commands
/// act alike and the checker may treat them as interchangeable.
pub fn step(state: &KeyState, op: &KeyOp) -> Vec<KeyState> {
    let anytime;
    let op = if op.end_ms == FOREVER {
        anytime = KeyOp { start_ms: 0, ..op.clone() };
        &anytime
    } else {
        op
    };
    let mut results = Vec::new();
    if *state == KeyState::Unknown {
        let mut current = Some(KeyState::Unknown);
        for (index, command) in op.commands.iter().enumerate() {
            let reply = op.replies.as_ref().map(|replies| &replies[index]);
            current = match current {
                Some(KeyState::Unknown) => apply_unknown(command, reply, op),
                Some(known) => apply_known(known, command, reply, op),
                None => None,
            };
        }
        results.extend(current);
        return results;
    }
    for start in before(state, op) {
        let mut current = Some(start);
        for (index, command) in op.commands.iter().enumerate() {
            let reply = op.replies.as_ref().map(|replies| &replies[index]);
            current = current.and_then(|state| apply_known(state, command, reply, op));
        }
        results.extend(current);
    }
    results.sort();
    results.dedup();
    results
}

fn apply_known(state: KeyState, command: &Command, reply: Option<&Value>, op: &KeyOp) -> Option<KeyState> {
    let (expected, next) = apply(state, command, op);
    match reply {
        Some(reply) if *reply != expected => None,
        _ => Some(next),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(commands: Vec<Command>, replies: Option<Vec<Value>>, start_ms: Ms, end_ms: Ms) -> KeyOp {
        KeyOp { id: 0, commands, replies, start_ms, end_ms }
    }

    fn get(reply: Value, start_ms: Ms, end_ms: Ms) -> KeyOp {
        op(vec![Command::Get { key: "k".into() }], Some(vec![reply]), start_ms, end_ms)
    }

    fn present(value: &str) -> KeyState {
        KeyState::Present { value: value.into(), deadline: None }
    }

    #[test]
    fn commands_follow_redis() {
        let incr = op(vec![Command::Incr { key: "k".into() }], Some(vec![Value::Int(6)]), 0, 1);
        assert_eq!(step(&present("5"), &incr), vec![present("6")]);
        assert!(step(&present("7"), &incr).is_empty(), "INCR's reply must follow the value");
        let bad = op(vec![Command::Incr { key: "k".into() }], Some(vec![Value::Error(NOT_AN_INTEGER.into())]), 0, 1);
        assert_eq!(step(&present("05"), &bad), vec![present("05")]);
        let append = op(vec![Command::Append { key: "k".into(), value: "b".into() }], Some(vec![Value::Int(2)]), 0, 1);
        assert_eq!(step(&present("a"), &append), vec![present("ab")]);
        assert_eq!(step(&KeyState::Absent, &get(Value::Nil, 0, 1)), vec![KeyState::Absent]);
        assert!(step(&KeyState::Absent, &get(Value::Bytes("x".into()), 0, 1)).is_empty());
    }

    #[test]
    fn expiry_is_allowed_only_inside_its_window() {
        let set = op(
            vec![Command::Set { key: "k".into(), value: "v".into(), px_ms: Some(100) }],
            Some(vec![Value::Ok]),
            1000,
            1010,
        );
        let after_set = step(&KeyState::Absent, &set);
        assert_eq!(after_set.len(), 1);
        // Long before the deadline the key must be there; long after it must be gone.
        assert!(step(&after_set[0], &get(Value::Nil, 1050, 1060)).is_empty());
        assert!(!step(&after_set[0], &get(Value::Bytes("v".into()), 1050, 1060)).is_empty());
        assert!(step(&after_set[0], &get(Value::Bytes("v".into()), 1200, 1201)).is_empty());
        assert!(!step(&after_set[0], &get(Value::Nil, 1200, 1201)).is_empty());
        // Inside the window either is possible, but an observation narrows it: seen at 1105
        // means the deadline is after 1105, so the key cannot be gone by 1104.
        let seen = step(&after_set[0], &get(Value::Bytes("v".into()), 1105, 1105));
        assert_eq!(seen.len(), 1);
        assert!(step(&seen[0], &get(Value::Nil, 1100, 1104)).is_empty());
        assert!(!step(&seen[0], &get(Value::Nil, 1100, 1106)).is_empty());
    }

    #[test]
    fn set_commands_follow_redis() {
        let command = |command: Command, reply: Value| op(vec![command], Some(vec![reply]), 0, 1);
        let key = || "k".to_string();
        let strings = |members: &[&str]| members.iter().map(|m| m.to_string()).collect::<Vec<_>>();
        let members = |members: &[&str]| KeyState::Members(members.iter().map(|m| m.to_string()).collect());
        let sadd = command(Command::SAdd { key: key(), members: strings(&["a", "b"]) }, Value::Int(1));
        assert_eq!(step(&members(&["a"]), &sadd), vec![members(&["a", "b"])], "only b is new");
        assert!(step(&KeyState::Absent, &sadd).is_empty(), "both are new to an absent key");
        let srem = command(Command::SRem { key: key(), members: strings(&["a"]) }, Value::Int(1));
        assert_eq!(step(&members(&["a"]), &srem), vec![KeyState::Absent], "an emptied set is gone");
        let is_member = command(Command::SIsMember { key: key(), member: "b".into() }, Value::Int(0));
        assert!(step(&members(&["b"]), &is_member).is_empty());
        let card = command(Command::SCard { key: key() }, Value::Int(2));
        assert!(!step(&members(&["a", "b"]), &card).is_empty());
        assert!(step(&KeyState::Absent, &card).is_empty());
        let all = command(Command::SMembers { key: key() }, Value::Array(vec![Value::Bytes("a".into())]));
        assert!(!step(&members(&["a"]), &all).is_empty());
        assert!(step(&members(&["a", "b"]), &all).is_empty());
        let wrong = command(Command::SCard { key: key() }, Value::Error(WRONG_TYPE.into()));
        assert!(!step(&present("x"), &wrong).is_empty(), "a string is the wrong type");
        let states = step(&KeyState::Unknown, &all);
        assert_eq!(states, vec![members(&["a"])], "SMEMBERS tells the whole state");
    }

    #[test]
    fn unknown_state_learns_from_replies() {
        let states = step(&KeyState::Unknown, &get(Value::Bytes("x".into()), 0, 1));
        assert!(matches!(&states[..], [KeyState::Present { value, .. }] if value == "x"));
        let weird = op(vec![Command::Del { key: "k".into() }], Some(vec![Value::Int(7)]), 0, 1);
        assert!(step(&KeyState::Unknown, &weird).is_empty());
    }
}
