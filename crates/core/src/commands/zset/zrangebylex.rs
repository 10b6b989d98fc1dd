//! ZRANGEBYLEX key min max [LIMIT offset count]
//!
//! O(log N + M): see [`super::range`].

use super::range::{By, RangeQuery};
use super::score::members_reply;
use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "zrangebylex",
    arity: -4,
    flags: &["readonly"],
    first_key: 1,
    last_key: 1,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["RO", "access"], begin_index: 1, last_key: 0, key_step: 1 }],
    acl_categories: &["@read", "@sortedset", "@slow"],
    tips: &[],
    group: "sorted-set",
    since: "2.8.9",
    complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).",
    summary: "Return a range of members in a sorted set, by lexicographical range",
    deprecated: Some(("6.2.0", "`ZRANGE` with the `BYLEX` argument")),
    movable_keys: None,
    subcommands: &[],
};

pub struct ZRangeByLex(RangeQuery);

impl Command for ZRangeByLex {
    type Output = (Vec<(Bytes, f64)>, bool);

    fn parse(args: &mut Args) -> Result<Self> {
        RangeQuery::parse(args, false, By::Lex, Some(false)).map(ZRangeByLex)
    }

    fn reply((members, with_scores): (Vec<(Bytes, f64)>, bool)) -> Reply {
        members_reply(members, with_scores)
    }
}

impl ReadCommand for ZRangeByLex {
    fn read(&self, keyspace: &Keyspace, ctx: &mut ReadCtx) -> Result<(Vec<(Bytes, f64)>, bool)> {
        Ok((self.0.read(keyspace.db(ctx.db), ctx.now_ms)?, self.0.with_scores))
    }
}

#[cfg(test)]
mod tests {
    use crate::commands::zset::testing::*;

    #[test]
    fn ranges_by_member() {
        both(|ks, _| {
            run(ks, &["zadd", "z", "0", "a", "0", "b", "0", "c", "0", "d"]);
            assert_eq!(run(ks, &["zrangebylex", "z", "(a", "[c"]), bulks(&["b", "c"]));
            assert_eq!(run(ks, &["zrangebylex", "z", "-", "+", "LIMIT", "1", "2"]), bulks(&["b", "c"]));
            assert_eq!(
                run(ks, &["zrangebylex", "z", "-", "+", "WITHSCORES"]),
                error("ERR syntax error, WITHSCORES not supported in combination with BYLEX")
            );
            assert_eq!(run(ks, &["zrangebylex", "z", "a", "+"]), error("ERR min or max not valid string range item"));
        });
    }
}
