//! LRANGE key start stop

use super::{clamp_range, copy_out};
use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "lrange",
    arity: 4,
    flags: &["readonly"],
    first_key: 1,
    last_key: 1,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["RO", "access"], begin_index: 1, last_key: 0, key_step: 1 }],
    acl_categories: &["@read", "@list", "@slow"],
    tips: &[],
    group: "list",
    since: "1.0.0",
    complexity: "O(S+N) where S is the distance of start offset from HEAD for small lists, from nearest end (HEAD or TAIL) for large lists; and N is the number of elements in the specified range.",
    summary: "Get a range of elements from a list",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct LRange {
    key: Bytes,
    start: i64,
    stop: i64,
}

impl Command for LRange {
    type Output = Vec<Bytes>;

    fn parse(args: &mut Args) -> Result<Self> {
        Ok(LRange { key: args.next_arg()?, start: args.next_i64()?, stop: args.next_i64()? })
    }

    fn reply(elements: Vec<Bytes>) -> Reply {
        Reply::bulks(elements)
    }
}

impl ReadCommand for LRange {
    fn read(&self, keyspace: &Keyspace, ctx: &mut ReadCtx) -> Result<Vec<Bytes>> {
        let Some(list) = value_at::<ListValue>(keyspace.db(ctx.db), &self.key, ctx.now_ms)? else {
            return Ok(Vec::new());
        };
        let Some((start, stop)) = clamp_range(self.start, self.stop, list.len()) else {
            return Ok(Vec::new());
        };
        Ok(copy_out(list.range(start, stop)))
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
    fn ranges_with_negative_and_out_of_range_indexes() {
        let ks = &mut Keyspace::new();
        write(ks, 1, &["rpush", "l", "a", "b", "c", "d"]);
        assert_eq!(read(ks, 1, &["lrange", "l", "0", "-1"]), bulks(&["a", "b", "c", "d"]));
        assert_eq!(read(ks, 1, &["lrange", "l", "1", "2"]), bulks(&["b", "c"]));
        assert_eq!(read(ks, 1, &["lrange", "l", "-2", "100"]), bulks(&["c", "d"]));
        assert_eq!(read(ks, 1, &["lrange", "l", "-100", "0"]), bulks(&["a"]));
        assert_eq!(read(ks, 1, &["lrange", "l", "2", "1"]), bulks(&[]));
        assert_eq!(read(ks, 1, &["lrange", "l", "4", "10"]), bulks(&[]));
        assert_eq!(read(ks, 1, &["lrange", "l", "0", "-5"]), bulks(&[]));
        assert_eq!(read(ks, 1, &["lrange", "nope", "0", "-1"]), bulks(&[]));
    }

    #[test]
    fn errors() {
        let ks = &mut Keyspace::new();
        write(ks, 1, &["set", "s", "v"]);
        assert_eq!(
            read(ks, 1, &["lrange", "s", "0", "-1"]),
            error("WRONGTYPE Operation against a key holding the wrong kind of value")
        );
        // The indexes are read before the key.
        assert_eq!(read(ks, 1, &["lrange", "s", "x", "-1"]), error("ERR value is not an integer or out of range"));
        assert_eq!(read(ks, 1, &["lrange", "nope", "0", "1.5"]), error("ERR value is not an integer or out of range"));
    }

    #[test]
    fn ranges_across_many_nodes() {
        let ks = &mut Keyspace::new();
        *ks.encodings_mut() = Encodings { list_max_listpack_size: 3, ..Encodings::default() };
        let numbers: Vec<String> = (0..100).map(|i| i.to_string()).collect();
        let mut words = vec!["rpush", "l"];
        words.extend(numbers.iter().map(String::as_str));
        write(ks, 1, &words);
        let expected: Vec<&str> = numbers[37..=81].iter().map(String::as_str).collect();
        assert_eq!(read(ks, 1, &["lrange", "l", "37", "-19"]), bulks(&expected));
    }
}
