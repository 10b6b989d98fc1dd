//! SUNION key [key ...]

use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "sunion",
    arity: -2,
    flags: &["readonly"],
    first_key: 1,
    last_key: -1,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["RO", "access"], begin_index: 1, last_key: -1, key_step: 1 }],
    acl_categories: &["@read", "@set", "@slow"],
    tips: &["nondeterministic_output_order"],
    group: "set",
    since: "1.0.0",
    complexity: "O(N) where N is the total number of elements in all given sets.",
    summary: "Add multiple sets",
    deprecated: None,
    subcommands: &[],
};

use super::smembers::members_reply;

pub struct SUnion {
    keys: Vec<Bytes>,
}

impl Command for SUnion {
    type Output = Vec<Bytes>;

    fn parse(args: &mut Args) -> Result<Self> {
        Ok(SUnion { keys: args.rest() })
    }

    fn reply(members: Vec<Bytes>) -> Reply {
        members_reply(members)
    }
}

impl ReadCommand for SUnion {
    fn read(&self, keyspace: &Keyspace, ctx: &mut ReadCtx) -> Result<Vec<Bytes>> {
        let db = keyspace.db(ctx.db);
        let sets = values_at::<SetValue>(db, &self.keys, ctx.now_ms)?;
        let result = SetValue::union(sets.into_iter().flatten(), keyspace.encodings(), db.hasher());
        Ok(result.iter().map(|member| member.to_bytes()).collect())
    }
}

#[cfg(test)]
mod tests {
    use crate::commands::set::testing::*;

    #[test]
    fn unites_sets_treating_missing_keys_as_empty() {
        let ks = &mut Keyspace::new();
        sadd(ks, "a", &["a", "b", "c"]);
        sadd(ks, "b", &["b", "c", "d"]);
        let union = read(ks, T, &["sunion", "nokey", "a", "b", "nokey2"]);
        assert!(matches!(union, Reply::Set(_)));
        assert_eq!(texts(union), strings(&["a", "b", "c", "d"]));
        assert_eq!(read(ks, T, &["sunion", "nokey"]), Reply::Set(vec![]));
        sadd(ks, "i", &["3", "1"]);
        sadd(ks, "j", &["2"]);
        assert_eq!(read(ks, T, &["sunion", "i", "j"]), Reply::Set(vec![bulk("1"), bulk("2"), bulk("3")]));
        write(ks, T, &["set", "str", "x"]);
        assert_eq!(read(ks, T, &["sunion", "nokey", "str"]), error(WRONGTYPE));
        assert_eq!(read(ks, T, &["sunion", "a", "str"]), error(WRONGTYPE));
    }
}
