//! TTL key

use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "ttl",
    arity: 2,
    flags: &["readonly", "fast"],
    first_key: 1,
    last_key: 1,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["RO", "access"], begin_index: 1, last_key: 0, key_step: 1 }],
    acl_categories: &["@keyspace", "@read", "@fast"],
    tips: &["nondeterministic_output"],
    group: "generic",
    since: "1.0.0",
    complexity: "O(1)",
    summary: "Get the time to live for a key in seconds",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

/// What the TTL family reports about a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Remaining {
    Missing,
    Persistent,
    /// Absolute expiry time in milliseconds.
    At(TimeMs),
}

impl Remaining {
    pub fn of(keyspace: &Keyspace, ctx: &ReadCtx, key: &[u8]) -> Remaining {
        match keyspace.db(ctx.db).get(key, ctx.now_ms) {
            None => Remaining::Missing,
            Some(entry) => entry.expire_at_ms().map_or(Remaining::Persistent, Remaining::At),
        }
    }

    /// -2 missing, -1 persistent, else `value(at)`.
    pub fn reply_with(self, value: impl FnOnce(TimeMs) -> i64) -> Reply {
        Reply::Integer(match self {
            Remaining::Missing => -2,
            Remaining::Persistent => -1,
            Remaining::At(at) => value(at),
        })
    }
}

pub struct Ttl {
    key: Bytes,
}

impl Command for Ttl {
    /// Milliseconds left, or why there are none.
    type Output = (Remaining, TimeMs);

    fn parse(args: &mut Args) -> Result<Self> {
        Ok(Ttl { key: args.next_arg()? })
    }

    fn reply((remaining, now_ms): (Remaining, TimeMs)) -> Reply {
        // Rounded to the nearest second, as Redis does.
        remaining.reply_with(|at| ((at.saturating_sub(now_ms) + 500) / 1000) as i64)
    }
}

impl ReadCommand for Ttl {
    fn read(&self, keyspace: &Keyspace, ctx: &mut ReadCtx) -> Result<(Remaining, TimeMs)> {
        Ok((Remaining::of(keyspace, ctx, &self.key), ctx.now_ms))
    }
}
