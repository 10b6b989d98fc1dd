//! PERSIST key

use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "persist",
    arity: 2,
    flags: &["write", "fast"],
    first_key: 1,
    last_key: 1,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["RW", "update"], begin_index: 1, last_key: 0, key_step: 1 }],
    acl_categories: &["@keyspace", "@write", "@fast"],
    tips: &[],
    group: "generic",
    since: "2.2.0",
    complexity: "O(1)",
    summary: "Remove the expiration from a key",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct Persist {
    key: Bytes,
}

impl Command for Persist {
    type Output = bool;

    fn parse(args: &mut Args) -> Result<Self> {
        Ok(Persist { key: args.next_arg()? })
    }

    fn reply(changed: bool) -> Reply {
        Reply::Integer(changed.into())
    }
}

impl WriteCommand for Persist {
    fn write(&self, keyspace: &mut Keyspace, ctx: &WriteCtx) -> Result<bool> {
        let db = keyspace.db_mut(ctx.db);
        match db.get_mut(&self.key, ctx.now_ms) {
            Some(entry) if entry.expire_at_ms().is_some() => {
                entry.version = ctx.index;
                db.set_expiry(&self.key, None);
                keyspace.notify(EventClass::GENERIC, "persist", ctx.db, &self.key);
                Ok(true)
            }
            _ => Ok(false),
        }
    }
}
