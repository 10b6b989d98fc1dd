//! The command table: every command Concord knows, one file each (spec, parse, apply,
//! reply), grouped in one module per `COMMAND DOCS` group, as Redis groups them in `t_*.c`:
//!
//! - [`string`], [`hash`], [`list`], [`set`], [`zset`], [`stream`]: the value types' commands.
//! - [`bitmap`]: strings as bit arrays; [`hyperloglog`]: strings as cardinality estimators.
//! - [`geo`]: positions on Earth, kept in sorted sets.
//! - [`generic`]: keys of any type (expiry, renames, scans, introspection).
//! - [`pubsub`]: subscriptions and messages (the node's broker delivers them).
//! - [`server`], [`connection`], [`transactions`], [`scripting`], [`cluster`]: the rest.
//! - [`helpers`]: typed access to values and small shared rules.
//! - [`unchanged`]: the writes that can be answered as reads when they would change nothing.
//!
//! Keyspace commands are *reads* (served after a read barrier, or stale on request) or
//! *writes* (proposed to the log and applied by every replica). Connection and server
//! commands are *node* commands, executed by the session against the node's host port.

use crate::args::Args;
use crate::command::BlockingCommand;
use crate::command::{run_read, run_write, Command, CommandSpec, NodeCommand, ReadCtx, WriteCtx};
use crate::error::Result;
use crate::keyspace::Keyspace;
use crate::reply::Reply;
use crate::session::{Action, Host, Session};
use std::sync::OnceLock;

pub mod bitmap;
pub mod cluster;
pub mod connection;
pub mod generic;
pub mod geo;
pub mod hash;
pub mod helpers;
pub mod hyperloglog;
pub mod list;
pub mod pubsub;
pub mod scripting;
pub mod server;
pub mod set;
pub mod stream;
pub mod string;
pub mod transactions;
pub mod unchanged;
pub mod zset;

/// What command files import.
pub(crate) mod prelude {
    pub use super::helpers::*;
    pub use crate::args::{is, parse_i64, Args};
    pub use crate::command::{
        Command, CommandSpec, KeySpec, MayChangeNothing, ReadCommand, ReadCtx, WriteCommand, WriteCtx,
    };
    pub use crate::error::{Error, Result};
    pub use crate::keyspace::{Blob, Db, Encodings, HashValue, Keyspace, ListValue, SetValue, Value, ZSetValue};
    pub use crate::limits::*;
    pub use crate::notifications::EventClass;
    pub use crate::pattern::Pattern;
    pub use crate::reply::Reply;
    pub use crate::types::{DbIndex, TimeMs};
    pub use bytes::{Bytes, BytesMut};
}

