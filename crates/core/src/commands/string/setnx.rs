//! SETNX key value

use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "setnx",
    arity: 3,
    flags: &["write", "denyoom", "fast"],
    first_key: 1,
    last_key: 1,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["OW", "insert"], begin_index: 1, last_key: 0, key_step: 1 }],
    acl_categories: &["@write", "@string", "@fast"],
    tips: &[],
    group: "string",
    since: "1.0.0",
    complexity: "O(1)",
    summary: "Set the value of a key, only if the key does not exist",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct SetNx {
    key: Bytes,
    value: Bytes,
}

impl Command for SetNx {
    type Output = bool;

    fn parse(args: &mut Args) -> Result<Self> {
        Ok(SetNx { key: args.next_arg()?, value: args.next_arg()? })
    }

    fn reply(stored: bool) -> Reply {
        Reply::Integer(stored.into())
    }
}

impl WriteCommand for SetNx {
    fn write(&self, keyspace: &mut Keyspace, ctx: &WriteCtx) -> Result<bool> {
        let db = keyspace.db_mut(ctx.db);
        if db.get_mut(&self.key, ctx.now_ms).is_some() {
            return Ok(false);
        }
        db.insert(&self.key, Value::string(&self.value), None, ctx.index);
        keyspace.notify(EventClass::STRING, "set", ctx.db, &self.key);
        Ok(true)
    }
}
