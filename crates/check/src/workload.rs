//! The workload: what clients ask, over a small hot key set, and how a reply becomes an outcome.
//!
//! Six families of keys, each for a different check:
//! - registers (`reg:N`): everything mixed — GET, SET (some with PX), INCR, APPEND, DEL,
//!   PEXPIRE and MULTI/EXEC over one or two of them — for the linearizability checker; a
//!   generation's registers share a hash tag (`g3:reg:1{g3:reg}`), so they live in one slot
//!   and a transaction over several of them is served even when the cluster has several
//!   shards (a transaction across slots is refused with CROSSSLOT, as in Redis Cluster);
//! - sets (`set:N`): only APPENDs of unique tokens (and GETs), so every acknowledged token must
//!   be in the final value exactly once (the lost-write checker);
//! - counters (`ctr:N`): only INCRs (and GETs), so the final count is bounded by the
//!   acknowledged and unknown increments;
//! - lists (`list:N`): LPUSH/RPUSH of unique tokens, LPOP/RPOP (with and without a count),
//!   short BLPOP/BRPOP, LLEN and LRANGE, for the queue checker: every pushed token is taken
//!   once or left, none twice, in the order the pushes fix;
//! - Redis sets (`rset:N`; `set:` is taken by the APPEND family): SADD of unique tokens, SREM
//!   of recently added ones, SISMEMBER, SCARD and SMEMBERS, for the linearizability checker;
//! - streams (`strm:N`): XADD of unique tokens with auto ids, XREADGROUP `>` by several
//!   consumers of one group (created with XGROUP CREATE .. 0 MKSTREAM, again now and then: a
//!   BUSYGROUP reply is expected), XACK of entries a read delivered, XRANGE - +, for the stream
//!   checker; no trimming, so every acknowledged entry must stay.
//!
//! Every written value is unique to its operation, so a value read names the write it came from.
//!
//! Keys rotate: each generation of the key set is used for a while, then clients move to fresh
//! keys (`g3:reg:1`), as Jepsen's independent keys do. Each key's history stays short, so an
//! operation whose outcome is unknown (which may take effect at any later time) weighs on a
//! few hundred operations, not on the whole run.

use crate::history::{Call, Command, End, Outcome, Value};
use crate::stream;
use concord_core::rng::Rng;
use concord_core::Reply;
use std::collections::BTreeMap;

pub const REGISTER_PREFIX: &str = "reg:";
pub const SET_PREFIX: &str = "set:";
pub const COUNTER_PREFIX: &str = "ctr:";
pub const LIST_PREFIX: &str = "list:";
pub const REDIS_SET_PREFIX: &str = "rset:";
pub const STREAM_PREFIX: &str = "strm:";
/// The one consumer group of every stream key, and how many consumers read in it.
pub const STREAM_GROUP: &str = "g";
const STREAM_CONSUMERS: u64 = 4;
/// How many entries one XREADGROUP asks for, at most.
const STREAM_READ_COUNT_MAX: u64 = 3;
/// How many of a stream's latest delivered (and not yet acknowledged by the workload) ids
/// XACK chooses from.
const RECENT_DELIVERIES: usize = 16;
/// Ends every token appended to a set key.
pub const TOKEN_END: char = ';';
/// How many of a Redis set's latest members SREM and SISMEMBER choose from.
const RECENT_MEMBERS: usize = 8;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Family {
    Register,
    Set,
    Counter,
    List,
    RedisSet,
    Stream,
}

impl Family {
    pub const ALL: [Family; 6] =
        [Family::Register, Family::Set, Family::Counter, Family::List, Family::RedisSet, Family::Stream];

    pub fn prefix(self) -> &'static str {
        match self {
            Family::Register => REGISTER_PREFIX,
            Family::Set => SET_PREFIX,
            Family::Counter => COUNTER_PREFIX,
            Family::List => LIST_PREFIX,
            Family::RedisSet => REDIS_SET_PREFIX,
            Family::Stream => STREAM_PREFIX,
        }
    }
}

