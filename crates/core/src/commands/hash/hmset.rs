//! HMSET key field value [field value ...]

use super::hset::HSet;
use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "hmset",
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
    complexity: "O(N) where N is the number of fields being set.",
    summary: "Set multiple hash fields to multiple values",
    deprecated: Some(("4.0.0", "`HSET` with multiple field-value pairs")),
    movable_keys: None,
    subcommands: &[],
};

pub struct HMSet(HSet);

impl Command for HMSet {
    type Output = ();

    fn parse(args: &mut Args) -> Result<Self> {
        HSet::parse_in(args, "hmset").map(HMSet)
    }

    fn reply(_: ()) -> Reply {
        Reply::OK
    }
}

impl WriteCommand for HMSet {
    fn write(&self, keyspace: &mut Keyspace, ctx: &WriteCtx) -> Result<()> {
        self.0.store(keyspace, ctx).map(drop)
    }
}
