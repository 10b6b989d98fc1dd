//! ZDIFF numkeys key [key ...] [WITHSCORES]

use super::combine::{Combine, Op};
use super::score::members_reply;
use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "zdiff",
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
    complexity: "O(L + (N-K)log(N)) worst case where L is the total number of elements in all the sets, N is the size of the first set, and K is the size of the result set.",
    summary: "Subtract multiple sorted sets",
    deprecated: None,
    movable_keys: Some(key_positions),
    subcommands: &[],
};

/// Where the keys are: after the count at position 1.
fn key_positions(argv: &[Bytes]) -> Vec<usize> {
    crate::command::keys_after_count(argv, 1, 0)
}

pub struct ZDiff(Combine);

impl Command for ZDiff {
    type Output = (Vec<(Bytes, f64)>, bool);

    fn parse(args: &mut Args) -> Result<Self> {
        Combine::parse(args, "zdiff", Op::Diff, false, false).map(ZDiff)
    }

    fn reply((members, with_scores): (Vec<(Bytes, f64)>, bool)) -> Reply {
        members_reply(members, with_scores)
    }
}

impl ReadCommand for ZDiff {
    fn read(&self, keyspace: &Keyspace, ctx: &mut ReadCtx) -> Result<(Vec<(Bytes, f64)>, bool)> {
        Ok((self.0.compute(keyspace.db(ctx.db), ctx.now_ms)?, self.0.with_scores))
    }
}

#[cfg(test)]
mod tests {
    use crate::commands::zset::testing::*;

    #[test]
    fn differences() {
        both(|ks, _| {
            run(ks, &["zadd", "a{t}", "1", "a", "2", "b", "3", "c", "4", "d"]);
            run(ks, &["zadd", "b{t}", "1", "b", "2", "c"]);
            run(ks, &["zadd", "c{t}", "1", "d"]);
            assert_eq!(run(ks, &["zdiff", "3", "a{t}", "b{t}", "c{t}", "WITHSCORES"]), scored(&[("a", 1.0)]));
            assert_eq!(run(ks, &["zdiff", "2", "a{t}", "a{t}"]), bulks(&[]));
            assert_eq!(run(ks, &["zdiff", "2", "nokey", "a{t}"]), bulks(&[]));
            assert_eq!(run(ks, &["zdiff", "1", "a{t}", "WEIGHTS", "1"]), error("ERR syntax error"));
        });
    }
}
