//! GETSET key value

use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "getset",
    arity: 3,
    flags: &["write", "denyoom", "fast"],
    first_key: 1,
    last_key: 1,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["RW", "access", "update"], begin_index: 1, last_key: 0, key_step: 1 }],
    acl_categories: &["@write", "@string", "@fast"],
    tips: &[],
    group: "string",
    since: "1.0.0",
    complexity: "O(1)",
    summary: "Set the string value of a key and return its old value",
    deprecated: Some(("6.2.0", "`SET` with the `!GET` argument")),
    movable_keys: None,
    subcommands: &[],
};

pub struct GetSet {
    key: Bytes,
    value: Bytes,
}

impl Command for GetSet {
    type Output = Option<Bytes>;

    fn parse(args: &mut Args) -> Result<Self> {
        Ok(GetSet { key: args.next_arg()?, value: args.next_arg()? })
    }

    fn reply(previous: Option<Bytes>) -> Reply {
        Reply::optional_bulk(previous)
    }
}

impl WriteCommand for GetSet {
    fn write(&self, keyspace: &mut Keyspace, ctx: &WriteCtx) -> Result<Option<Bytes>> {
        let db = keyspace.db_mut(ctx.db);
        let previous = string_entry_mut(db, &self.key, ctx.now_ms)?.map(|entry| match &entry.value {
            Value::Str(blob) => blob.to_bytes(),
            _ => unreachable!("checked to be a string"),
        });
        db.insert(&self.key, Value::string(&self.value), None, ctx.index);
        keyspace.notify(EventClass::STRING, "set", ctx.db, &self.key);
        Ok(previous)
    }
}
