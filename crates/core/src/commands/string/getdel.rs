//! GETDEL key

use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "getdel",
    arity: 2,
    flags: &["write", "fast"],
    first_key: 1,
    last_key: 1,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["RW", "access", "delete"], begin_index: 1, last_key: 0, key_step: 1 }],
    acl_categories: &["@write", "@string", "@fast"],
    tips: &[],
    group: "string",
    since: "6.2.0",
    complexity: "O(1)",
    summary: "Get the value of a key and delete the key",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct GetDel {
    key: Bytes,
}

impl Command for GetDel {
    type Output = Option<Bytes>;

    fn parse(args: &mut Args) -> Result<Self> {
        Ok(GetDel { key: args.next_arg()? })
    }

    fn reply(value: Option<Bytes>) -> Reply {
        Reply::optional_bulk(value)
    }
}

impl WriteCommand for GetDel {
    fn write(&self, keyspace: &mut Keyspace, ctx: &WriteCtx) -> Result<Option<Bytes>> {
        let db = keyspace.db_mut(ctx.db);
        if string_entry_mut(db, &self.key, ctx.now_ms)?.is_none() {
            return Ok(None);
        }
        let removed = db.remove(&self.key).map(|entry| match entry.value {
            Value::Str(blob) => blob.to_bytes(),
            _ => unreachable!("checked to be a string"),
        });
        keyspace.notify(EventClass::GENERIC, "del", ctx.db, &self.key);
        Ok(removed)
    }
}
