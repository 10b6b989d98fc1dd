//! INCRBYFLOAT key increment
//!
//! Sums are exact decimals printed with at most 17 fractional digits, as Redis prints its
//! `long double` sums (see [`crate::decimal`]).

use crate::commands::prelude::*;
use crate::decimal::{add_texts, Number};

pub const SPEC: CommandSpec = CommandSpec {
    name: "incrbyfloat",
    arity: 3,
    flags: &["write", "denyoom", "fast"],
    first_key: 1,
    last_key: 1,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["RW", "access", "update"], begin_index: 1, last_key: 0, key_step: 1 }],
    acl_categories: &["@write", "@string", "@fast"],
    tips: &[],
    group: "string",
    since: "2.6.0",
    complexity: "O(1)",
    summary: "Increment the float value of a key by the given amount",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct IncrByFloat {
    key: Bytes,
    /// Parsed when applied, after the type check, as Redis orders its errors.
    delta: Bytes,
}

impl Command for IncrByFloat {
    type Output = Bytes;

    fn parse(args: &mut Args) -> Result<Self> {
        Ok(IncrByFloat { key: args.next_arg()?, delta: args.next_arg()? })
    }

    fn reply(value: Bytes) -> Reply {
        Reply::Bulk(value)
    }
}

impl WriteCommand for IncrByFloat {
    fn write(&self, keyspace: &mut Keyspace, ctx: &WriteCtx) -> Result<Bytes> {
        let db = keyspace.db_mut(ctx.db);
        let entry = string_entry_mut(db, &self.key, ctx.now_ms)?;
        let current = match &entry {
            Some(entry) => match &entry.value {
                Value::Str(text) => Number::parse(text).ok_or(Error::NOT_FLOAT)?,
                _ => unreachable!("checked to be a string"),
            },
            None => Number::parse(b"0").expect("zero parses"),
        };
        let delta = Number::parse(&self.delta).ok_or(Error::NOT_FLOAT)?;
        let text = Bytes::from(add_texts(&current, &delta).ok_or(Error::NAN_OR_INFINITY)?);
        match entry {
            Some(entry) => {
                entry.value = Value::string(&text);
                entry.version = ctx.index;
            }
            None => db.insert(&self.key, Value::string(&text), None, ctx.index),
        }
        keyspace.notify(EventClass::STRING, "incrbyfloat", ctx.db, &self.key);
        Ok(text)
    }
}
