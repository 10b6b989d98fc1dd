//! LREM key count element

use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "lrem",
    arity: 4,
    flags: &["write"],
    first_key: 1,
    last_key: 1,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["RW", "delete"], begin_index: 1, last_key: 0, key_step: 1 }],
    acl_categories: &["@write", "@list", "@slow"],
    tips: &[],
    group: "list",
    since: "1.0.0",
    complexity: "O(N+M) where N is the length of the list and M is the number of elements removed.",
    summary: "Remove elements from a list",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct LRem {
    key: Bytes,
    /// Positive: the first matches; negative: the last ones; 0: all of them.
    count: i64,
    element: Bytes,
}

impl Command for LRem {
    type Output = usize;

    fn parse(args: &mut Args) -> Result<Self> {
        Ok(LRem { key: args.next_arg()?, count: args.next_i64()?, element: args.next_arg()? })
    }

    fn reply(removed: usize) -> Reply {
        Reply::Integer(removed as i64)
    }
}

impl WriteCommand for LRem {
    fn write(&self, keyspace: &mut Keyspace, ctx: &WriteCtx) -> Result<usize> {
        let db = keyspace.db_mut(ctx.db);
        let Some((list, version)) = value_mut::<ListValue>(db, &self.key, ctx.now_ms)? else {
            return Ok(0);
        };
        let count = usize::try_from(self.count.unsigned_abs()).unwrap_or(usize::MAX);
        let removed = list.remove_matching(&self.element, count, self.count < 0);
        if removed > 0 {
            *version = ctx.index;
        }
        let emptied = remove_if_void::<ListValue>(db, &self.key);
        if removed > 0 {
            keyspace.notify(EventClass::LIST, "lrem", ctx.db, &self.key);
            if emptied {
                keyspace.notify(EventClass::GENERIC, "del", ctx.db, &self.key);
            }
        }
        Ok(removed)
    }
}

#[cfg(test)]
mod tests {
    use crate::commands::testing::*;
    use crate::keyspace::{Encodings, Keyspace};
    use crate::reply::Reply;

    fn bulks(items: &[&str]) -> Reply {
        Reply::Array(items.iter().map(|item| bulk(item)).collect())
    }

    #[test]
    fn removes_from_the_head_the_tail_or_everywhere() {
        let ks = &mut Keyspace::new();
        *ks.encodings_mut() = Encodings { list_max_listpack_size: 2, ..Encodings::default() };
        write(ks, 1, &["rpush", "l", "x", "a", "x", "b", "x", "c", "x"]);
        assert_eq!(write(ks, 2, &["lrem", "l", "2", "x"]), Reply::Integer(2));
        assert_eq!(read(ks, 2, &["lrange", "l", "0", "-1"]), bulks(&["a", "b", "x", "c", "x"]));
        assert_eq!(write(ks, 3, &["lrem", "l", "-1", "x"]), Reply::Integer(1));
        assert_eq!(read(ks, 3, &["lrange", "l", "0", "-1"]), bulks(&["a", "b", "x", "c"]));
        assert_eq!(write(ks, 4, &["lrem", "l", "0", "x"]), Reply::Integer(1));
        assert_eq!(write(ks, 5, &["lrem", "l", "0", "zz"]), Reply::Integer(0));
        assert_eq!(ks.db(0).get(b"l", 5).unwrap().version, 4);
        assert_eq!(read(ks, 5, &["lrange", "l", "0", "-1"]), bulks(&["a", "b", "c"]));
        assert_eq!(write(ks, 6, &["lrem", "l", "-9223372036854775808", "b"]), Reply::Integer(1));
    }

    #[test]
    fn removing_every_element_removes_the_key() {
        let ks = &mut Keyspace::new();
        write(ks, 1, &["rpush", "l", "x", "x", "x"]);
        assert_eq!(write(ks, 2, &["lrem", "l", "-5", "x"]), Reply::Integer(3));
        assert_eq!(read(ks, 2, &["exists", "l"]), Reply::Integer(0));
        assert_eq!(write(ks, 2, &["lrem", "l", "0", "x"]), Reply::Integer(0));
    }

    #[test]
    fn errors() {
        let ks = &mut Keyspace::new();
        write(ks, 1, &["set", "s", "v"]);
        assert_eq!(
            write(ks, 1, &["lrem", "s", "1", "v"]),
            error("WRONGTYPE Operation against a key holding the wrong kind of value")
        );
        assert_eq!(write(ks, 1, &["lrem", "s", "one", "v"]), error("ERR value is not an integer or out of range"));
    }
}
