//! RPOP key [count]

use super::End;
use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "rpop",
    arity: -2,
    flags: &["write", "fast"],
    first_key: 1,
    last_key: 1,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["RW", "access", "delete"], begin_index: 1, last_key: 0, key_step: 1 }],
    acl_categories: &["@write", "@list", "@fast"],
    tips: &[],
    group: "list",
    since: "1.0.0",
    complexity: "O(N) where N is the number of elements returned",
    summary: "Remove and get the last elements in a list",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pop_command!(RPop, End::Right, "rpop");

#[cfg(test)]
mod tests {
    use crate::commands::testing::*;
    use crate::keyspace::Keyspace;
    use crate::reply::Reply;

    #[test]
    fn pops_from_the_tail_last_first() {
        let ks = &mut Keyspace::new();
        write(ks, 1, &["rpush", "l", "a", "b", "c", "d"]);
        assert_eq!(write(ks, 2, &["rpop", "l"]), bulk("d"));
        assert_eq!(write(ks, 2, &["rpop", "l", "2"]), Reply::Array(vec![bulk("c"), bulk("b")]));
        assert_eq!(write(ks, 2, &["rpop", "l", "9"]), Reply::Array(vec![bulk("a")]));
        assert_eq!(write(ks, 2, &["rpop", "l"]), Reply::Nil);
        assert_eq!(write(ks, 2, &["rpop", "l", "1"]), Reply::NilArray);
        assert_eq!(write(ks, 2, &["rpop", "l", "2", "2"]), error("ERR wrong number of arguments for 'rpop' command"));
    }
}
