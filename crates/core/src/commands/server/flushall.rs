//! FLUSHALL [ASYNC | SYNC]

use super::flushdb::parse_flush_mode;
use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "flushall",
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
    complexity: "O(N) where N is the total number of keys in all databases",
    summary: "Remove all keys from all databases",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct FlushAll;

impl Command for FlushAll {
    type Output = ();

    fn parse(args: &mut Args) -> Result<Self> {
        parse_flush_mode(args).map(|_| FlushAll)
    }

    fn reply(_: ()) -> Reply {
        Reply::OK
    }
}

impl WriteCommand for FlushAll {
    fn write(&self, keyspace: &mut Keyspace, _: &WriteCtx) -> Result<()> {
        keyspace.clear_all();
        Ok(())
    }
}
