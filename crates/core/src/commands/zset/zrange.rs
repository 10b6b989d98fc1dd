//! ZRANGE key start stop [BYSCORE | BYLEX] [REV] [LIMIT offset count] [WITHSCORES]
//!
//! O(log N + M): see [`super::range`].

use super::range::{By, RangeQuery};
use super::score::members_reply;
use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "zrange",
    arity: -4,
    flags: &["readonly"],
    first_key: 1,
    last_key: 1,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["RO", "access"], begin_index: 1, last_key: 0, key_step: 1 }],
    acl_categories: &["@read", "@sortedset", "@slow"],
    tips: &[],
    group: "sorted-set",
    since: "1.2.0",
    complexity:
        "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements returned.",
    summary: "Return a range of members in a sorted set",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct ZRange(RangeQuery);

impl Command for ZRange {
    type Output = (Vec<(Bytes, f64)>, bool);

    fn parse(args: &mut Args) -> Result<Self> {
        RangeQuery::parse(args, false, By::Any, None).map(ZRange)
    }

    fn reply((members, with_scores): (Vec<(Bytes, f64)>, bool)) -> Reply {
        members_reply(members, with_scores)
    }
}

impl ReadCommand for ZRange {
    fn read(&self, keyspace: &Keyspace, ctx: &mut ReadCtx) -> Result<(Vec<(Bytes, f64)>, bool)> {
        Ok((self.0.read(keyspace.db(ctx.db), ctx.now_ms)?, self.0.with_scores))
    }
}

#[cfg(test)]
mod tests {
    use crate::commands::zset::testing::*;

    #[test]
    fn by_rank_score_and_member_in_both_directions() {
        both(|ks, _| {
            run(ks, &["zadd", "z", "1", "a", "2", "b", "3", "c", "4", "d"]);
            assert_eq!(run(ks, &["zrange", "z", "0", "-1"]), bulks(&["a", "b", "c", "d"]));
            assert_eq!(run(ks, &["zrange", "z", "-2", "-1", "WITHSCORES"]), scored(&[("c", 3.0), ("d", 4.0)]));
            assert_eq!(run(ks, &["zrange", "z", "0", "1", "REV"]), bulks(&["d", "c"]));
            assert_eq!(run(ks, &["zrange", "z", "5", "10"]), bulks(&[]));
            assert_eq!(run(ks, &["zrange", "z", "(1", "3", "BYSCORE"]), bulks(&["b", "c"]));
            assert_eq!(
                run(ks, &["zrange", "z", "3", "(1", "BYSCORE", "REV", "WITHSCORES"]),
                scored(&[("c", 3.0), ("b", 2.0)])
            );
            assert_eq!(run(ks, &["zrange", "z", "-inf", "+inf", "BYSCORE", "LIMIT", "1", "2"]), bulks(&["b", "c"]));
            assert_eq!(run(ks, &["zrange", "z", "+inf", "-inf", "BYSCORE", "REV", "LIMIT", "0", "1"]), bulks(&["d"]));
            assert_eq!(run(ks, &["zrange", "z", "[b", "(d", "BYLEX"]), bulks(&["b", "c"]));
            assert_eq!(
                run(ks, &["zrange", "z", "+", "-", "BYLEX", "REV", "LIMIT", "1", "-1"]),
                bulks(&["c", "b", "a"])
            );
            assert_eq!(run(ks, &["zrange", "z", "0", "-1", "LIMIT", "5", "-1"]), bulks(&["a", "b", "c", "d"]));
            assert_eq!(run(ks, &["zrange", "nokey", "0", "-1"]), bulks(&[]));
        });
    }

    #[test]
    fn option_errors() {
        let ks = &mut Keyspace::new();
        run(ks, &["zadd", "z", "1", "a"]);
        let limit = "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX";
        assert_eq!(run(ks, &["zrange", "z", "0", "-1", "LIMIT", "0", "1"]), error(limit));
        assert_eq!(
            run(ks, &["zrange", "z", "-", "+", "BYLEX", "WITHSCORES"]),
            error("ERR syntax error, WITHSCORES not supported in combination with BYLEX")
        );
        assert_eq!(run(ks, &["zrange", "z", "0", "-1", "LIMIT", "0"]), error("ERR syntax error"));
        assert_eq!(run(ks, &["zrange", "z", "0", "-1", "BYSCORE", "BYLEX"]), error("ERR syntax error"));
        assert_eq!(run(ks, &["zrange", "z", "a", "-1"]), error("ERR value is not an integer or out of range"));
        assert_eq!(run(ks, &["zrange", "z", "a", "1", "BYSCORE"]), error("ERR min or max is not a float"));
        assert_eq!(run(ks, &["zrange", "z", "a", "1", "BYLEX"]), error("ERR min or max not valid string range item"));
        assert_eq!(
            run(ks, &["zrange", "z", "0", "1", "BYSCORE", "LIMIT", "x", "1"]),
            error("ERR value is not an integer or out of range")
        );
    }

    #[test]
    fn large_ranges_read_from_where_they_start() {
        let ks = &mut Keyspace::new();
        for i in 0..1000 {
            run(ks, &["zadd", "z", &i.to_string(), &format!("m{i:04}")]);
        }
        assert_eq!(encoding(ks, "z"), bulk("skiplist"));
        assert_eq!(run(ks, &["zrange", "z", "500", "501"]), bulks(&["m0500", "m0501"]));
        assert_eq!(run(ks, &["zrange", "z", "(997", "+inf", "BYSCORE"]), bulks(&["m0998", "m0999"]));
        assert_eq!(
            run(ks, &["zrange", "z", "(500", "-inf", "BYSCORE", "REV", "LIMIT", "2", "2"]),
            bulks(&["m0497", "m0496"])
        );
    }
}
