//! SCRIPT LOAD | EXISTS | FLUSH | KILL | HELP: the script cache. The cache is replicated
//! state, so every subcommand is applied from the log (SCRIPT EXISTS too: it then answers
//! from the same point of the log as EVALSHA would).

use crate::commands::prelude::*;
use crate::scripting::{self, engine::check_compiles, sha1hex};

pub const SPEC: CommandSpec = CommandSpec {
    name: "script",
    arity: -2,
    flags: &[],
    first_key: 0,
    last_key: 0,
    key_step: 0,
    key_specs: &[],
    acl_categories: &["@slow"],
    tips: &[],
    group: "scripting",
    since: "2.6.0",
    complexity: "Depends on subcommand.",
    summary: "A container for Lua scripts management commands",
    deprecated: None,
    movable_keys: None,
    subcommands: SUBCOMMANDS,
};

const fn sub(
    name: &'static str,
    arity: i32,
    flags: &'static [&'static str],
    tips: &'static [&'static str],
    complexity: &'static str,
    summary: &'static str,
    since: &'static str,
) -> CommandSpec {
    CommandSpec {
        name,
        arity,
        flags,
        first_key: 0,
        last_key: 0,
        key_step: 0,
        key_specs: &[],
        acl_categories: &["@slow", "@scripting"],
        tips,
        group: "scripting",
        since,
        complexity,
        summary,
        deprecated: None,
        movable_keys: None,
        subcommands: &[],
    }
}

pub const LOAD_SPEC: CommandSpec = sub(
    "script|load",
    3,
    &["noscript", "stale"],
    &["request_policy:all_nodes", "response_policy:all_succeeded"],
    "O(N) with N being the length in bytes of the script body.",
    "Load the specified Lua script into the script cache.",
    "2.6.0",
);
pub const EXISTS_SPEC: CommandSpec = sub(
    "script|exists",
    -3,
    &["noscript"],
    &["request_policy:all_shards", "response_policy:agg_logical_and"],
    "O(N) with N being the number of scripts to check (so checking a single script is an O(1) operation).",
    "Check existence of scripts in the script cache.",
    "2.6.0",
);
pub const FLUSH_SPEC: CommandSpec = sub(
    "script|flush",
    -2,
    &["noscript"],
    &["request_policy:all_nodes", "response_policy:all_succeeded"],
    "O(N) with N being the number of scripts in cache",
    "Remove all the scripts from the script cache.",
    "2.6.0",
);
pub const KILL_SPEC: CommandSpec = sub(
    "script|kill",
    2,
    &["noscript", "allow_busy"],
    &["request_policy:all_shards", "response_policy:one_succeeded"],
    "O(1)",
    "Kill the script currently in execution.",
    "2.6.0",
);
pub const HELP_SPEC: CommandSpec = sub(
    "script|help",
    2,
    &["loading", "stale"],
    &[],
    "O(1)",
    "Show helpful text about the different subcommands",
    "5.0.0",
);

pub const SUBCOMMANDS: &[&CommandSpec] = &[&LOAD_SPEC, &EXISTS_SPEC, &FLUSH_SPEC, &KILL_SPEC, &HELP_SPEC];

pub enum Script {
    Load(Bytes),
    Exists(Vec<Bytes>),
    Flush,
    Kill,
    Help,
}

impl Command for Script {
    type Output = Reply;

    fn parse(args: &mut Args) -> Result<Self> {
        let sub = args.next_arg()?;
        Ok(match crate::command::find_subcommand("script", SUBCOMMANDS, &sub, args.remaining())? {
            "load" => Script::Load(args.next_arg()?),
            "exists" => Script::Exists(args.rest()),
            "flush" => {
                match args.remaining() {
                    0 => {}
                    1 if { matches!(args.peek(), Some(mode) if is(mode, "SYNC") || is(mode, "ASYNC")) } => {
                        args.next_arg()?;
                    }
                    _ => return Err(Error::fixed("ERR SCRIPT FLUSH only support SYNC|ASYNC option")),
                }
                Script::Flush
            }
            "kill" => Script::Kill,
            _ => Script::Help,
        })
    }

    fn reply(output: Reply) -> Reply {
        output
    }
}

impl WriteCommand for Script {
    fn write(&self, keyspace: &mut Keyspace, _: &WriteCtx) -> Result<Reply> {
        Ok(match self {
            Script::Load(body) => {
                let (_, code) = scripting::parse_shebang(body)?;
                let sha = sha1hex(body);
                if !keyspace.scripts().contains(&sha) {
                    check_compiles(code).map_err(|message| {
                        Error::err(format_args!("Error compiling script (new function): {message}"))
                    })?;
                    if !keyspace.scripts_mut().insert(sha.clone(), body.clone()) {
                        return Err(Error::err(format_args!(
                            "the script cache is full ({SCRIPTS_MAX} scripts or {SCRIPTS_BYTES_MAX} bytes); SCRIPT FLUSH makes room"
                        )));
                    }
                }
                Reply::bulk_text(sha)
            }
            Script::Exists(shas) => Reply::Array(
                shas.iter()
                    .map(|sha| {
                        let cached = super::cache_name(sha).is_some_and(|sha| keyspace.scripts().contains(&sha));
                        Reply::Integer(i64::from(cached))
                    })
                    .collect(),
            ),
            Script::Flush => {
                keyspace.scripts_mut().clear();
                Reply::OK
            }
            // A script runs inside one entry's apply: by the time another command is applied,
            // none is running.
            Script::Kill => return Err(Error::fixed("NOTBUSY No scripts in execution right now.")),
            Script::Help => help(&[
                "SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                "EXISTS <sha1> [<sha1> ...]",
                "    Return information about the existence of the scripts in the script cache.",
                "FLUSH [ASYNC|SYNC]",
                "    Flush the Lua scripts cache. Very dangerous on replicas.",
                "    When called without the optional mode argument, the behavior is determined by the",
                "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
                "    * ASYNC: Asynchronously flush the scripts cache.",
                "    * SYNC: Synchronously flush the scripts cache.",
                "KILL",
                "    Kill the currently executing Lua script.",
                "LOAD <script>",
                "    Load a script into the scripts cache without executing it.",
                "HELP",
                "    Print this help.",
            ]),
        })
    }
}
