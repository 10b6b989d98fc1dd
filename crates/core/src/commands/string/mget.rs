//! MGET key [key ...]

use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "mget",
    arity: -2,
    flags: &["readonly", "fast"],
    first_key: 1,
    last_key: -1,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["RO", "access"], begin_index: 1, last_key: -1, key_step: 1 }],
    acl_categories: &["@read", "@string", "@fast"],
    tips: &["request_policy:multi_shard"],
    group: "string",
    since: "1.0.0",
    complexity: "O(N) where N is the number of keys to retrieve.",
    summary: "Get the values of all the given keys",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct MGet {
    keys: Vec<Bytes>,
}

impl Command for MGet {
    type Output = Vec<Option<Bytes>>;

    fn parse(args: &mut Args) -> Result<Self> {
        Ok(MGet { keys: args.rest() })
    }

    fn reply(values: Vec<Option<Bytes>>) -> Reply {
        Reply::Array(values.into_iter().map(Reply::optional_bulk).collect())
    }
}

impl ReadCommand for MGet {
    fn read(&self, keyspace: &Keyspace, ctx: &mut ReadCtx) -> Result<Vec<Option<Bytes>>> {
        let db = keyspace.db(ctx.db);
        // A key of another type reads as missing rather than failing the whole call.
        Ok(self.keys.iter().map(|key| string_at(db, key, ctx.now_ms).ok().flatten().map(Blob::to_bytes)).collect())
    }
}
