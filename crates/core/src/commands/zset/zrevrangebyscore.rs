//! ZREVRANGEBYSCORE key max min [WITHSCORES] [LIMIT offset count]
//!
//! O(log N + M): see [`super::range`].

use super::range::{By, RangeQuery};
use super::score::members_reply;
use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "zrevrangebyscore",
    arity: -4,
    flags: &["readonly"],
    first_key: 1,
    last_key: 1,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["RO", "access"], begin_index: 1, last_key: 0, key_step: 1 }],
    acl_categories: &["@read", "@sortedset", "@slow"],
    tips: &[],
    group: "sorted-set",
    since: "2.2.0",
    complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).",
    summary: "Return a range of members in a sorted set, by score, with scores ordered from high to low",
    deprecated: Some(("6.2.0", "`ZRANGE` with the `REV` and `BYSCORE` arguments")),
    movable_keys: None,
    subcommands: &[],
};

pub struct ZRevRangeByScore(RangeQuery);

impl Command for ZRevRangeByScore {
    type Output = (Vec<(Bytes, f64)>, bool);

    fn parse(args: &mut Args) -> Result<Self> {
        RangeQuery::parse(args, false, By::Score, Some(true)).map(ZRevRangeByScore)
    }

    fn reply((members, with_scores): (Vec<(Bytes, f64)>, bool)) -> Reply {
        members_reply(members, with_scores)
    }
}

impl ReadCommand for ZRevRangeByScore {
    fn read(&self, keyspace: &Keyspace, ctx: &mut ReadCtx) -> Result<(Vec<(Bytes, f64)>, bool)> {
        Ok((self.0.read(keyspace.db(ctx.db), ctx.now_ms)?, self.0.with_scores))
    }
}

#[cfg(test)]
mod tests {
    use crate::commands::zset::testing::*;

    #[test]
    fn ranges_by_score_from_the_top() {
        both(|ks, _| {
            run(ks, &["zadd", "z", "1", "a", "2", "b", "3", "c"]);
            assert_eq!(run(ks, &["zrevrangebyscore", "z", "+inf", "(1"]), bulks(&["c", "b"]));
            assert_eq!(
                run(ks, &["zrevrangebyscore", "z", "2", "-inf", "WITHSCORES"]),
                scored(&[("b", 2.0), ("a", 1.0)])
            );
            assert_eq!(run(ks, &["zrevrangebyscore", "z", "1", "2"]), bulks(&[]));
        });
    }
}
