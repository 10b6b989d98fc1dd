//! One client connection's state and how its commands are dispatched: which run at once on
//! the node, which read the keyspace, which are proposed to the log, and how MULTI/EXEC and
//! WATCH are put together.
//!
//! The session is pure: it talks to the node through the [`Host`] port and hands back an
//! [`Action`] for the node's driver to carry out.

use crate::args::Args;
use crate::commands::{self, Kind, NodeOp, ReadOp};
use crate::error::Error;
use crate::keyspace::WatchStamp;
use crate::limits::{TRANSACTION_BYTES_MAX, TRANSACTION_COMMANDS_MAX, WATCHED_KEYS_MAX};
use crate::reply::Reply;
use crate::request::{Request, WatchedKey};
use crate::types::{DbIndex, TimeMs};
use bytes::Bytes;
use std::collections::BTreeSet;

/// The reply protocol a connection speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    Resp2,
    Resp3,
}

impl Protocol {
    pub fn version(self) -> i64 {
        match self {
            Protocol::Resp2 => 2,
            Protocol::Resp3 => 3,
        }
    }
}

/// What a session needs from the node it runs on.
pub trait Host {
    /// Whether this node takes subscriptions and publications now ((P|S)SUBSCRIBE,
    /// (S)PUBLISH): the retryable error when its subscribers would miss what other nodes
    /// publish, or its publications would miss other nodes' subscribers.
    fn serves_pubsub(&self) -> Result<(), Error> {
        Ok(())
    }
    /// Whether this node serves the shard channel `channel` (SSUBSCRIBE, SPUBLISH): in
    /// redirect mode, the `-MOVED` error to its shard's leader when no replica of that shard
    /// is here, as Redis Cluster answers; every node serves every shard channel otherwise.
    fn serves_shard_channel(&self, _channel: &[u8]) -> Result<(), Error> {
        Ok(())
    }
    /// Whether the node uses more memory than `maxmemory` allows (never when it is 0).
    fn out_of_memory(&self) -> bool {
        false
    }
    /// The node's clock, in milliseconds since the Unix epoch.
    fn now_ms(&self) -> TimeMs;
    /// Microseconds since the Unix epoch, for TIME.
    fn now_us(&self) -> u64;
    /// The configured number of databases.
    fn databases(&self) -> u32;
    /// INFO's text for the given sections (empty: the default set).
    fn info(&self, sections: &[Bytes]) -> String;
    /// Parameters matching the glob patterns, with their values.
    fn config_get(&self, patterns: &[Bytes]) -> Vec<(String, String)>;
    /// Sets parameters atomically: all or none.
    fn config_set(&self, pairs: &[(Bytes, Bytes)]) -> Result<(), Error>;
    fn config_resetstat(&self);
    /// CLIENT LIST lines for every connected client (or only those with the given ids).
    fn client_list(&self, ids: Option<&[u64]>) -> String;
    /// Publishes this session's description for CLIENT LIST.
    fn client_update(&self, session: &Session);
    /// Closes another client's connection; false if there is none with that id.
    fn client_kill(&self, id: u64) -> bool;
    /// The reply to DEBUG subcommands the node supports.
    fn debug(&self, args: &[Bytes]) -> Reply;
    /// Stops the node, as SIGTERM does: no new clients, in-flight commands finish.
    fn shutdown(&self);
    /// PUBSUB (SHARD)CHANNELS: the (shard) channels with subscribers on this node, matching the
    /// pattern if given.
    fn pubsub_channels(&self, sharded: bool, pattern: Option<&[u8]>) -> Vec<Bytes>;
    /// PUBSUB (SHARD)NUMSUB: each (shard) channel's number of subscribers on this node.
    fn pubsub_numsub(&self, sharded: bool, channels: &[Bytes]) -> Vec<i64>;
    /// PUBSUB NUMPAT: the number of distinct patterns subscribed to on this node.
    fn pubsub_numpat(&self) -> i64;
}

