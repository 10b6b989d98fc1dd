//! SADD key member [member ...]

use crate::commands::prelude::*;
use crate::keyspace::set::Member;

pub const SPEC: CommandSpec = CommandSpec {
    name: "sadd",
    arity: -3,
    flags: &["write", "denyoom", "fast"],
    first_key: 1,
    last_key: 1,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["RW", "insert"], begin_index: 1, last_key: 0, key_step: 1 }],
    acl_categories: &["@write", "@set", "@fast"],
    tips: &[],
    group: "set",
    since: "1.0.0",
    complexity:
        "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.",
    summary: "Add one or more members to a set",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct SAdd {
    key: Bytes,
    members: Vec<Bytes>,
}

/// Adds `members` to the set at `key`, creating it if missing; returns how many were new. The
/// key's version changes only when a member was added (so `WATCH` sees real changes only).
pub fn add_members<'a>(
    keyspace: &mut Keyspace,
    ctx: &WriteCtx,
    key: &[u8],
    members: impl IntoIterator<Item = Member<'a>>,
) -> Result<usize> {
    let (db, encodings) = keyspace.db_and_encodings(ctx.db);
    let hasher = db.hasher();
    if let Some((set, version)) = value_mut::<SetValue>(db, key, ctx.now_ms)? {
        let added = members.into_iter().filter(|member| set.insert_member(*member, encodings, hasher)).count();
        if added > 0 {
            *version = ctx.index;
            keyspace.notify(EventClass::SET, "sadd", ctx.db, key);
        }
        return Ok(added);
    }
    let set = SetValue::from_members(members, encodings, hasher);
    let added = set.len();
    if store_value(db, key, set, ctx) {
        keyspace.notify(EventClass::SET, "sadd", ctx.db, key);
    }
    Ok(added)
}

impl Command for SAdd {
    type Output = usize;

    fn parse(args: &mut Args) -> Result<Self> {
        Ok(SAdd { key: args.next_arg()?, members: args.rest() })
    }

    fn reply(added: usize) -> Reply {
        Reply::Integer(added as i64)
    }
}

impl WriteCommand for SAdd {
    fn write(&self, keyspace: &mut Keyspace, ctx: &WriteCtx) -> Result<usize> {
        add_members(keyspace, ctx, &self.key, self.members.iter().map(|member| Member::Bytes(member)))
    }
}

impl MayChangeNothing for SAdd {
    fn reply_if_unchanged(&self, keyspace: &Keyspace, db: DbIndex, now_ms: TimeMs) -> Option<Reply> {
        let set = value_at::<SetValue>(keyspace.db(db), &self.key, now_ms).ok()??;
        self.members.iter().all(|member| set.contains(member)).then_some(Reply::Integer(0))
    }
}

#[cfg(test)]
mod tests {
    use crate::commands::set::testing::*;

    #[test]
    fn adds_new_members_only() {
        let ks = &mut Keyspace::new();
        assert_eq!(write(ks, T, &["sadd", "s", "a", "b", "a"]), int(2));
        assert_eq!(write(ks, T, &["sadd", "s", "A", "a", "b", "c", "B"]), int(3));
        assert_eq!(members(ks, "s"), strings(&["A", "B", "a", "b", "c"]));
        assert_eq!(write(ks, T, &["sadd", "s"]), error("ERR wrong number of arguments for 'sadd' command"));
        write(ks, T, &["set", "str", "x"]);
        assert_eq!(write(ks, T, &["sadd", "str", "a"]), error(WRONGTYPE));
    }

    #[test]
    fn integers_make_an_intset_until_a_string_or_the_limit() {
        let ks = &mut Keyspace::new();
        sadd(ks, "i", &["17", "16"]);
        assert_eq!(encoding(ks, "i"), bulk("intset"));
        assert_eq!(write(ks, T, &["sadd", "i", "a"]), int(1));
        assert_eq!(encoding(ks, "i"), bulk("hashtable"));
        sadd(ks, "mixed", &["1", "a"]);
        assert_eq!(encoding(ks, "mixed"), bulk("hashtable"));
        for (key, member) in [("big", "213244124402402314402033402"), ("zero", "01"), ("plus", "+1"), ("space", " 1")] {
            sadd(ks, key, &[member]);
            assert_eq!(encoding(ks, key), bulk("hashtable"), "{member}");
            assert_eq!(read(ks, T, &["sismember", key, member]), int(1));
        }
        ks.encodings_mut().set_max_intset_entries = 3;
        sadd(ks, "limit", &["1", "2", "3"]);
        assert_eq!(encoding(ks, "limit"), bulk("intset"));
        sadd(ks, "limit", &["4"]);
        assert_eq!(encoding(ks, "limit"), bulk("hashtable"));
        assert_eq!(members(ks, "limit"), strings(&["1", "2", "3", "4"]));
        ks.encodings_mut().set_max_intset_entries = 0;
        sadd(ks, "none", &["1"]);
        assert_eq!(encoding(ks, "none"), bulk("hashtable"));
    }

    #[test]
    fn the_version_changes_only_when_a_member_is_added() {
        let ks = &mut Keyspace::new();
        write(ks, 5, &["sadd", "s", "a"]);
        write(ks, 6, &["sadd", "s", "a"]);
        assert_eq!(ks.db(0).get(b"s", 6).unwrap().version, 5);
        write(ks, 7, &["sadd", "s", "a", "b"]);
        assert_eq!(ks.db(0).get(b"s", 7).unwrap().version, 7);
    }
}
