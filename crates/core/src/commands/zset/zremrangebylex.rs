//! ZREMRANGEBYLEX key min max

use super::range::{By, KeyRange};
use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "zremrangebylex",
    arity: 4,
    flags: &["write"],
    first_key: 1,
    last_key: 1,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["RW", "delete"], begin_index: 1, last_key: 0, key_step: 1 }],
    acl_categories: &["@write", "@sortedset", "@slow"],
    tips: &[],
    group: "sorted-set",
    since: "2.8.9",
    complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation.",
    summary: "Remove all members in a sorted set between the given lexicographical range",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct ZRemRangeByLex(KeyRange);

impl Command for ZRemRangeByLex {
    type Output = usize;

    fn parse(args: &mut Args) -> Result<Self> {
        KeyRange::parse(args, By::Lex).map(ZRemRangeByLex)
    }

    fn reply(removed: usize) -> Reply {
        Reply::Integer(removed as i64)
    }
}

impl WriteCommand for ZRemRangeByLex {
    fn write(&self, keyspace: &mut Keyspace, ctx: &WriteCtx) -> Result<usize> {
        self.0.remove(keyspace, ctx, "zremrangebylex")
    }
}

#[cfg(test)]
mod tests {
    use crate::commands::zset::testing::*;

    #[test]
    fn removes_lexical_ranges() {
        both(|ks, _| {
            run(ks, &["zadd", "z", "0", "a", "0", "b", "0", "c", "0", "d"]);
            assert_eq!(run(ks, &["zremrangebylex", "z", "(a", "[c"]), int(2));
            assert_eq!(run(ks, &["zrange", "z", "0", "-1"]), bulks(&["a", "d"]));
            assert_eq!(run(ks, &["zremrangebylex", "z", "-", "+"]), int(2));
            assert_eq!(run(ks, &["exists", "z"]), int(0));
            assert_eq!(
                run(ks, &["zremrangebylex", "z", "a", "+"]),
                error("ERR min or max not valid string range item")
            );
        });
    }
}
