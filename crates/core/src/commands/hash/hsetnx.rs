//! HSETNX key field value

use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "hsetnx",
    arity: 4,
    flags: &["write", "denyoom", "fast"],
    first_key: 1,
    last_key: 1,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["RW", "insert"], begin_index: 1, last_key: 0, key_step: 1 }],
    acl_categories: &["@write", "@hash", "@fast"],
    tips: &[],
    group: "hash",
    since: "2.0.0",
    complexity: "O(1)",
    summary: "Set the value of a hash field, only if the field does not exist",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct HSetNx {
    key: Bytes,
    field: Bytes,
    value: Bytes,
}

impl Command for HSetNx {
    type Output = bool;

    fn parse(args: &mut Args) -> Result<Self> {
        Ok(HSetNx { key: args.next_arg()?, field: args.next_arg()?, value: args.next_arg()? })
    }

    fn reply(stored: bool) -> Reply {
        Reply::Integer(stored.into())
    }
}

impl WriteCommand for HSetNx {
    fn write(&self, keyspace: &mut Keyspace, ctx: &WriteCtx) -> Result<bool> {
        if hash_at(keyspace.db(ctx.db), &self.key, ctx.now_ms)?.is_some_and(|hash| hash.contains(&self.field)) {
            return Ok(false);
        }
        let (hash, encodings, hasher) = collection_or_create::<HashValue>(keyspace, ctx, &self.key)?;
        hash.insert(&self.field, &self.value, encodings, hasher);
        keyspace.notify(EventClass::HASH, "hset", ctx.db, &self.key);
        Ok(true)
    }
}
