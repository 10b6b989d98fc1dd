//! FUNCTION FLUSH | LIST | HELP. Concord has no functions yet, so there is nothing to flush
//! and nothing to list.

use crate::command::NodeCommand;
use crate::commands::prelude::*;
use crate::session::{Action, Host, Session};

pub const SPEC: CommandSpec = CommandSpec {
    name: "function",
    arity: -2,
    flags: &[],
    first_key: 0,
    last_key: 0,
    key_step: 0,
    key_specs: &[],
    acl_categories: &["@slow"],
    tips: &[],
    group: "scripting",
    since: "7.0.0",
    complexity: "Depends on subcommand.",
    summary: "A container for function commands",
    deprecated: None,
    movable_keys: None,
    subcommands: SUBCOMMANDS,
};
pub const FLUSH_SPEC: CommandSpec = CommandSpec {
    name: "function|flush",
    arity: -2,
    flags: &["write", "noscript"],
    first_key: 0,
    last_key: 0,
    key_step: 0,
    key_specs: &[],
    acl_categories: &["@write", "@slow", "@scripting"],
    tips: &["request_policy:all_shards", "response_policy:all_succeeded"],
    group: "scripting",
    since: "7.0.0",
    complexity: "O(N) where N is the number of functions deleted",
    summary: "Deleting all functions",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};
pub const LIST_SPEC: CommandSpec = CommandSpec {
    name: "function|list",
    arity: -2,
    flags: &["noscript"],
    first_key: 0,
    last_key: 0,
    key_step: 0,
    key_specs: &[],
    acl_categories: &["@slow", "@scripting"],
    tips: &["nondeterministic_output_order"],
    group: "scripting",
    since: "7.0.0",
    complexity: "O(N) where N is the number of functions",
    summary: "List information about all the functions",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};
pub const HELP_SPEC: CommandSpec = CommandSpec {
    name: "function|help",
    arity: 2,
    flags: &["loading", "stale"],
    first_key: 0,
    last_key: 0,
    key_step: 0,
    key_specs: &[],
    acl_categories: &["@slow", "@scripting"],
    tips: &[],
    group: "scripting",
    since: "7.0.0",
    complexity: "O(1)",
    summary: "Show helpful text about the different subcommands",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub const SUBCOMMANDS: &[&CommandSpec] = &[&FLUSH_SPEC, &LIST_SPEC, &HELP_SPEC];

pub enum Function {
    Flush,
    List,
    Help,
}

impl NodeCommand for Function {
    fn parse(args: &mut Args) -> Result<Self> {
        let sub = args.next_arg()?;
        if is(&sub, "FLUSH") {
            if args.remaining() > 1 {
                return Err(Error::wrong_arity("function|flush"));
            }
            crate::commands::server::flushdb::parse_flush_mode(args)?;
            Ok(Function::Flush)
        } else if is(&sub, "LIST") {
            while !args.is_empty() {
                let option = args.next_arg()?;
                if is(&option, "WITHCODE") {
                    continue;
                }
                if is(&option, "LIBRARYNAME") && !args.is_empty() {
                    args.next_arg()?;
                    continue;
                }
                return Err(Error::err(format_args!("Unknown argument {}", String::from_utf8_lossy(&option))));
            }
            Ok(Function::List)
        } else if is(&sub, "HELP") && args.is_empty() {
            Ok(Function::Help)
        } else {
            Err(Error::unknown_subcommand("function", &sub))
        }
    }

    fn execute(self, _: &mut Session, _: &dyn Host) -> Result<Action> {
        Ok(Action::Reply(match self {
            Function::Flush => Reply::OK,
            Function::List => Reply::Array(Vec::new()),
            Function::Help => help(&[
                "FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                "FLUSH [ASYNC|SYNC]",
                "    Delete all the libraries.",
                "LIST [LIBRARYNAME <pattern>] [WITHCODE]",
                "    Return general information on all the libraries.",
                "HELP",
                "    Print this help.",
            ]),
        }))
    }
}
