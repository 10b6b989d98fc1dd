//! MSETNX key value [key value ...]

use super::mset::MSet;
use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "msetnx",
    arity: -3,
    flags: &["write", "denyoom"],
    first_key: 1,
    last_key: -1,
    key_step: 2,
    key_specs: &[KeySpec { flags: &["OW", "insert"], begin_index: 1, last_key: -1, key_step: 2 }],
    acl_categories: &["@write", "@string", "@slow"],
    tips: &["request_policy:multi_shard", "response_policy:agg_min"],
    group: "string",
    since: "1.0.1",
    complexity: "O(N) where N is the number of keys to set.",
    summary: "Set multiple keys to multiple values, only if none of the keys exist",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct MSetNx {
    pairs: Vec<(Bytes, Bytes)>,
}

impl Command for MSetNx {
    type Output = bool;

    fn parse(args: &mut Args) -> Result<Self> {
        Ok(MSetNx { pairs: MSet::parse_pairs(args, "msetnx")? })
    }

    fn reply(stored: bool) -> Reply {
        Reply::Integer(stored.into())
    }
}

impl WriteCommand for MSetNx {
    fn write(&self, keyspace: &mut Keyspace, ctx: &WriteCtx) -> Result<bool> {
        let db = keyspace.db_mut(ctx.db);
        if self.pairs.iter().any(|(key, _)| db.get(key, ctx.now_ms).is_some()) {
            return Ok(false);
        }
        MSet::store_all(&self.pairs, keyspace, ctx);
        Ok(true)
    }
}
