//! FLUSHDB [ASYNC | SYNC]

use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "flushdb",
    arity: -1,
    flags: &["write"],
    first_key: 0,
    last_key: 0,
    key_step: 0,
    key_specs: &[],
    acl_categories: &["@keyspace", "@write", "@slow", "@dangerous"],
    tips: &["request_policy:all_shards", "response_policy:all_succeeded"],
    group: "server",
    since: "1.0.0",
    complexity: "O(N) where N is the number of keys in the selected database",
    summary: "Remove all keys from the current database",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct FlushDb;

/// The optional ASYNC or SYNC argument of FLUSHDB and FLUSHALL; both flush at once here.
pub fn parse_flush_mode(args: &mut Args) -> Result<()> {
    if let Some(mode) = args.peek() {
        if !(is(mode, "ASYNC") || is(mode, "SYNC")) {
            return Err(Error::SYNTAX);
        }
        args.next_arg()?;
    }
    args.finish()
}

impl Command for FlushDb {
    type Output = ();

    fn parse(args: &mut Args) -> Result<Self> {
        parse_flush_mode(args).map(|_| FlushDb)
    }

    fn reply(_: ()) -> Reply {
        Reply::OK
    }
}

impl WriteCommand for FlushDb {
    fn write(&self, keyspace: &mut Keyspace, ctx: &WriteCtx) -> Result<()> {
        keyspace.db_mut(ctx.db).clear();
        Ok(())
    }
}
