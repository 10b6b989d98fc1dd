//! ZCOUNT key min max
//!
//! O(log N): the ranks where the range starts and ends.

use super::range::{By, KeyRange};
use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "zcount",
    arity: 4,
    flags: &["readonly", "fast"],
    first_key: 1,
    last_key: 1,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["RO", "access"], begin_index: 1, last_key: 0, key_step: 1 }],
    acl_categories: &["@read", "@sortedset", "@fast"],
    tips: &[],
    group: "sorted-set",
    since: "2.0.0",
    complexity: "O(log(N)) with N being the number of elements in the sorted set.",
    summary: "Count the members in a sorted set with scores within the given values",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct ZCount(KeyRange);

impl Command for ZCount {
    type Output = usize;

    fn parse(args: &mut Args) -> Result<Self> {
        KeyRange::parse(args, By::Score).map(ZCount)
    }

    fn reply(count: usize) -> Reply {
        Reply::Integer(count as i64)
    }
}

impl ReadCommand for ZCount {
    fn read(&self, keyspace: &Keyspace, ctx: &mut ReadCtx) -> Result<usize> {
        self.0.count(keyspace.db(ctx.db), ctx.now_ms)
    }
}

#[cfg(test)]
mod tests {
    use crate::commands::zset::testing::*;

    #[test]
    fn counts_score_ranges() {
        both(|ks, _| {
            run(ks, &["zadd", "z", "-inf", "a", "1", "b", "2", "c", "3", "d", "4", "e", "5", "f", "+inf", "g"]);
            assert_eq!(run(ks, &["zcount", "z", "0", "3"]), int(3));
            assert_eq!(run(ks, &["zcount", "z", "(0", "(3"]), int(2));
            assert_eq!(run(ks, &["zcount", "z", "-inf", "+inf"]), int(7));
            assert_eq!(run(ks, &["zcount", "z", "(-inf", "(+inf"]), int(5));
            assert_eq!(run(ks, &["zcount", "z", "3", "2"]), int(0));
            assert_eq!(run(ks, &["zcount", "z", "a", "2"]), error("ERR min or max is not a float"));
            assert_eq!(run(ks, &["zcount", "nokey", "0", "1"]), int(0));
        });
    }
}