/// The family a key belongs to: its prefix opens the key or follows a `:` (the namespace and
/// the generation come first), so `rset:` is never taken for `set:`.
pub fn family(key: &str) -> Option<Family> {
    Family::ALL.into_iter().find(|family| {
        let prefix = family.prefix();
        key.starts_with(prefix) || key.contains(&format!(":{prefix}"))
    })
}

/// The read that gives a key's final state after healing: the whole list, every member, or
/// the string.
pub fn final_read(key: &str) -> Command {
    let key = key.to_string();
    match family(&key) {
        Some(Family::List) => Command::LRange { key },
        Some(Family::RedisSet) => Command::SMembers { key },
        Some(Family::Stream) => Command::XInfoFull { key },
        _ => Command::Get { key },
    }
}

#[derive(Clone, Debug)]
pub struct WorkloadConfig {
    /// Prepended to every key, so runs against a live cluster do not meet old data.
    pub namespace: String,
    pub registers: u32,
    pub sets: u32,
    pub counters: u32,
    pub lists: u32,
    pub redis_sets: u32,
    pub streams: u32,
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
            lists: 2,
            redis_sets: 2,
            streams: 2,
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
    /// Per Redis set key, the members added last (what SREM and SISMEMBER ask about).
    recent_members: BTreeMap<String, Vec<String>>,
    /// Per stream key, ids acknowledged reads delivered that no XACK has named yet.
    recent_deliveries: BTreeMap<String, Vec<String>>,
    /// Stream keys a group creation has been issued for.
    groups_created: std::collections::BTreeSet<String>,
}

impl Workload {
    pub fn new(config: WorkloadConfig, seed: u64) -> Workload {
        Workload {
            config,
            rng: Rng::new(seed),
            issued: 0,
            generation: 0,
            generations: 1,
            recent_members: BTreeMap::new(),
            recent_deliveries: BTreeMap::new(),
            groups_created: std::collections::BTreeSet::new(),
        }
    }

    /// Moves to the key generation in use `elapsed_ms` after the workload started.
    pub fn at(&mut self, elapsed_ms: u64) {
        self.generation = elapsed_ms / self.config.rotation_ms.max(1);
        self.generations = self.generations.max(self.generation + 1);
    }

    fn key_in(&self, generation: u64, prefix: &str, index: u64) -> String {
        let namespace = &self.config.namespace;
        if prefix == REGISTER_PREFIX {
            // One slot for the generation's registers (transactions span them); the other
            // families' keys, and the registers of other generations, fall in other slots.
            let tag = format!("{namespace}g{generation}:{}", REGISTER_PREFIX.trim_end_matches(':'));
            format!("{namespace}g{generation}:{prefix}{index}{{{tag}}}")
        } else {
            format!("{namespace}g{generation}:{prefix}{index}")
        }
    }

    fn key(&self, prefix: &str, index: u64) -> String {
        self.key_in(self.generation, prefix, index)
    }

