//! DBSIZE

use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "dbsize",
    arity: 1,
    flags: &["readonly", "fast"],
    first_key: 0,
    last_key: 0,
    key_step: 0,
    key_specs: &[],
    acl_categories: &["@keyspace", "@read", "@fast"],
    tips: &["request_policy:all_shards", "response_policy:agg_sum"],
    group: "server",
    since: "1.0.0",
    complexity: "O(1)",
    summary: "Return the number of keys in the selected database",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct DbSize;

impl Command for DbSize {
    type Output = usize;

    fn parse(_: &mut Args) -> Result<Self> {
        Ok(DbSize)
    }

    fn reply(count: usize) -> Reply {
        Reply::Integer(count as i64)
    }
}

impl ReadCommand for DbSize {
    fn read(&self, keyspace: &Keyspace, ctx: &mut ReadCtx) -> Result<usize> {
        Ok(keyspace.served_len(ctx.db))
    }
}
