//! DECRBY key decrement

use super::incrby::IncrBy;
use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "decrby",
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
    summary: "Decrement the integer value of a key by the given number",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct DecrBy(IncrBy);

impl Command for DecrBy {
    type Output = i64;

    fn parse(args: &mut Args) -> Result<Self> {
        let key = args.next_arg()?;
        let decrement = args.next_i64()?;
        // Negating i64::MIN would overflow; Redis refuses it the same way.
        let delta = decrement.checked_neg().ok_or(Error::err("decrement would overflow"))?;
        Ok(DecrBy(IncrBy::new(key, delta)))
    }

    fn reply(value: i64) -> Reply {
        Reply::Integer(value)
    }
}

impl WriteCommand for DecrBy {
    fn write(&self, keyspace: &mut Keyspace, ctx: &WriteCtx) -> Result<i64> {
        self.0.write(keyspace, ctx)
    }
}
