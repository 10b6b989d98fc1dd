//! A history: every operation the clients issued, as they saw it.
//!
//! Times are microseconds on the clock the nodes stamp writes with (the Unix epoch in a real
//! run, the simulated epoch in the simulator), so expiry deadlines can be related to them.

use std::fmt;

/// One command on one key, with its arguments.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Command {
    Get { key: String },
    Set { key: String, value: String, px_ms: Option<u64> },
    Incr { key: String },
    Append { key: String, value: String },
    Del { key: String },
    PExpire { key: String, ms: u64 },
}

impl Command {
    pub fn key(&self) -> &str {
        match self {
            Command::Get { key }
            | Command::Set { key, .. }
            | Command::Incr { key }
            | Command::Append { key, .. }
            | Command::Del { key }
            | Command::PExpire { key, .. } => key,
        }
    }

    pub fn is_read(&self) -> bool {
        matches!(self, Command::Get { .. })
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
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Nil => write!(f, "nil"),
            Value::Ok => write!(f, "OK"),
            Value::Int(n) => write!(f, "{n}"),
            Value::Bytes(text) => write!(f, "{text:?}"),
            Value::Error(text) => write!(f, "-{text}"),
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