    /// Every key the workload touched or may have touched.
    pub fn keys(&self) -> Vec<String> {
        let c = &self.config;
        let mut keys = Vec::new();
        for generation in 0..self.generations {
            let families = [
                (REGISTER_PREFIX, c.registers),
                (SET_PREFIX, c.sets),
                (COUNTER_PREFIX, c.counters),
                (LIST_PREFIX, c.lists),
                (REDIS_SET_PREFIX, c.redis_sets),
                (STREAM_PREFIX, c.streams),
            ];
            for (prefix, count) in families {
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

    fn end(&mut self) -> End {
        if self.percent() < 50 {
            End::Left
        } else {
            End::Right
        }
    }

    /// One or two fresh tokens.
    fn tokens(&mut self, client: u32) -> Vec<String> {
        let count = 1 + self.rng.below(2);
        (0..count).map(|_| self.unique(client)).collect()
    }

    /// Pushes outnumber pops a little, so pops mostly find something, yet lists stay short and
    /// blocking pops sometimes wait (and time out) on an empty one.
    fn list_command(&mut self, client: u32) -> Command {
        let index = self.rng.below(u64::from(self.config.lists));
        let key = self.key(LIST_PREFIX, index);
        let roll = self.percent();
        if roll < 40 {
            let end = if roll < 28 { End::Right } else { End::Left };
            Command::Push { key, end, values: self.tokens(client) }
        } else if roll < 63 {
            let end = if roll < 55 { End::Left } else { End::Right };
            let count = (self.percent() < 50).then(|| 1 + self.rng.below(3));
            Command::Pop { key, end, count }
        } else if roll < 73 {
            let end = self.end();
            Command::BlockingPop { key, end, timeout_ms: 50 + self.rng.below(350) }
        } else if roll < 82 {
            Command::LLen { key }
        } else {
            Command::LRange { key }
        }
    }

    /// Some of a Redis set's recent members (a fresh token when it has none yet).
    fn some_recent_members(&mut self, key: &str, client: u32) -> Vec<String> {
        let recent = self.recent_members.get(key).cloned().unwrap_or_default();
        if recent.is_empty() {
            return vec![self.unique(client)];
        }
        let count = 1 + self.rng.below(2);
        let mut members: Vec<String> =
            (0..count).map(|_| recent[self.rng.below(recent.len() as u64) as usize].clone()).collect();
        members.dedup();
        members
    }

    fn redis_set_command(&mut self, client: u32) -> Command {
        let index = self.rng.below(u64::from(self.config.redis_sets));
        let key = self.key(REDIS_SET_PREFIX, index);
        let roll = self.percent();
        if roll < 40 {
            let members = self.tokens(client);
            let recent = self.recent_members.entry(key.clone()).or_default();
            recent.extend(members.iter().cloned());
            let excess = recent.len().saturating_sub(RECENT_MEMBERS);
            recent.drain(..excess);
            Command::SAdd { key, members }
        } else if roll < 55 {
            let members = self.some_recent_members(&key, client);
            Command::SRem { key, members }
        } else if roll < 70 {
            let member = self.some_recent_members(&key, client).swap_remove(0);
            Command::SIsMember { key, member }
        } else if roll < 82 {
            Command::SCard { key }
        } else {
            Command::SMembers { key }
        }
    }

    /// Appends outnumber reads a little, so groups mostly find new entries yet sometimes find
    /// none. A key's first call creates its group; creating it again now and then is answered
    /// BUSYGROUP, and covers a first creation that failed.
    fn stream_command(&mut self, client: u32) -> Command {
        let index = self.rng.below(u64::from(self.config.streams));
        let key = self.key(STREAM_PREFIX, index);
        let group = STREAM_GROUP.to_string();
        if self.groups_created.insert(key.clone()) {
            return Command::XGroupCreate { key, group };
        }
        let roll = self.percent();
        let delivered = self.recent_deliveries.get(&key).map_or(0, Vec::len);
        if roll < 40 {
            Command::XAdd { key, token: self.unique(client) }
        } else if roll < 70 {
            let consumer = format!("c{}", self.rng.below(STREAM_CONSUMERS));
            Command::XReadGroup { key, group, consumer, count: 1 + self.rng.below(STREAM_READ_COUNT_MAX) }
        } else if roll < 85 && delivered > 0 {
            let recent = self.recent_deliveries.get_mut(&key).expect("some delivered");
            let count = (1 + self.rng.below(2) as usize).min(recent.len());
            let from = self.rng.below((recent.len() - count + 1) as u64) as usize;
            Command::XAck { key, group, ids: recent.drain(from..from + count).collect() }
        } else if roll < 95 {
            Command::XRange { key }
        } else {
            Command::XGroupCreate { key, group }
        }
    }

    /// Learns from a call's outcome what later calls may refer to: the ids group reads
    /// delivered, for XACK.
    pub fn observe(&mut self, call: &Call, outcome: &Outcome) {
        let Outcome::Done(replies) = outcome else { return };
        for (command, reply) in call.commands().iter().zip(replies) {
            if let Command::XReadGroup { key, .. } = command {
                let Some(entries) = stream::delivered(reply) else { continue };
                let recent = self.recent_deliveries.entry(key.clone()).or_default();
                recent.extend(entries.into_iter().map(|entry| entry.id.to_string()));
                let excess = recent.len().saturating_sub(RECENT_DELIVERIES);
                recent.drain(..excess);
            }
        }
    }

    /// The next call of `client`.
    pub fn next_call(&mut self, client: u32) -> Call {
        let c = self.config.clone();
        let roll = self.percent();
        if c.sets > 0 && roll < 14 {
            let index = self.rng.below(u64::from(c.sets));
            let key = self.key(SET_PREFIX, index);
            return Call::One(if self.percent() < 70 {
                let value = format!("{}{TOKEN_END}", self.unique(client));
                Command::Append { key, value }
            } else {
                Command::Get { key }
            });
        }
        if c.counters > 0 && roll < 28 {
            let index = self.rng.below(u64::from(c.counters));
            let key = self.key(COUNTER_PREFIX, index);
            return Call::One(if self.percent() < 70 { Command::Incr { key } } else { Command::Get { key } });
        }
        if c.lists > 0 && roll < 46 {
            return Call::One(self.list_command(client));
        }
        if c.redis_sets > 0 && roll < 60 {
            return Call::One(self.redis_set_command(client));
        }
        if c.streams > 0 && roll < 74 {
            return Call::One(self.stream_command(client));
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
        // A pop that found nothing answers a nil array (RESP2 `*-1`), as BLPOP's timeout does.
        Reply::Nil | Reply::NilArray => Value::Nil,
        Reply::Array(items) | Reply::Set(items) | Reply::Push(items) => Value::Array(items.iter().map(value).collect()),
        // As RESP2 shows a map: keys and values in turn.
        Reply::Map(pairs) => Value::Array(pairs.iter().flat_map(|(key, item)| [value(key), value(item)]).collect()),
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
        (Call::One(Command::SMembers { .. }), reply) => {
            // A set has no order: sorted, the reply compares equal to the model's.
            let mut members = value(reply);
            if let Value::Array(items) = &mut members {
                items.sort();
            }
            Outcome::Done(vec![members])
        }
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
            .flat_map(|command| match command {
                Command::Set { value, .. } | Command::Append { value, .. } => vec![value],
                Command::Push { values, .. } => values,
                Command::SAdd { members, .. } => members,
                Command::XAdd { token, .. } => vec![token],
                _ => vec![],
            })
            .collect();
        let count = values.len();
        values.sort();
        values.dedup();
        assert_eq!(values.len(), count);
        let families: Vec<_> = draw(7).iter().map(|call| family(call.commands()[0].key())).collect();
        for wanted in Family::ALL {
            assert!(families.contains(&Some(wanted)));
        }
        assert!(draw(7).iter().any(|call| matches!(call, Call::Multi(_))));
    }

    #[test]
    fn families_are_told_apart_and_read_whole_at_the_end() {
        assert_eq!(family("g1:rset:0"), Some(Family::RedisSet), "not the APPEND family set:");
        assert_eq!(family("verify-9:g1:set:0"), Some(Family::Set));
        assert_eq!(family("g0:list:1"), Some(Family::List));
        assert_eq!(family("probe:3"), None);
        assert_eq!(final_read("g0:list:1"), Command::LRange { key: "g0:list:1".into() });
        assert_eq!(final_read("g0:rset:1"), Command::SMembers { key: "g0:rset:1".into() });
        assert_eq!(final_read("g0:reg:1"), Command::Get { key: "g0:reg:1".into() });
        assert_eq!(family("g0:strm:1"), Some(Family::Stream));
        assert_eq!(final_read("g0:strm:1"), Command::XInfoFull { key: "g0:strm:1".into() });
        assert_eq!(final_read("g0:strm:1").to_string(), "XINFO STREAM g0:strm:1 FULL COUNT 0");
    }

    #[test]
    fn streams_create_their_group_first_and_ack_what_reads_delivered() {
        let config = WorkloadConfig { sets: 0, counters: 0, lists: 0, redis_sets: 0, streams: 1, ..Default::default() };
        let mut workload = Workload::new(config, 3);
        let mut calls = Vec::new();
        let mut delivered = Vec::new();
        for n in 0..400 {
            let call = workload.next_call(0);
            if let Call::One(Command::XReadGroup { key, .. }) = &call {
                let id = format!("{n}-0");
                let entry = Value::Array(vec![
                    Value::Bytes(id.clone()),
                    Value::Array(vec![Value::Bytes("tok".into()), Value::Bytes(format!("t{n}"))]),
                ]);
                let reply =
                    Value::Array(vec![Value::Array(vec![Value::Bytes(key.clone()), Value::Array(vec![entry])])]);
                workload.observe(&call, &Outcome::Done(vec![reply]));
                delivered.push(id);
            }
            calls.push(call);
        }
        let streams: Vec<&Command> = calls
            .iter()
            .map(|call| &call.commands()[0])
            .filter(|command| family(command.key()) == Some(Family::Stream))
            .collect();
        assert!(matches!(streams[0], Command::XGroupCreate { .. }), "{:?}", streams[0]);
        assert_eq!(streams[0].to_string(), "XGROUP CREATE g0:strm:0 g 0 MKSTREAM");
        let acked: Vec<&String> = streams
            .iter()
            .flat_map(|command| match command {
                Command::XAck { ids, .. } => ids.iter().collect(),
                _ => vec![],
            })
            .collect();
        assert!(acked.len() > 10, "{acked:?}");
        assert!(acked.iter().all(|id| delivered.contains(id)), "only delivered ids are acknowledged");
        let mut once = acked.clone();
        once.sort();
        once.dedup();
        assert_eq!(once.len(), acked.len(), "each delivered id is acknowledged once at most");
        for wanted in ["XADD", "XREADGROUP", "XRANGE"] {
            assert!(streams.iter().any(|command| command.argv()[0] == wanted), "{wanted}");
        }
        let read = streams.iter().find(|command| matches!(command, Command::XReadGroup { .. })).expect("a read");
        assert!(read.to_string().starts_with("XREADGROUP GROUP g c"), "{read}");
        assert!(read.to_string().ends_with(" STREAMS g0:strm:0 >"), "{read}");
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
        assert_eq!(keys.len(), 3 * 14);
        assert!(keys.contains(&"g1:ctr:0".to_string()));
        assert!(keys.contains(&"g1:reg:0{g1:reg}".to_string()), "{keys:?}");
        // A generation's registers share a slot, so transactions over them are served by one
        // shard.
        let slots: std::collections::BTreeSet<u16> = keys
            .iter()
            .filter(|key| key.starts_with("g1:reg:"))
            .map(|key| concord_core::slot::key_slot(key.as_bytes()))
            .collect();
        assert_eq!(slots.len(), 1, "{keys:?}");
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
        let smembers = Call::One(Command::SMembers { key: "s".into() });
        let unordered = Reply::Array(vec![Reply::bulk("b"), Reply::bulk("a")]);
        let sorted = Value::Array(vec![Value::Bytes("a".into()), Value::Bytes("b".into())]);
        assert_eq!(outcome(&smembers, Ok(&unordered)), Outcome::Done(vec![sorted]), "a set has no order");
        let blpop = Call::One(Command::BlockingPop { key: "l".into(), end: End::Left, timeout_ms: 100 });
        assert_eq!(outcome(&blpop, Ok(&Reply::NilArray)), Outcome::Done(vec![Value::Nil]), "timed out");
        assert_eq!(blpop.to_string(), "BLPOP l 0.100");
        let multi = Call::Multi(vec![Command::Incr { key: "a".into() }, Command::Get { key: "a".into() }]);
        let exec = Reply::Array(vec![Reply::Integer(1), Reply::Bulk(Bytes::from_static(b"1"))]);
        assert_eq!(outcome(&multi, Ok(&exec)), Outcome::Done(vec![Value::Int(1), Value::Bytes("1".into())]));
        assert!(matches!(&outcome(&multi, Ok(&Reply::NilArray)), Outcome::Done(values) if values.len() == 2));
        // A map (RESP3, or a core reply) reads as RESP2 shows it: keys and values in turn.
        let info = Call::One(Command::XInfoFull { key: "s".into() });
        let map = Reply::Map(vec![(Reply::bulk("length"), Reply::Integer(0))]);
        assert_eq!(
            outcome(&info, Ok(&map)),
            Outcome::Done(vec![Value::Array(vec![Value::Bytes("length".into()), Value::Int(0)])])
        );
    }
}
