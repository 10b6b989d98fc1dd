//! The workload: what clients ask, over a small hot key set, and how a reply becomes an outcome.
//!
//! Three families of keys, each for a different check:
//! - registers (`reg:N`): everything mixed — GET, SET (some with PX), INCR, APPEND, DEL,
//!   PEXPIRE and MULTI/EXEC over one or two of them — for the linearizability checker;
//! - sets (`set:N`): only APPENDs of unique tokens (and GETs), so every acknowledged token must
//!   be in the final value exactly once (the lost-write checker);
//! - counters (`ctr:N`): only INCRs (and GETs), so the final count is bounded by the
//!   acknowledged and unknown increments.
//!
//! Every written value is unique to its operation, so a value read names the write it came from.
//!
//! Keys rotate: each generation of the key set is used for a while, then clients move to fresh
//! keys (`g3:reg:1`), as Jepsen's independent keys do. Each key's history stays short, so an
//! operation whose outcome is unknown (which may take effect at any later time) weighs on a
//! few hundred operations, not on the whole run.

use crate::history::{Call, Command, Outcome, Value};
use concord_core::rng::Rng;
use concord_core::Reply;

pub const REGISTER_PREFIX: &str = "reg:";
pub const SET_PREFIX: &str = "set:";
pub const COUNTER_PREFIX: &str = "ctr:";
/// Ends every token appended to a set key.
pub const TOKEN_END: char = ';';

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    Register,
    Set,
    Counter,
}

pub fn family(key: &str) -> Option<Family> {
    let rest = |prefix: &str| key.split_once(prefix).map(|(_, rest)| rest);
    if rest(REGISTER_PREFIX).is_some() {
        Some(Family::Register)
    } else if rest(SET_PREFIX).is_some() {
        Some(Family::Set)
    } else if rest(COUNTER_PREFIX).is_some() {
        Some(Family::Counter)
    } else {
        None
    }
}

#[derive(Clone, Debug)]
pub struct WorkloadConfig {
    /// Prepended to every key, so runs against a live cluster do not meet old data.
    pub namespace: String,
    pub registers: u32,
    pub sets: u32,
    pub counters: u32,
    /// Whether registers get TTLs (SET .. PX, PEXPIRE).
    pub expiry: bool,
    /// How long clients use one generation of keys.
    pub rotation_ms: u64,
}

impl Default for WorkloadConfig {
    fn default() -> Self {
        WorkloadConfig {
            namespace: String::new(),
            registers: 4,
            sets: 2,
            counters: 2,
            expiry: true,
            rotation_ms: 5_000,
        }
    }
}

/// Draws calls; one generator serves all clients (values are made unique by client and count).
#[derive(Clone, Debug)]
pub struct Workload {
    pub config: WorkloadConfig,
    rng: Rng,
    issued: u64,
    /// The key generation in use, and the highest used so far.
    generation: u64,
    generations: u64,
}

impl Workload {
    pub fn new(config: WorkloadConfig, seed: u64) -> Workload {
        Workload { config, rng: Rng::new(seed), issued: 0, generation: 0, generations: 1 }
    }

    /// Moves to the key generation in use `elapsed_ms` after the workload started.
    pub fn at(&mut self, elapsed_ms: u64) {
        self.generation = elapsed_ms / self.config.rotation_ms.max(1);
        self.generations = self.generations.max(self.generation + 1);
    }

    fn key_in(&self, generation: u64, prefix: &str, index: u64) -> String {
        format!("{}g{generation}:{prefix}{index}", self.config.namespace)
    }

    fn key(&self, prefix: &str, index: u64) -> String {
        self.key_in(self.generation, prefix, index)
    }

    /// Every key the workload touched or may have touched.
    pub fn keys(&self) -> Vec<String> {
        let c = &self.config;
        let mut keys = Vec::new();
        for generation in 0..self.generations {
            for (prefix, count) in [(REGISTER_PREFIX, c.registers), (SET_PREFIX, c.sets), (COUNTER_PREFIX, c.counters)]
            {
                keys.extend((0..count).map(|index| self.key_in(generation, prefix, u64::from(index))));
            }
        }
        keys
    }

    fn percent(&mut self) -> u64 {
        self.rng.below(100)
    }

    fn register(&mut self) -> String {
        let index = self.rng.below(u64::from(self.config.registers.max(1)));
        self.key(REGISTER_PREFIX, index)
    }

    /// A value no other operation writes.
    fn unique(&mut self, client: u32) -> String {
        self.issued += 1;
        format!("{}{:06}", client + 1, self.issued)
    }

    fn register_command(&mut self, client: u32, in_multi: bool) -> Command {
        let key = self.register();
        let roll = self.percent();
        // Transactions read less: their reads see nothing newer than their own writes.
        let reads_below = if in_multi { 15 } else { 35 };
        if roll < reads_below {
            Command::Get { key }
        } else if roll < 60 {
            let value = self.unique(client);
            let px_ms = (self.config.expiry && self.percent() < 30).then(|| 50 + self.rng.below(400));
            Command::Set { key, value, px_ms }
        } else if roll < 72 {
            Command::Incr { key }
        } else if roll < 84 {
            let value = format!("+{}", self.unique(client));
            Command::Append { key, value }
        } else if roll < 92 || !self.config.expiry {
            Command::Del { key }
        } else {
            Command::PExpire { key, ms: 50 + self.rng.below(400) }
        }
    }

