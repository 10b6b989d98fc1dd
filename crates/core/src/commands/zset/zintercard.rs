//! ZINTERCARD numkeys key [key ...] [LIMIT limit]

use super::combine::{Combine, Op};
use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "zintercard",
    arity: -3,
    flags: &["readonly", "movablekeys"],
    first_key: 0,
    last_key: 0,
    key_step: 0,
    key_specs: &[],
    acl_categories: &["@read", "@sortedset", "@slow"],
    tips: &[],
    group: "sorted-set",
    since: "7.0.0",
    complexity:
        "O(N*K) worst case with N being the smallest input sorted set, K being the number of input sorted sets.",
    summary: "Intersect multiple sorted sets and return the cardinality of the result",
    deprecated: None,
    movable_keys: Some(key_positions),
    subcommands: &[],
};

/// Where the keys are: after the count at position 1.
fn key_positions(argv: &[Bytes]) -> Vec<usize> {
    crate::command::keys_after_count(argv, 1, 0)
}

pub struct ZInterCard(Combine);

impl Command for ZInterCard {
    type Output = u64;

    fn parse(args: &mut Args) -> Result<Self> {
        Combine::parse(args, "zintercard", Op::Inter, false, true).map(ZInterCard)
    }

    fn reply(count: u64) -> Reply {
        Reply::Integer(count as i64)
    }
}

impl ReadCommand for ZInterCard {
    fn read(&self, keyspace: &Keyspace, ctx: &mut ReadCtx) -> Result<u64> {
        self.0.cardinality(keyspace.db(ctx.db), ctx.now_ms)
    }
}

#[cfg(test)]
mod tests {
    use crate::commands::zset::testing::*;

    #[test]
    fn counts_intersections_up_to_a_limit() {
        both(|ks, _| {
            run(ks, &["zadd", "a{t}", "1", "a", "2", "b", "3", "c"]);
            run(ks, &["zadd", "b{t}", "1", "b", "2", "c", "3", "d"]);
            assert_eq!(run(ks, &["zintercard", "2", "a{t}", "b{t}"]), int(2));
            assert_eq!(run(ks, &["zintercard", "2", "a{t}", "b{t}", "LIMIT", "0"]), int(2));
            assert_eq!(run(ks, &["zintercard", "2", "a{t}", "b{t}", "LIMIT", "1"]), int(1));
            assert_eq!(run(ks, &["zintercard", "1", "nokey"]), int(0));
            assert_eq!(run(ks, &["zintercard", "1", "a{t}", "a{t}"]), error("ERR syntax error"));
            assert_eq!(run(ks, &["zintercard", "1", "a{t}", "LIMIT"]), error("ERR syntax error"));
            assert_eq!(run(ks, &["zintercard", "1", "a{t}", "LIMIT", "-1"]), error("ERR LIMIT can't be negative"));
            assert_eq!(run(ks, &["zintercard", "1", "a{t}", "WITHSCORES"]), error("ERR syntax error"));
            assert_eq!(
                run(ks, &["zintercard", "0", "a{t}"]),
                error("ERR at least 1 input key is needed for 'zintercard' command")
            );
        });
    }
}
