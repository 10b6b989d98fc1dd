//! SINTER key [key ...]

use super::sunion::{Combination, Combined};
use crate::commands::prelude::*;
use crate::keyspace::TableHasher;

pub const SPEC: CommandSpec = CommandSpec {
    name: "sinter",
    arity: -2,
    flags: &["readonly"],
    first_key: 1,
    last_key: -1,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["RO", "access"], begin_index: 1, last_key: -1, key_step: 1 }],
    acl_categories: &["@read", "@set", "@slow"],
    tips: &["nondeterministic_output_order"],
    group: "set",
    since: "1.0.0",
    complexity: "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.",
    summary: "Intersect multiple sets",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

/// The members every set holds (none when a key is missing).
pub struct Inter;

impl Combination for Inter {
    const STORE_EVENT: &'static str = "sinterstore";
    fn combine(sets: &[Option<&SetValue>], encodings: &Encodings, hasher: TableHasher) -> SetValue {
        SetValue::from_members(SetValue::intersection(sets), encodings, hasher)
    }

    /// In the smallest set's order, without building a set (as Redis replies).
    fn members(sets: &[Option<&SetValue>], _: &Encodings, _: TableHasher) -> Vec<Bytes> {
        SetValue::intersection(sets).map(|member| member.to_bytes()).collect()
    }
}

pub type SInter = Combined<Inter>;

#[cfg(test)]
mod tests {
    use crate::commands::set::testing::*;

    /// Redis's suite's sets, each with an extra member that decides its encoding.
    fn fill(ks: &mut Keyspace, large: &str) {
        write(ks, T, &["flushdb"]);
        for i in 0..200 {
            sadd(ks, "set1", &[&i.to_string()]);
            sadd(ks, "set2", &[&(i + 195).to_string()]);
        }
        sadd(ks, "set3", &["199", "195", "1000", "2000"]);
        for i in 5..200 {
            sadd(ks, "set4", &[&i.to_string()]);
        }
        sadd(ks, "set5", &["0"]);
        for key in ["set1", "set2", "set3", "set4", "set5"] {
            sadd(ks, key, &[large]);
        }
    }

    #[test]
    fn intersects_both_encodings() {
        let ks = &mut Keyspace::new();
        for (large, kind) in [("foo", "hashtable"), ("200", "intset")] {
            fill(ks, large);
            assert_eq!(encoding(ks, "set1"), bulk(kind));
            assert_eq!(
                texts(read(ks, T, &["sinter", "set1", "set2"])),
                strings(&["195", "196", "197", "198", "199", large])
            );
            assert_eq!(texts(read(ks, T, &["sinter", "set1", "set2", "set3"])), strings(&["195", "199", large]));
            assert_eq!(texts(read(ks, T, &["sinter", "set1", "set1", "set1"])), members(ks, "set1"));
            assert_eq!(read(ks, T, &["sinter", "set1", "set2", "nokey"]), Reply::Set(vec![]));
        }
    }

    #[test]
    fn integers_meet_across_encodings() {
        let ks = &mut Keyspace::new();
        sadd(ks, "ints", &["1", "2", "3"]);
        sadd(ks, "table", &["1", "2", "3", "a"]);
        write(ks, T, &["srem", "table", "a"]);
        assert_eq!(encoding(ks, "table"), bulk("hashtable"));
        assert_eq!(texts(read(ks, T, &["sinter", "ints", "table"])), strings(&["1", "2", "3"]));
        assert_eq!(texts(read(ks, T, &["sinter", "table", "ints"])), strings(&["1", "2", "3"]));
    }

    #[test]
    fn a_wrong_type_anywhere_is_an_error() {
        let ks = &mut Keyspace::new();
        write(ks, T, &["set", "key1", "x"]);
        sadd(ks, "set1", &["a"]);
        for keys in [["key1", "noset"], ["noset", "key1"], ["key1", "set1"], ["set1", "key1"]] {
            assert_eq!(read(ks, T, &["sinter", keys[0], keys[1]]), error(WRONGTYPE));
        }
    }
}
