//! RANDOMKEY

use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "randomkey",
    arity: 1,
    flags: &["readonly"],
    first_key: 0,
    last_key: 0,
    key_step: 0,
    key_specs: &[],
    acl_categories: &["@keyspace", "@read", "@slow"],
    tips: &["request_policy:all_shards", "nondeterministic_output"],
    group: "generic",
    since: "1.0.0",
    complexity: "O(1)",
    summary: "Return a random key from the keyspace",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

/// Tries before giving up on a database where most keys have expired but are not removed yet.
const EXPIRED_PICKS_MAX: usize = 100;

pub struct RandomKey;

impl Command for RandomKey {
    type Output = Option<Bytes>;

    fn parse(_: &mut Args) -> Result<Self> {
        Ok(RandomKey)
    }

    fn reply(key: Option<Bytes>) -> Reply {
        Reply::optional_bulk(key)
    }
}

impl ReadCommand for RandomKey {
    fn read(&self, keyspace: &Keyspace, ctx: &mut ReadCtx) -> Result<Option<Bytes>> {
        let db = keyspace.db(ctx.db);
        for _ in 0..EXPIRED_PICKS_MAX {
            match db.table().random(ctx.rng) {
                None => return Ok(None),
                Some(entry) if !entry.is_expired(ctx.now_ms) && keyspace.serves(entry.key()) => {
                    return Ok(Some(entry.key().to_bytes()))
                }
                Some(_) => {}
            }
        }
        // Mostly expired: fall back to the first live key, if any.
        Ok(db
            .entries()
            .find(|entry| !entry.is_expired(ctx.now_ms) && keyspace.serves(entry.key()))
            .map(|entry| entry.key().to_bytes()))
    }
}
