//! SDIFFSTORE destination key [key ...]

use super::sdiff::Diff;
use super::sunion::CombinedStore;
use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "sdiffstore",
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
    summary: "Subtract multiple sets and store the resulting set in a key",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub type SDiffStore = CombinedStore<Diff>;

#[cfg(test)]
mod tests {
    use crate::commands::set::testing::*;

    #[test]
    fn stores_the_difference_built_as_redis_builds_it() {
        let ks = &mut Keyspace::new();
        sadd(ks, "f", &["1", "2", "3", "4", "5", "6", "x"]);
        sadd(ks, "o1", &["x"]);
        sadd(ks, "o2", &["y"]);
        // Filtering the first set: only integers are added, an intset.
        assert_eq!(write(ks, T, &["sdiffstore", "d2", "f", "o1"]), int(6));
        assert_eq!(encoding(ks, "d2"), bulk("intset"));
        // Adding the whole first set and removing the others' members: it stays a table.
        assert_eq!(write(ks, T, &["sdiffstore", "d", "f", "o1", "o2"]), int(6));
        assert_eq!(encoding(ks, "d"), bulk("hashtable"));
        assert_eq!(members(ks, "d"), members(ks, "d2"));
    }

    #[test]
    fn an_empty_result_removes_the_destination() {
        let ks = &mut Keyspace::new();
        write(ks, T, &["set", "res", "xxx"]);
        assert_eq!(write(ks, T, &["sdiffstore", "res", "foo", "bar"]), int(0));
        assert_eq!(read(ks, T, &["exists", "res"]), int(0));
        sadd(ks, "s3", &["a", "b", "c"]);
        assert_eq!(write(ks, T, &["sdiffstore", "s3", "s1", "s2"]), int(0));
        assert_eq!(read(ks, T, &["exists", "s3"]), int(0));
        sadd(ks, "s1", &["a", "b", "c"]);
        assert_eq!(write(ks, T, &["sdiffstore", "s3", "s1", "s2"]), int(3));
        assert_eq!(write(ks, T, &["sdiffstore", "s3", "s2", "s1"]), int(0));
        assert_eq!(read(ks, T, &["exists", "s3"]), int(0));
        write(ks, T, &["set", "key1", "x"]);
        sadd(ks, "s3", &["e"]);
        assert_eq!(write(ks, T, &["sdiffstore", "s3", "s1", "key1"]), error(WRONGTYPE));
        assert_eq!(members(ks, "s3"), strings(&["e"]));
    }
}
