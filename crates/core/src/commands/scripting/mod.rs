//! Scripting and functions, one command per file:
//!
//! - [`eval`], [`evalsha`], [`eval_ro`], [`evalsha_ro`]: run a Lua script, given or cached.
//! - [`script`]: SCRIPT LOAD | EXISTS | FLUSH | KILL | HELP, the replicated script cache.
//! - [`function`]: FUNCTION LOAD | LIST | DELETE | FLUSH | DUMP | RESTORE | STATS | KILL |
//!   HELP, the replicated function libraries.
//! - [`fcall`], [`fcall_ro`]: call a function of a library.
//!
//! Scripts run inside the state machine (see [`crate::scripting`]): EVAL and EVALSHA are
//! writes applied from the log, the `_RO` variants reads.

pub mod eval;
pub mod eval_ro;
pub mod evalsha;
pub mod evalsha_ro;
pub mod fcall;
pub mod fcall_ro;
pub mod function;
pub mod script;

use crate::commands::prelude::*;
use crate::scripting::{self, Program, Run, ScriptFlags, Store};

/// `script numkeys [key ...] [arg ...]`, as EVAL and its variants take them (the script
/// being a body or a SHA1).
pub struct ScriptCall {
    pub script: Bytes,
    pub keys: Vec<Bytes>,
    pub args: Vec<Bytes>,
}

impl ScriptCall {
    pub fn parse(args: &mut Args) -> Result<ScriptCall> {
        ScriptCall::parse_with(args, Error::NOT_INTEGER)
    }

    /// FCALL's: a count that is not a number is worded otherwise.
    pub fn parse_fcall(args: &mut Args) -> Result<ScriptCall> {
        ScriptCall::parse_with(args, Error::fixed("ERR Bad number of keys provided"))
    }

    fn parse_with(args: &mut Args, not_a_count: Error) -> Result<ScriptCall> {
        let script = args.next_arg()?;
        let numkeys = parse_i64(&args.next_arg()?).ok_or(not_a_count)?;
        if numkeys > args.remaining() as i64 {
            return Err(Error::fixed("ERR Number of keys can't be greater than number of args"));
        }
        if numkeys < 0 {
            return Err(Error::fixed("ERR Number of keys can't be negative"));
        }
        let keys = (0..numkeys).map(|_| args.next_arg()).collect::<Result<Vec<_>>>()?;
        let rest = (0..args.remaining()).map(|_| args.next_arg()).collect::<Result<Vec<_>>>()?;
        Ok(ScriptCall { script, keys, args: rest })
    }
}

/// Where EVAL's keys are: after the count at position 2.
pub fn key_positions(argv: &[Bytes]) -> Vec<usize> {
    crate::command::keys_after_count(argv, 2, 0)
}

/// The reply to EVALSHA of a script the cache does not have.
pub const NO_SCRIPT: Error = Error::fixed("NOSCRIPT No matching script. Please use EVAL.");

/// The cache's name for a SHA1 given by a client (lower case; anything not 40 long matches
/// nothing).
pub fn cache_name(sha: &[u8]) -> Option<String> {
    (sha.len() == 40).then(|| String::from_utf8_lossy(sha).to_ascii_lowercase())
}

/// Runs `body` as EVAL does. `read_only`: the `_RO` variants.
pub fn eval_body(store: Store, call: &ScriptCall, body: &[u8], sha: &str, read_only: bool) -> Result<Reply> {
    let (flags, code) = scripting::parse_shebang(body)?;
    check_flags(flags, read_only)?;
    let read_only = read_only || (!flags.compat && flags.no_writes);
    let program = Program::Eval { code, sha };
    Ok(scripting::run(store, Run { program, keys: &call.keys, args: &call.args, read_only }))
}

/// What a script's flags refuse before it runs.
pub fn check_flags(flags: ScriptFlags, read_only: bool) -> Result<()> {
    if read_only && !flags.compat && !flags.no_writes {
        return Err(Error::fixed("ERR Can not execute a script with write flag using *_ro command."));
    }
    Ok(())
}

/// Whether the reply says the body did not compile (such a body is not cached, as in Redis).
pub fn failed_to_compile(reply: &Reply) -> bool {
    matches!(reply, Reply::Error(text) if text.starts_with(b"ERR Error compiling script"))
}

/// A spec shared by EVAL and its variants.
pub const fn eval_spec(name: &'static str, read_only: bool, summary: &'static str) -> CommandSpec {
    CommandSpec {
        name,
        arity: -3,
        flags: if read_only {
            &["noscript", "skip_monitor", "no_mandatory_keys", "stale", "readonly", "movablekeys"]
        } else {
            &["noscript", "skip_monitor", "may_replicate", "no_mandatory_keys", "stale", "movablekeys"]
        },
        first_key: 0,
        last_key: 0,
        key_step: 0,
        key_specs: if read_only { &[KEYS_RO] } else { &[KEYS_RW] },
        acl_categories: &["@slow", "@scripting"],
        tips: &[],
        group: "scripting",
        since: if read_only { "7.0.0" } else { "2.6.0" },
        complexity: "Depends on the script that is executed.",
        summary,
        deprecated: None,
        movable_keys: Some(key_positions),
        subcommands: &[],
    }
}

/// A spec shared by FCALL and FCALL_RO.
pub const fn fcall_spec(name: &'static str, read_only: bool, summary: &'static str) -> CommandSpec {
    CommandSpec {
        since: "7.0.0",
        complexity: "Depends on the function that is executed.",
        ..eval_spec(name, read_only, summary)
    }
}

/// The code to run for FCALL of `name` (its library's, after the shebang line), and whether
/// it may not write. `read_only`: FCALL_RO, which only runs functions flagged `no-writes`.
pub fn function_code(keyspace: &Keyspace, name: &[u8], read_only: bool) -> Result<(Bytes, bool, String)> {
    let name = String::from_utf8_lossy(name);
    let (library, function) = keyspace.libraries().function(&name).ok_or(Error::fixed("ERR Function not found"))?;
    let no_writes = function.flags.iter().any(|flag| flag == "no-writes");
    if read_only && !no_writes {
        return Err(Error::fixed("ERR Can not execute a script with write flag using *_ro command."));
    }
    let (_, code) = function::library_metadata(&library.code)?;
    Ok((library.code.slice_ref(code), read_only || no_writes, function.name.clone()))
}

/// Runs function `name` (as its library registered it) of a library whose code is `code`.
pub fn fcall_function(store: Store, call: &ScriptCall, code: &[u8], name: &str, read_only: bool) -> Result<Reply> {
    let program = Program::Function { library_code: code, name };
    Ok(scripting::run(store, Run { program, keys: &call.keys, args: &call.args, read_only }))
}

const KEYS_RW: KeySpec = KeySpec { flags: &["RW", "access", "update"], begin_index: 2, last_key: 0, key_step: 1 };
const KEYS_RO: KeySpec = KeySpec { flags: &["RO", "access"], begin_index: 2, last_key: 0, key_step: 1 };
