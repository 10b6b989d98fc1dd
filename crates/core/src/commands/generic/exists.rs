//! EXISTS key [key ...]: counts repeated keys each time.

use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "exists",
    arity: -2,
    flags: &["readonly", "fast"],
    first_key: 1,
    last_key: -1,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["RO"], begin_index: 1, last_key: -1, key_step: 1 }],
    acl_categories: &["@keyspace", "@read", "@fast"],
    tips: &["request_policy:multi_shard", "response_policy:agg_sum"],
    group: "generic",
    since: "1.0.0",
    complexity: "O(N) where N is the number of keys to check.",
    summary: "Determine if a key exists",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct Exists {
    keys: Vec<Bytes>,
}

impl Command for Exists {
    type Output = usize;

    fn parse(args: &mut Args) -> Result<Self> {
        Ok(Exists { keys: args.rest() })
    }

    fn reply(count: usize) -> Reply {
        Reply::Integer(count as i64)
    }
}

impl ReadCommand for Exists {
    fn read(&self, keyspace: &Keyspace, ctx: &mut ReadCtx) -> Result<usize> {
        let db = keyspace.db(ctx.db);
        Ok(self.keys.iter().filter(|key| db.get(key, ctx.now_ms).is_some()).count())
    }
}
