//! HSET key field value [field value ...]

use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "hset",
    arity: -4,
    flags: &["write", "denyoom", "fast"],
    first_key: 1,
    last_key: 1,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["RW", "update"], begin_index: 1, last_key: 0, key_step: 1 }],
    acl_categories: &["@write", "@hash", "@fast"],
    tips: &[],
    group: "hash",
    since: "2.0.0",
    complexity: "O(1) for each field/value pair added, so O(N) to add N field/value pairs when the command is called with multiple field/value pairs.",
    summary: "Set the string value of a hash field",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct HSet {
    key: Bytes,
    pairs: Vec<(Bytes, Bytes)>,
}

impl HSet {
    pub fn parse_in(args: &mut Args, command: &str) -> Result<HSet> {
        let key = args.next_arg()?;
        if args.is_empty() || !args.remaining().is_multiple_of(2) {
            return Err(Error::wrong_arity(command));
        }
        let rest = args.rest();
        Ok(HSet { key, pairs: rest.chunks_exact(2).map(|pair| (pair[0].clone(), pair[1].clone())).collect() })
    }

    /// Stores every pair; returns how many fields were new.
    pub fn store(&self, keyspace: &mut Keyspace, ctx: &WriteCtx) -> Result<usize> {
        let (hash, encodings, hasher) = collection_or_create::<HashValue>(keyspace, ctx, &self.key)?;
        let added = self.pairs.iter().filter(|(field, value)| hash.insert(field, value, encodings, hasher)).count();
        keyspace.notify(EventClass::HASH, "hset", ctx.db, &self.key);
        Ok(added)
    }
}

impl Command for HSet {
    type Output = usize;

    fn parse(args: &mut Args) -> Result<Self> {
        HSet::parse_in(args, "hset")
    }

    fn reply(added: usize) -> Reply {
        Reply::Integer(added as i64)
    }
}

impl WriteCommand for HSet {
    fn write(&self, keyspace: &mut Keyspace, ctx: &WriteCtx) -> Result<usize> {
        self.store(keyspace, ctx)
    }
}
