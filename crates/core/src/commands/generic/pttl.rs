//! PTTL key

use super::ttl::Remaining;
use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "pttl",
    arity: 2,
    flags: &["readonly", "fast"],
    first_key: 1,
    last_key: 1,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["RO", "access"], begin_index: 1, last_key: 0, key_step: 1 }],
    acl_categories: &["@keyspace", "@read", "@fast"],
    tips: &["nondeterministic_output"],
    group: "generic",
    since: "2.6.0",
    complexity: "O(1)",
    summary: "Get the time to live for a key in milliseconds",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct PTtl {
    key: Bytes,
}

impl Command for PTtl {
    type Output = (Remaining, TimeMs);

    fn parse(args: &mut Args) -> Result<Self> {
        Ok(PTtl { key: args.next_arg()? })
    }

    fn reply((remaining, now_ms): (Remaining, TimeMs)) -> Reply {
        remaining.reply_with(|at| at.saturating_sub(now_ms) as i64)
    }
}

impl ReadCommand for PTtl {
    fn read(&self, keyspace: &Keyspace, ctx: &mut ReadCtx) -> Result<(Remaining, TimeMs)> {
        Ok((Remaining::of(keyspace, ctx, &self.key), ctx.now_ms))
    }
}
