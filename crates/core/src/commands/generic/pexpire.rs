//! PEXPIRE key milliseconds [NX | XX | GT | LT]

use super::expire::SetExpiry;
use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "pexpire",
    arity: -3,
    flags: &["write", "fast"],
    first_key: 1,
    last_key: 1,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["RW", "update"], begin_index: 1, last_key: 0, key_step: 1 }],
    acl_categories: &["@keyspace", "@write", "@fast"],
    tips: &[],
    group: "generic",
    since: "2.6.0",
    complexity: "O(1)",
    summary: "Set a key's time to live in milliseconds",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct PExpire(SetExpiry);

impl Command for PExpire {
    type Output = bool;

    fn parse(args: &mut Args) -> Result<Self> {
        SetExpiry::parse_in(args, TimeUnit::Milliseconds, false, "pexpire").map(PExpire)
    }

    fn reply(changed: bool) -> Reply {
        Reply::Integer(changed.into())
    }
}

impl WriteCommand for PExpire {
    fn write(&self, keyspace: &mut Keyspace, ctx: &WriteCtx) -> Result<bool> {
        self.0.apply(keyspace, ctx)
    }
}
