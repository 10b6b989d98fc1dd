//! LLEN key

use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "llen",
    arity: 2,
    flags: &["readonly", "fast"],
    first_key: 1,
    last_key: 1,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["RO"], begin_index: 1, last_key: 0, key_step: 1 }],
    acl_categories: &["@read", "@list", "@fast"],
    tips: &[],
    group: "list",
    since: "1.0.0",
    complexity: "O(1)",
    summary: "Get the length of a list",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct LLen {
    key: Bytes,
}

impl Command for LLen {
    type Output = usize;

    fn parse(args: &mut Args) -> Result<Self> {
        Ok(LLen { key: args.next_arg()? })
    }

    fn reply(len: usize) -> Reply {
        Reply::Integer(len as i64)
    }
}

impl ReadCommand for LLen {
    fn read(&self, keyspace: &Keyspace, ctx: &mut ReadCtx) -> Result<usize> {
        Ok(value_at::<ListValue>(keyspace.db(ctx.db), &self.key, ctx.now_ms)?.map_or(0, ListValue::len))
    }
}

#[cfg(test)]
mod tests {
    use crate::commands::testing::*;
    use crate::keyspace::Keyspace;
    use crate::reply::Reply;

    #[test]
    fn counts_elements() {
        let ks = &mut Keyspace::new();
        assert_eq!(read(ks, 1, &["llen", "l"]), Reply::Integer(0));
        write(ks, 1, &["rpush", "l", "a", "b", "c"]);
        assert_eq!(read(ks, 1, &["llen", "l"]), Reply::Integer(3));
        write(ks, 1, &["set", "s", "v"]);
        assert_eq!(
            read(ks, 1, &["llen", "s"]),
            error("WRONGTYPE Operation against a key holding the wrong kind of value")
        );
    }
}
