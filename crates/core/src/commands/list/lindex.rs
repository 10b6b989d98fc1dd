//! LINDEX key index

use super::resolve_index;
use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "lindex",
    arity: 3,
    flags: &["readonly"],
    first_key: 1,
    last_key: 1,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["RO", "access"], begin_index: 1, last_key: 0, key_step: 1 }],
    acl_categories: &["@read", "@list", "@slow"],
    tips: &[],
    group: "list",
    since: "1.0.0",
    complexity: "O(N) where N is the number of elements to traverse to get to the element at index. This makes asking for the first or the last element of the list O(1).",
    summary: "Get an element from a list by its index",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct LIndex {
    key: Bytes,
    /// Read when the command runs: Redis looks the key up first, so a missing key answers nil
    /// and another type WRONGTYPE whatever the index says.
    index: Bytes,
}

impl Command for LIndex {
    type Output = Option<Bytes>;

    fn parse(args: &mut Args) -> Result<Self> {
        Ok(LIndex { key: args.next_arg()?, index: args.next_arg()? })
    }

    fn reply(element: Option<Bytes>) -> Reply {
        Reply::optional_bulk(element)
    }
}

impl ReadCommand for LIndex {
    fn read(&self, keyspace: &Keyspace, ctx: &mut ReadCtx) -> Result<Option<Bytes>> {
        let Some(list) = value_at::<ListValue>(keyspace.db(ctx.db), &self.key, ctx.now_ms)? else {
            return Ok(None);
        };
        let index = parse_i64(&self.index).ok_or(Error::NOT_INTEGER)?;
        Ok(resolve_index(index, list.len()).and_then(|at| list.get(at)).map(bytes_of))
    }
}

#[cfg(test)]
mod tests {
    use crate::commands::testing::*;
    use crate::keyspace::{Encodings, Keyspace};
    use crate::reply::Reply;

    #[test]
    fn indexes_from_either_end() {
        let ks = &mut Keyspace::new();
        write(ks, 1, &["rpush", "l", "a", "b", "c"]);
        assert_eq!(read(ks, 1, &["lindex", "l", "0"]), bulk("a"));
        assert_eq!(read(ks, 1, &["lindex", "l", "2"]), bulk("c"));
        assert_eq!(read(ks, 1, &["lindex", "l", "-1"]), bulk("c"));
        assert_eq!(read(ks, 1, &["lindex", "l", "-3"]), bulk("a"));
        assert_eq!(read(ks, 1, &["lindex", "l", "3"]), Reply::Nil);
        assert_eq!(read(ks, 1, &["lindex", "l", "-4"]), Reply::Nil);
        assert_eq!(read(ks, 1, &["lindex", "l", "-9223372036854775808"]), Reply::Nil);
        assert_eq!(read(ks, 1, &["lindex", "nope", "0"]), Reply::Nil);
    }

    #[test]
    fn the_key_is_looked_up_before_the_index_is_read() {
        let ks = &mut Keyspace::new();
        assert_eq!(read(ks, 1, &["lindex", "nope", "x"]), Reply::Nil);
        write(ks, 1, &["set", "s", "v"]);
        assert_eq!(
            read(ks, 1, &["lindex", "s", "x"]),
            error("WRONGTYPE Operation against a key holding the wrong kind of value")
        );
        write(ks, 1, &["rpush", "l", "a"]);
        assert_eq!(read(ks, 1, &["lindex", "l", "x"]), error("ERR value is not an integer or out of range"));
    }

    #[test]
    fn every_index_of_a_many_node_list() {
        let ks = &mut Keyspace::new();
        *ks.encodings_mut() = Encodings { list_max_listpack_size: 4, ..Encodings::default() };
        for i in 0..50 {
            write(ks, 1, &["rpush", "l", &i.to_string()]);
        }
        for i in 0..50 {
            assert_eq!(read(ks, 1, &["lindex", "l", &i.to_string()]), bulk(&i.to_string()));
            assert_eq!(read(ks, 1, &["lindex", "l", &(-1 - i).to_string()]), bulk(&(49 - i).to_string()));
        }
    }
}