macro_rules! registry {
    (
        read: { $($rf:ident :: $rm:ident :: $rt:ident),* $(,)? }
        write: { $($wf:ident :: $wm:ident :: $wt:ident),* $(,)? }
        node: { $($nf:ident :: $nm:ident :: $nt:ident),* $(,)? }
        blocking: { $($bf:ident :: $bm:ident :: $bt:ident),* $(,)? }
    ) => {
        /// A parsed blocking command, as a waiter runs it (each is a write as well).
        pub enum BlockingOp { $($bt($bf::$bm::$bt),)* }

        impl BlockingOp {
            /// Parses a blocking command from a full `argv`; `Ok(None)` for any other command.
            pub fn parse(argv: &[bytes::Bytes]) -> Result<Option<BlockingOp>> {
                let Some(entry) = argv.first().and_then(|name| lookup(name)) else {
                    return Ok(None);
                };
                if !entry.spec.arity_ok(argv.len()) {
                    return Err(crate::error::Error::wrong_arity(entry.spec.name));
                }
                let mut args = Args::new(&argv[1..]);
                $(if entry.spec.name == $bf::$bm::SPEC.name {
                    return <$bf::$bm::$bt as Command>::parse(&mut args).map(|op| Some(BlockingOp::$bt(op)));
                })*
                let _ = &mut args;
                Ok(None)
            }

            pub fn keys(&self) -> &[bytes::Bytes] {
                match *self { $(BlockingOp::$bt(ref op) => op.keys(),)* }
            }

            pub fn timeout_ms(&self) -> Option<u64> {
                match *self { $(BlockingOp::$bt(ref op) => op.timeout_ms(),)* }
            }

            pub fn destination(&self) -> Option<&[u8]> {
                match *self { $(BlockingOp::$bt(ref op) => op.destination(),)* }
            }

            pub fn try_serve(&self, keyspace: &mut Keyspace, ctx: &WriteCtx, ready: Option<&[u8]>) -> Result<Option<Reply>> {
                match *self { $(BlockingOp::$bt(ref op) => op.try_serve(keyspace, ctx, ready),)* }
            }

            pub fn timeout_reply(&self) -> Reply {
                match *self { $(BlockingOp::$bt(ref op) => op.timeout_reply(),)* }
            }

            pub fn served_in_turn(&self) -> bool {
                match *self { $(BlockingOp::$bt(ref op) => op.served_in_turn(),)* }
            }

            pub fn argv_to_wait(&self, keyspace: &Keyspace, db: crate::types::DbIndex, now_ms: crate::types::TimeMs) -> Option<Vec<bytes::Bytes>> {
                match *self { $(BlockingOp::$bt(ref op) => op.argv_to_wait(keyspace, db, now_ms),)* }
            }
        }


        /// A parsed keyspace read.
        pub enum ReadOp { $($rt($rf::$rm::$rt),)* }

        /// A parsed keyspace write.
        pub enum WriteOp { $($wt($wf::$wm::$wt),)* }

        /// A connection or server command, executed by the session.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum NodeOp { $($nt,)* }

        impl ReadOp {
            pub fn run(&self, keyspace: &Keyspace, ctx: &mut ReadCtx) -> Reply {
                match self { $(ReadOp::$rt(command) => run_read(command, keyspace, ctx),)* }
            }

            pub fn may_wait(&self) -> bool {
                match self { $(ReadOp::$rt(command) => command.may_wait(),)* }
            }
        }

        impl WriteOp {
            pub fn run(&self, keyspace: &mut Keyspace, ctx: &WriteCtx) -> Reply {
                match self { $(WriteOp::$wt(command) => run_write(command, keyspace, ctx),)* }
            }

            pub fn may_wait(&self) -> bool {
                match self { $(WriteOp::$wt(command) => command.may_wait(),)* }
            }
        }

        /// Parses and carries out a node command.
        pub fn execute_node(op: NodeOp, args: &mut Args, session: &mut Session, host: &dyn Host) -> Result<Action> {
            match op { $(NodeOp::$nt => <$nf::$nm::$nt as NodeCommand>::parse(args)?.execute(session, host),)* }
        }

        /// Every command, in no particular order.
        pub static TABLE: &[Entry] = &[
            $(Entry { spec: &$rf::$rm::SPEC, kind: Kind::Read(|args| <$rf::$rm::$rt as Command>::parse(args).map(ReadOp::$rt)) },)*
            $(Entry { spec: &$wf::$wm::SPEC, kind: Kind::Write(|args| <$wf::$wm::$wt as Command>::parse(args).map(WriteOp::$wt)) },)*
            $(Entry { spec: &$nf::$nm::SPEC, kind: Kind::Node(NodeOp::$nt) },)*
        ];
    };
}

