//! LINSERT key BEFORE|AFTER pivot element

use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "linsert",
    arity: 5,
    flags: &["write", "denyoom"],
    first_key: 1,
    last_key: 1,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["RW", "insert"], begin_index: 1, last_key: 0, key_step: 1 }],
    acl_categories: &["@write", "@list", "@slow"],
    tips: &[],
    group: "list",
    since: "2.2.0",
    complexity: "O(N) where N is the number of elements to traverse before seeing the value pivot. This means that inserting somewhere on the left end on the list (head) can be considered O(1) and inserting somewhere on the right end (tail) is O(N).",
    summary: "Insert an element before or after another element in a list",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct LInsert {
    key: Bytes,
    after: bool,
    pivot: Bytes,
    element: Bytes,
}

impl Command for LInsert {
    /// The list's new length; 0 when there is no list, -1 when the pivot is not in it.
    type Output = i64;

    fn parse(args: &mut Args) -> Result<Self> {
        let key = args.next_arg()?;
        let place = args.next_arg()?;
        let after = if is(&place, "AFTER") {
            true
        } else if is(&place, "BEFORE") {
            false
        } else {
            return Err(Error::SYNTAX);
        };
        Ok(LInsert { key, after, pivot: args.next_arg()?, element: args.next_arg()? })
    }

    fn reply(len: i64) -> Reply {
        Reply::Integer(len)
    }
}

impl WriteCommand for LInsert {
    fn write(&self, keyspace: &mut Keyspace, ctx: &WriteCtx) -> Result<i64> {
        let (db, encodings) = keyspace.db_and_encodings(ctx.db);
        let Some((list, version)) = value_mut::<ListValue>(db, &self.key, ctx.now_ms)? else {
            return Ok(0);
        };
        // The first match from the head is the pivot.
        let Some(pivot) = list.position(&self.pivot) else {
            return Ok(-1);
        };
        list.insert(pivot + usize::from(self.after), &self.element, encodings);
        *version = ctx.index;
        let length = list.len() as i64;
        keyspace.notify(EventClass::LIST, "linsert", ctx.db, &self.key);
        Ok(length)
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
    fn inserts_around_the_first_pivot() {
        let ks = &mut Keyspace::new();
        write(ks, 1, &["rpush", "l", "a", "c", "a"]);
        assert_eq!(write(ks, 2, &["linsert", "l", "before", "c", "b"]), Reply::Integer(4));
        assert_eq!(write(ks, 2, &["linsert", "l", "AFTER", "a", "a2"]), Reply::Integer(5));
        assert_eq!(write(ks, 2, &["linsert", "l", "After", "a", "a3"]), Reply::Integer(6));
        assert_eq!(write(ks, 2, &["linsert", "l", "after", "c", "end?"]), Reply::Integer(7));
        assert_eq!(read(ks, 2, &["lrange", "l", "0", "-1"]), bulks(&["a", "a3", "a2", "b", "c", "end?", "a"]));
        assert_eq!(write(ks, 3, &["linsert", "l", "before", "zz", "x"]), Reply::Integer(-1));
        assert_eq!(ks.db(0).get(b"l", 3).unwrap().version, 2, "no pivot, no change");
        assert_eq!(write(ks, 3, &["linsert", "nope", "before", "a", "x"]), Reply::Integer(0));
        assert_eq!(read(ks, 3, &["exists", "nope"]), Reply::Integer(0));
    }

    #[test]
    fn errors() {
        let ks = &mut Keyspace::new();
        write(ks, 1, &["set", "s", "v"]);
        // The place is read before the key is looked up.
        assert_eq!(write(ks, 1, &["linsert", "s", "aft3r", "a", "b"]), error("ERR syntax error"));
        assert_eq!(write(ks, 1, &["linsert", "nope", "aft3r", "a", "b"]), error("ERR syntax error"));
        assert_eq!(
            write(ks, 1, &["linsert", "s", "after", "a", "b"]),
            error("WRONGTYPE Operation against a key holding the wrong kind of value")
        );
        assert_eq!(
            write(ks, 1, &["linsert", "s", "after", "a"]),
            error("ERR wrong number of arguments for 'linsert' command")
        );
    }

    #[test]
    fn inserts_into_full_nodes() {
        let ks = &mut Keyspace::new();
        *ks.encodings_mut() = Encodings { list_max_listpack_size: 2, ..Encodings::default() };
        write(ks, 1, &["rpush", "l", "0", "2", "4", "6"]);
        for (pivot, element) in [("0", "1"), ("2", "3"), ("4", "5"), ("6", "7")] {
            write(ks, 1, &["linsert", "l", "after", pivot, element]);
        }
        write(ks, 1, &["linsert", "l", "before", "0", "-1"]);
        assert_eq!(read(ks, 1, &["lrange", "l", "0", "-1"]), bulks(&["-1", "0", "1", "2", "3", "4", "5", "6", "7"]));
    }
}
