//! SMEMBERS key

use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "smembers",
    arity: 2,
    flags: &["readonly"],
    first_key: 1,
    last_key: 1,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["RO", "access"], begin_index: 1, last_key: 0, key_step: 1 }],
    acl_categories: &["@read", "@set", "@slow"],
    tips: &["nondeterministic_output_order"],
    group: "set",
    since: "1.0.0",
    complexity: "O(N) where N is the set cardinality.",
    summary: "Get all the members in a set",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct SMembers {
    key: Bytes,
}

/// Members as a set reply (an array in RESP2), as SMEMBERS, SINTER, SUNION and SDIFF reply.
pub fn members_reply(members: Vec<Bytes>) -> Reply {
    Reply::Set(members.into_iter().map(Reply::Bulk).collect())
}

impl Command for SMembers {
    type Output = Vec<Bytes>;

    fn parse(args: &mut Args) -> Result<Self> {
        Ok(SMembers { key: args.next_arg()? })
    }

    fn reply(members: Vec<Bytes>) -> Reply {
        members_reply(members)
    }
}

impl ReadCommand for SMembers {
    fn read(&self, keyspace: &Keyspace, ctx: &mut ReadCtx) -> Result<Vec<Bytes>> {
        let set = value_at::<SetValue>(keyspace.db(ctx.db), &self.key, ctx.now_ms)?;
        Ok(set.map_or_else(Vec::new, |set| set.iter().map(|member| member.to_bytes()).collect()))
    }
}

#[cfg(test)]
mod tests {
    use crate::commands::set::testing::*;

    #[test]
    fn replies_with_a_set() {
        let ks = &mut Keyspace::new();
        sadd(ks, "i", &["3", "1", "2"]);
        assert_eq!(read(ks, T, &["smembers", "i"]), Reply::Set(vec![bulk("1"), bulk("2"), bulk("3")]));
        assert_eq!(read(ks, T, &["smembers", "missing"]), Reply::Set(vec![]));
        write(ks, T, &["set", "str", "x"]);
        assert_eq!(read(ks, T, &["smembers", "str"]), error(WRONGTYPE));
        assert_eq!(read(ks, T, &["smembers", "i", "x"]), error("ERR wrong number of arguments for 'smembers' command"));
    }
}
