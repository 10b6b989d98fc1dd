//! ZPOPMAX key [count]

use super::pop::{pop_reply, End};
use super::zpopmin::{parse_pop, pop_command};
use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "zpopmax",
    arity: -2,
    flags: &["write", "fast"],
    first_key: 1,
    last_key: 1,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["RW", "access", "delete"], begin_index: 1, last_key: 0, key_step: 1 }],
    acl_categories: &["@write", "@sortedset", "@fast"],
    tips: &[],
    group: "sorted-set",
    since: "5.0.0",
    complexity:
        "O(log(N)*M) with N being the number of elements in the sorted set, and M being the number of elements popped.",
    summary: "Remove and return members with the highest scores in a sorted set",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct ZPopMax {
    key: Bytes,
    count: Option<usize>,
}

impl Command for ZPopMax {
    type Output = (Vec<(Bytes, f64)>, bool);

    fn parse(args: &mut Args) -> Result<Self> {
        let (key, count) = parse_pop(args)?;
        Ok(ZPopMax { key, count })
    }

    fn reply((popped, nested): (Vec<(Bytes, f64)>, bool)) -> Reply {
        pop_reply(popped, nested)
    }
}

impl WriteCommand for ZPopMax {
    fn write(&self, keyspace: &mut Keyspace, ctx: &WriteCtx) -> Result<(Vec<(Bytes, f64)>, bool)> {
        pop_command(keyspace, ctx, &self.key, self.count, End::Max)
    }
}

#[cfg(test)]
mod tests {
    use crate::commands::zset::testing::*;

    #[test]
    fn pops_the_highest() {
        both(|ks, _| {
            run(ks, &["zadd", "z", "1", "a", "2", "b", "3", "c"]);
            assert_eq!(run(ks, &["zpopmax", "z"]), Reply::Array(vec![bulk("c"), double(3.0)]));
            assert_eq!(run(ks, &["zpopmax", "z", "1"]), scored(&[("b", 2.0)]));
            assert_eq!(run(ks, &["zpopmax", "z", "10"]), scored(&[("a", 1.0)]));
            assert_eq!(run(ks, &["exists", "z"]), int(0));
        });
    }
}
