//! HSCAN key cursor [MATCH pattern] [COUNT count]

use crate::commands::generic::scan::{scan_reply, ScanOptions};
use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "hscan",
    arity: -3,
    flags: &["readonly"],
    first_key: 1,
    last_key: 1,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["RO", "access"], begin_index: 1, last_key: 0, key_step: 1 }],
    acl_categories: &["@read", "@hash", "@slow"],
    tips: &["nondeterministic_output"],
    group: "hash",
    since: "2.8.0",
    complexity: "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection..",
    summary: "Incrementally iterate hash fields and associated values",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct HScan {
    key: Bytes,
    options: ScanOptions,
}

impl Command for HScan {
    type Output = (u64, Vec<Bytes>);

    fn parse(args: &mut Args) -> Result<Self> {
        let key = args.next_arg()?;
        Ok(HScan { key, options: ScanOptions::parse(args, false)? })
    }

    fn reply(page: (u64, Vec<Bytes>)) -> Reply {
        scan_reply(page)
    }
}

impl ReadCommand for HScan {
    fn read(&self, keyspace: &Keyspace, ctx: &mut ReadCtx) -> Result<(u64, Vec<Bytes>)> {
        let Some(hash) = hash_at(keyspace.db(ctx.db), &self.key, ctx.now_ms)? else {
            return Ok((0, Vec::new()));
        };
        let (next, found) = hash.scan(self.options.cursor, self.options.count);
        let items = found
            .into_iter()
            .filter(|(field, _)| self.options.matches(field))
            .flat_map(|(field, value)| [bytes_of(field), bytes_of(value)])
            .collect();
        Ok((next, items))
    }
}
