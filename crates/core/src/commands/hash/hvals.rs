//! HVALS key

use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "hvals",
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
    summary: "Get all the values in a hash",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct HVals {
    key: Bytes,
}

impl Command for HVals {
    type Output = Vec<Bytes>;

    fn parse(args: &mut Args) -> Result<Self> {
        Ok(HVals { key: args.next_arg()? })
    }

    fn reply(values: Vec<Bytes>) -> Reply {
        Reply::bulks(values)
    }
}

impl ReadCommand for HVals {
    fn read(&self, keyspace: &Keyspace, ctx: &mut ReadCtx) -> Result<Vec<Bytes>> {
        let hash = hash_at(keyspace.db(ctx.db), &self.key, ctx.now_ms)?;
        Ok(hash.map_or_else(Vec::new, |hash| hash.iter().map(|(_, v)| bytes_of(v)).collect()))
    }
}
