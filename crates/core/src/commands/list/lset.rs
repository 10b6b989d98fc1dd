//! LSET key index element

use super::resolve_index;
use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "lset",
    arity: 4,
    flags: &["write", "denyoom"],
    first_key: 1,
    last_key: 1,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["RW", "update"], begin_index: 1, last_key: 0, key_step: 1 }],
    acl_categories: &["@write", "@list", "@slow"],
    tips: &[],
    group: "list",
    since: "1.0.0",
    complexity:
        "O(N) where N is the length of the list. Setting either the first or the last element of the list is O(1).",
    summary: "Set the value of an element in a list by its index",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct LSet {
    key: Bytes,
    /// Read when the command runs, after the key is looked up (as Redis orders its errors).
    index: Bytes,
    element: Bytes,
}

impl Command for LSet {
    type Output = ();

    fn parse(args: &mut Args) -> Result<Self> {
        Ok(LSet { key: args.next_arg()?, index: args.next_arg()?, element: args.next_arg()? })
    }

    fn reply(_: ()) -> Reply {
        Reply::OK
    }
}

impl WriteCommand for LSet {
    fn write(&self, keyspace: &mut Keyspace, ctx: &WriteCtx) -> Result<()> {
        let (db, encodings) = keyspace.db_and_encodings(ctx.db);
        let (list, version) = value_mut::<ListValue>(db, &self.key, ctx.now_ms)?.ok_or(Error::NO_SUCH_KEY)?;
        let index = parse_i64(&self.index).ok_or(Error::NOT_INTEGER)?;
        let at = resolve_index(index, list.len()).ok_or_else(|| Error::fixed("ERR index out of range"))?;
        list.set(at, &self.element, encodings);
        *version = ctx.index;
        keyspace.notify(EventClass::LIST, "lset", ctx.db, &self.key);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::commands::testing::*;
    use crate::keyspace::Keyspace;
    use crate::reply::Reply;

    #[test]
    fn replaces_by_index() {
        let ks = &mut Keyspace::new();
        write(ks, 1, &["rpush", "l", "a", "b", "c"]);
        assert_eq!(write(ks, 2, &["lset", "l", "1", "B"]), Reply::OK);
        assert_eq!(write(ks, 3, &["lset", "l", "-1", "C"]), Reply::OK);
        assert_eq!(ks.db(0).get(b"l", 3).unwrap().version, 3);
        let long = "x".repeat(20_000);
        assert_eq!(write(ks, 4, &["lset", "l", "0", &long]), Reply::OK);
        assert_eq!(read(ks, 4, &["lrange", "l", "0", "-1"]), Reply::Array(vec![bulk(&long), bulk("B"), bulk("C")]));
    }

    #[test]
    fn errors_in_redis_order() {
        let ks = &mut Keyspace::new();
        assert_eq!(write(ks, 1, &["lset", "nope", "x", "v"]), error("ERR no such key"));
        write(ks, 1, &["set", "s", "v"]);
        assert_eq!(
            write(ks, 1, &["lset", "s", "x", "v"]),
            error("WRONGTYPE Operation against a key holding the wrong kind of value")
        );
        write(ks, 1, &["rpush", "l", "a"]);
        assert_eq!(write(ks, 1, &["lset", "l", "x", "v"]), error("ERR value is not an integer or out of range"));
        assert_eq!(write(ks, 1, &["lset", "l", "1", "v"]), error("ERR index out of range"));
        assert_eq!(write(ks, 1, &["lset", "l", "-2", "v"]), error("ERR index out of range"));
    }
}
