//! LMOVE source destination LEFT|RIGHT LEFT|RIGHT

use super::{move_one, End};
use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "lmove",
    arity: 5,
    flags: &["write", "denyoom"],
    first_key: 1,
    last_key: 2,
    key_step: 1,
    key_specs: &[
        KeySpec { flags: &["RW", "access", "delete"], begin_index: 1, last_key: 0, key_step: 1 },
        KeySpec { flags: &["RW", "insert"], begin_index: 2, last_key: 0, key_step: 1 },
    ],
    acl_categories: &["@write", "@list", "@slow"],
    tips: &[],
    group: "list",
    since: "6.2.0",
    complexity: "O(1)",
    summary: "Pop an element from a list, push it to another list and return it",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct LMove {
    source: Bytes,
    destination: Bytes,
    from: End,
    to: End,
}

impl Command for LMove {
    type Output = Option<Bytes>;

    fn parse(args: &mut Args) -> Result<Self> {
        let (source, destination) = (args.next_arg()?, args.next_arg()?);
        let from = End::parse(&args.next_arg()?)?;
        let to = End::parse(&args.next_arg()?)?;
        Ok(LMove { source, destination, from, to })
    }

    fn reply(element: Option<Bytes>) -> Reply {
        Reply::optional_bulk(element)
    }
}

impl WriteCommand for LMove {
    fn write(&self, keyspace: &mut Keyspace, ctx: &WriteCtx) -> Result<Option<Bytes>> {
        move_one(keyspace, ctx, &self.source, &self.destination, self.from, self.to)
    }
}

#[cfg(test)]
mod tests {
    use crate::commands::testing::*;
    use crate::keyspace::Keyspace;
    use crate::reply::Reply;

    fn bulks(items: &[&str]) -> Reply {
        Reply::Array(items.iter().map(|item| bulk(item)).collect())
    }

    #[test]
    fn every_direction() {
        let ks = &mut Keyspace::new();
        write(ks, 1, &["rpush", "src", "a", "b", "c", "d"]);
        write(ks, 1, &["rpush", "dst", "x"]);
        assert_eq!(write(ks, 2, &["lmove", "src", "dst", "left", "left"]), bulk("a"));
        assert_eq!(write(ks, 2, &["lmove", "src", "dst", "LEFT", "RIGHT"]), bulk("b"));
        assert_eq!(write(ks, 2, &["lmove", "src", "dst", "right", "left"]), bulk("d"));
        assert_eq!(write(ks, 2, &["lmove", "src", "dst", "Right", "Right"]), bulk("c"));
        assert_eq!(read(ks, 2, &["lrange", "dst", "0", "-1"]), bulks(&["d", "a", "x", "b", "c"]));
        assert_eq!(read(ks, 2, &["exists", "src"]), Reply::Integer(0));
        assert_eq!(write(ks, 2, &["lmove", "src", "dst", "left", "left"]), Reply::Nil);
    }

    #[test]
    fn a_list_onto_itself_rotates() {
        let ks = &mut Keyspace::new();
        write(ks, 1, &["rpush", "l", "a", "b", "c"]);
        assert_eq!(write(ks, 2, &["lmove", "l", "l", "left", "right"]), bulk("a"));
        assert_eq!(read(ks, 2, &["lrange", "l", "0", "-1"]), bulks(&["b", "c", "a"]));
        assert_eq!(write(ks, 2, &["lmove", "l", "l", "right", "left"]), bulk("a"));
        assert_eq!(write(ks, 2, &["lmove", "l", "l", "left", "left"]), bulk("a"));
        assert_eq!(read(ks, 2, &["lrange", "l", "0", "-1"]), bulks(&["a", "b", "c"]));
    }

    #[test]
    fn errors() {
        let ks = &mut Keyspace::new();
        write(ks, 1, &["rpush", "l", "a"]);
        write(ks, 1, &["set", "s", "v"]);
        let wrongtype = error("WRONGTYPE Operation against a key holding the wrong kind of value");
        assert_eq!(write(ks, 1, &["lmove", "l", "s", "left", "left"]), wrongtype);
        assert_eq!(write(ks, 1, &["lmove", "s", "l", "left", "left"]), wrongtype);
        assert_eq!(read(ks, 1, &["lrange", "l", "0", "-1"]), bulks(&["a"]));
        // A missing source answers nil before the destination is looked at.
        assert_eq!(write(ks, 1, &["lmove", "nope", "s", "left", "left"]), Reply::Nil);
        assert_eq!(write(ks, 1, &["lmove", "l", "d", "up", "left"]), error("ERR syntax error"));
        assert_eq!(write(ks, 1, &["lmove", "s", "d", "left", "down"]), error("ERR syntax error"));
    }
}
