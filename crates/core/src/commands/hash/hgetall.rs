//! HGETALL key

use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "hgetall",
    arity: 2,
    flags: &["readonly"],
    first_key: 1,
    last_key: 1,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["RO", "access"], begin_index: 1, last_key: 0, key_step: 1 }],
    acl_categories: &["@read", "@hash", "@slow"],
    tips: &["nondeterministic_output_order"],
    group: "hash",
    since: "2.0.0",
    complexity: "O(N) where N is the size of the hash.",
    summary: "Get all the fields and values in a hash",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct HGetAll {
    key: Bytes,
}

impl Command for HGetAll {
    type Output = Vec<(Bytes, Bytes)>;

    fn parse(args: &mut Args) -> Result<Self> {
        Ok(HGetAll { key: args.next_arg()? })
    }

    fn reply(pairs: Vec<(Bytes, Bytes)>) -> Reply {
        Reply::Map(pairs.into_iter().map(|(field, value)| (Reply::Bulk(field), Reply::Bulk(value))).collect())
    }
}

impl ReadCommand for HGetAll {
    fn read(&self, keyspace: &Keyspace, ctx: &mut ReadCtx) -> Result<Vec<(Bytes, Bytes)>> {
        let hash = hash_at(keyspace.db(ctx.db), &self.key, ctx.now_ms)?;
        Ok(hash.map_or_else(Vec::new, |hash| hash.iter().map(|(f, v)| (bytes_of(f), bytes_of(v))).collect()))
    }
}
