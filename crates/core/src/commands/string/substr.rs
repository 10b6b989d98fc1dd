//! SUBSTR key start end: GETRANGE's old name.

use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "substr",
    arity: 4,
    flags: &["readonly"],
    first_key: 1,
    last_key: 1,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["RO", "access"], begin_index: 1, last_key: 0, key_step: 1 }],
    acl_categories: &["@read", "@string", "@slow"],
    tips: &[],
    group: "string",
    since: "1.0.0",
    complexity: "O(N) where N is the length of the returned string. The complexity is ultimately determined by the returned length, but because creating a substring from an existing string is very cheap, it can be considered O(1) for small strings.",
    summary: "Get a substring of the string stored at a key",
    deprecated: Some(("2.0.0", "`GETRANGE`")),
    movable_keys: None,
    subcommands: &[],
};

pub use super::getrange::GetRange as SubStr;
