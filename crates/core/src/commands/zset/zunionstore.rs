//! ZUNIONSTORE destination numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE SUM | MIN | MAX]

use super::combine::{CombineStore, Op};
use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "zunionstore",
    arity: -4,
    flags: &["write", "denyoom", "movablekeys"],
    first_key: 1,
    last_key: 1,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["OW", "update"], begin_index: 1, last_key: 0, key_step: 1 }],
    acl_categories: &["@write", "@sortedset", "@slow"],
    tips: &[],
    group: "sorted-set",
    since: "2.0.0",
    complexity: "O(N)+O(M log(M)) with N being the sum of the sizes of the input sorted sets, and M being the number of elements in the resulting sorted set.",
    summary: "Add multiple sorted sets and store the resulting sorted set in a new key",
    deprecated: None,
    movable_keys: Some(key_positions),
    subcommands: &[],
};

/// Where the keys are: the destination, then the keys after the count.
fn key_positions(argv: &[Bytes]) -> Vec<usize> {
    std::iter::once(1).chain(crate::command::keys_after_count(argv, 2, 0)).collect()
}

pub struct ZUnionStore(CombineStore);

impl Command for ZUnionStore {
    type Output = usize;

    fn parse(args: &mut Args) -> Result<Self> {
        CombineStore::parse(args, "zunionstore", Op::Union).map(ZUnionStore)
    }

    fn reply(stored: usize) -> Reply {
        Reply::Integer(stored as i64)
    }
}

impl WriteCommand for ZUnionStore {
    fn write(&self, keyspace: &mut Keyspace, ctx: &WriteCtx) -> Result<usize> {
        self.0.apply(keyspace, ctx)
    }
}

#[cfg(test)]
mod tests {
    use crate::commands::zset::testing::*;

    #[test]
    fn stores_unions() {
        both(|ks, form| {
            run(ks, &["zadd", "a{t}", "1", "a", "2", "b"]);
            run(ks, &["zadd", "b{t}", "1", "b", "2", "c"]);
            assert_eq!(run(ks, &["zunionstore", "d{t}", "2", "a{t}", "b{t}"]), int(3));
            assert_eq!(
                run(ks, &["zrange", "d{t}", "0", "-1", "WITHSCORES"]),
                scored(&[("a", 1.0), ("c", 2.0), ("b", 3.0)])
            );
            assert_eq!(encoding(ks, "d{t}"), bulk(form));
            assert_eq!(run(ks, &["zunionstore", "d{t}", "1", "nokey"]), int(0));
            assert_eq!(run(ks, &["exists", "d{t}"]), int(0));
            assert_eq!(run(ks, &["zunionstore", "d{t}", "1", "a{t}", "WITHSCORES"]), error("ERR syntax error"));
            assert_eq!(
                run(ks, &["zunionstore", "d{t}", "0", "a{t}"]),
                error("ERR at least 1 input key is needed for 'zunionstore' command")
            );
            assert_eq!(run(ks, &["zunionstore", "a{t}", "2", "a{t}", "b{t}"]), int(3));
        });
    }
}
