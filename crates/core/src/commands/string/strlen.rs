//! STRLEN key

use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "strlen",
    arity: 2,
    flags: &["readonly", "fast"],
    first_key: 1,
    last_key: 1,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["RO"], begin_index: 1, last_key: 0, key_step: 1 }],
    acl_categories: &["@read", "@string", "@fast"],
    tips: &[],
    group: "string",
    since: "2.2.0",
    complexity: "O(1)",
    summary: "Get the length of the value stored in a key",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct StrLen {
    key: Bytes,
}

impl Command for StrLen {
    type Output = usize;

    fn parse(args: &mut Args) -> Result<Self> {
        Ok(StrLen { key: args.next_arg()? })
    }

    fn reply(length: usize) -> Reply {
        Reply::Integer(length as i64)
    }
}

impl ReadCommand for StrLen {
    fn read(&self, keyspace: &Keyspace, ctx: &mut ReadCtx) -> Result<usize> {
        Ok(string_at(keyspace.db(ctx.db), &self.key, ctx.now_ms)?.map_or(0, |value| value.len()))
    }
}
