//! UNLINK key [key ...]: DEL; memory is reclaimed as part of the same step.

use super::del::Del;
use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "unlink",
    arity: -2,
    flags: &["write", "fast"],
    first_key: 1,
    last_key: -1,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["RM", "delete"], begin_index: 1, last_key: -1, key_step: 1 }],
    acl_categories: &["@keyspace", "@write", "@fast"],
    tips: &["request_policy:multi_shard", "response_policy:agg_sum"],
    group: "generic",
    since: "4.0.0",
    complexity: "O(1) for each key removed regardless of its size. Then the command does O(N) work in a different thread in order to reclaim memory, where N is the number of allocations the deleted objects where composed of.",
    summary: "Delete a key asynchronously in another thread. Otherwise it is just as DEL, but non blocking.",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct Unlink {
    keys: Vec<Bytes>,
}

impl Command for Unlink {
    type Output = usize;

    fn parse(args: &mut Args) -> Result<Self> {
        Ok(Unlink { keys: args.rest() })
    }

    fn reply(count: usize) -> Reply {
        Reply::Integer(count as i64)
    }
}

impl WriteCommand for Unlink {
    fn write(&self, keyspace: &mut Keyspace, ctx: &WriteCtx) -> Result<usize> {
        Ok(Del::remove_all(&self.keys, keyspace, ctx))
    }
}
