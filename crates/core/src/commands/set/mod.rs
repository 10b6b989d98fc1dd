//! Sets (`t_set.c`), one command per file.
//!
//! - [`sadd`] — SADD key member [member ...]
//! - [`scard`] — SCARD key
//! - [`sdiff`] — SDIFF key [key ...]
//! - [`sdiffstore`] — SDIFFSTORE destination key [key ...]
//! - [`sinter`] — SINTER key [key ...]
//! - [`sintercard`] — SINTERCARD numkeys key [key ...] [LIMIT limit]
//! - [`sinterstore`] — SINTERSTORE destination key [key ...]
//! - [`sismember`] — SISMEMBER key member
//! - [`smembers`] — SMEMBERS key
//! - [`smismember`] — SMISMEMBER key member [member ...]
//! - [`smove`] — SMOVE source destination member
//! - [`spop`] — SPOP key [count]: random choices drawn from the log entry's seed.
//! - [`srandmember`] — SRANDMEMBER key [count]
//! - [`srem`] — SREM key member [member ...]
//! - [`sscan`] — SSCAN key cursor [MATCH pattern] [COUNT count]
//! - [`sunion`] — SUNION key [key ...]
//! - [`sunionstore`] — SUNIONSTORE destination key [key ...]

pub mod sadd;
pub mod scard;
pub mod sdiff;
pub mod sdiffstore;
pub mod sinter;
pub mod sintercard;
pub mod sinterstore;
pub mod sismember;
pub mod smembers;
pub mod smismember;
pub mod smove;
pub mod spop;
pub mod srandmember;
pub mod srem;
pub mod sscan;
pub mod sunion;
pub mod sunionstore;

#[cfg(test)]
pub(crate) mod testing {
    //! What the set commands' tests share.

    pub use crate::commands::testing::*;
    pub use crate::keyspace::Keyspace;
    pub use crate::reply::Reply;

    pub const T: u64 = 1_000_000;
    pub const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";

    pub fn int(value: i64) -> Reply {
        Reply::Integer(value)
    }

    /// The bulk strings of an array or set reply, sorted.
    pub fn texts(reply: Reply) -> Vec<String> {
        let (Reply::Array(items) | Reply::Set(items)) = reply else { panic!("not an array or set: {reply:?}") };
        let mut texts: Vec<String> = items
            .into_iter()
            .map(|item| match item {
                Reply::Bulk(bytes) => String::from_utf8(bytes.to_vec()).unwrap(),
                other => panic!("not a bulk: {other:?}"),
            })
            .collect();
        texts.sort();
        texts
    }

    /// The members of the set at `key`, sorted.
    pub fn members(ks: &Keyspace, key: &str) -> Vec<String> {
        texts(read(ks, T, &["smembers", key]))
    }

    pub fn encoding(ks: &Keyspace, key: &str) -> Reply {
        read(ks, T, &["object", "encoding", key])
    }

    /// Adds `members` to the set at `key`.
    pub fn sadd(ks: &mut Keyspace, key: &str, members: &[&str]) {
        let words: Vec<&str> = ["sadd", key].into_iter().chain(members.iter().copied()).collect();
        write(ks, T, &words);
    }

    pub fn strings(items: &[&str]) -> Vec<String> {
        let mut items: Vec<String> = items.iter().map(|item| item.to_string()).collect();
        items.sort();
        items
    }
}
