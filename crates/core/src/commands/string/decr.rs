//! DECR key

use super::incrby::IncrBy;
use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "decr",
    arity: 2,
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
    summary: "Decrement the integer value of a key by one",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct Decr(IncrBy);

impl Command for Decr {
    type Output = i64;

    fn parse(args: &mut Args) -> Result<Self> {
        Ok(Decr(IncrBy::new(args.next_arg()?, -1)))
    }

    fn reply(value: i64) -> Reply {
        Reply::Integer(value)
    }
}

impl WriteCommand for Decr {
    fn write(&self, keyspace: &mut Keyspace, ctx: &WriteCtx) -> Result<i64> {
        self.0.write(keyspace, ctx)
    }
}
