//! RPOPLPUSH source destination

use super::{move_one, End};
use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "rpoplpush",
    arity: 3,
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
    since: "1.2.0",
    complexity: "O(1)",
    summary: "Remove the last element in a list, prepend it to another list and return it",
    deprecated: Some(("6.2.0", "`LMOVE` with the `RIGHT` and `LEFT` arguments")),
    movable_keys: None,
    subcommands: &[],
};

/// LMOVE source destination RIGHT LEFT.
pub struct RPopLPush {
    source: Bytes,
    destination: Bytes,
}

impl Command for RPopLPush {
    type Output = Option<Bytes>;

    fn parse(args: &mut Args) -> Result<Self> {
        Ok(RPopLPush { source: args.next_arg()?, destination: args.next_arg()? })
    }

    fn reply(element: Option<Bytes>) -> Reply {
        Reply::optional_bulk(element)
    }
}

impl WriteCommand for RPopLPush {
    fn write(&self, keyspace: &mut Keyspace, ctx: &WriteCtx) -> Result<Option<Bytes>> {
        move_one(keyspace, ctx, &self.source, &self.destination, End::Right, End::Left)
    }
}

#[cfg(test)]
mod tests {
    use crate::commands::testing::*;
    use crate::keyspace::Keyspace;
    use crate::reply::Reply;

    #[test]
    fn moves_the_tail_to_the_head() {
        let ks = &mut Keyspace::new();
        write(ks, 1, &["rpush", "src", "a", "b"]);
        write(ks, 1, &["rpush", "dst", "x"]);
        assert_eq!(write(ks, 2, &["rpoplpush", "src", "dst"]), bulk("b"));
        assert_eq!(write(ks, 2, &["rpoplpush", "src", "new"]), bulk("a"));
        assert_eq!(read(ks, 2, &["lrange", "dst", "0", "-1"]), Reply::Array(vec![bulk("b"), bulk("x")]));
        assert_eq!(read(ks, 2, &["lrange", "new", "0", "-1"]), Reply::Array(vec![bulk("a")]));
        assert_eq!(write(ks, 2, &["rpoplpush", "src", "dst"]), Reply::Nil);
        write(ks, 2, &["set", "s", "v"]);
        assert_eq!(
            write(ks, 2, &["rpoplpush", "dst", "s"]),
            error("WRONGTYPE Operation against a key holding the wrong kind of value")
        );
    }
}
