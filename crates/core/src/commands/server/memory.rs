//! MEMORY USAGE key [SAMPLES count] | MEMORY HELP

use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "memory",
    arity: -2,
    flags: &[],
    first_key: 0,
    last_key: 0,
    key_step: 0,
    key_specs: &[],
    acl_categories: &["@slow"],
    tips: &[],
    group: "server",
    since: "4.0.0",
    complexity: "Depends on subcommand.",
    summary: "A container for memory diagnostics commands",
    deprecated: None,
    movable_keys: None,
    subcommands: SUBCOMMANDS,
};
pub const USAGE_SPEC: CommandSpec = CommandSpec {
    name: "memory|usage",
    arity: -3,
    flags: &["readonly"],
    first_key: 2,
    last_key: 2,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["RO"], begin_index: 2, last_key: 0, key_step: 1 }],
    acl_categories: &["@read", "@slow"],
    tips: &[],
    group: "server",
    since: "4.0.0",
    complexity: "O(N) where N is the number of samples.",
    summary: "Estimate the memory usage of a key",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};
pub const HELP_SPEC: CommandSpec = CommandSpec {
    name: "memory|help",
    arity: 2,
    flags: &["loading", "stale"],
    first_key: 0,
    last_key: 0,
    key_step: 0,
    key_specs: &[],
    acl_categories: &["@slow"],
    tips: &[],
    group: "server",
    since: "4.0.0",
    complexity: "O(1)",
    summary: "Show helpful text about the different subcommands",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub const SUBCOMMANDS: &[&CommandSpec] = &[&USAGE_SPEC, &HELP_SPEC];

pub enum Memory {
    Usage(Bytes),
    Help,
}

impl Command for Memory {
    type Output = Reply;

    fn parse(args: &mut Args) -> Result<Self> {
        let sub = args.next_arg()?;
        if is(&sub, "USAGE") && !args.is_empty() {
            let key = args.next_arg()?;
            while !args.is_empty() {
                let option = args.next_arg()?;
                if !is(&option, "SAMPLES") || args.is_empty() {
                    return Err(Error::SYNTAX);
                }
                if args.next_i64()? < 0 {
                    return Err(Error::SYNTAX);
                }
            }
            Ok(Memory::Usage(key))
        } else if is(&sub, "HELP") && args.is_empty() {
            Ok(Memory::Help)
        } else {
            Err(Error::unknown_subcommand("memory", &sub))
        }
    }

    fn reply(reply: Reply) -> Reply {
        reply
    }
}

impl ReadCommand for Memory {
    fn read(&self, keyspace: &Keyspace, ctx: &mut ReadCtx) -> Result<Reply> {
        let key = match self {
            Memory::Help => {
                return Ok(help(&[
                    "MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                    "USAGE <key> [SAMPLES <count>]",
                    "    Return memory in bytes used by <key> and its value.",
                    "HELP",
                    "    Print this help.",
                ]))
            }
            Memory::Usage(key) => key,
        };
        let Some(entry) = keyspace.db(ctx.db).get(key, ctx.now_ms) else {
            return Ok(Reply::Nil);
        };
        Ok(Reply::Integer(entry.memory_bytes() as i64))
    }
}
