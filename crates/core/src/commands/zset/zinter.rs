//! ZINTER numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE SUM | MIN | MAX] [WITHSCORES]

use super::combine::{Combine, Op};
use super::score::members_reply;
use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "zinter",
    arity: -3,
    flags: &["readonly", "movablekeys"],
    first_key: 0,
    last_key: 0,
    key_step: 0,
    key_specs: &[],
    acl_categories: &["@read", "@sortedset", "@slow"],
    tips: &[],
    group: "sorted-set",
    since: "6.2.0",
    complexity: "O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the number of input sorted sets and M being the number of elements in the resulting sorted set.",
    summary: "Intersect multiple sorted sets",
    deprecated: None,
    movable_keys: Some(key_positions),
    subcommands: &[],
};

/// Where the keys are: after the count at position 1.
fn key_positions(argv: &[Bytes]) -> Vec<usize> {
    crate::command::keys_after_count(argv, 1, 0)
}

pub struct ZInter(Combine);

impl Command for ZInter {
    type Output = (Vec<(Bytes, f64)>, bool);

    fn parse(args: &mut Args) -> Result<Self> {
        Combine::parse(args, "zinter", Op::Inter, false, false).map(ZInter)
    }

    fn reply((members, with_scores): (Vec<(Bytes, f64)>, bool)) -> Reply {
        members_reply(members, with_scores)
    }
}

impl ReadCommand for ZInter {
    fn read(&self, keyspace: &Keyspace, ctx: &mut ReadCtx) -> Result<(Vec<(Bytes, f64)>, bool)> {
        Ok((self.0.compute(keyspace.db(ctx.db), ctx.now_ms)?, self.0.with_scores))
    }
}

#[cfg(test)]
mod tests {
    use crate::commands::zset::testing::*;

    #[test]
    fn intersects() {
        both(|ks, _| {
            run(ks, &["zadd", "a{t}", "1", "a", "2", "b", "3", "c"]);
            run(ks, &["zadd", "b{t}", "1", "b", "2", "c", "3", "d"]);
            assert_eq!(run(ks, &["zinter", "2", "a{t}", "b{t}", "WITHSCORES"]), scored(&[("b", 3.0), ("c", 5.0)]));
            assert_eq!(
                run(ks, &["zinter", "2", "a{t}", "b{t}", "WEIGHTS", "2", "3", "WITHSCORES"]),
                scored(&[("b", 7.0), ("c", 12.0)])
            );
            assert_eq!(run(ks, &["zinter", "2", "a{t}", "b{t}", "AGGREGATE", "MAX"]), bulks(&["b", "c"]));
            assert_eq!(run(ks, &["zinter", "2", "a{t}", "nokey"]), bulks(&[]));
            assert_eq!(
                run(ks, &["zinter", "2", "a{t}", "a{t}", "WITHSCORES"]),
                scored(&[("a", 2.0), ("b", 4.0), ("c", 6.0)])
            );
        });
    }
}
