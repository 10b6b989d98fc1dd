//! TOUCH key [key ...]: counts the keys that exist (Concord keeps no access times).

use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "touch",
    arity: -2,
    flags: &["readonly", "fast"],
    first_key: 1,
    last_key: -1,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["RO"], begin_index: 1, last_key: -1, key_step: 1 }],
    acl_categories: &["@keyspace", "@read", "@fast"],
    tips: &["request_policy:multi_shard", "response_policy:agg_sum"],
    group: "generic",
    since: "3.2.1",
    complexity: "O(N) where N is the number of keys that will be touched.",
    summary: "Alters the last access time of a key(s). Returns the number of existing keys specified.",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct Touch {
    keys: Vec<Bytes>,
}

impl Command for Touch {
    type Output = usize;

    fn parse(args: &mut Args) -> Result<Self> {
        Ok(Touch { keys: args.rest() })
    }

    fn reply(count: usize) -> Reply {
        Reply::Integer(count as i64)
    }
}

impl ReadCommand for Touch {
    fn read(&self, keyspace: &Keyspace, ctx: &mut ReadCtx) -> Result<usize> {
        let db = keyspace.db(ctx.db);
        Ok(self.keys.iter().filter(|key| db.get(key, ctx.now_ms).is_some()).count())
    }
}
