//! PEXPIRETIME key

use super::ttl::Remaining;
use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "pexpiretime",
    arity: 2,
    flags: &["readonly", "fast"],
    first_key: 1,
    last_key: 1,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["RO", "access"], begin_index: 1, last_key: 0, key_step: 1 }],
    acl_categories: &["@keyspace", "@read", "@fast"],
    tips: &[],
    group: "generic",
    since: "7.0.0",
    complexity: "O(1)",
    summary: "Get the expiration Unix timestamp for a key in milliseconds",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct PExpireTime {
    key: Bytes,
}

impl Command for PExpireTime {
    type Output = Remaining;

    fn parse(args: &mut Args) -> Result<Self> {
        Ok(PExpireTime { key: args.next_arg()? })
    }

    fn reply(remaining: Remaining) -> Reply {
        remaining.reply_with(|at| at as i64)
    }
}

impl ReadCommand for PExpireTime {
    fn read(&self, keyspace: &Keyspace, ctx: &mut ReadCtx) -> Result<Remaining> {
        Ok(Remaining::of(keyspace, ctx, &self.key))
    }
}
