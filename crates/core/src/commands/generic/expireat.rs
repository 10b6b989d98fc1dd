//! EXPIREAT key unix-time-seconds [NX | XX | GT | LT]

use super::expire::SetExpiry;
use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "expireat",
    arity: -3,
    flags: &["write", "fast"],
    first_key: 1,
    last_key: 1,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["RW", "update"], begin_index: 1, last_key: 0, key_step: 1 }],
    acl_categories: &["@keyspace", "@write", "@fast"],
    tips: &[],
    group: "generic",
    since: "1.2.0",
    complexity: "O(1)",
    summary: "Set the expiration for a key as a UNIX timestamp",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct ExpireAt(SetExpiry);

impl Command for ExpireAt {
    type Output = bool;

    fn parse(args: &mut Args) -> Result<Self> {
        SetExpiry::parse_in(args, TimeUnit::Seconds, true, "expireat").map(ExpireAt)
    }

    fn reply(changed: bool) -> Reply {
        Reply::Integer(changed.into())
    }
}

impl WriteCommand for ExpireAt {
    fn write(&self, keyspace: &mut Keyspace, ctx: &WriteCtx) -> Result<bool> {
        self.0.apply(keyspace, ctx)
    }
}
