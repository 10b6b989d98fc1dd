//! ZINTERSTORE destination numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE SUM | MIN | MAX]

use super::combine::{CombineStore, Op};
use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "zinterstore",
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
    complexity: "O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the number of input sorted sets and M being the number of elements in the resulting sorted set.",
    summary: "Intersect multiple sorted sets and store the resulting sorted set in a new key",
    deprecated: None,
    movable_keys: Some(key_positions),
    subcommands: &[],
};

/// Where the keys are: the destination, then the keys after the count.
fn key_positions(argv: &[Bytes]) -> Vec<usize> {
    std::iter::once(1).chain(crate::command::keys_after_count(argv, 2, 0)).collect()
}

pub struct ZInterStore(CombineStore);

impl Command for ZInterStore {
    type Output = usize;

    fn parse(args: &mut Args) -> Result<Self> {
        CombineStore::parse(args, "zinterstore", Op::Inter).map(ZInterStore)
    }

    fn reply(stored: usize) -> Reply {
        Reply::Integer(stored as i64)
    }
}

impl WriteCommand for ZInterStore {
    fn write(&self, keyspace: &mut Keyspace, ctx: &WriteCtx) -> Result<usize> {
        self.0.apply(keyspace, ctx)
    }
}

#[cfg(test)]
mod tests {
    use crate::commands::zset::testing::*;

    #[test]
    fn stores_intersections() {
        both(|ks, _| {
            run(ks, &["zadd", "a{t}", "1", "a", "2", "b"]);
            run(ks, &["zadd", "b{t}", "1", "b", "2", "c"]);
            run(ks, &["set", "d{t}", "x"]);
            run(ks, &["expire", "d{t}", "100"]);
            assert_eq!(run(ks, &["zinterstore", "d{t}", "2", "a{t}", "b{t}", "AGGREGATE", "MIN"]), int(1));
            assert_eq!(run(ks, &["zrange", "d{t}", "0", "-1", "WITHSCORES"]), scored(&[("b", 1.0)]));
            assert_eq!(run(ks, &["ttl", "d{t}"]), int(-1), "a new value, without the old expiry");
            assert_eq!(run(ks, &["zinterstore", "d{t}", "2", "a{t}", "nokey"]), int(0));
            assert_eq!(run(ks, &["exists", "d{t}"]), int(0));
        });
    }
}