/// A subscription the session took or dropped, for the node's broker to follow.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubscriptionChange {
    pub kind: SubscriptionKind,
    pub name: Bytes,
    pub subscribed: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum SubscriptionKind {
    Channel,
    Pattern,
    /// A shard channel (SSUBSCRIBE): its own namespace, counted apart.
    ShardChannel,
}

/// A message to publish on a channel, or (SPUBLISH) on a shard channel. Nodes send it to
/// each other as it is.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Publication {
    pub channel: Bytes,
    pub message: Bytes,
    pub sharded: bool,
}

/// What the driver must do with a command.
pub enum Action {
    /// Send this reply now.
    Reply(Reply),
    /// Read the keyspace after a read barrier (or locally, for a READONLY session). The
    /// arguments come along in case the read is served by another node.
    Read { db: DbIndex, op: ReadOp, argv: Vec<Bytes> },
    /// Propose this request to the log; its reply comes from applying it.
    Write(Request),
    /// A blocking command (BLPOP ...): proposed with a waiter, its reply awaited until it is
    /// served or times out; the connection runs nothing else meanwhile.
    Block { db: DbIndex, argv: Vec<Bytes> },
    /// CLIENT UNBLOCK: end that client's wait, if it is blocked.
    Unblock { client: u64, error: bool },
    /// Propose this transaction; splice its replies into the plan.
    Exec(ExecPlan),
    /// Take WATCH stamps of these keys after a read barrier, then call
    /// [`Session::add_watches`].
    Watch { db: DbIndex, keys: Vec<Bytes> },
    /// Send this reply, then close the connection.
    Close(Reply),
    /// Close the connection with no reply (SHUTDOWN, as Redis).
    Hangup,
    /// A cluster request (topology, membership, fault injection) for the node.
    Cluster(crate::commands::cluster::ClusterOp),
    /// (P)SUBSCRIBE / (P)UNSUBSCRIBE: tell the broker of these changes, then send these
    /// confirmations (one per channel or pattern), in order.
    Subscriptions { changes: Vec<SubscriptionChange>, replies: Vec<Reply> },
    /// PUBLISH: deliver to this node's subscribers and every other node's; the reply is the
    /// number of receivers.
    Publish(Publication),
}

/// An EXEC being carried out: the request to propose and where each reply comes from.
pub struct ExecPlan {
    pub request: Request,
    pub slots: Vec<Slot>,
    /// The database the connection is in after EXEC, if it succeeds.
    pub db_after: DbIndex,
}

pub enum Slot {
    /// The n-th reply of the applied transaction.
    Applied(usize),
    /// A reply computed on the node when EXEC was called.
    Local(Reply),
    /// A (S)PUBLISH, carried out by the node once the transaction is applied (its reply is
    /// the number of receivers).
    Publish(Publication),
}

impl ExecPlan {
    /// The EXEC reply, given what applying the transaction returned.
    pub fn reply(self, applied: Reply) -> Reply {
        let mut applied = match applied {
            Reply::Array(replies) => replies.into_iter().map(Some).collect::<Vec<_>>(),
            other => return other,
        };
        Reply::Array(
            self.slots
                .into_iter()
                .map(|slot| match slot {
                    Slot::Applied(at) => applied.get_mut(at).and_then(Option::take).unwrap_or(Reply::Nil),
                    Slot::Local(reply) => reply,
                    // Filled in by the node when it publishes (see `ExecPlan::publishes`).
                    Slot::Publish(_) => Reply::Nil,
                })
                .collect(),
        )
    }

    /// The PUBLISHes to carry out once the transaction is applied, in order, with their
    /// places in the EXEC reply.
    pub fn publishes(&self) -> Vec<(usize, Publication)> {
        let publish = |(at, slot): (usize, &Slot)| match slot {
            Slot::Publish(publication) => Some((at, publication.clone())),
            _ => None,
        };
        self.slots.iter().enumerate().filter_map(publish).collect()
    }

    /// Nothing for the log to apply: no command and no watched key (only node commands).
    pub fn is_local(&self) -> bool {
        matches!(&self.request, Request::Transaction { watches, commands } if watches.is_empty() && commands.is_empty())
    }
}

