//! SISMEMBER key member

use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "sismember",
    arity: 3,
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
    summary: "Determine if a given value is a member of a set",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct SIsMember {
    key: Bytes,
    member: Bytes,
}

impl Command for SIsMember {
    type Output = bool;

    fn parse(args: &mut Args) -> Result<Self> {
        Ok(SIsMember { key: args.next_arg()?, member: args.next_arg()? })
    }

    fn reply(found: bool) -> Reply {
        Reply::Integer(i64::from(found))
    }
}

impl ReadCommand for SIsMember {
    fn read(&self, keyspace: &Keyspace, ctx: &mut ReadCtx) -> Result<bool> {
        let set = value_at::<SetValue>(keyspace.db(ctx.db), &self.key, ctx.now_ms)?;
        Ok(set.is_some_and(|set| set.contains(&self.member)))
    }
}

#[cfg(test)]
mod tests {
    use crate::commands::set::testing::*;

    #[test]
    fn answers_membership() {
        let ks = &mut Keyspace::new();
        sadd(ks, "s", &["foo", "bar"]);
        sadd(ks, "i", &["16", "17"]);
        assert_eq!(read(ks, T, &["sismember", "s", "foo"]), int(1));
        assert_eq!(read(ks, T, &["sismember", "s", "bla"]), int(0));
        assert_eq!(read(ks, T, &["sismember", "i", "16"]), int(1));
        assert_eq!(read(ks, T, &["sismember", "i", "016"]), int(0));
        assert_eq!(read(ks, T, &["sismember", "missing", "a"]), int(0));
        write(ks, T, &["set", "str", "x"]);
        assert_eq!(read(ks, T, &["sismember", "str", "a"]), error(WRONGTYPE));
    }
}
