//! TYPE key

use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "type",
    arity: 2,
    flags: &["readonly", "fast"],
    first_key: 1,
    last_key: 1,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["RO"], begin_index: 1, last_key: 0, key_step: 1 }],
    acl_categories: &["@keyspace", "@read", "@fast"],
    tips: &[],
    group: "generic",
    since: "1.0.0",
    complexity: "O(1)",
    summary: "Determine the type stored at key",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct Type {
    key: Bytes,
}

impl Command for Type {
    type Output = &'static str;

    fn parse(args: &mut Args) -> Result<Self> {
        Ok(Type { key: args.next_arg()? })
    }

    fn reply(name: &'static str) -> Reply {
        Reply::status(name)
    }
}

impl ReadCommand for Type {
    fn read(&self, keyspace: &Keyspace, ctx: &mut ReadCtx) -> Result<&'static str> {
        Ok(keyspace.db(ctx.db).get(&self.key, ctx.now_ms).map_or("none", |entry| entry.value.type_name()))
    }
}