struct Transaction {
    queued: Vec<(Vec<Bytes>, &'static commands::Entry)>,
    bytes: usize,
    /// A queued command was refused: EXEC must discard the transaction.
    failed: bool,
}

/// Redis's refusal of a command past `maxmemory`.
pub const OUT_OF_MEMORY: &str = "OOM command not allowed when used memory > 'maxmemory'.";

/// Whether command `argv` may grow the data: Redis's `denyoom` commands, and scripts and
/// functions but those that declare they do not write (or may run out of memory).
fn may_grow(entry: &commands::Entry, argv: &[Bytes]) -> bool {
    match entry.spec.name {
        "eval" => argv.get(1).is_none_or(|body| {
            crate::scripting::parse_shebang(body)
                .is_ok_and(|(flags, _)| flags.compat || !(flags.no_writes || flags.allow_oom))
        }),
        "evalsha" | "fcall" => true,
        _ => entry.spec.has_flag("denyoom"),
    }
}

/// A client connection.
pub struct Session {
    pub id: u64,
    pub db: DbIndex,
    pub protocol: Protocol,
    pub name: Option<Bytes>,
    pub lib_name: Option<Bytes>,
    pub lib_version: Option<Bytes>,
    /// Stale reads allowed (READONLY).
    pub readonly: bool,
    /// The last command's name, for CLIENT LIST.
    pub last_command: &'static str,
    transaction: Option<Transaction>,
    watched: Vec<WatchedKey>,
    /// Channels and patterns subscribed to (ordered: UNSUBSCRIBE with no arguments confirms
    /// them in a stable order).
    pub channels: BTreeSet<Bytes>,
    pub patterns: BTreeSet<Bytes>,
    pub shard_channels: BTreeSet<Bytes>,
    /// CLIENT REPLY: whether this connection's replies are sent (pushes always are).
    pub reply_mode: ReplyMode,
}

/// CLIENT REPLY's modes, as the connection applies them to the replies of each command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplyMode {
    On,
    Off,
    /// CLIENT REPLY SKIP was the last command: the next one's reply is not sent.
    SkipNext,
    /// The current command's reply is not sent.
    Skip,
}

impl Session {
    /// Before a command runs: a SKIP given by the command before applies to this one.
    pub fn begin_command_replies(&mut self) {
        if self.reply_mode == ReplyMode::SkipNext {
            self.reply_mode = ReplyMode::Skip;
        }
    }

    /// After a command ran: whether its replies are silenced (CLIENT REPLY OFF, SKIP, or the
    /// command skipped), ending a skip.
    pub fn end_command_replies(&mut self) -> bool {
        match self.reply_mode {
            ReplyMode::On => false,
            ReplyMode::Off | ReplyMode::SkipNext => true,
            ReplyMode::Skip => {
                self.reply_mode = ReplyMode::On;
                true
            }
        }
    }

    pub fn new(id: u64) -> Session {
        Session {
            id,
            db: 0,
            protocol: Protocol::Resp2,
            name: None,
            lib_name: None,
            lib_version: None,
            readonly: false,
            last_command: "NULL",
            transaction: None,
            watched: Vec::new(),
            channels: BTreeSet::new(),
            patterns: BTreeSet::new(),
            shard_channels: BTreeSet::new(),
            reply_mode: ReplyMode::On,
        }
    }

    /// Channels and patterns subscribed to: the count in (un)subscribe confirmations.
    pub fn subscription_count(&self) -> usize {
        self.channels.len() + self.patterns.len()
    }

    /// A RESP2 connection with subscriptions can only (un)subscribe, PING, QUIT and RESET:
    /// anything else's reply could not be told apart from a message.
    pub fn in_subscribe_mode(&self) -> bool {
        self.protocol == Protocol::Resp2 && self.subscribed()
    }

    /// Subscribed to anything: a channel, a pattern or a shard channel.
    pub fn subscribed(&self) -> bool {
        self.subscription_count() > 0 || !self.shard_channels.is_empty()
    }

