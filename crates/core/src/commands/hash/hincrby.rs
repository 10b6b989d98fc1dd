//! HINCRBY key field increment

use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "hincrby",
    arity: 4,
    flags: &["write", "denyoom", "fast"],
    first_key: 1,
    last_key: 1,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["RW", "access", "update"], begin_index: 1, last_key: 0, key_step: 1 }],
    acl_categories: &["@write", "@hash", "@fast"],
    tips: &[],
    group: "hash",
    since: "2.0.0",
    complexity: "O(1)",
    summary: "Increment the integer value of a hash field by the given number",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct HIncrBy {
    key: Bytes,
    field: Bytes,
    delta: i64,
}

impl Command for HIncrBy {
    type Output = i64;

    fn parse(args: &mut Args) -> Result<Self> {
        Ok(HIncrBy { key: args.next_arg()?, field: args.next_arg()?, delta: args.next_i64()? })
    }

    fn reply(value: i64) -> Reply {
        Reply::Integer(value)
    }
}

impl WriteCommand for HIncrBy {
    fn write(&self, keyspace: &mut Keyspace, ctx: &WriteCtx) -> Result<i64> {
        let current = match hash_at(keyspace.db(ctx.db), &self.key, ctx.now_ms)? {
            Some(hash) => match hash.get(&self.field) {
                Some(text) => parse_i64(text).ok_or(Error::HASH_NOT_INTEGER)?,
                None => 0,
            },
            None => 0,
        };
        let value = current.checked_add(self.delta).ok_or(Error::OVERFLOW)?;
        let (hash, encodings, hasher) = collection_or_create::<HashValue>(keyspace, ctx, &self.key)?;
        hash.insert(&self.field, &text_of(value), encodings, hasher);
        keyspace.notify(EventClass::HASH, "hincrby", ctx.db, &self.key);
        Ok(value)
    }
}
