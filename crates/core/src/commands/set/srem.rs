//! SREM key member [member ...]

use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "srem",
    arity: -3,
    flags: &["write", "fast"],
    first_key: 1,
    last_key: 1,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["RW", "delete"], begin_index: 1, last_key: 0, key_step: 1 }],
    acl_categories: &["@write", "@set", "@fast"],
    tips: &[],
    group: "set",
    since: "1.0.0",
    complexity: "O(N) where N is the number of members to be removed.",
    summary: "Remove one or more members from a set",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct SRem {
    key: Bytes,
    members: Vec<Bytes>,
}

impl Command for SRem {
    type Output = usize;

    fn parse(args: &mut Args) -> Result<Self> {
        Ok(SRem { key: args.next_arg()?, members: args.rest() })
    }

    fn reply(removed: usize) -> Reply {
        Reply::Integer(removed as i64)
    }
}

impl WriteCommand for SRem {
    fn write(&self, keyspace: &mut Keyspace, ctx: &WriteCtx) -> Result<usize> {
        let db = keyspace.db_mut(ctx.db);
        let Some((set, version)) = value_mut::<SetValue>(db, &self.key, ctx.now_ms)? else {
            return Ok(0);
        };
        let removed = self.members.iter().filter(|member| set.remove(member)).count();
        if removed > 0 {
            *version = ctx.index;
        }
        let emptied = remove_if_void::<SetValue>(db, &self.key);
        if removed > 0 {
            keyspace.notify(EventClass::SET, "srem", ctx.db, &self.key);
            if emptied {
                keyspace.notify(EventClass::GENERIC, "del", ctx.db, &self.key);
            }
        }
        Ok(removed)
    }
}

impl MayChangeNothing for SRem {
    fn reply_if_unchanged(&self, keyspace: &Keyspace, db: DbIndex, now_ms: TimeMs) -> Option<Reply> {
        let unchanged = match value_at::<SetValue>(keyspace.db(db), &self.key, now_ms).ok()? {
            None => true,
            Some(set) => !self.members.iter().any(|member| set.contains(member)),
        };
        unchanged.then_some(Reply::Integer(0))
    }
}

#[cfg(test)]
mod tests {
    use crate::commands::set::testing::*;

    #[test]
    fn removes_members_and_the_emptied_key() {
        let ks = &mut Keyspace::new();
        sadd(ks, "s", &["a", "b", "c", "d"]);
        assert_eq!(write(ks, T, &["srem", "s", "k", "k"]), int(0));
        assert_eq!(write(ks, T, &["srem", "s", "b", "d", "x", "b"]), int(2));
        assert_eq!(members(ks, "s"), strings(&["a", "c"]));
        sadd(ks, "i", &["1", "2", "3"]);
        assert_eq!(write(ks, T, &["srem", "i", "x", "01", "2"]), int(1));
        assert_eq!(write(ks, T, &["srem", "i", "1", "2", "3", "4", "5"]), int(2));
        assert_eq!(read(ks, T, &["exists", "i"]), int(0));
        assert_eq!(write(ks, T, &["srem", "missing", "a"]), int(0));
        write(ks, T, &["set", "str", "x"]);
        assert_eq!(write(ks, T, &["srem", "str", "a"]), error(WRONGTYPE));
    }

    #[test]
    fn the_version_changes_only_when_a_member_is_removed() {
        let ks = &mut Keyspace::new();
        write(ks, 5, &["sadd", "s", "a", "b"]);
        write(ks, 6, &["srem", "s", "c"]);
        assert_eq!(ks.db(0).get(b"s", 6).unwrap().version, 5);
        write(ks, 7, &["srem", "s", "a"]);
        assert_eq!(ks.db(0).get(b"s", 7).unwrap().version, 7);
    }
}