    pub fn in_transaction(&self) -> bool {
        self.transaction.is_some()
    }

    pub fn queued_len(&self) -> usize {
        self.transaction.as_ref().map_or(0, |t| t.queued.len())
    }

    pub fn watched_len(&self) -> usize {
        self.watched.len()
    }

    /// Decides what to do with one command.
    pub fn dispatch(&mut self, argv: Vec<Bytes>, host: &dyn Host) -> Action {
        let Some(name) = argv.first() else {
            return Action::Reply(Reply::from(Error::SYNTAX));
        };
        let Some(entry) = commands::lookup(name) else {
            self.refuse_in_transaction();
            return Action::Reply(Error::unknown_command(name, &argv[1..]).into());
        };
        self.last_command = full_name(entry, &argv);
        if !entry.spec.arity_ok(argv.len()) {
            if matches!(entry.kind, Kind::Node(NodeOp::Exec)) {
                // A refused EXEC discards the transaction and says why.
                self.transaction = None;
                self.watched.clear();
                return Action::Reply(
                    Error::new(
                        "EXECABORT Transaction discarded because of: wrong number of arguments for 'exec' command",
                    )
                    .into(),
                );
            }
            self.refuse_in_transaction();
            return Action::Reply(Error::wrong_arity(entry.spec.name).into());
        }
        if self.in_subscribe_mode() && !SUBSCRIBE_MODE_COMMANDS.contains(&entry.spec.name) {
            return Action::Reply(
                Error::new(format!(
                    "ERR Can't execute '{}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context",
                    self.last_command
                ))
                .into(),
            );
        }
        if host.out_of_memory() && self.refused_out_of_memory(entry, &argv) {
            self.refuse_in_transaction();
            return Action::Reply(Error::fixed(OUT_OF_MEMORY).into());
        }
        if self.transaction.is_some()
            && !matches!(
                entry.kind,
                Kind::Node(
                    NodeOp::Exec | NodeOp::Discard | NodeOp::Multi | NodeOp::Watch | NodeOp::Quit | NodeOp::Reset
                )
            )
        {
            if entry.spec.has_flag("no_multi") {
                self.refuse_in_transaction();
                return Action::Reply(Error::err("Command not allowed inside a transaction").into());
            }
            return self.queue(argv, entry);
        }
        let db = self.db;
        let action = match entry.kind {
            Kind::Read(parse) => {
                let parsed = parse(&mut Args::with_databases(&argv[1..], host.databases()));
                // A read that may wait (XREAD BLOCK) waits as a blocking write does.
                let blocking = entry.spec.has_flag("blocking");
                parsed.map(|op| {
                    if blocking && op.may_wait() {
                        Action::Block { db, argv }
                    } else {
                        Action::Read { db, op, argv }
                    }
                })
            }
            Kind::Write(parse) => {
                let parsed = parse(&mut Args::with_databases(&argv[1..], host.databases()));
                let blocking = entry.spec.has_flag("blocking");
                parsed.map(|op| {
                    if blocking && op.may_wait() {
                        Action::Block { db, argv }
                    } else {
                        Action::Write(Request::Command { db, argv })
                    }
                })
            }
            Kind::Node(op) => {
                // Node commands may report on this very client (CLIENT LIST/INFO).
                host.client_update(self);
                commands::execute_node(op, &mut Args::with_databases(&argv[1..], host.databases()), self, host)
            }
        };
        action.unwrap_or_else(|error| Action::Reply(error.into()))
    }

    /// Whether `maxmemory` refuses this command, as Redis's `noeviction` policy does (Concord
    /// never evicts: an acknowledged write is never dropped): commands that may grow the data,
    /// scripts and functions that do not declare `no-writes` or `allow-oom` (one cannot be
    /// held to the memory while it runs, since every replica applies it and their memory
    /// differs), an EXEC of such commands, and anything queued by MULTI but EXEC, DISCARD,
    /// QUIT and RESET (queueing takes memory too).
    fn refused_out_of_memory(&self, entry: &'static commands::Entry, argv: &[Bytes]) -> bool {
        match entry.kind {
            Kind::Node(NodeOp::Exec) => self
                .transaction
                .as_ref()
                .is_some_and(|transaction| transaction.queued.iter().any(|(argv, entry)| may_grow(entry, argv))),
            Kind::Node(NodeOp::Discard | NodeOp::Quit | NodeOp::Reset) => false,
            _ if self.transaction.is_some() => true,
            _ => may_grow(entry, argv),
        }
    }

