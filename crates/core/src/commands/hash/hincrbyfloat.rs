//! HINCRBYFLOAT key field increment

use crate::commands::prelude::*;
use crate::decimal::{add_texts, Number};

pub const SPEC: CommandSpec = CommandSpec {
    name: "hincrbyfloat",
    arity: 4,
    flags: &["write", "denyoom", "fast"],
    first_key: 1,
    last_key: 1,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["RW", "access", "update"], begin_index: 1, last_key: 0, key_step: 1 }],
    acl_categories: &["@write", "@hash", "@fast"],
    tips: &[],
    group: "hash",
    since: "2.6.0",
    complexity: "O(1)",
    summary: "Increment the float value of a hash field by the given amount",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct HIncrByFloat {
    key: Bytes,
    field: Bytes,
    delta: Number,
}

impl Command for HIncrByFloat {
    type Output = Bytes;

    fn parse(args: &mut Args) -> Result<Self> {
        let (key, field) = (args.next_arg()?, args.next_arg()?);
        let delta = Number::parse(&args.next_arg()?).ok_or(Error::NOT_FLOAT)?;
        if delta.is_infinite() {
            return Err(Error::err("value is NaN or Infinity"));
        }
        Ok(HIncrByFloat { key, field, delta })
    }

    fn reply(value: Bytes) -> Reply {
        Reply::Bulk(value)
    }
}

impl WriteCommand for HIncrByFloat {
    fn write(&self, keyspace: &mut Keyspace, ctx: &WriteCtx) -> Result<Bytes> {
        let current = match hash_at(keyspace.db(ctx.db), &self.key, ctx.now_ms)? {
            Some(hash) => match hash.get(&self.field) {
                Some(text) => Number::parse(text).ok_or(Error::HASH_NOT_FLOAT)?,
                None => Number::parse(b"0").expect("zero parses"),
            },
            None => Number::parse(b"0").expect("zero parses"),
        };
        let text = Bytes::from(add_texts(&current, &self.delta).ok_or(Error::NAN_OR_INFINITY)?);
        let (hash, encodings, hasher) = collection_or_create::<HashValue>(keyspace, ctx, &self.key)?;
        hash.insert(&self.field, &text, encodings, hasher);
        keyspace.notify(EventClass::HASH, "hincrbyfloat", ctx.db, &self.key);
        Ok(text)
    }
}
