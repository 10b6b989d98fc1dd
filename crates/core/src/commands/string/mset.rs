//! MSET key value [key value ...]

use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "mset",
    arity: -3,
    flags: &["write", "denyoom"],
    first_key: 1,
    last_key: -1,
    key_step: 2,
    key_specs: &[KeySpec { flags: &["OW", "update"], begin_index: 1, last_key: -1, key_step: 2 }],
    acl_categories: &["@write", "@string", "@slow"],
    tips: &["request_policy:multi_shard", "response_policy:all_succeeded"],
    group: "string",
    since: "1.0.1",
    complexity: "O(N) where N is the number of keys to set.",
    summary: "Set multiple keys to multiple values",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct MSet {
    pairs: Vec<(Bytes, Bytes)>,
}

impl MSet {
    pub fn parse_pairs(args: &mut Args, command: &str) -> Result<Vec<(Bytes, Bytes)>> {
        if !args.remaining().is_multiple_of(2) {
            return Err(Error::wrong_arity(command));
        }
        let rest = args.rest();
        Ok(rest.chunks_exact(2).map(|pair| (pair[0].clone(), pair[1].clone())).collect())
    }

    pub fn store_all(pairs: &[(Bytes, Bytes)], keyspace: &mut Keyspace, ctx: &WriteCtx) {
        for (key, value) in pairs {
            keyspace.db_mut(ctx.db).insert(key, Value::string(value), None, ctx.index);
            keyspace.notify(EventClass::STRING, "set", ctx.db, key);
        }
    }
}

impl Command for MSet {
    type Output = ();

    fn parse(args: &mut Args) -> Result<Self> {
        Ok(MSet { pairs: MSet::parse_pairs(args, "mset")? })
    }

    fn reply(_: ()) -> Reply {
        Reply::OK
    }
}

impl WriteCommand for MSet {
    fn write(&self, keyspace: &mut Keyspace, ctx: &WriteCtx) -> Result<()> {
        MSet::store_all(&self.pairs, keyspace, ctx);
        Ok(())
    }
}
