//! ZDIFFSTORE destination numkeys key [key ...]

use super::combine::{CombineStore, Op};
use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "zdiffstore",
    arity: -4,
    flags: &["write", "denyoom", "movablekeys"],
    first_key: 1,
    last_key: 1,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["OW", "update"], begin_index: 1, last_key: 0, key_step: 1 }],
    acl_categories: &["@write", "@sortedset", "@slow"],
    tips: &[],
    group: "sorted-set",
    since: "6.2.0",
    complexity: "O(L + (N-K)log(N)) worst case where L is the total number of elements in all the sets, N is the size of the first set, and K is the size of the result set.",
    summary: "Subtract multiple sorted sets and store the resulting sorted set in a new key",
    deprecated: None,
    movable_keys: Some(key_positions),
    subcommands: &[],
};

/// Where the keys are: the destination, then the keys after the count.
fn key_positions(argv: &[Bytes]) -> Vec<usize> {
    std::iter::once(1).chain(crate::command::keys_after_count(argv, 2, 0)).collect()
}

pub struct ZDiffStore(CombineStore);

impl Command for ZDiffStore {
    type Output = usize;

    fn parse(args: &mut Args) -> Result<Self> {
        CombineStore::parse(args, "zdiffstore", Op::Diff).map(ZDiffStore)
    }

    fn reply(stored: usize) -> Reply {
        Reply::Integer(stored as i64)
    }
}

impl WriteCommand for ZDiffStore {
    fn write(&self, keyspace: &mut Keyspace, ctx: &WriteCtx) -> Result<usize> {
        self.0.apply(keyspace, ctx)
    }
}

#[cfg(test)]
mod tests {
    use crate::commands::zset::testing::*;

    #[test]
    fn stores_differences() {
        both(|ks, _| {
            run(ks, &["zadd", "a{t}", "1", "a", "2", "b", "3", "c"]);
            run(ks, &["zadd", "b{t}", "1", "b"]);
            assert_eq!(run(ks, &["zdiffstore", "d{t}", "2", "a{t}", "b{t}"]), int(2));
            assert_eq!(run(ks, &["zrange", "d{t}", "0", "-1", "WITHSCORES"]), scored(&[("a", 1.0), ("c", 3.0)]));
            assert_eq!(run(ks, &["zdiffstore", "d{t}", "1", "a{t}", "WEIGHTS", "1"]), error("ERR syntax error"));
        });
    }
}
