//! What every command is made of: a spec (for `COMMAND`, arity checks and key extraction),
//! a parser, an apply step against the keyspace, and a reply built from its output.

use crate::args::Args;
use crate::error::Result;
use crate::keyspace::Keyspace;
use crate::reply::Reply;
use crate::rng::Rng;
use crate::types::{DbIndex, TimeMs};
use bytes::Bytes;

/// A command's static description, as `COMMAND INFO` and `COMMAND DOCS` report it.
#[derive(Debug)]
pub struct CommandSpec {
    /// Lower case; subcommands are `parent|sub`.
    pub name: &'static str,
    /// Redis arity: positive is exact, negative is a minimum (both count the name).
    pub arity: i32,
    pub flags: &'static [&'static str],
    pub first_key: i32,
    pub last_key: i32,
    pub key_step: i32,
    /// Where the keys are and how they are used, as `COMMAND INFO` reports key specs.
    pub key_specs: &'static [KeySpec],
    pub acl_categories: &'static [&'static str],
    pub tips: &'static [&'static str],
    pub group: &'static str,
    pub since: &'static str,
    pub complexity: &'static str,
    pub summary: &'static str,
    /// `(deprecated_since, replaced_by)` for deprecated commands.
    pub deprecated: Option<(&'static str, &'static str)>,
    /// For commands whose keys move (after a count, or a keyword), the positions of their keys
    /// in a full argument vector (Redis's `getkeys_proc`); otherwise the fixed positions above.
    pub movable_keys: Option<KeyFinder>,
    pub subcommands: &'static [&'static CommandSpec],
}

/// Finds the positions of a command's keys in its full argument vector.
pub type KeyFinder = fn(&[Bytes]) -> Vec<usize>;

/// One key spec: the keys start at argument `begin_index` and run to `last_key` (negative:
/// counted from the end) every `key_step` arguments.
#[derive(Debug)]
pub struct KeySpec {
    pub flags: &'static [&'static str],
    pub begin_index: i32,
    pub last_key: i32,
    pub key_step: i32,
}

impl CommandSpec {
    /// Whether `argc` (including the name) fits the arity.
    pub fn arity_ok(&self, argc: usize) -> bool {
        let argc = argc as i64;
        let arity = i64::from(self.arity);
        if arity >= 0 {
            argc == arity
        } else {
            argc >= -arity
        }
    }

    pub fn has_flag(&self, flag: &str) -> bool {
        self.flags.contains(&flag)
    }

    /// The positions of the keys in `argv` (which starts with the name).
    pub fn key_positions(&self, argc: usize) -> impl Iterator<Item = usize> {
        let first = self.first_key.max(0) as usize;
        let last = if self.last_key < 0 { argc as i64 + i64::from(self.last_key) } else { i64::from(self.last_key) };
        let step = self.key_step.max(1) as usize;
        let end = if first == 0 { 0 } else { (last.max(0) as usize + 1).min(argc) };
        (first..end).step_by(step).filter(move |_| first > 0)
    }

    /// The keys of `argv` (which starts with the name), wherever they are.
    pub fn keys<'a>(&self, argv: &'a [Bytes]) -> impl Iterator<Item = &'a Bytes> + 'a {
        let positions: Vec<usize> = match self.movable_keys {
            Some(find) => find(argv).into_iter().filter(|at| *at < argv.len()).collect(),
            None => self.key_positions(argv.len()).collect(),
        };
        positions.into_iter().map(move |at| &argv[at])
    }

    /// Whether the command has keys to find (fixed or movable).
    pub fn has_keys(&self) -> bool {
        self.first_key > 0 || self.movable_keys.is_some()
    }
}

