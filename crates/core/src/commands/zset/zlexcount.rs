//! ZLEXCOUNT key min max
//!
//! O(log N): the ranks where the range starts and ends.

use super::range::{By, KeyRange};
use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "zlexcount",
    arity: 4,
    flags: &["readonly", "fast"],
    first_key: 1,
    last_key: 1,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["RO", "access"], begin_index: 1, last_key: 0, key_step: 1 }],
    acl_categories: &["@read", "@sortedset", "@fast"],
    tips: &[],
    group: "sorted-set",
    since: "2.8.9",
    complexity: "O(log(N)) with N being the number of elements in the sorted set.",
    summary: "Count the number of members in a sorted set between a given lexicographical range",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct ZLexCount(KeyRange);

impl Command for ZLexCount {
    type Output = usize;

    fn parse(args: &mut Args) -> Result<Self> {
        KeyRange::parse(args, By::Lex).map(ZLexCount)
    }

    fn reply(count: usize) -> Reply {
        Reply::Integer(count as i64)
    }
}

impl ReadCommand for ZLexCount {
    fn read(&self, keyspace: &Keyspace, ctx: &mut ReadCtx) -> Result<usize> {
        self.0.count(keyspace.db(ctx.db), ctx.now_ms)
    }
}

#[cfg(test)]
mod tests {
    use crate::commands::zset::testing::*;

    #[test]
    fn counts_lexical_ranges() {
        both(|ks, _| {
            run(ks, &["zadd", "z", "0", "alpha", "0", "bar", "0", "cool", "0", "down", "0", "elephant", "0", "foo"]);
            assert_eq!(run(ks, &["zlexcount", "z", "-", "+"]), int(6));
            assert_eq!(run(ks, &["zlexcount", "z", "[bar", "(down"]), int(2));
            assert_eq!(run(ks, &["zlexcount", "z", "(bar", "[down"]), int(2));
            assert_eq!(run(ks, &["zlexcount", "z", "+", "-"]), int(0));
            assert_eq!(run(ks, &["zlexcount", "z", "[z", "+"]), int(0));
            assert_eq!(run(ks, &["zlexcount", "z", "a", "+"]), error("ERR min or max not valid string range item"));
        });
    }
}
