//! SUNIONSTORE destination key [key ...]

use super::sunion::{CombinedStore, Union};
use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "sunionstore",
    arity: -3,
    flags: &["write", "denyoom"],
    first_key: 1,
    last_key: -1,
    key_step: 1,
    key_specs: &[
        KeySpec { flags: &["OW", "update"], begin_index: 1, last_key: 0, key_step: 1 },
        KeySpec { flags: &["RO", "access"], begin_index: 2, last_key: -1, key_step: 1 },
    ],
    acl_categories: &["@write", "@set", "@slow"],
    tips: &[],
    group: "set",
    since: "1.0.0",
    complexity: "O(N) where N is the total number of elements in all given sets.",
    summary: "Add multiple sets and store the resulting set in a key",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub type SUnionStore = CombinedStore<Union>;

#[cfg(test)]
mod tests {
    use crate::commands::set::testing::*;

    #[test]
    fn stores_the_union() {
        let ks = &mut Keyspace::new();
        sadd(ks, "i", &["1", "2"]);
        sadd(ks, "j", &["2", "3"]);
        assert_eq!(write(ks, T, &["sunionstore", "dst", "i", "j", "nokey"]), int(3));
        assert_eq!(encoding(ks, "dst"), bulk("intset"));
        sadd(ks, "s", &["a"]);
        assert_eq!(write(ks, T, &["sunionstore", "dst", "dst", "s"]), int(4));
        assert_eq!(encoding(ks, "dst"), bulk("hashtable"));
        ks.encodings_mut().set_max_intset_entries = 2;
        assert_eq!(write(ks, T, &["sunionstore", "dst", "i", "j"]), int(3));
        assert_eq!(encoding(ks, "dst"), bulk("hashtable"), "past the limit");
        write(ks, T, &["set", "res", "xxx"]);
        assert_eq!(write(ks, T, &["sunionstore", "res", "foo", "bar"]), int(0));
        assert_eq!(read(ks, T, &["exists", "res"]), int(0));
        write(ks, T, &["set", "key1", "x"]);
        assert_eq!(write(ks, T, &["sunionstore", "s", "key1", "i"]), error(WRONGTYPE));
        assert_eq!(members(ks, "s"), strings(&["a"]));
    }
}
