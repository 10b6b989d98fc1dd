//! INCRBY key increment

use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "incrby",
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
    summary: "Increment the integer value of a key by the given amount",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct IncrBy {
    key: Bytes,
    delta: i64,
}

impl IncrBy {
    pub fn new(key: Bytes, delta: i64) -> IncrBy {
        IncrBy { key, delta }
    }
}

impl Command for IncrBy {
    type Output = i64;

    fn parse(args: &mut Args) -> Result<Self> {
        Ok(IncrBy { key: args.next_arg()?, delta: args.next_i64()? })
    }

    fn reply(value: i64) -> Reply {
        Reply::Integer(value)
    }
}

impl WriteCommand for IncrBy {
    fn write(&self, keyspace: &mut Keyspace, ctx: &WriteCtx) -> Result<i64> {
        let db = keyspace.db_mut(ctx.db);
        let value = match string_entry_mut(db, &self.key, ctx.now_ms)? {
            None => {
                db.insert(&self.key, Value::string(&text_of(self.delta)), None, ctx.index);
                self.delta
            }
            Some(entry) => {
                let Value::Str(current) = &mut entry.value else { unreachable!("checked to be a string") };
                let value = parse_i64(current).ok_or(Error::NOT_INTEGER)?;
                let value = value.checked_add(self.delta).ok_or(Error::OVERFLOW)?;
                *current = Blob::new(&text_of(value));
                entry.version = ctx.index;
                value
            }
        };
        // INCR, DECR and DECRBY too: Redis names them all so.
        keyspace.notify(EventClass::STRING, "incrby", ctx.db, &self.key);
        Ok(value)
    }
}
