//! HSETNX key field value

use super::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "hsetnx",
    arity: 4,
    flags: &["write", "denyoom", "fast"],
    first_key: 1,
    last_key: 1,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["RW", "insert"], begin_index: 1, last_key: 0, key_step: 1 }],
    acl_categories: &["@write", "@hash", "@fast"],
    tips: &[],
    group: "hash",
    since: "2.0.0",
    complexity: "O(1)",
    summary: "Set the value of a hash field, only if the field does not exist",
    deprecated: None,
    subcommands: &[],
};

pub struct HSetNx {
    key: Bytes,
    field: Bytes,
    value: Bytes,
}

impl Command for HSetNx {
    type Output = bool;

    fn parse(args: &mut Args) -> Result<Self> {
        Ok(HSetNx { key: args.next_arg()?, field: args.next_arg()?, value: args.next_arg()? })
    }

    fn reply(stored: bool) -> Reply {
        Reply::Integer(stored.into())
    }
}

impl WriteCommand for HSetNx {
    fn write(&self, keyspace: &mut Keyspace, ctx: &WriteCtx) -> Result<bool> {
        let db = keyspace.db_mut(ctx.db);
        if let Some((hash, _)) = hash_entry_mut(db, &self.key, ctx.now_ms)? {
            if hash.contains_key(&self.field) {
                return Ok(false);
            }
        }
        let (hash, version) = hash_or_create(db, &self.key, ctx.now_ms, ctx.index)?;
        hash.insert(self.field.clone(), self.value.clone());
        *version = ctx.index;
        Ok(true)
    }
}
