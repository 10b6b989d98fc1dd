//! ZREMRANGEBYRANK key start stop

use super::range::{By, KeyRange};
use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "zremrangebyrank",
    arity: 4,
    flags: &["write"],
    first_key: 1,
    last_key: 1,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["RW", "delete"], begin_index: 1, last_key: 0, key_step: 1 }],
    acl_categories: &["@write", "@sortedset", "@slow"],
    tips: &[],
    group: "sorted-set",
    since: "2.0.0",
    complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation.",
    summary: "Remove all members in a sorted set within the given indexes",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct ZRemRangeByRank(KeyRange);

impl Command for ZRemRangeByRank {
    type Output = usize;

    fn parse(args: &mut Args) -> Result<Self> {
        KeyRange::parse(args, By::Rank).map(ZRemRangeByRank)
    }

    fn reply(removed: usize) -> Reply {
        Reply::Integer(removed as i64)
    }
}

impl WriteCommand for ZRemRangeByRank {
    fn write(&self, keyspace: &mut Keyspace, ctx: &WriteCtx) -> Result<usize> {
        self.0.remove(keyspace, ctx, "zremrangebyrank")
    }
}

#[cfg(test)]
mod tests {
    use crate::commands::zset::testing::*;

    #[test]
    fn removes_rank_ranges() {
        both(|ks, _| {
            run(ks, &["zadd", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e"]);
            assert_eq!(run(ks, &["zremrangebyrank", "z", "1", "2"]), int(2));
            assert_eq!(run(ks, &["zrange", "z", "0", "-1"]), bulks(&["a", "d", "e"]));
            assert_eq!(run(ks, &["zremrangebyrank", "z", "-1", "-1"]), int(1));
            assert_eq!(run(ks, &["zremrangebyrank", "z", "5", "10"]), int(0));
            assert_eq!(run(ks, &["zremrangebyrank", "z", "-10", "10"]), int(2));
            assert_eq!(run(ks, &["exists", "z"]), int(0));
            assert_eq!(
                run(ks, &["zremrangebyrank", "z", "a", "1"]),
                error("ERR value is not an integer or out of range")
            );
        });
    }
}
