//! OBJECT ENCODING key (and OBJECT FREQ, IDLETIME, REFCOUNT, HELP)
//!
//! Encodings name Concord's representation with Redis 7.0's words: compact collections are
//! `listpack` (or `intset`), large ones `hashtable` or `skiplist`, every list a `quicklist`.
//! The thresholds between them are Redis's settings, replicated with the data.

use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "object",
    arity: -2,
    flags: &[],
    first_key: 0,
    last_key: 0,
    key_step: 0,
    key_specs: &[],
    acl_categories: &["@slow"],
    tips: &[],
    group: "generic",
    since: "2.2.3",
    complexity: "Depends on subcommand.",
    summary: "A container for object introspection commands",
    deprecated: None,
    movable_keys: Some(crate::command::key_after_subcommand),
    subcommands: &[],
};
pub const ENCODING_SPEC: CommandSpec = CommandSpec {
    name: "object|encoding",
    arity: 3,
    flags: &["readonly"],
    first_key: 2,
    last_key: 2,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["RO"], begin_index: 2, last_key: 0, key_step: 1 }],
    acl_categories: &["@keyspace", "@read", "@slow"],
    tips: &["nondeterministic_output"],
    group: "generic",
    since: "2.2.3",
    complexity: "O(1)",
    summary: "Inspect the internal encoding of a Redis object",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};
pub const FREQ_SPEC: CommandSpec = CommandSpec {
    name: "object|freq",
    arity: 3,
    flags: &["readonly"],
    first_key: 2,
    last_key: 2,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["RO"], begin_index: 2, last_key: 0, key_step: 1 }],
    acl_categories: &["@keyspace", "@read", "@slow"],
    tips: &["nondeterministic_output"],
    group: "generic",
    since: "4.0.0",
    complexity: "O(1)",
    summary: "Get the logarithmic access frequency counter of a Redis object",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};
pub const IDLETIME_SPEC: CommandSpec = CommandSpec {
    name: "object|idletime",
    arity: 3,
    flags: &["readonly"],
    first_key: 2,
    last_key: 2,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["RO"], begin_index: 2, last_key: 0, key_step: 1 }],
    acl_categories: &["@keyspace", "@read", "@slow"],
    tips: &["nondeterministic_output"],
    group: "generic",
    since: "2.2.3",
    complexity: "O(1)",
    summary: "Get the time since a Redis object was last accessed",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};
pub const REFCOUNT_SPEC: CommandSpec = CommandSpec {
    name: "object|refcount",
    arity: 3,
    flags: &["readonly"],
    first_key: 2,
    last_key: 2,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["RO"], begin_index: 2, last_key: 0, key_step: 1 }],
    acl_categories: &["@keyspace", "@read", "@slow"],
    tips: &["nondeterministic_output"],
    group: "generic",
    since: "2.2.3",
    complexity: "O(1)",
    summary: "Get the number of references to the value of the key",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};
pub const HELP_SPEC: CommandSpec = CommandSpec {
    name: "object|help",
    arity: 2,
    flags: &["loading", "stale"],
    first_key: 0,
    last_key: 0,
    key_step: 0,
    key_specs: &[],
    acl_categories: &["@keyspace", "@slow"],
    tips: &[],
    group: "generic",
    since: "6.2.0",
    complexity: "O(1)",
    summary: "Show helpful text about the different subcommands",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub const SUBCOMMANDS: &[&CommandSpec] = &[&ENCODING_SPEC, &FREQ_SPEC, &IDLETIME_SPEC, &REFCOUNT_SPEC, &HELP_SPEC];

/// Longest string Redis stores as `embstr`.
const EMBSTR_BYTES_MAX: usize = 44;

pub enum Object {
    Encoding(Bytes),
    Freq(Bytes),
    IdleTime(Bytes),
    RefCount(Bytes),
    Help,
}

impl Command for Object {
    type Output = Reply;

    fn parse(args: &mut Args) -> Result<Self> {
        let sub = args.next_arg()?;
        let (spec, make): (&CommandSpec, fn(Bytes) -> Object) = match () {
            _ if is(&sub, "ENCODING") => (&ENCODING_SPEC, Object::Encoding),
            _ if is(&sub, "FREQ") => (&FREQ_SPEC, Object::Freq),
            _ if is(&sub, "IDLETIME") => (&IDLETIME_SPEC, Object::IdleTime),
            _ if is(&sub, "REFCOUNT") => (&REFCOUNT_SPEC, Object::RefCount),
            _ if is(&sub, "HELP") => {
                return if args.is_empty() { Ok(Object::Help) } else { Err(Error::wrong_arity("object|help")) }
            }
            _ => return Err(Error::unknown_subcommand("object", &sub)),
        };
        if !spec.arity_ok(args.remaining() + 2) {
            return Err(Error::wrong_arity(spec.name));
        }
        Ok(make(args.next_arg()?))
    }

    fn reply(reply: Reply) -> Reply {
        reply
    }
}

impl ReadCommand for Object {
    fn read(&self, keyspace: &Keyspace, ctx: &mut ReadCtx) -> Result<Reply> {
        let key = match self {
            Object::Help => {
                let lines = [
                    "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                    "ENCODING <key>",
                    "    Return the kind of internal representation used in order to store the value",
                    "    associated with a <key>.",
                    "FREQ <key>",
                    "IDLETIME <key>",
                    "REFCOUNT <key>",
                    "HELP",
                    "    Print this help.",
                ];
                return Ok(Reply::Array(lines.iter().map(|line| Reply::status(line)).collect()));
            }
            Object::Encoding(key) | Object::Freq(key) | Object::IdleTime(key) | Object::RefCount(key) => key,
        };
        let Some(entry) = keyspace.db(ctx.db).get(key, ctx.now_ms) else {
            return Ok(Reply::Nil);
        };
        Ok(match self {
            Object::Encoding(_) => Reply::bulk(encoding(&entry.value)),
            Object::Freq(_) => {
                return Err(Error::err(
                    "An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.",
                ))
            }
            Object::IdleTime(_) => Reply::Integer(0),
            Object::RefCount(_) => Reply::Integer(1),
            Object::Help => unreachable!("handled above"),
        })
    }
}

fn encoding(value: &Value) -> &'static str {
    match value {
        Value::Str(blob) if blob.is_growable() => "raw",
        Value::Str(blob) if blob.len() <= 20 && parse_i64(blob).is_some() => "int",
        Value::Str(blob) if blob.len() <= EMBSTR_BYTES_MAX => "embstr",
        Value::Str(_) => "raw",
        Value::Hash(hash) if hash.is_compact() => "listpack",
        Value::Hash(_) => "hashtable",
        // Redis 7.0 calls every list a quicklist, however small.
        Value::List(_) => "quicklist",
        Value::Set(set) if set.is_intset() => "intset",
        Value::Set(_) => "hashtable",
        Value::ZSet(zset) if zset.is_compact() => "listpack",
        Value::ZSet(_) => "skiplist",
        Value::Stream(_) => "stream",
    }
}
