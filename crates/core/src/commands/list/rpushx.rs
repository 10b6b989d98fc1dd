//! RPUSHX key element [element ...]

use super::End;
use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "rpushx",
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
    summary: "Append an element to a list, only if the list exists",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

push_command!(RPushX, End::Right, true);

#[cfg(test)]
mod tests {
    use crate::commands::testing::*;
    use crate::keyspace::Keyspace;
    use crate::reply::Reply;

    #[test]
    fn an_expired_list_is_no_list() {
        let ks = &mut Keyspace::new();
        write(ks, 1, &["rpush", "l", "a"]);
        write(ks, 1, &["pexpire", "l", "10"]);
        assert_eq!(write(ks, 5, &["rpushx", "l", "b", "c"]), Reply::Integer(3));
        assert_eq!(read(ks, 5, &["lrange", "l", "0", "-1"]), Reply::Array(vec![bulk("a"), bulk("b"), bulk("c")]));
        assert_eq!(write(ks, 11, &["rpushx", "l", "d"]), Reply::Integer(0));
        assert_eq!(read(ks, 11, &["exists", "l"]), Reply::Integer(0));
    }
}
