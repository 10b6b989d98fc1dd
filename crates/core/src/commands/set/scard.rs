//! SCARD key

use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "scard",
    arity: 2,
    flags: &["readonly", "fast"],
    first_key: 1,
    last_key: 1,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["RO"], begin_index: 1, last_key: 0, key_step: 1 }],
    acl_categories: &["@read", "@set", "@fast"],
    tips: &[],
    group: "set",
    since: "1.0.0",
    complexity: "O(1)",
    summary: "Get the number of members in a set",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct SCard {
    key: Bytes,
}

impl Command for SCard {
    type Output = usize;

    fn parse(args: &mut Args) -> Result<Self> {
        Ok(SCard { key: args.next_arg()? })
    }

    fn reply(len: usize) -> Reply {
        Reply::Integer(len as i64)
    }
}

impl ReadCommand for SCard {
    fn read(&self, keyspace: &Keyspace, ctx: &mut ReadCtx) -> Result<usize> {
        Ok(value_at::<SetValue>(keyspace.db(ctx.db), &self.key, ctx.now_ms)?.map_or(0, SetValue::len))
    }
}

#[cfg(test)]
mod tests {
    use crate::commands::set::testing::*;

    #[test]
    fn counts_members() {
        let ks = &mut Keyspace::new();
        sadd(ks, "s", &["a", "b", "a"]);
        assert_eq!(read(ks, T, &["scard", "s"]), int(2));
        assert_eq!(read(ks, T, &["scard", "missing"]), int(0));
        write(ks, T, &["set", "str", "x"]);
        assert_eq!(read(ks, T, &["scard", "str"]), error(WRONGTYPE));
    }
}