/// A container command's subcommand `sub` (in any case) among `subcommands` (named
/// `container|sub`), checked against its arity (`remaining` arguments follow it): its name
/// after the bar, or Redis's unknown-subcommand or arity error.
pub fn find_subcommand(
    container: &str,
    subcommands: &[&'static CommandSpec],
    sub: &[u8],
    remaining: usize,
) -> Result<&'static str> {
    let spec = subcommands
        .iter()
        .find(|spec| crate::args::is(sub, &spec.name[container.len() + 1..]))
        .ok_or_else(|| crate::error::Error::unknown_subcommand(container, sub))?;
    if !spec.arity_ok(remaining + 2) {
        return Err(crate::error::Error::wrong_arity(spec.name));
    }
    Ok(&spec.name[container.len() + 1..])
}

/// The key of a container command's subcommand (OBJECT ENCODING key, XINFO STREAM key,
/// XGROUP CREATE key ...): right after the subcommand's name, when there is one.
pub fn key_after_subcommand(argv: &[Bytes]) -> Vec<usize> {
    if argv.len() > 2 {
        vec![2]
    } else {
        Vec::new()
    }
}

/// Positions of keys that follow a count (Redis's `keynum` key specs): the count at
/// `count_at`, the keys from the argument after it (or `skip` more arguments later), as far
/// as `argv` goes; nothing when the count is not a positive number.
pub fn keys_after_count(argv: &[Bytes], count_at: usize, skip: usize) -> Vec<usize> {
    let count = argv.get(count_at).and_then(|count| crate::args::parse_i64(count)).filter(|count| *count > 0);
    let first = count_at + 1 + skip;
    let count = count.map_or(0, |count| count.min(argv.len() as i64) as usize);
    (first..argv.len()).take(count).collect()
}

/// What a read sees: the selected database, the reader's clock, and a seeded generator.
pub struct ReadCtx<'a> {
    pub db: DbIndex,
    pub now_ms: TimeMs,
    pub rng: &'a mut Rng,
    /// Run by a script's `redis.call` (SORT then orders a set's elements, as Redis does).
    pub from_script: bool,
}

/// What a write sees while its log entry is applied: the selected database, the leader's
/// time stamp, the entry's log index and a seed for random choices (drawn from the
/// keyspace's secret and the request's place in the log). Nothing else, so every replica
/// computes the same.
#[derive(Clone, Copy, Debug)]
pub struct WriteCtx {
    pub db: DbIndex,
    pub now_ms: TimeMs,
    pub index: u64,
    pub random_seed: u64,
    /// Run by a script's `redis.call` (SORT then orders a set's elements, as Redis does).
    pub from_script: bool,
}

impl WriteCtx {
    pub fn in_db(self, db: DbIndex) -> WriteCtx {
        WriteCtx { db, ..self }
    }

    /// A generator for this request's random choices.
    pub fn rng(&self) -> crate::rng::Rng {
        crate::rng::Rng::new(self.random_seed)
    }
}

/// Parsing and replying, shared by reads and writes.
pub trait Command: Sized {
    type Output;
    fn parse(args: &mut Args) -> Result<Self>;
    fn reply(output: Self::Output) -> Reply;
    /// For a command flagged `blocking`: whether this call may wait (XREAD and XREADGROUP
    /// wait only with BLOCK; the others always may).
    fn may_wait(&self) -> bool {
        true
    }
}

/// A command that only reads the keyspace: served by the leader after a read barrier, or by
/// a follower when the client asked for stale reads.
pub trait ReadCommand: Command {
    fn read(&self, keyspace: &Keyspace, ctx: &mut ReadCtx) -> Result<Self::Output>;
}

/// A command that may change the keyspace: it travels through the log and is applied by every
/// replica, deterministically.
pub trait WriteCommand: Command {
    fn write(&self, keyspace: &mut Keyspace, ctx: &WriteCtx) -> Result<Self::Output>;
}

