//! LPUSH key element [element ...]

use super::{push, End};
use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "lpush",
    arity: -3,
    flags: &["write", "denyoom", "fast"],
    first_key: 1,
    last_key: 1,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["RW", "insert"], begin_index: 1, last_key: 0, key_step: 1 }],
    acl_categories: &["@write", "@list", "@fast"],
    tips: &[],
    group: "list",
    since: "1.0.0",
    complexity:
        "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.",
    summary: "Prepend one or multiple elements to a list",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

/// LPUSH, RPUSH, LPUSHX and RPUSHX: elements pushed one by one at an end (so LPUSH's reverse
/// their order), onto the list at the key; the X forms only onto an existing list.
pub struct Push {
    key: Bytes,
    elements: Vec<Bytes>,
    end: End,
    only_existing: bool,
}

impl Push {
    pub fn parse_in(args: &mut Args, end: End, only_existing: bool) -> Result<Push> {
        Ok(Push { key: args.next_arg()?, elements: args.rest(), end, only_existing })
    }

    /// The list's length after the pushes (0 when an X form found no list).
    pub fn store(&self, keyspace: &mut Keyspace, ctx: &WriteCtx) -> Result<usize> {
        let (list, encodings) = if self.only_existing {
            let (db, encodings) = keyspace.db_and_encodings(ctx.db);
            let Some((list, version)) = value_mut::<ListValue>(db, &self.key, ctx.now_ms)? else {
                return Ok(0);
            };
            *version = ctx.index;
            (list, encodings)
        } else {
            let (list, encodings, _) = collection_or_create::<ListValue>(keyspace, ctx, &self.key)?;
            (list, encodings)
        };
        for element in &self.elements {
            push(list, element, self.end, encodings);
        }
        let length = list.len();
        keyspace.notify(EventClass::LIST, self.end.push_event(), ctx.db, &self.key);
        Ok(length)
    }
}

push_command!(LPush, End::Left, false);

#[cfg(test)]
mod tests {
    use crate::commands::testing::*;
    use crate::keyspace::Keyspace;
    use crate::reply::Reply;

    #[test]
    fn pushes_each_element_at_the_head() {
        let ks = &mut Keyspace::new();
        assert_eq!(write(ks, 1, &["lpush", "l", "a", "b", "c"]), Reply::Integer(3));
        assert_eq!(write(ks, 2, &["lpush", "l", "d"]), Reply::Integer(4));
        assert_eq!(
            read(ks, 2, &["lrange", "l", "0", "-1"]),
            Reply::Array(vec![bulk("d"), bulk("c"), bulk("b"), bulk("a")])
        );
        assert_eq!(ks.db(0).get(b"l", 2).unwrap().version, 2);
        assert_eq!(write(ks, 3, &["lpush", "l"]), error("ERR wrong number of arguments for 'lpush' command"));
        write(ks, 3, &["set", "s", "v"]);
        assert_eq!(
            write(ks, 3, &["lpush", "s", "a"]),
            error("WRONGTYPE Operation against a key holding the wrong kind of value")
        );
        assert_eq!(read(ks, 3, &["get", "s"]), bulk("v"));
    }
}