registry! {
    read: {
        string::get::Get, string::mget::MGet, string::strlen::StrLen, string::getrange::GetRange,
        string::substr::SubStr, string::lcs::Lcs,
        generic::exists::Exists, generic::touch::Touch, generic::type_::Type, generic::ttl::Ttl,
        generic::pttl::PTtl, generic::expiretime::ExpireTime, generic::pexpiretime::PExpireTime,
        generic::keys::Keys, generic::scan::Scan, generic::dump::Dump, generic::randomkey::RandomKey,
        generic::object::Object, generic::sort_ro::SortRo,
        server::dbsize::DbSize, server::memory::Memory,
        hash::hget::HGet, hash::hmget::HMGet, hash::hgetall::HGetAll, hash::hkeys::HKeys, hash::hvals::HVals,
        hash::hlen::HLen, hash::hexists::HExists, hash::hstrlen::HStrLen, hash::hscan::HScan,
        hash::hrandfield::HRandField,
        list::llen::LLen, list::lrange::LRange, list::lindex::LIndex, list::lpos::LPos,
        set::smembers::SMembers, set::sismember::SIsMember, set::smismember::SMIsMember, set::scard::SCard,
        set::srandmember::SRandMember, set::sinter::SInter, set::sintercard::SInterCard, set::sunion::SUnion,
        set::sdiff::SDiff, set::sscan::SScan, bitmap::getbit::GetBit, bitmap::bitcount::BitCount,
        bitmap::bitpos::BitPos, bitmap::bitfield_ro::BitFieldRo,
        zset::zcard::ZCard, zset::zscore::ZScore, zset::zmscore::ZMScore, zset::zrank::ZRank,
        zset::zrevrank::ZRevRank, zset::zcount::ZCount, zset::zlexcount::ZLexCount, zset::zrange::ZRange,
        zset::zrangebyscore::ZRangeByScore, zset::zrevrangebyscore::ZRevRangeByScore,
        zset::zrangebylex::ZRangeByLex, zset::zrevrangebylex::ZRevRangeByLex, zset::zrevrange::ZRevRange,
        zset::zrandmember::ZRandMember, zset::zunion::ZUnion, zset::zinter::ZInter,
        zset::zintercard::ZInterCard, zset::zdiff::ZDiff, zset::zscan::ZScan, geo::geopos::GeoPos,
        geo::geodist::GeoDist, geo::geohash::GeoHash, geo::geosearch::GeoSearch,
        geo::georadius_ro::GeoRadiusRo, geo::georadiusbymember_ro::GeoRadiusByMemberRo,
        stream::xlen::XLen, stream::xrange::XRange, stream::xrevrange::XRevRange, stream::xread::XRead,
        stream::xpending::XPending, stream::xinfo::XInfo,
        scripting::eval_ro::EvalRo, scripting::evalsha_ro::EvalShaRo, scripting::fcall_ro::FCallRo,
    }
    write: {
        string::set::Set, string::setnx::SetNx, string::setex::SetEx, string::psetex::PSetEx,
        string::getset::GetSet, string::getdel::GetDel, string::getex::GetEx, string::mset::MSet,
        string::msetnx::MSetNx, string::append::Append, string::incr::Incr, string::decr::Decr,
        string::incrby::IncrBy, string::decrby::DecrBy, string::incrbyfloat::IncrByFloat,
        string::setrange::SetRange,
        generic::del::Del, generic::unlink::Unlink, generic::expire::Expire, generic::pexpire::PExpire,
        generic::expireat::ExpireAt, generic::pexpireat::PExpireAt, generic::persist::Persist,
        generic::rename::Rename, generic::renamenx::RenameNx, generic::copy::Copy, generic::move_::Move,
        generic::restore::Restore, server::flushdb::FlushDb, server::flushall::FlushAll,
        server::swapdb::SwapDb, hash::hset::HSet, hash::hmset::HMSet, hash::hsetnx::HSetNx, hash::hdel::HDel,
        hash::hincrby::HIncrBy, hash::hincrbyfloat::HIncrByFloat, list::lpush::LPush, list::rpush::RPush,
        list::lpushx::LPushX, list::rpushx::RPushX, list::lpop::LPop, list::rpop::RPop, list::lset::LSet,
        list::linsert::LInsert, list::lrem::LRem, list::ltrim::LTrim, list::lmove::LMove,
        list::rpoplpush::RPopLPush, list::lmpop::LMPop, list::blpop::BLPop, list::brpop::BRPop,
        list::blmove::BLMove, list::brpoplpush::BRPopLPush, list::blmpop::BLMPop, generic::sort::Sort,
        set::sadd::SAdd, set::srem::SRem, set::spop::SPop, set::smove::SMove, set::sinterstore::SInterStore,
        set::sunionstore::SUnionStore, set::sdiffstore::SDiffStore, bitmap::setbit::SetBit,
        bitmap::bitop::BitOp, bitmap::bitfield::BitField, hyperloglog::pfadd::PfAdd, hyperloglog::pfcount::PfCount,
        hyperloglog::pfmerge::PfMerge, hyperloglog::pfdebug::PfDebug, zset::zadd::ZAdd,
        zset::zincrby::ZIncrBy, zset::zrem::ZRem, zset::zrangestore::ZRangeStore,
        zset::zremrangebyscore::ZRemRangeByScore, zset::zremrangebyrank::ZRemRangeByRank,
        zset::zremrangebylex::ZRemRangeByLex, zset::zpopmin::ZPopMin, zset::zpopmax::ZPopMax,
        zset::zmpop::ZMPop, zset::bzpopmin::BZPopMin, zset::bzpopmax::BZPopMax, zset::bzmpop::BZMPop, zset::zunionstore::ZUnionStore, zset::zinterstore::ZInterStore,
        zset::zdiffstore::ZDiffStore, geo::geoadd::GeoAdd, geo::geosearchstore::GeoSearchStore,
        geo::georadius::GeoRadius, geo::georadiusbymember::GeoRadiusByMember,
        stream::xadd::XAdd, stream::xdel::XDel, stream::xtrim::XTrim, stream::xsetid::XSetId,
        stream::xgroup::XGroup, stream::xack::XAck, stream::xclaim::XClaim, stream::xautoclaim::XAutoClaim,
        stream::xreadgroup::XReadGroup,
        scripting::eval::Eval, scripting::evalsha::EvalSha, scripting::script::Script,
        scripting::fcall::FCall, scripting::function::Function,
    }
    node: {
        connection::ping::Ping, connection::echo::Echo, connection::hello::Hello, connection::client::Client,
        connection::select::Select, connection::quit::Quit, connection::reset::Reset,
        server::command_::Command, server::info::Info, server::config::Config, server::time::Time, server::shutdown::Shutdown,
        server::debug::Debug,
        transactions::multi::Multi, transactions::exec::Exec, transactions::discard::Discard,
        transactions::watch::Watch, transactions::unwatch::Unwatch,
        cluster::readonly::ReadOnly, cluster::readwrite::ReadWrite, cluster::cluster_::Cluster, cluster::asking::Asking,
        hyperloglog::pfselftest::PfSelfTest,
        pubsub::subscribe::Subscribe, pubsub::unsubscribe::Unsubscribe, pubsub::psubscribe::PSubscribe,
        pubsub::punsubscribe::PUnsubscribe, pubsub::publish::Publish, pubsub::pubsub_::PubSub,
        pubsub::ssubscribe::SSubscribe, pubsub::sunsubscribe::SUnsubscribe, pubsub::spublish::SPublish,
    }
    blocking: {
        list::blpop::BLPop, list::brpop::BRPop, list::blmove::BLMove, list::brpoplpush::BRPopLPush,
        list::blmpop::BLMPop, zset::bzpopmin::BZPopMin, zset::bzpopmax::BZPopMax, zset::bzmpop::BZMPop,
        stream::xread::XRead, stream::xreadgroup::XReadGroup,
    }
}