/// A write that often changes nothing (SADD of members already there, SREM of absent ones):
/// when applying it now would change nothing — no value, version or expiry — its reply is
/// what a read of the applied state answers. Served that way, at a linearizable read's point
/// and with no log entry, it costs what a read costs, as in Redis, which neither logs nor
/// propagates a write that changed nothing.
pub trait MayChangeNothing: WriteCommand {
    /// The reply, if applying it to `keyspace` at `now_ms` would change nothing; `None` when it
    /// would change something (or fail: the write then answers the error).
    fn reply_if_unchanged(&self, keyspace: &Keyspace, db: DbIndex, now_ms: TimeMs) -> Option<Reply>;
}

/// Runs a read and renders its reply (errors become error replies).
pub fn run_read<C: ReadCommand>(command: &C, keyspace: &Keyspace, ctx: &mut ReadCtx) -> Reply {
    command.read(keyspace, ctx).map_or_else(Reply::from, C::reply)
}

/// Runs a write and renders its reply (errors become error replies).
pub fn run_write<C: WriteCommand>(command: &C, keyspace: &mut Keyspace, ctx: &WriteCtx) -> Reply {
    command.write(keyspace, ctx).map_or_else(Reply::from, C::reply)
}

/// A command that may wait for a key to be ready (BLPOP ...). Applied from a `Block` request
/// it waits in the state machine when it finds nothing; anywhere else (in MULTI, as Redis
/// does) it answers at once, as if it had timed out.
pub trait BlockingCommand {
    /// The keys it waits on, in the order given.
    fn keys(&self) -> &[Bytes];
    /// How long it may wait, in milliseconds; `None` waits for ever.
    fn timeout_ms(&self) -> Option<u64>;
    /// Serves it now if it can: from the first ready key of its own, or from `ready` (a key
    /// that just became ready, when serving a waiter). `Ok(None)`: nothing to take, nothing
    /// changed. When serving a waiter, a ready key of another type is not ready (`Ok(None)`:
    /// the waiter keeps waiting, as in Redis) while any other error is the waiter's answer
    /// (BLMOVE to a destination of another type: `WRONGTYPE`, and the element stays).
    fn try_serve(&self, keyspace: &mut Keyspace, ctx: &WriteCtx, ready: Option<&[u8]>) -> Result<Option<Reply>>;
    /// The reply when the wait ends with nothing.
    fn timeout_reply(&self) -> Reply;
    /// A key it pushes to when served (BLMOVE's destination): may make other waiters ready.
    fn destination(&self) -> Option<&[u8]> {
        None
    }
    /// Whether serving it takes what it waited for (a pop): then, once a waiter of a key
    /// cannot be served, none after it can. Stream readers take nothing from each other:
    /// each is tried in turn.
    fn served_in_turn(&self) -> bool {
        true
    }
    /// The arguments to register its waiter with, when they must be pinned to the state it
    /// starts waiting in (XREAD's `$` becomes each stream's last id); `None` keeps its own.
    fn argv_to_wait(&self, _keyspace: &Keyspace, _db: DbIndex, _now_ms: TimeMs) -> Option<Vec<Bytes>> {
        None
    }
}

/// For a waiter being served: a ready key of another type leaves it waiting.
pub fn other_type_is_not_ready<T>(served: Result<Option<T>>) -> Result<Option<T>> {
    match served {
        Err(error) if error == crate::error::Error::WRONG_TYPE => Ok(None),
        served => served,
    }
}

/// The write of a blocking command outside a `Block` request: it never waits.
pub fn serve_or_time_out<C: BlockingCommand>(command: &C, keyspace: &mut Keyspace, ctx: &WriteCtx) -> Result<Reply> {
    Ok(command.try_serve(keyspace, ctx, None)?.unwrap_or_else(|| command.timeout_reply()))
}

/// A connection or server command, carried out by the session against the node.
pub trait NodeCommand: Sized {
    fn parse(args: &mut Args) -> Result<Self>;
    fn execute(
        self,
        session: &mut crate::session::Session,
        host: &dyn crate::session::Host,
    ) -> Result<crate::session::Action>;
}
