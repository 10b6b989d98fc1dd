//! ZCARD key

use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "zcard",
    arity: 2,
    flags: &["readonly", "fast"],
    first_key: 1,
    last_key: 1,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["RO"], begin_index: 1, last_key: 0, key_step: 1 }],
    acl_categories: &["@read", "@sortedset", "@fast"],
    tips: &[],
    group: "sorted-set",
    since: "1.2.0",
    complexity: "O(1)",
    summary: "Get the number of members in a sorted set",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct ZCard {
    key: Bytes,
}

impl Command for ZCard {
    type Output = usize;

    fn parse(args: &mut Args) -> Result<Self> {
        Ok(ZCard { key: args.next_arg()? })
    }

    fn reply(len: usize) -> Reply {
        Reply::Integer(len as i64)
    }
}

impl ReadCommand for ZCard {
    fn read(&self, keyspace: &Keyspace, ctx: &mut ReadCtx) -> Result<usize> {
        Ok(value_at::<ZSetValue>(keyspace.db(ctx.db), &self.key, ctx.now_ms)?.map_or(0, ZSetValue::len))
    }
}

#[cfg(test)]
mod tests {
    use crate::commands::zset::testing::*;

    #[test]
    fn counts() {
        both(|ks, _| {
            assert_eq!(run(ks, &["zcard", "z"]), int(0));
            run(ks, &["zadd", "z", "1", "a", "2", "b"]);
            assert_eq!(run(ks, &["zcard", "z"]), int(2));
            run(ks, &["set", "s", "v"]);
            assert_eq!(run(ks, &["zcard", "s"]), error(WRONGTYPE));
        });
    }
}
