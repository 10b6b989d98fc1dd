//! SINTERSTORE destination key [key ...]

use super::sinter::Inter;
use super::sunion::CombinedStore;
use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "sinterstore",
    arity: -3,
    flags: &["write", "denyoom"],
    first_key: 1,
    last_key: -1,
    key_step: 1,
    key_specs: &[
        KeySpec { flags: &["RW", "update"], begin_index: 1, last_key: 0, key_step: 1 },
        KeySpec { flags: &["RO", "access"], begin_index: 2, last_key: -1, key_step: 1 },
    ],
    acl_categories: &["@write", "@set", "@slow"],
    tips: &[],
    group: "set",
    since: "1.0.0",
    complexity: "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.",
    summary: "Intersect multiple sets and store the resulting set in a key",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub type SInterStore = CombinedStore<Inter>;

#[cfg(test)]
mod tests {
    use crate::commands::set::testing::*;

    #[test]
    fn stores_with_redis_encodings() {
        let ks = &mut Keyspace::new();
        sadd(ks, "a", &["1", "2", "3", "x"]);
        sadd(ks, "b", &["2", "3", "x"]);
        sadd(ks, "c", &["2", "3", "4"]);
        assert_eq!(write(ks, T, &["sinterstore", "dst", "a", "b"]), int(3));
        assert_eq!(encoding(ks, "dst"), bulk("hashtable"));
        assert_eq!(write(ks, T, &["sinterstore", "dst", "a", "b", "c"]), int(2));
        assert_eq!(members(ks, "dst"), strings(&["2", "3"]));
        assert_eq!(encoding(ks, "dst"), bulk("intset"), "integers within the limit make an intset");
        assert_eq!(write(ks, T, &["sinterstore", "a", "a", "c"]), int(2), "a source may be the destination");
        assert_eq!(members(ks, "a"), strings(&["2", "3"]));
    }

    #[test]
    fn an_empty_result_removes_the_destination() {
        let ks = &mut Keyspace::new();
        write(ks, T, &["set", "res", "xxx"]);
        assert_eq!(write(ks, T, &["sinterstore", "res", "foo", "bar"]), int(0));
        assert_eq!(read(ks, T, &["exists", "res"]), int(0));
        sadd(ks, "a", &["x"]);
        write(ks, T, &["set", "res", "v", "EX", "100"]);
        assert_eq!(write(ks, T, &["sinterstore", "res", "a"]), int(1));
        assert_eq!(read(ks, T, &["ttl", "res"]), int(-1), "the old expiry goes with the old value");
    }

    #[test]
    fn a_wrong_type_leaves_the_destination() {
        let ks = &mut Keyspace::new();
        write(ks, T, &["set", "key1", "x"]);
        sadd(ks, "dst", &["e"]);
        sadd(ks, "b", &["b"]);
        assert_eq!(write(ks, T, &["sinterstore", "dst", "key1", "b", "noset"]), error(WRONGTYPE));
        assert_eq!(write(ks, T, &["sinterstore", "dst", "noset", "key1", "b"]), error(WRONGTYPE));
        assert_eq!(members(ks, "dst"), strings(&["e"]));
    }
}
