//! PSETEX key milliseconds value

use super::setex::SetEx;
use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "psetex",
    arity: 4,
    flags: &["write", "denyoom"],
    first_key: 1,
    last_key: 1,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["OW", "update"], begin_index: 1, last_key: 0, key_step: 1 }],
    acl_categories: &["@write", "@string", "@slow"],
    tips: &[],
    group: "string",
    since: "2.6.0",
    complexity: "O(1)",
    summary: "Set the value and expiration in milliseconds of a key",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct PSetEx(SetEx);

impl Command for PSetEx {
    type Output = ();

    fn parse(args: &mut Args) -> Result<Self> {
        SetEx::parse_in(args, TimeUnit::Milliseconds, "psetex").map(PSetEx)
    }

    fn reply(_: ()) -> Reply {
        Reply::OK
    }
}

impl WriteCommand for PSetEx {
    fn write(&self, keyspace: &mut Keyspace, ctx: &WriteCtx) -> Result<()> {
        self.0.write(keyspace, ctx)
    }
}