    fn refuse_in_transaction(&mut self) {
        if let Some(transaction) = &mut self.transaction {
            transaction.failed = true;
        }
    }

    fn queue(&mut self, argv: Vec<Bytes>, entry: &'static commands::Entry) -> Action {
        let transaction = self.transaction.as_mut().expect("in a transaction");
        let bytes = argv.iter().map(Bytes::len).sum::<usize>();
        if transaction.queued.len() >= TRANSACTION_COMMANDS_MAX || transaction.bytes + bytes > TRANSACTION_BYTES_MAX {
            transaction.failed = true;
            return Action::Reply(Error::err("Transaction too large").into());
        }
        transaction.bytes += bytes;
        transaction.queued.push((argv, entry));
        Action::Reply(Reply::QUEUED)
    }

    pub(crate) fn begin_transaction(&mut self) -> Result<(), Error> {
        if self.transaction.is_some() {
            return Err(Error::err("MULTI calls can not be nested"));
        }
        self.transaction = Some(Transaction { queued: Vec::new(), bytes: 0, failed: false });
        Ok(())
    }

    pub(crate) fn discard_transaction(&mut self) -> Result<(), Error> {
        self.transaction.take().ok_or_else(|| Error::err("DISCARD without MULTI"))?;
        self.watched.clear();
        Ok(())
    }

    /// Builds the EXEC plan: node commands run now, keyspace commands go into one request.
    pub(crate) fn exec(&mut self, host: &dyn Host) -> Result<Action, Error> {
        let transaction = self.transaction.take().ok_or_else(|| Error::err("EXEC without MULTI"))?;
        let watches = std::mem::take(&mut self.watched);
        if transaction.failed {
            return Err(Error::fixed("EXECABORT Transaction discarded because of previous errors."));
        }
        let (db_before, mut commands, mut slots) = (self.db, Vec::new(), Vec::new());
        for (argv, entry) in transaction.queued {
            match entry.kind {
                Kind::Read(_) | Kind::Write(_) => {
                    // Arguments are checked now, against this node's configuration; a command
                    // that fails to parse reports its error in its slot, as Redis does.
                    if let Err(error) = validate(entry, &argv, host) {
                        slots.push(Slot::Local(error.into()));
                        continue;
                    }
                    slots.push(Slot::Applied(commands.len()));
                    commands.push((self.db, argv));
                }
                Kind::Node(op @ (NodeOp::Publish | NodeOp::SPublish)) => {
                    // Arity was checked when it was queued.
                    let (channel, message) = (argv[1].clone(), argv[2].clone());
                    slots.push(Slot::Publish(Publication { channel, message, sharded: op == NodeOp::SPublish }));
                }
                Kind::Node(
                    NodeOp::Subscribe
                    | NodeOp::Unsubscribe
                    | NodeOp::PSubscribe
                    | NodeOp::PUnsubscribe
                    | NodeOp::SSubscribe
                    | NodeOp::SUnsubscribe,
                ) => {
                    // Their effects belong to the node, not the transaction: refused before
                    // they change the session's subscriptions.
                    slots.push(Slot::Local(Error::err("command not allowed inside a transaction").into()));
                }
                Kind::Node(op) => {
                    let mut args = Args::with_databases(&argv[1..], host.databases());
                    let reply = match commands::execute_node(op, &mut args, self, host) {
                        Ok(Action::Reply(reply)) => reply,
                        // Topology questions are answered locally by the node; inside a
                        // transaction they are refused rather than half-supported.
                        Ok(_) => Error::err("command not allowed inside a transaction").into(),
                        Err(error) => error.into(),
                    };
                    slots.push(Slot::Local(reply));
                }
            }
        }
        let db_after = std::mem::replace(&mut self.db, db_before);
        let publishes = slots.iter().any(|slot| matches!(slot, Slot::Publish(_)));
        if commands.is_empty() && watches.is_empty() && !publishes {
            self.db = db_after;
            return Ok(Action::Reply(
                ExecPlan { request: Request::Transaction { watches, commands }, slots, db_after }
                    .reply(Reply::Array(Vec::new())),
            ));
        }
        Ok(Action::Exec(ExecPlan { request: Request::Transaction { watches, commands }, slots, db_after }))
    }

