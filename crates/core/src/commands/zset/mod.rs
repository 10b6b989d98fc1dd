//! Sorted sets (Redis's `t_zset.c`), one command per file, and what they share:
//!
//! - [`combine`]: unions, intersections and differences (sets count with score 1).
//! - [`pop`]: popping the lowest or highest members (for the blocking pops too).
//! - [`range`]: ranges by rank, score or member, found in O(log N).
//! - [`score`]: score arguments, score and lexical intervals, score text.
//! - [`store`]: where the *STORE commands put their result.
//!
//! - [`bzmpop`] — BZMPOP timeout numkeys key [key ...] MIN | MAX [COUNT count]
//! - [`bzpopmax`] — BZPOPMAX key [key ...] timeout
//! - [`bzpopmin`] — BZPOPMIN key [key ...] timeout
//! - [`zadd`] — ZADD key [NX | XX] [GT | LT] [CH] [INCR] score member [score member ...]
//! - [`zcard`] — ZCARD key
//! - [`zcount`] — ZCOUNT key min max
//! - [`zdiff`] — ZDIFF numkeys key [key ...] [WITHSCORES]
//! - [`zdiffstore`] — ZDIFFSTORE destination numkeys key [key ...]
//! - [`zincrby`] — ZINCRBY key increment member
//! - [`zinter`] — ZINTER numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE SUM | MIN | MAX] [WITHSCORES]
//! - [`zintercard`] — ZINTERCARD numkeys key [key ...] [LIMIT limit]
//! - [`zinterstore`] — ZINTERSTORE destination numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE SUM | MIN | MAX]
//! - [`zlexcount`] — ZLEXCOUNT key min max
//! - [`zmpop`] — ZMPOP numkeys key [key ...] MIN | MAX [COUNT count]
//! - [`zmscore`] — ZMSCORE key member [member ...]
//! - [`zpopmax`] — ZPOPMAX key [count]
//! - [`zpopmin`] — ZPOPMIN key [count]
//! - [`zrandmember`] — ZRANDMEMBER key [count [WITHSCORES]]
//! - [`zrange`] — ZRANGE key start stop [BYSCORE | BYLEX] [REV] [LIMIT offset count] [WITHSCORES]
//! - [`zrangebylex`] — ZRANGEBYLEX key min max [LIMIT offset count]
//! - [`zrangebyscore`] — ZRANGEBYSCORE key min max [WITHSCORES] [LIMIT offset count]
//! - [`zrangestore`] — ZRANGESTORE dst src min max [BYSCORE | BYLEX] [REV] [LIMIT offset count]
//! - [`zrank`] — ZRANK key member
//! - [`zrem`] — ZREM key member [member ...]
//! - [`zremrangebylex`] — ZREMRANGEBYLEX key min max
//! - [`zremrangebyrank`] — ZREMRANGEBYRANK key start stop
//! - [`zremrangebyscore`] — ZREMRANGEBYSCORE key min max
//! - [`zrevrange`] — ZREVRANGE key start stop [WITHSCORES]
//! - [`zrevrangebylex`] — ZREVRANGEBYLEX key max min [LIMIT offset count]
//! - [`zrevrangebyscore`] — ZREVRANGEBYSCORE key max min [WITHSCORES] [LIMIT offset count]
//! - [`zrevrank`] — ZREVRANK key member
//! - [`zscan`] — ZSCAN key cursor [MATCH pattern] [COUNT count]
//! - [`zscore`] — ZSCORE key member
//! - [`zunion`] — ZUNION numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE SUM | MIN | MAX] [WITHSCORES]
//! - [`zunionstore`] — ZUNIONSTORE destination numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE SUM | MIN | MAX]

pub mod bzmpop;
pub mod bzpopmax;
pub mod bzpopmin;
pub mod combine;
pub mod pop;
pub mod range;
pub mod score;
pub mod store;
pub mod zadd;
pub mod zcard;
pub mod zcount;
pub mod zdiff;
pub mod zdiffstore;
pub mod zincrby;
pub mod zinter;
pub mod zintercard;
pub mod zinterstore;
pub mod zlexcount;
pub mod zmpop;
pub mod zmscore;
pub mod zpopmax;
pub mod zpopmin;
pub mod zrandmember;
pub mod zrange;
pub mod zrangebylex;
pub mod zrangebyscore;
pub mod zrangestore;
pub mod zrank;
pub mod zrem;
pub mod zremrangebylex;
pub mod zremrangebyrank;
pub mod zremrangebyscore;
pub mod zrevrange;
pub mod zrevrangebylex;
pub mod zrevrangebyscore;
pub mod zrevrank;
pub mod zscan;
pub mod zscore;
pub mod zunion;
pub mod zunionstore;

#[cfg(test)]
pub(crate) mod testing {
    //! What the sorted-set tests share.

    pub use crate::commands::testing::*;
    pub use crate::keyspace::Keyspace;
    pub use crate::reply::Reply;

    pub const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";

    /// Runs `check` against a keyspace whose sorted sets stay packed, then against one whose
    /// sorted sets are trees from their first member, naming the encoding expected.
    pub fn both(check: impl Fn(&mut Keyspace, &str)) {
        for (entries, encoding) in [(128, "listpack"), (0, "skiplist")] {
            let mut keyspace = Keyspace::new();
            keyspace.encodings_mut().zset_max_listpack_entries = entries;
            check(&mut keyspace, encoding);
        }
    }

    /// Applies a command (read or write).
    pub fn run(keyspace: &mut Keyspace, words: &[&str]) -> Reply {
        write(keyspace, 1_000, words)
    }

    pub fn int(value: i64) -> Reply {
        Reply::Integer(value)
    }

    pub fn double(value: f64) -> Reply {
        Reply::Double(value)
    }

    pub fn bulks(items: &[&str]) -> Reply {
        Reply::Array(items.iter().map(|item| bulk(item)).collect())
    }

    /// Members with scores, as WITHSCORES replies.
    pub fn scored(items: &[(&str, f64)]) -> Reply {
        Reply::Pairs(items.iter().map(|(member, score)| (bulk(member), Reply::Double(*score))).collect())
    }

    pub fn encoding(keyspace: &mut Keyspace, key: &str) -> Reply {
        run(keyspace, &["object", "encoding", key])
    }
}
