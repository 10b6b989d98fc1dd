//! LPUSHX key element [element ...]

use super::End;
use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "lpushx",
    arity: -3,
    flags: &["write", "denyoom", "fast"],
    first_key: 1,
    last_key: 1,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["RW", "insert"], begin_index: 1, last_key: 0, key_step: 1 }],
    acl_categories: &["@write", "@list", "@fast"],
    tips: &[],
    group: "list",
    since: "2.2.0",
    complexity:
        "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.",
    summary: "Prepend an element to a list, only if the list exists",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

push_command!(LPushX, End::Left, true);

#[cfg(test)]
mod tests {
    use crate::commands::testing::*;
    use crate::keyspace::Keyspace;
    use crate::reply::Reply;

    #[test]
    fn pushes_only_onto_an_existing_list() {
        let ks = &mut Keyspace::new();
        assert_eq!(write(ks, 1, &["lpushx", "l", "a"]), Reply::Integer(0));
        assert_eq!(read(ks, 1, &["exists", "l"]), Reply::Integer(0));
        write(ks, 1, &["rpush", "l", "c"]);
        assert_eq!(write(ks, 2, &["lpushx", "l", "b", "a"]), Reply::Integer(3));
        assert_eq!(ks.db(0).get(b"l", 2).unwrap().version, 2);
        assert_eq!(read(ks, 2, &["lrange", "l", "0", "-1"]), Reply::Array(vec![bulk("a"), bulk("b"), bulk("c")]));
        write(ks, 2, &["set", "s", "v"]);
        assert_eq!(
            write(ks, 2, &["lpushx", "s", "a"]),
            error("WRONGTYPE Operation against a key holding the wrong kind of value")
        );
    }
}
