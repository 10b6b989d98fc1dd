//! SORT_RO key [BY pattern] [LIMIT offset count] [GET pattern [GET pattern ...]] [ASC | DESC]
//! [ALPHA]
//!
//! SORT without STORE, as a read (see [`super::sort`]).

use super::sort::{sort_reply, SortOptions, SortOutput};
use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "sort_ro",
    arity: -2,
    flags: &["readonly", "movablekeys"],
    first_key: 1,
    last_key: 1,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["RO", "access"], begin_index: 1, last_key: 0, key_step: 1 }],
    acl_categories: &["@read", "@set", "@sortedset", "@list", "@slow", "@dangerous"],
    tips: &[],
    group: "generic",
    since: "7.0.0",
    complexity: "O(N+M*log(M)) where N is the number of elements in the list or set to sort, and M the number of returned elements. When the elements are not sorted, complexity is O(N).",
    summary: "Sort the elements in a list, set or sorted set. Read-only variant of SORT.",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct SortRo {
    options: SortOptions,
}

impl Command for SortRo {
    type Output = SortOutput;

    fn parse(args: &mut Args) -> Result<Self> {
        Ok(SortRo { options: SortOptions::parse(args, false)? })
    }

    fn reply(output: SortOutput) -> Reply {
        sort_reply(output)
    }
}

impl ReadCommand for SortRo {
    fn read(&self, keyspace: &Keyspace, ctx: &mut ReadCtx) -> Result<SortOutput> {
        self.options.sort(keyspace, ctx.db, ctx.now_ms, ctx.from_script).map(SortOutput::Values)
    }
}
