//! A history: every operation the clients issued, as they saw it.
//!
//! Times are microseconds on the clock the nodes stamp writes with (the Unix epoch in a real
//! run, the simulated epoch in the simulator), so expiry deadlines can be related to them.

use std::fmt;

/// The end of a list a push or a pop works on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum End {
    Left,
    Right,
}

impl End {
    /// The letter Redis puts in the command's name: LPUSH, RPOP, BLPOP.
    fn letter(self) -> &'static str {
        match self {
            End::Left => "L",
            End::Right => "R",
        }
    }
}

/// The one field of every stream entry the workload adds; its value is the entry's token.
pub const STREAM_FIELD: &str = "tok";

/// One command on one key, with its arguments.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Command {
    Get {
        key: String,
    },
    Set {
        key: String,
        value: String,
        px_ms: Option<u64>,
    },
    Incr {
        key: String,
    },
    Append {
        key: String,
        value: String,
    },
    Del {
        key: String,
    },
    PExpire {
        key: String,
        ms: u64,
    },
    /// LPUSH / RPUSH, in argument order (LPUSH a b leaves b at the head).
    Push {
        key: String,
        end: End,
        values: Vec<String>,
    },
    /// LPOP / RPOP, with a count or without (the replies differ: an array or one element).
    Pop {
        key: String,
        end: End,
        count: Option<u64>,
    },
    /// BLPOP / BRPOP on one key, waiting at most `timeout_ms`.
    BlockingPop {
        key: String,
        end: End,
        timeout_ms: u64,
    },
    LLen {
        key: String,
    },
    /// LRANGE key 0 -1: the whole list.
    LRange {
        key: String,
    },
    SAdd {
        key: String,
        members: Vec<String>,
    },
    SRem {
        key: String,
        members: Vec<String>,
    },
    SIsMember {
        key: String,
        member: String,
    },
    SCard {
        key: String,
    },
    SMembers {
        key: String,
    },
    /// XADD key * tok <token>: an entry with an auto id and one field.
    XAdd {
        key: String,
        token: String,
    },
    /// XGROUP CREATE key <group> 0 MKSTREAM: the group reads the stream from its start.
    XGroupCreate {
        key: String,
        group: String,
    },
    /// XREADGROUP GROUP <group> <consumer> COUNT <count> STREAMS key >: new entries only.
    XReadGroup {
        key: String,
        group: String,
        consumer: String,
        count: u64,
    },
    XAck {
        key: String,
        group: String,
        ids: Vec<String>,
    },
    /// XRANGE key - +: the whole stream.
    XRange {
        key: String,
    },
    /// XINFO STREAM key FULL COUNT 0: every entry, and every group with its whole pending list.
    XInfoFull {
        key: String,
    },
}

impl Command {
    pub fn key(&self) -> &str {
        match self {
            Command::Get { key }
            | Command::Set { key, .. }
            | Command::Incr { key }
            | Command::Append { key, .. }
            | Command::Del { key }
            | Command::PExpire { key, .. }
            | Command::Push { key, .. }
            | Command::Pop { key, .. }
            | Command::BlockingPop { key, .. }
            | Command::LLen { key }
            | Command::LRange { key }
            | Command::SAdd { key, .. }
            | Command::SRem { key, .. }
            | Command::SIsMember { key, .. }
            | Command::SCard { key }
            | Command::SMembers { key }
            | Command::XAdd { key, .. }
            | Command::XGroupCreate { key, .. }
            | Command::XReadGroup { key, .. }
            | Command::XAck { key, .. }
            | Command::XRange { key }
            | Command::XInfoFull { key } => key,
        }
    }

    pub fn is_read(&self) -> bool {
        matches!(
            self,
            Command::Get { .. }
                | Command::LLen { .. }
                | Command::LRange { .. }
                | Command::SIsMember { .. }
                | Command::SCard { .. }
                | Command::SMembers { .. }
                | Command::XRange { .. }
                | Command::XInfoFull { .. }
        )
    }

