//! SMISMEMBER key member [member ...]

use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "smismember",
    arity: -3,
    flags: &["readonly", "fast"],
    first_key: 1,
    last_key: 1,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["RO", "access"], begin_index: 1, last_key: 0, key_step: 1 }],
    acl_categories: &["@read", "@set", "@fast"],
    tips: &[],
    group: "set",
    since: "6.2.0",
    complexity: "O(N) where N is the number of elements being checked for membership",
    summary: "Returns the membership associated with the given elements for a set",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct SMIsMember {
    key: Bytes,
    members: Vec<Bytes>,
}

impl Command for SMIsMember {
    type Output = Vec<bool>;

    fn parse(args: &mut Args) -> Result<Self> {
        Ok(SMIsMember { key: args.next_arg()?, members: args.rest() })
    }

    fn reply(found: Vec<bool>) -> Reply {
        Reply::Array(found.into_iter().map(|found| Reply::Integer(i64::from(found))).collect())
    }
}

impl ReadCommand for SMIsMember {
    fn read(&self, keyspace: &Keyspace, ctx: &mut ReadCtx) -> Result<Vec<bool>> {
        let set = value_at::<SetValue>(keyspace.db(ctx.db), &self.key, ctx.now_ms)?;
        Ok(self.members.iter().map(|member| set.is_some_and(|set| set.contains(member))).collect())
    }
}

#[cfg(test)]
mod tests {
    use crate::commands::set::testing::*;

    #[test]
    fn answers_each_member() {
        let ks = &mut Keyspace::new();
        sadd(ks, "s", &["foo", "bar"]);
        assert_eq!(read(ks, T, &["smismember", "s", "bla", "foo"]), Reply::Array(vec![int(0), int(1)]));
        assert_eq!(read(ks, T, &["smismember", "missing", "a", "b"]), Reply::Array(vec![int(0), int(0)]));
        assert_eq!(read(ks, T, &["smismember", "s"]), error("ERR wrong number of arguments for 'smismember' command"));
        write(ks, T, &["set", "str", "x"]);
        assert_eq!(read(ks, T, &["smismember", "str", "a"]), error(WRONGTYPE));
    }
}
