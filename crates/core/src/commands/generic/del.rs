//! DEL key [key ...]

use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "del",
    arity: -2,
    flags: &["write"],
    first_key: 1,
    last_key: -1,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["RM", "delete"], begin_index: 1, last_key: -1, key_step: 1 }],
    acl_categories: &["@keyspace", "@write", "@slow"],
    tips: &["request_policy:multi_shard", "response_policy:agg_sum"],
    group: "generic",
    since: "1.0.0",
    complexity: "O(N) where N is the number of keys that will be removed. When a key to remove holds a value other than a string, the individual complexity for this key is O(M) where M is the number of elements in the list, set, sorted set or hash. Removing a single key that holds a string value is O(1).",
    summary: "Delete a key",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct Del {
    keys: Vec<Bytes>,
}

impl Del {
    /// Removes the live keys among `keys`; returns how many there were.
    pub fn remove_all(keys: &[Bytes], keyspace: &mut Keyspace, ctx: &WriteCtx) -> usize {
        let mut removed = 0;
        for key in keys {
            let db = keyspace.db_mut(ctx.db);
            if db.get_mut(key, ctx.now_ms).is_some() && db.remove(key).is_some() {
                keyspace.notify(EventClass::GENERIC, "del", ctx.db, key);
                removed += 1;
            }
        }
        removed
    }
}

impl Command for Del {
    type Output = usize;

    fn parse(args: &mut Args) -> Result<Self> {
        Ok(Del { keys: args.rest() })
    }

    fn reply(count: usize) -> Reply {
        Reply::Integer(count as i64)
    }
}

impl WriteCommand for Del {
    fn write(&self, keyspace: &mut Keyspace, ctx: &WriteCtx) -> Result<usize> {
        Ok(Del::remove_all(&self.keys, keyspace, ctx))
    }
}