/// How a command is carried out.
#[derive(Clone, Copy)]
pub enum Kind {
    Read(fn(&mut Args) -> Result<ReadOp>),
    Write(fn(&mut Args) -> Result<WriteOp>),
    Node(NodeOp),
}

pub struct Entry {
    pub spec: &'static CommandSpec,
    pub kind: Kind,
}

/// Command names are at most this long; longer names cannot match.
const NAME_BYTES_MAX: usize = 32;

/// The command called `name`, in any letter case.
pub fn lookup(name: &[u8]) -> Option<&'static Entry> {
    lookup_index(name).map(|index| &TABLE[index])
}

/// The position in [`TABLE`] of the command called `name`, in any letter case: what per-command
/// counters are indexed by.
pub fn lookup_index(name: &[u8]) -> Option<usize> {
    static INDEX: OnceLock<NameIndex> = OnceLock::new();
    if name.len() > NAME_BYTES_MAX {
        return None;
    }
    let mut lower = [0u8; NAME_BYTES_MAX];
    let lower = &mut lower[..name.len()];
    lower.copy_from_slice(name);
    lower.make_ascii_lowercase();
    INDEX.get_or_init(NameIndex::new).get(lower)
}

/// Every command by a hash of its name, probed linearly: every request looks its command up,
/// and this costs one hash and usually one comparison (a search tree costs several).
struct NameIndex {
    slots: Vec<Option<u16>>,
}

const _: () = assert!(TABLE.len() < u16::MAX as usize);

impl NameIndex {
    fn new() -> NameIndex {
        // At most a quarter full, so probe runs stay short.
        let mut slots: Vec<Option<u16>> = vec![None; (TABLE.len() * 4).next_power_of_two()];
        for (index, entry) in TABLE.iter().enumerate() {
            let mask = slots.len() - 1;
            let mut slot = name_hash(entry.spec.name.as_bytes()) & mask;
            while let Some(other) = slots[slot] {
                assert_ne!(TABLE[usize::from(other)].spec.name, entry.spec.name, "command names are unique");
                slot = (slot + 1) & mask;
            }
            slots[slot] = Some(index as u16);
        }
        NameIndex { slots }
    }