    /// The command as arguments for the wire.
    pub fn argv(&self) -> Vec<String> {
        let strings = |parts: &[&str]| parts.iter().map(|p| p.to_string()).collect::<Vec<_>>();
        match self {
            Command::Get { key } => strings(&["GET", key]),
            Command::Set { key, value, px_ms: None } => strings(&["SET", key, value]),
            Command::Set { key, value, px_ms: Some(ms) } => strings(&["SET", key, value, "PX", &ms.to_string()]),
            Command::Incr { key } => strings(&["INCR", key]),
            Command::Append { key, value } => strings(&["APPEND", key, value]),
            Command::Del { key } => strings(&["DEL", key]),
            Command::PExpire { key, ms } => strings(&["PEXPIRE", key, &ms.to_string()]),
            Command::Push { key, end, values } => {
                let mut argv = strings(&[&format!("{}PUSH", end.letter()), key]);
                argv.extend(values.iter().cloned());
                argv
            }
            Command::Pop { key, end, count: None } => strings(&[&format!("{}POP", end.letter()), key]),
            Command::Pop { key, end, count: Some(count) } => {
                strings(&[&format!("{}POP", end.letter()), key, &count.to_string()])
            }
            Command::BlockingPop { key, end, timeout_ms } => {
                // Redis takes the timeout in seconds, as a float.
                let seconds = format!("{}.{:03}", timeout_ms / 1000, timeout_ms % 1000);
                strings(&[&format!("B{}POP", end.letter()), key, &seconds])
            }
            Command::LLen { key } => strings(&["LLEN", key]),
            Command::LRange { key } => strings(&["LRANGE", key, "0", "-1"]),
            Command::SAdd { key, members } => {
                let mut argv = strings(&["SADD", key]);
                argv.extend(members.iter().cloned());
                argv
            }
            Command::SRem { key, members } => {
                let mut argv = strings(&["SREM", key]);
                argv.extend(members.iter().cloned());
                argv
            }
            Command::SIsMember { key, member } => strings(&["SISMEMBER", key, member]),
            Command::SCard { key } => strings(&["SCARD", key]),
            Command::SMembers { key } => strings(&["SMEMBERS", key]),
            Command::XAdd { key, token } => strings(&["XADD", key, "*", STREAM_FIELD, token]),
            Command::XGroupCreate { key, group } => strings(&["XGROUP", "CREATE", key, group, "0", "MKSTREAM"]),
            Command::XReadGroup { key, group, consumer, count } => {
                strings(&["XREADGROUP", "GROUP", group, consumer, "COUNT", &count.to_string(), "STREAMS", key, ">"])
            }
            Command::XAck { key, group, ids } => {
                let mut argv = strings(&["XACK", key, group]);
                argv.extend(ids.iter().cloned());
                argv
            }
            Command::XRange { key } => strings(&["XRANGE", key, "-", "+"]),
            Command::XInfoFull { key } => strings(&["XINFO", "STREAM", key, "FULL", "COUNT", "0"]),
        }
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.argv().join(" "))
    }
}

/// What a client asked: one command, or a MULTI/EXEC transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Call {
    One(Command),
    Multi(Vec<Command>),
}

impl Call {
    pub fn commands(&self) -> &[Command] {
        match self {
            Call::One(command) => std::slice::from_ref(command),
            Call::Multi(commands) => commands,
        }
    }

    pub fn is_read_only(&self) -> bool {
        self.commands().iter().all(Command::is_read)
    }
}

impl fmt::Display for Call {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Call::One(command) => write!(f, "{command}"),
            Call::Multi(commands) => {
                write!(f, "MULTI")?;
                for command in commands {
                    write!(f, "; {command}")?;
                }
                write!(f, "; EXEC")
            }
        }
    }
}

/// The reply to one command.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Value {
    Nil,
    Ok,
    Int(i64),
    Bytes(String),
    Error(String),
    /// An array reply (LRANGE, LPOP with a count, BLPOP's key and element, SMEMBERS sorted).
    Array(Vec<Value>),
}

impl Value {
    /// The strings of an array of bulk strings (None for anything else).
    pub fn strings(&self) -> Option<Vec<&str>> {
        match self {
            Value::Array(items) => items
                .iter()
                .map(|item| match item {
                    Value::Bytes(text) => Some(text.as_str()),
                    _ => None,
                })
                .collect(),
            _ => None,
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Nil => write!(f, "nil"),
            Value::Ok => write!(f, "OK"),
            Value::Int(n) => write!(f, "{n}"),
            Value::Bytes(text) => write!(f, "{text:?}"),
            Value::Error(text) => write!(f, "-{text}"),
            Value::Array(items) => {
                let texts: Vec<String> = items.iter().map(|v| v.to_string()).collect();
                write!(f, "[{}]", texts.join(", "))
            }
        }
    }
}

/// How an operation ended, as far as its client knows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Applied (exactly once), with one reply per command.
    Done(Vec<Value>),
    /// Certainly not applied: the node said so (a retryable refusal).
    Failed(String),
    /// Maybe applied, maybe not, maybe later: the reply was lost, timed out, or said so.
    Unknown(String),
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Done(values) => {
                let texts: Vec<String> = values.iter().map(|v| v.to_string()).collect();
                write!(f, "{}", texts.join(", "))
            }
            Outcome::Failed(why) => write!(f, "failed ({why})"),
            Outcome::Unknown(why) => write!(f, "unknown ({why})"),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Operation {
    /// Position in the history.
    pub id: usize,
    /// The client (one connection, one operation at a time) that issued it.
    pub client: u32,
    pub call: Call,
    pub invoked_us: u64,
    /// When the client saw the outcome (for an unknown outcome: when it gave up).
    pub completed_us: u64,
    pub outcome: Outcome,
}

fn time(us: u64) -> String {
    format!("{}.{:03}", us / 1000, us % 1000)
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "#{} client {} [{} .. {} ms] {} -> {}",
            self.id,
            self.client,
            time(self.invoked_us),
            time(self.completed_us),
            self.call,
            self.outcome
        )
    }
}

/// Every operation of a run, in the order they were invoked.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct History {
    pub ops: Vec<Operation>,
}

impl History {
    /// Records an operation; its id is its position.
    pub fn push(&mut self, client: u32, call: Call, invoked_us: u64, completed_us: u64, outcome: Outcome) -> usize {
        assert!(invoked_us <= completed_us, "an operation completes after it is invoked");
        let id = self.ops.len();
        self.ops.push(Operation { id, client, call, invoked_us, completed_us, outcome });
        id
    }

    pub fn count(&self, predicate: impl Fn(&Outcome) -> bool) -> usize {
        self.ops.iter().filter(|op| predicate(&op.outcome)).count()
    }
}

impl fmt::Display for History {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for op in &self.ops {
            writeln!(f, "{op}")?;
        }
        Ok(())
    }
}
