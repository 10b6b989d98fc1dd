//! ZREVRANK key member

use super::zrank::ZRank;
use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "zrevrank",
    arity: 3,
    flags: &["readonly", "fast"],
    first_key: 1,
    last_key: 1,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["RO", "access"], begin_index: 1, last_key: 0, key_step: 1 }],
    acl_categories: &["@read", "@sortedset", "@fast"],
    tips: &[],
    group: "sorted-set",
    since: "2.0.0",
    complexity: "O(log(N))",
    summary: "Determine the index of a member in a sorted set, with scores ordered from high to low",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct ZRevRank(ZRank);

impl Command for ZRevRank {
    type Output = Option<usize>;

    fn parse(args: &mut Args) -> Result<Self> {
        ZRank::parse(args).map(ZRevRank)
    }

    fn reply(rank: Option<usize>) -> Reply {
        ZRank::reply(rank)
    }
}

impl ReadCommand for ZRevRank {
    fn read(&self, keyspace: &Keyspace, ctx: &mut ReadCtx) -> Result<Option<usize>> {
        self.0.rank(keyspace, ctx, true)
    }
}
