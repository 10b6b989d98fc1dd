//! ZREMRANGEBYSCORE key min max

use super::range::{By, KeyRange};
use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "zremrangebyscore",
    arity: 4,
    flags: &["write"],
    first_key: 1,
    last_key: 1,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["RW", "delete"], begin_index: 1, last_key: 0, key_step: 1 }],
    acl_categories: &["@write", "@sortedset", "@slow"],
    tips: &[],
    group: "sorted-set",
    since: "1.2.0",
    complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation.",
    summary: "Remove all members in a sorted set within the given scores",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct ZRemRangeByScore(KeyRange);

impl Command for ZRemRangeByScore {
    type Output = usize;

    fn parse(args: &mut Args) -> Result<Self> {
        KeyRange::parse(args, By::Score).map(ZRemRangeByScore)
    }

    fn reply(removed: usize) -> Reply {
        Reply::Integer(removed as i64)
    }
}

impl WriteCommand for ZRemRangeByScore {
    fn write(&self, keyspace: &mut Keyspace, ctx: &WriteCtx) -> Result<usize> {
        self.0.remove(keyspace, ctx, "zremrangebyscore")
    }
}

#[cfg(test)]
mod tests {
    use crate::commands::zset::testing::*;

    #[test]
    fn removes_score_ranges() {
        both(|ks, _| {
            run(ks, &["zadd", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e"]);
            assert_eq!(run(ks, &["zremrangebyscore", "z", "(1", "3"]), int(2));
            assert_eq!(run(ks, &["zrange", "z", "0", "-1"]), bulks(&["a", "d", "e"]));
            assert_eq!(run(ks, &["zremrangebyscore", "z", "10", "20"]), int(0));
            assert_eq!(run(ks, &["zremrangebyscore", "z", "-inf", "+inf"]), int(3));
            assert_eq!(run(ks, &["exists", "z"]), int(0));
            assert_eq!(run(ks, &["zremrangebyscore", "z", "x", "1"]), error("ERR min or max is not a float"));
        });
    }
}
