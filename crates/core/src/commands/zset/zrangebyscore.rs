//! ZRANGEBYSCORE key min max [WITHSCORES] [LIMIT offset count]
//!
//! O(log N + M): see [`super::range`].

use super::range::{By, RangeQuery};
use super::score::members_reply;
use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "zrangebyscore",
    arity: -4,
    flags: &["readonly"],
    first_key: 1,
    last_key: 1,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["RO", "access"], begin_index: 1, last_key: 0, key_step: 1 }],
    acl_categories: &["@read", "@sortedset", "@slow"],
    tips: &[],
    group: "sorted-set",
    since: "1.0.5",
    complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).",
    summary: "Return a range of members in a sorted set, by score",
    deprecated: Some(("6.2.0", "`ZRANGE` with the `BYSCORE` argument")),
    movable_keys: None,
    subcommands: &[],
};

pub struct ZRangeByScore(RangeQuery);

impl Command for ZRangeByScore {
    type Output = (Vec<(Bytes, f64)>, bool);

    fn parse(args: &mut Args) -> Result<Self> {
        RangeQuery::parse(args, false, By::Score, Some(false)).map(ZRangeByScore)
    }

    fn reply((members, with_scores): (Vec<(Bytes, f64)>, bool)) -> Reply {
        members_reply(members, with_scores)
    }
}

impl ReadCommand for ZRangeByScore {
    fn read(&self, keyspace: &Keyspace, ctx: &mut ReadCtx) -> Result<(Vec<(Bytes, f64)>, bool)> {
        Ok((self.0.read(keyspace.db(ctx.db), ctx.now_ms)?, self.0.with_scores))
    }
}

#[cfg(test)]
mod tests {
    use crate::commands::zset::testing::*;

    #[test]
    fn ranges_by_score() {
        both(|ks, _| {
            run(ks, &["zadd", "z", "-inf", "a", "1", "b", "2", "c", "3", "d", "+inf", "e"]);
            assert_eq!(run(ks, &["zrangebyscore", "z", "(1", "+inf"]), bulks(&["c", "d", "e"]));
            assert_eq!(
                run(ks, &["zrangebyscore", "z", "-inf", "(1", "WITHSCORES"]),
                scored(&[("a", f64::NEG_INFINITY)])
            );
            assert_eq!(
                run(ks, &["zrangebyscore", "z", "0", "10", "LIMIT", "1", "1", "WITHSCORES"]),
                scored(&[("c", 2.0)])
            );
            assert_eq!(run(ks, &["zrangebyscore", "z", "0", "10", "LIMIT", "-1", "1"]), bulks(&[]));
            assert_eq!(run(ks, &["zrangebyscore", "z", "0", "10", "REV"]), error("ERR syntax error"));
            assert_eq!(run(ks, &["zrangebyscore", "z", "0", "10", "BYLEX"]), error("ERR syntax error"));
            assert_eq!(run(ks, &["zrangebyscore", "z", "x", "10"]), error("ERR min or max is not a float"));
            assert_eq!(run(ks, &["zrangebyscore", "z", "nan", "10"]), error("ERR min or max is not a float"));
        });
    }
}
