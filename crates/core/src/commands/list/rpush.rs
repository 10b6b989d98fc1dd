//! RPUSH key element [element ...]

use super::End;
use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "rpush",
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
    summary: "Append one or multiple elements to a list",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

push_command!(RPush, End::Right, false);

#[cfg(test)]
mod tests {
    use crate::commands::testing::*;
    use crate::keyspace::Keyspace;
    use crate::reply::Reply;

    #[test]
    fn pushes_each_element_at_the_tail() {
        let ks = &mut Keyspace::new();
        assert_eq!(write(ks, 1, &["rpush", "l", "a", "b"]), Reply::Integer(2));
        assert_eq!(write(ks, 1, &["lpush", "l", "z"]), Reply::Integer(3));
        assert_eq!(write(ks, 1, &["rpush", "l", "c", "d"]), Reply::Integer(5));
        assert_eq!(
            read(ks, 1, &["lrange", "l", "0", "-1"]),
            Reply::Array(["z", "a", "b", "c", "d"].iter().map(|e| bulk(e)).collect())
        );
        write(ks, 1, &["hset", "h", "f", "v"]);
        assert_eq!(
            write(ks, 1, &["rpush", "h", "a"]),
            error("WRONGTYPE Operation against a key holding the wrong kind of value")
        );
    }
}
