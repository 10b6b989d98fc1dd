//! SWAPDB index1 index2

use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "swapdb",
    arity: 3,
    flags: &["write", "fast"],
    first_key: 0,
    last_key: 0,
    key_step: 0,
    key_specs: &[],
    acl_categories: &["@keyspace", "@write", "@fast", "@dangerous"],
    tips: &[],
    group: "server",
    since: "4.0.0",
    complexity: "O(N) where N is the count of clients watching or blocking on keys from both databases.",
    summary: "Swaps two Redis databases",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct SwapDb {
    first: DbIndex,
    second: DbIndex,
}

fn db_index(args: &mut Args, which: &str) -> Result<DbIndex> {
    let arg = args.next_arg()?;
    if parse_i64(&arg).is_none() {
        return Err(Error::err(format_args!("invalid {which} DB index")));
    }
    Args::new(std::slice::from_ref(&arg)).with_databases_of(args).db_index()
}

impl Command for SwapDb {
    type Output = ();

    fn parse(args: &mut Args) -> Result<Self> {
        Ok(SwapDb { first: db_index(args, "first")?, second: db_index(args, "second")? })
    }

    fn reply(_: ()) -> Reply {
        Reply::OK
    }
}

impl WriteCommand for SwapDb {
    fn write(&self, keyspace: &mut Keyspace, ctx: &WriteCtx) -> Result<()> {
        keyspace.swap(self.first, self.second, ctx.index);
        Ok(())
    }
}