    fn get(&self, lowercase_name: &[u8]) -> Option<usize> {
        let mask = self.slots.len() - 1;
        let mut slot = name_hash(lowercase_name) & mask;
        loop {
            let index = usize::from(self.slots[slot]?);
            if TABLE[index].spec.name.as_bytes() == lowercase_name {
                return Some(index);
            }
            slot = (slot + 1) & mask;
        }
    }
}

/// FNV-1a: command names are few, short and fixed, so no seed is needed.
fn name_hash(name: &[u8]) -> usize {
    name.iter().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3))
        as usize
}

/// Parses a keyspace command from a full `argv` (name first), checking arity. `Ok(None)` for
/// node commands; an error reply for unknown commands and bad arguments.
pub fn parse_keyspace_command(argv: &[bytes::Bytes]) -> Result<Option<KeyspaceOp>> {
    let name = argv.first().ok_or(crate::error::Error::SYNTAX)?;
    let entry = lookup(name).ok_or_else(|| crate::error::Error::unknown_command(name, &argv[1..]))?;
    if !entry.spec.arity_ok(argv.len()) {
        return Err(crate::error::Error::wrong_arity(entry.spec.name));
    }
    let mut args = Args::new(&argv[1..]);
    Ok(match entry.kind {
        Kind::Read(parse) => Some(KeyspaceOp::Read(parse(&mut args)?)),
        Kind::Write(parse) => Some(KeyspaceOp::Write(parse(&mut args)?)),
        Kind::Node(_) => None,
    })
}

/// A parsed keyspace command of either kind.
pub enum KeyspaceOp {
    Read(ReadOp),
    Write(WriteOp),
}

#[cfg(test)]
pub(crate) mod testing {
    //! Running commands against a keyspace in unit tests, through the same table the node uses.

    use super::*;
    use crate::rng::Rng;
    use bytes::Bytes;

    pub fn argv(words: &[&str]) -> Vec<Bytes> {
        words.iter().map(|word| Bytes::copy_from_slice(word.as_bytes())).collect()
    }

    pub fn parse<C: Command>(words: &[&str]) -> Result<C> {
        let items = argv(words);
        C::parse(&mut Args::new(&items))
    }

    /// Applies any command (read or write) at time `now_ms`, as a log entry would.
    pub fn write(keyspace: &mut Keyspace, now_ms: u64, words: &[&str]) -> Reply {
        write_argv(keyspace, now_ms, &argv(words))
    }

    /// [`write`] with arguments that are not text.
    pub fn write_argv(keyspace: &mut Keyspace, now_ms: u64, argv: &[Bytes]) -> Reply {
        let ctx = WriteCtx { db: 0, now_ms, index: now_ms, random_seed: now_ms, from_script: false };
        match parse_keyspace_command(argv) {
            Ok(Some(KeyspaceOp::Write(op))) => op.run(keyspace, &ctx),
            Ok(Some(KeyspaceOp::Read(op))) => {
                op.run(keyspace, &mut ReadCtx { db: 0, now_ms, rng: &mut Rng::new(1), from_script: false })
            }
            Ok(None) => panic!("not a keyspace command"),
            Err(error) => error.into(),
        }
    }

    /// [`write`] with arguments that are not text.
    pub fn write_bytes(keyspace: &mut Keyspace, now_ms: u64, words: &[&[u8]]) -> Reply {
        let argv: Vec<Bytes> = words.iter().map(|word| Bytes::copy_from_slice(word)).collect();
        let ctx = WriteCtx { db: 0, now_ms, index: now_ms, random_seed: now_ms, from_script: false };
        match parse_keyspace_command(&argv) {
            Ok(Some(KeyspaceOp::Write(op))) => op.run(keyspace, &ctx),
            Ok(_) => panic!("not a write"),
            Err(error) => error.into(),
        }
    }

    pub fn read(keyspace: &Keyspace, now_ms: u64, words: &[&str]) -> Reply {
        match parse_keyspace_command(&argv(words)) {
            Ok(Some(KeyspaceOp::Read(op))) => {
                op.run(keyspace, &mut ReadCtx { db: 0, now_ms, rng: &mut Rng::new(1), from_script: false })
            }
            Ok(_) => panic!("not a read"),
            Err(error) => error.into(),
        }
    }

    pub fn bulk(text: &str) -> Reply {
        Reply::Bulk(Bytes::copy_from_slice(text.as_bytes()))
    }

    pub fn error(text: &str) -> Reply {
        Reply::Error(Bytes::copy_from_slice(text.as_bytes()))
    }
}

#[cfg(test)]
mod tests;
