//! LTRIM key start stop

use super::clamp_range;
use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "ltrim",
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
    complexity: "O(N) where N is the number of elements to be removed by the operation.",
    summary: "Trim a list to the specified range",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct LTrim {
    key: Bytes,
    start: i64,
    stop: i64,
}

impl Command for LTrim {
    type Output = ();

    fn parse(args: &mut Args) -> Result<Self> {
        Ok(LTrim { key: args.next_arg()?, start: args.next_i64()?, stop: args.next_i64()? })
    }

    fn reply(_: ()) -> Reply {
        Reply::OK
    }
}

impl WriteCommand for LTrim {
    fn write(&self, keyspace: &mut Keyspace, ctx: &WriteCtx) -> Result<()> {
        let db = keyspace.db_mut(ctx.db);
        let Some((list, version)) = value_mut::<ListValue>(db, &self.key, ctx.now_ms)? else {
            return Ok(());
        };
        match clamp_range(self.start, self.stop, list.len()) {
            Some((start, stop)) => list.trim(start, stop),
            None => *list = ListValue::new(),
        }
        // Redis counts the key as changed even when nothing went.
        *version = ctx.index;
        let emptied = remove_if_void::<ListValue>(db, &self.key);
        keyspace.notify(EventClass::LIST, "ltrim", ctx.db, &self.key);
        if emptied {
            keyspace.notify(EventClass::GENERIC, "del", ctx.db, &self.key);
        }
        Ok(())
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
    fn keeps_the_range() {
        let ks = &mut Keyspace::new();
        *ks.encodings_mut() = Encodings { list_max_listpack_size: 2, ..Encodings::default() };
        write(ks, 1, &["rpush", "l", "a", "b", "c", "d", "e", "f", "g"]);
        assert_eq!(write(ks, 2, &["ltrim", "l", "1", "-2"]), Reply::OK);
        assert_eq!(read(ks, 2, &["lrange", "l", "0", "-1"]), bulks(&["b", "c", "d", "e", "f"]));
        assert_eq!(write(ks, 3, &["ltrim", "l", "-3", "100"]), Reply::OK);
        assert_eq!(read(ks, 3, &["lrange", "l", "0", "-1"]), bulks(&["d", "e", "f"]));
        assert_eq!(write(ks, 4, &["ltrim", "l", "-100", "0"]), Reply::OK);
        assert_eq!(read(ks, 4, &["lrange", "l", "0", "-1"]), bulks(&["d"]));
        assert_eq!(write(ks, 5, &["ltrim", "l", "0", "-1"]), Reply::OK);
        assert_eq!(ks.db(0).get(b"l", 5).unwrap().version, 5);
    }

    #[test]
    fn an_empty_range_removes_the_key() {
        let ks = &mut Keyspace::new();
        for (start, stop) in [("2", "1"), ("5", "10"), ("0", "-6"), ("-1", "-2")] {
            write(ks, 1, &["rpush", "l", "a", "b", "c", "d", "e"]);
            assert_eq!(write(ks, 2, &["ltrim", "l", start, stop]), Reply::OK);
            assert_eq!(read(ks, 2, &["exists", "l"]), Reply::Integer(0), "{start} {stop}");
        }
        assert_eq!(write(ks, 2, &["ltrim", "nope", "0", "1"]), Reply::OK);
    }

    #[test]
    fn errors() {
        let ks = &mut Keyspace::new();
        write(ks, 1, &["set", "s", "v"]);
        assert_eq!(
            write(ks, 1, &["ltrim", "s", "0", "1"]),
            error("WRONGTYPE Operation against a key holding the wrong kind of value")
        );
        assert_eq!(write(ks, 1, &["ltrim", "s", "0", "x"]), error("ERR value is not an integer or out of range"));
    }
}