    /// The next call of `client`.
    pub fn next_call(&mut self, client: u32) -> Call {
        let c = self.config.clone();
        let roll = self.percent();
        if c.sets > 0 && roll < 20 {
            let index = self.rng.below(u64::from(c.sets));
            let key = self.key(SET_PREFIX, index);
            return Call::One(if self.percent() < 70 {
                let value = format!("{}{TOKEN_END}", self.unique(client));
                Command::Append { key, value }
            } else {
                Command::Get { key }
            });
        }
        if c.counters > 0 && roll < 40 {
            let index = self.rng.below(u64::from(c.counters));
            let key = self.key(COUNTER_PREFIX, index);
            return Call::One(if self.percent() < 70 { Command::Incr { key } } else { Command::Get { key } });
        }
        if self.percent() < 12 {
            let count = 2 + self.rng.below(2);
            return Call::Multi((0..count).map(|_| self.register_command(client, true)).collect());
        }
        Call::One(self.register_command(client, false))
    }
}

/// What a reply to one command says.
pub fn value(reply: &Reply) -> Value {
    match reply {
        Reply::Status(text) if &text[..] == b"OK" => Value::Ok,
        Reply::Integer(n) => Value::Int(*n),
        Reply::Bulk(bytes) => Value::Bytes(String::from_utf8_lossy(bytes).into_owned()),
        Reply::Nil => Value::Nil,
        Reply::Error(text) => Value::Error(String::from_utf8_lossy(text).into_owned()),
        other => Value::Error(format!("unexpected reply {other:?}")),
    }
}

/// The outcome of a call from its reply (for MULTI, EXEC's reply), or from the reason no reply
/// came (the connection failed or timed out: the outcome is unknown).
pub fn outcome(call: &Call, reply: Result<&Reply, String>) -> Outcome {
    let reply = match reply {
        Ok(reply) => reply,
        Err(why) => return Outcome::Unknown(why),
    };
    if let Reply::Error(text) = reply {
        let text = String::from_utf8_lossy(text).into_owned();
        let code = text.split(' ').next().unwrap_or("");
        match code {
            // Refusals that promise the command was not applied.
            "TRYAGAIN" | "MOVED" | "ASK" | "CLUSTERDOWN" | "LOADING" | "EXECABORT" => return Outcome::Failed(text),
            "UNKNOWN" => return Outcome::Unknown(text),
            _ => {}
        }
    }
    let commands = call.commands().len();
    match (call, reply) {
        (Call::One(_), reply) => Outcome::Done(vec![value(reply)]),
        (Call::Multi(_), Reply::Array(replies)) if replies.len() == commands => {
            Outcome::Done(replies.iter().map(value).collect())
        }
        (Call::Multi(_), other) => {
            Outcome::Done(vec![Value::Error(format!("unexpected EXEC reply {other:?}")); commands])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    #[test]
    fn calls_are_reproducible_and_values_unique() {
        let draw = |seed| {
            let mut workload = Workload::new(WorkloadConfig::default(), seed);
            (0..500).map(|i| workload.next_call(i % 5)).collect::<Vec<_>>()
        };
        assert_eq!(draw(7), draw(7));
        assert_ne!(draw(7), draw(8));
        let mut values: Vec<String> = draw(7)
            .iter()
            .flat_map(|call| call.commands().to_vec())
            .filter_map(|command| match command {
                Command::Set { value, .. } | Command::Append { value, .. } => Some(value),
                _ => None,
            })
            .collect();
        let count = values.len();
        values.sort();
        values.dedup();
        assert_eq!(values.len(), count);
        let families: Vec<_> = draw(7).iter().map(|call| family(call.commands()[0].key())).collect();
        for wanted in [Family::Register, Family::Set, Family::Counter] {
            assert!(families.contains(&Some(wanted)));
        }
        assert!(draw(7).iter().any(|call| matches!(call, Call::Multi(_))));
    }

    #[test]
    fn keys_rotate_and_all_generations_are_listed() {
        let mut workload = Workload::new(WorkloadConfig { rotation_ms: 100, ..WorkloadConfig::default() }, 1);
        let first = workload.next_call(0);
        assert!(first.commands()[0].key().starts_with("g0:"));
        workload.at(250);
        let later = workload.next_call(0);
        assert!(later.commands()[0].key().starts_with("g2:"));
        let keys = workload.keys();
        assert_eq!(keys.len(), 3 * 8);
        assert!(keys.contains(&"g1:ctr:0".to_string()));
    }

    #[test]
    fn replies_become_outcomes() {
        let get = Call::One(Command::Get { key: "k".into() });
        let error = |text: &str| Reply::Error(Bytes::from(text.to_string()));
        assert_eq!(outcome(&get, Ok(&Reply::Nil)), Outcome::Done(vec![Value::Nil]));
        assert!(matches!(outcome(&get, Ok(&error("TRYAGAIN no leader"))), Outcome::Failed(_)));
        assert!(matches!(outcome(&get, Ok(&error("UNKNOWN maybe"))), Outcome::Unknown(_)));
        assert!(matches!(outcome(&get, Err("timed out".into())), Outcome::Unknown(_)));
        assert_eq!(
            outcome(&get, Ok(&error("ERR boom"))),
            Outcome::Done(vec![Value::Error("ERR boom".into())]),
            "any other error is a reply the model must explain"
        );
        let multi = Call::Multi(vec![Command::Incr { key: "a".into() }, Command::Get { key: "a".into() }]);
        let exec = Reply::Array(vec![Reply::Integer(1), Reply::Bulk(Bytes::from_static(b"1"))]);
        assert_eq!(outcome(&multi, Ok(&exec)), Outcome::Done(vec![Value::Int(1), Value::Bytes("1".into())]));
        assert!(matches!(&outcome(&multi, Ok(&Reply::NilArray)), Outcome::Done(values) if values.len() == 2));
    }
}
