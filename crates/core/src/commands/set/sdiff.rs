//! SDIFF key [key ...]

use super::sunion::{Combination, Combined};
use crate::commands::prelude::*;
use crate::keyspace::TableHasher;

pub const SPEC: CommandSpec = CommandSpec {
    name: "sdiff",
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
    complexity: "O(N) where N is the total number of elements in all given sets.",
    summary: "Subtract multiple sets",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

/// The members of the first set that no other set holds.
pub struct Diff;

impl Combination for Diff {
    const STORE_EVENT: &'static str = "sdiffstore";
    fn combine(sets: &[Option<&SetValue>], encodings: &Encodings, hasher: TableHasher) -> SetValue {
        SetValue::difference(sets, encodings, hasher)
    }
}

pub type SDiff = Combined<Diff>;

#[cfg(test)]
mod tests {
    use crate::commands::set::testing::*;

    #[test]
    fn subtracts_the_other_sets() {
        let ks = &mut Keyspace::new();
        sadd(ks, "a", &["a", "b", "c"]);
        sadd(ks, "b", &["b", "c", "d"]);
        assert_eq!(texts(read(ks, T, &["sdiff", "a", "b", "nokey"])), strings(&["a"]));
        assert_eq!(read(ks, T, &["sdiff", "nokey", "b", "a"]), Reply::Set(vec![]));
        assert_eq!(read(ks, T, &["sdiff", "a", "a"]), Reply::Set(vec![]));
        assert_eq!(read(ks, T, &["sdiff", "a", "b", "a"]), Reply::Set(vec![]));
        assert_eq!(texts(read(ks, T, &["sdiff", "a"])), strings(&["a", "b", "c"]));
        write(ks, T, &["set", "str", "x"]);
        for keys in [["str", "noset"], ["noset", "str"], ["str", "a"], ["a", "str"]] {
            assert_eq!(read(ks, T, &["sdiff", keys[0], keys[1]]), error(WRONGTYPE));
        }
    }

    #[test]
    fn both_algorithms_agree() {
        // A large first set against small ones takes the add-then-remove path; a small first
        // set against large ones the filtering path.
        let ks = &mut Keyspace::new();
        let big: Vec<String> = (0..300).map(|i| format!("m{i}")).collect();
        sadd(ks, "big", &big.iter().map(String::as_str).collect::<Vec<_>>());
        sadd(ks, "small1", &["m1", "m2", "zz"]);
        sadd(ks, "small2", &["m3"]);
        let mut expected: Vec<String> =
            big.iter().filter(|m| !["m1", "m2", "m3"].contains(&m.as_str())).cloned().collect();
        expected.sort();
        assert_eq!(texts(read(ks, T, &["sdiff", "big", "small1", "small2"])), expected);
        assert_eq!(texts(read(ks, T, &["sdiff", "small1", "big", "small2"])), strings(&["zz"]));
    }
}
