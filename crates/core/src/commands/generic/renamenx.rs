//! RENAMENX key newkey

use super::rename::Rename;
use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "renamenx",
    arity: 3,
    flags: &["write", "fast"],
    first_key: 1,
    last_key: 2,
    key_step: 1,
    key_specs: &[
        KeySpec { flags: &["RW", "access", "delete"], begin_index: 1, last_key: 0, key_step: 1 },
        KeySpec { flags: &["OW", "insert"], begin_index: 2, last_key: 0, key_step: 1 },
    ],
    acl_categories: &["@keyspace", "@write", "@fast"],
    tips: &[],
    group: "generic",
    since: "1.0.0",
    complexity: "O(1)",
    summary: "Rename a key, only if the new key does not exist",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct RenameNx {
    from: Bytes,
    to: Bytes,
}

impl Command for RenameNx {
    type Output = bool;

    fn parse(args: &mut Args) -> Result<Self> {
        Ok(RenameNx { from: args.next_arg()?, to: args.next_arg()? })
    }

    fn reply(renamed: bool) -> Reply {
        Reply::Integer(renamed.into())
    }
}

impl WriteCommand for RenameNx {
    fn write(&self, keyspace: &mut Keyspace, ctx: &WriteCtx) -> Result<bool> {
        Rename::rename(&self.from, &self.to, true, keyspace, ctx)
    }
}
