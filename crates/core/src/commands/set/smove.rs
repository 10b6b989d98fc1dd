//! SMOVE source destination member

use super::sadd::add_members;
use crate::commands::prelude::*;
use crate::keyspace::set::Member;

pub const SPEC: CommandSpec = CommandSpec {
    name: "smove",
    arity: 4,
    flags: &["write", "fast"],
    first_key: 1,
    last_key: 2,
    key_step: 1,
    key_specs: &[
        KeySpec { flags: &["RW", "access", "delete"], begin_index: 1, last_key: 0, key_step: 1 },
        KeySpec { flags: &["RW", "insert"], begin_index: 2, last_key: 0, key_step: 1 },
    ],
    acl_categories: &["@write", "@set", "@fast"],
    tips: &[],
    group: "set",
    since: "1.0.0",
    complexity: "O(1)",
    summary: "Move a member from one set to another",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct SMove {
    source: Bytes,
    destination: Bytes,
    member: Bytes,
}

impl Command for SMove {
    type Output = bool;

    fn parse(args: &mut Args) -> Result<Self> {
        Ok(SMove { source: args.next_arg()?, destination: args.next_arg()?, member: args.next_arg()? })
    }

    fn reply(moved: bool) -> Reply {
        Reply::Integer(i64::from(moved))
    }
}

impl WriteCommand for SMove {
    fn write(&self, keyspace: &mut Keyspace, ctx: &WriteCtx) -> Result<bool> {
        let db = keyspace.db(ctx.db);
        let Some(source) = value_at::<SetValue>(db, &self.source, ctx.now_ms)? else {
            return Ok(false);
        };
        value_at::<SetValue>(db, &self.destination, ctx.now_ms)?;
        if self.source == self.destination || !source.contains(&self.member) {
            // Moving a member onto its own set changes nothing.
            return Ok(self.source == self.destination && source.contains(&self.member));
        }
        let db = keyspace.db_mut(ctx.db);
        if let Some((source, version)) = value_mut::<SetValue>(db, &self.source, ctx.now_ms)? {
            source.remove(&self.member);
            *version = ctx.index;
        }
        let emptied = remove_if_void::<SetValue>(db, &self.source);
        keyspace.notify(EventClass::SET, "srem", ctx.db, &self.source);
        if emptied {
            keyspace.notify(EventClass::GENERIC, "del", ctx.db, &self.source);
        }
        add_members(keyspace, ctx, &self.destination, [Member::Bytes(&self.member)])?;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use crate::commands::set::testing::*;

    fn setup(ks: &mut Keyspace) {
        for key in ["a", "i", "new"] {
            write(ks, T, &["del", key]);
        }
        sadd(ks, "a", &["1", "a", "b"]);
        sadd(ks, "i", &["2", "3", "4"]);
    }

    #[test]
    fn moves_between_encodings() {
        let ks = &mut Keyspace::new();
        setup(ks);
        assert_eq!(write(ks, T, &["smove", "a", "i", "a"]), int(1));
        assert_eq!(members(ks, "a"), strings(&["1", "b"]));
        assert_eq!(members(ks, "i"), strings(&["2", "3", "4", "a"]));
        assert_eq!(encoding(ks, "i"), bulk("hashtable"));
        setup(ks);
        assert_eq!(write(ks, T, &["smove", "a", "i", "1"]), int(1));
        assert_eq!(encoding(ks, "i"), bulk("intset"));
        setup(ks);
        assert_eq!(write(ks, T, &["smove", "i", "new", "2"]), int(1));
        assert_eq!(encoding(ks, "new"), bulk("intset"));
        assert_eq!(write(ks, T, &["smove", "a", "new", "a"]), int(1));
        assert_eq!(members(ks, "new"), strings(&["2", "a"]));
        assert_eq!(write(ks, T, &["smove", "a", "fresh", "b"]), int(1));
        assert_eq!(encoding(ks, "fresh"), bulk("hashtable"));
    }

    #[test]
    fn missing_members_keys_and_wrong_types() {
        let ks = &mut Keyspace::new();
        setup(ks);
        write(ks, T, &["set", "str", "x"]);
        assert_eq!(write(ks, T, &["smove", "a", "i", "foo"]), int(0));
        assert_eq!(write(ks, T, &["smove", "a", "a", "foo"]), int(0));
        assert_eq!(write(ks, T, &["smove", "a", "a", "b"]), int(1));
        assert_eq!(members(ks, "a"), strings(&["1", "a", "b"]));
        assert_eq!(write(ks, T, &["smove", "missing", "str", "foo"]), int(0), "a missing source answers first");
        assert_eq!(write(ks, T, &["smove", "str", "i", "foo"]), error(WRONGTYPE));
        assert_eq!(write(ks, T, &["smove", "a", "str", "zz"]), error(WRONGTYPE));
        sadd(ks, "one", &["x"]);
        assert_eq!(write(ks, T, &["smove", "one", "a", "x"]), int(1));
        assert_eq!(read(ks, T, &["exists", "one"]), int(0));
    }

    #[test]
    fn the_destination_changes_only_when_the_member_is_new_there() {
        let ks = &mut Keyspace::new();
        write(ks, 5, &["sadd", "src", "a", "b"]);
        write(ks, 5, &["sadd", "dst", "a"]);
        assert_eq!(write(ks, 6, &["smove", "src", "dst", "a"]), int(1));
        assert_eq!(ks.db(0).get(b"dst", 6).unwrap().version, 5);
        assert_eq!(ks.db(0).get(b"src", 6).unwrap().version, 6);
        assert_eq!(write(ks, 7, &["smove", "src", "dst", "b"]), int(1));
        assert_eq!(ks.db(0).get(b"dst", 7).unwrap().version, 7);
    }
}