    /// Records WATCH stamps taken by the driver.
    pub fn add_watches(&mut self, db: DbIndex, stamps: Vec<(Bytes, WatchStamp)>) -> Reply {
        for (key, stamp) in stamps {
            if self.watched.iter().any(|w| w.db == db && w.key == key) {
                continue;
            }
            if self.watched.len() >= WATCHED_KEYS_MAX {
                return Error::err("too many watched keys").into();
            }
            self.watched.push(WatchedKey { db, key, stamp });
        }
        Reply::OK
    }

    pub(crate) fn unwatch(&mut self) {
        self.watched.clear();
    }

    /// RESET: back to a fresh connection's state, keeping the id.
    pub(crate) fn reset(&mut self) {
        *self = Session::new(self.id);
    }
}

/// What a RESP2 connection in subscribe mode may run, as in Redis.
const SUBSCRIBE_MODE_COMMANDS: &[&str] =
    &["subscribe", "ssubscribe", "unsubscribe", "sunsubscribe", "psubscribe", "punsubscribe", "ping", "quit", "reset"];

fn validate(entry: &commands::Entry, argv: &[Bytes], host: &dyn Host) -> Result<(), Error> {
    let mut args = Args::with_databases(&argv[1..], host.databases());
    match entry.kind {
        Kind::Read(parse) => parse(&mut args).map(drop),
        Kind::Write(parse) => parse(&mut args).map(drop),
        Kind::Node(_) => Ok(()),
    }
}

/// `client|list` for subcommands, else the command's name.
fn full_name(entry: &'static commands::Entry, argv: &[Bytes]) -> &'static str {
    let spec = entry.spec;
    argv.get(1)
        .and_then(|sub| {
            spec.subcommands
                .iter()
                .find(|s| s.name.split_once('|').is_some_and(|(_, name)| sub.eq_ignore_ascii_case(name.as_bytes())))
        })
        .map_or(spec.name, |sub| sub.name)
}

#[cfg(test)]
mod tests {
    use super::may_grow;
    use crate::commands;
    use bytes::Bytes;

    fn grows(words: &[&str]) -> bool {
        let argv: Vec<Bytes> = words.iter().map(|word| Bytes::copy_from_slice(word.as_bytes())).collect();
        may_grow(commands::lookup(&argv[0]).unwrap(), &argv)
    }

    #[test]
    fn what_maxmemory_refuses() {
        assert!(grows(&["set", "k", "v"]) && grows(&["rpush", "l", "x"]) && grows(&["xadd", "s", "*", "f", "v"]));
        assert!(
            !grows(&["get", "k"]) && !grows(&["del", "k"]) && !grows(&["lpop", "l"]) && !grows(&["expire", "k", "1"])
        );
        assert!(grows(&["eval", "return 1", "0"]), "a script without a shebang may write");
        assert!(grows(&["eval", "#!lua\nreturn 1", "0"]));
        assert!(!grows(&["eval", "#!lua flags=no-writes\nreturn 1", "0"]));
        assert!(!grows(&["eval", "#!lua flags=allow-oom\nreturn 1", "0"]));
        assert!(grows(&["evalsha", "0123", "0"]) && grows(&["fcall", "f", "0"]));
        assert!(!grows(&["eval_ro", "return 1", "0"]) && !grows(&["fcall_ro", "f", "0"]));
    }
}
