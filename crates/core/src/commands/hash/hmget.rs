//! HMGET key field [field ...]

use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "hmget",
    arity: -3,
    flags: &["readonly", "fast"],
    first_key: 1,
    last_key: 1,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["RO", "access"], begin_index: 1, last_key: 0, key_step: 1 }],
    acl_categories: &["@read", "@hash", "@fast"],
    tips: &[],
    group: "hash",
    since: "2.0.0",
    complexity: "O(N) where N is the number of fields being requested.",
    summary: "Get the values of all the given hash fields",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct HMGet {
    key: Bytes,
    fields: Vec<Bytes>,
}

impl Command for HMGet {
    type Output = Vec<Option<Bytes>>;

    fn parse(args: &mut Args) -> Result<Self> {
        Ok(HMGet { key: args.next_arg()?, fields: args.rest() })
    }

    fn reply(values: Vec<Option<Bytes>>) -> Reply {
        Reply::Array(values.into_iter().map(Reply::optional_bulk).collect())
    }
}

impl ReadCommand for HMGet {
    fn read(&self, keyspace: &Keyspace, ctx: &mut ReadCtx) -> Result<Vec<Option<Bytes>>> {
        let hash = hash_at(keyspace.db(ctx.db), &self.key, ctx.now_ms)?;
        Ok(self.fields.iter().map(|field| hash.and_then(|hash| hash.get(field).map(bytes_of))).collect())
    }
}
