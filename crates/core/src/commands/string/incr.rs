//! INCR key

use super::incrby::IncrBy;
use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "incr",
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
    summary: "Increment the integer value of a key by one",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct Incr(IncrBy);

impl Command for Incr {
    type Output = i64;

    fn parse(args: &mut Args) -> Result<Self> {
        Ok(Incr(IncrBy::new(args.next_arg()?, 1)))
    }

    fn reply(value: i64) -> Reply {
        Reply::Integer(value)
    }
}

impl WriteCommand for Incr {
    fn write(&self, keyspace: &mut Keyspace, ctx: &WriteCtx) -> Result<i64> {
        self.0.write(keyspace, ctx)
    }
}
