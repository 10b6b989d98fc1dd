//! FUNCTION LOAD | LIST | DELETE | FLUSH | DUMP | RESTORE | STATS | KILL | HELP: the function
//! libraries. They are replicated state (and in snapshots, so they survive restarts), so every
//! subcommand is applied from the log, on every shard.

use crate::commands::prelude::*;
use crate::keyspace::{FunctionInfo, Libraries, Library};
use crate::scripting::engine::load_library;

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

const fn sub(
    name: &'static str,
    arity: i32,
    flags: &'static [&'static str],
    tips: &'static [&'static str],
    complexity: &'static str,
    summary: &'static str,
) -> CommandSpec {
    CommandSpec {
        name,
        arity,
        flags,
        first_key: 0,
        last_key: 0,
        key_step: 0,
        key_specs: &[],
        acl_categories: if writes(flags) { &["@write", "@slow", "@scripting"] } else { &["@slow", "@scripting"] },
        tips,
        group: "scripting",
        since: "7.0.0",
        complexity,
        summary,
        deprecated: None,
        movable_keys: None,
        subcommands: &[],
    }
}

/// Whether the first flag is `write` (a const fn cannot compare strings).
const fn writes(flags: &[&str]) -> bool {
    !flags.is_empty() && flags[0].len() == 5 && flags[0].as_bytes()[0] == b'w'
}

const EVERY_NODE: &[&str] = &["request_policy:all_nodes", "response_policy:all_succeeded"];

pub const LOAD_SPEC: CommandSpec = sub(
    "function|load",
    -3,
    &["write", "denyoom", "noscript"],
    EVERY_NODE,
    "O(1) (considering compilation time is redundant)",
    "Create a function with the given arguments (name, code, description)",
);
pub const LIST_SPEC: CommandSpec = sub(
    "function|list",
    -2,
    &["noscript"],
    &["nondeterministic_output_order"],
    "O(N) where N is the number of functions",
    "List information about all the functions",
);
pub const DELETE_SPEC: CommandSpec =
    sub("function|delete", 3, &["write", "noscript"], EVERY_NODE, "O(1)", "Delete a function by name");
pub const FLUSH_SPEC: CommandSpec = sub(
    "function|flush",
    -2,
    &["write", "noscript"],
    EVERY_NODE,
    "O(N) where N is the number of functions deleted",
    "Deleting all functions",
);
pub const DUMP_SPEC: CommandSpec = sub(
    "function|dump",
    2,
    &["noscript"],
    &[],
    "O(N) where N is the number of functions",
    "Dump all functions into a serialized binary payload",
);
pub const RESTORE_SPEC: CommandSpec = sub(
    "function|restore",
    -3,
    &["write", "denyoom", "noscript"],
    EVERY_NODE,
    "O(N) where N is the number of functions on the payload",
    "Restore all the functions on the given payload",
);
pub const STATS_SPEC: CommandSpec = sub(
    "function|stats",
    2,
    &["noscript", "allow_busy"],
    &["nondeterministic_output", "request_policy:all_shards", "response_policy:special"],
    "O(1)",
    "Return information about the function currently running (name, description, duration)",
);
pub const KILL_SPEC: CommandSpec = sub(
    "function|kill",
    2,
    &["noscript", "allow_busy"],
    &["request_policy:all_shards", "response_policy:one_succeeded"],
    "O(1)",
    "Kill the function currently in execution.",
);
pub const HELP_SPEC: CommandSpec =
    sub("function|help", 2, &["loading", "stale"], &[], "O(1)", "Show helpful text about the different subcommands");

pub const SUBCOMMANDS: &[&CommandSpec] = &[
    &LOAD_SPEC,
    &LIST_SPEC,
    &DELETE_SPEC,
    &FLUSH_SPEC,
    &DUMP_SPEC,
    &RESTORE_SPEC,
    &STATS_SPEC,
    &KILL_SPEC,
    &HELP_SPEC,
];

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum RestorePolicy {
    Append,
    Replace,
    Flush,
}

pub enum Function {
    Load { replace: bool, code: Bytes },
    List { pattern: Option<Bytes>, with_code: bool },
    Delete(Bytes),
    Flush,
    Dump,
    Restore { payload: Bytes, policy: RestorePolicy },
    Stats,
    Kill,
    Help,
}

impl Command for Function {
    type Output = Reply;

    fn parse(args: &mut Args) -> Result<Self> {
        let sub = args.next_arg()?;
        let argc = args.remaining() + 2;
        let arity = |spec: &CommandSpec| if spec.arity_ok(argc) { Ok(()) } else { Err(Error::wrong_arity(spec.name)) };
        if is(&sub, "LOAD") {
            arity(&LOAD_SPEC)?;
            let mut replace = false;
            while args.remaining() > 1 {
                let option = args.next_arg()?;
                if !is(&option, "REPLACE") {
                    return Err(Error::err(format_args!("Unknown option given: {}", String::from_utf8_lossy(&option))));
                }
                replace = true;
            }
            let code = args.next_arg().map_err(|_| Error::fixed("ERR Function code is missing"))?;
            Ok(Function::Load { replace, code })
        } else if is(&sub, "LIST") {
            let (mut pattern, mut with_code) = (None, false);
            while !args.is_empty() {
                let option = args.next_arg()?;
                if !with_code && is(&option, "WITHCODE") {
                    with_code = true;
                } else if pattern.is_none() && is(&option, "LIBRARYNAME") {
                    if args.is_empty() {
                        return Err(Error::fixed("ERR library name argument was not given"));
                    }
                    pattern = Some(args.next_arg()?);
                } else {
                    return Err(Error::err(format_args!("Unknown argument {}", String::from_utf8_lossy(&option))));
                }
            }
            Ok(Function::List { pattern, with_code })
        } else if is(&sub, "DELETE") {
            arity(&DELETE_SPEC)?;
            Ok(Function::Delete(args.next_arg()?))
        } else if is(&sub, "FLUSH") {
            match args.remaining() {
                0 => {}
                1 if { matches!(args.peek(), Some(mode) if is(mode, "SYNC") || is(mode, "ASYNC")) } => {
                    args.next_arg()?;
                }
                1 => return Err(Error::fixed("ERR FUNCTION FLUSH only supports SYNC|ASYNC option")),
                _ => return Err(subcommand_syntax("flush")),
            }
            Ok(Function::Flush)
        } else if is(&sub, "DUMP") {
            arity(&DUMP_SPEC)?;
            Ok(Function::Dump)
        } else if is(&sub, "RESTORE") {
            if args.remaining() > 2 {
                return Err(subcommand_syntax("restore"));
            }
            arity(&RESTORE_SPEC)?;
            let payload = args.next_arg()?;
            let policy = match args.remaining() {
                0 => RestorePolicy::Append,
                1 => {
                    let word = args.next_arg()?;
                    if is(&word, "APPEND") {
                        RestorePolicy::Append
                    } else if is(&word, "REPLACE") {
                        RestorePolicy::Replace
                    } else if is(&word, "FLUSH") {
                        RestorePolicy::Flush
                    } else {
                        return Err(Error::fixed(
                            "ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.",
                        ));
                    }
                }
                _ => return Err(Error::wrong_arity("function|restore")),
            };
            Ok(Function::Restore { payload, policy })
        } else if is(&sub, "STATS") && args.is_empty() {
            Ok(Function::Stats)
        } else if is(&sub, "KILL") && args.is_empty() {
            Ok(Function::Kill)
        } else if is(&sub, "HELP") && args.is_empty() {
            Ok(Function::Help)
        } else {
            Err(Error::unknown_subcommand("function", &sub))
        }
    }

    fn reply(output: Reply) -> Reply {
        output
    }
}

/// Version of FUNCTION DUMP's payload (Concord's own: a version byte, the libraries' names and
/// code, a CRC32C of what precedes it).
const DUMP_VERSION: u8 = 1;

impl WriteCommand for Function {
    fn write(&self, keyspace: &mut Keyspace, _: &WriteCtx) -> Result<Reply> {
        let libraries = keyspace.libraries_mut();
        Ok(match self {
            Function::Load { replace, code } => {
                let library = compile_library(code)?;
                let name = library.name.clone();
                libraries.add(library, *replace).map_err(Error::err)?;
                Reply::bulk_text(name)
            }
            Function::List { pattern, with_code } => {
                let pattern = pattern.as_ref().map(|pattern| Pattern::new(pattern));
                Reply::Array(
                    libraries
                        .iter()
                        .filter(|library| pattern.as_ref().is_none_or(|p| p.matches(library.name.as_bytes())))
                        .map(|library| describe(library, *with_code))
                        .collect(),
                )
            }
            Function::Delete(name) => {
                libraries.remove(&String::from_utf8_lossy(name)).ok_or(Error::fixed("ERR Library not found"))?;
                Reply::OK
            }
            Function::Flush => {
                libraries.clear();
                Reply::OK
            }
            Function::Dump => Reply::Bulk(dump(libraries)),
            Function::Restore { payload, policy } => {
                let codes = undump(payload)?;
                let mut restored = if *policy == RestorePolicy::Flush { Libraries::default() } else { libraries.clone() };
                for code in codes {
                    let library = compile_library(&code)?;
                    // Restoring words a collision without the quotes LOAD puts around the name.
                    let unquoted = |text: String| text.replacen(" '", " ", 1).replacen("' already", " already", 1);
                    restored.add(library, *policy == RestorePolicy::Replace).map_err(|e| Error::err(unquoted(e)))?;
                }
                *libraries = restored;
                Reply::OK
            }
            Function::Stats => {
                let engine = Reply::Map(vec![
                    (Reply::bulk("libraries_count"), Reply::Integer(libraries.len() as i64)),
                    (Reply::bulk("functions_count"), Reply::Integer(libraries.functions_count() as i64)),
                ]);
                Reply::Map(vec![
                    (Reply::bulk("running_script"), Reply::Nil),
                    (Reply::bulk("engines"), Reply::Map(vec![(Reply::bulk("LUA"), engine)])),
                ])
            }
            // A function runs inside one entry's apply: by the time another command is
            // applied, none is running.
            Function::Kill => return Err(Error::fixed("NOTBUSY No scripts in execution right now.")),
            Function::Help => help(&[
                "FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                "LOAD [REPLACE] <FUNCTION CODE>",
                "    Create a new library with the given library name and code.",
                "DELETE <LIBRARY NAME>",
                "    Delete the given library.",
                "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
                "    Return general information on all the libraries:",
                "    * Library name",
                "    * The engine used to run the Library",
                "    * Library description",
                "    * Functions list",
                "    * Library code (if WITHCODE is given)",
                "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
                "STATS",
                "    Return information about the current function running:",
                "    * Function name",
                "    * Command used to run the function",
                "    * Duration in MS that the function is running",
                "    If no function is running, return nil",
                "    In addition, returns a list of available engines.",
                "KILL",
                "    Kill the current running function.",
                "FLUSH [ASYNC|SYNC]",
                "    Delete all the libraries.",
                "    When called without the optional mode argument, the behavior is determined by the",
                "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
                "    * ASYNC: Asynchronously flush the libraries.",
                "    * SYNC: Synchronously flush the libraries.",
                "DUMP",
                "    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
                "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
                "    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
                "    control how to handle existing libraries (default APPEND):",
                "    * FLUSH: delete all existing libraries.",
                "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
                "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
                "      libraries with the new libraries (notice that even on this option there is a chance of failure",
                "      in case of functions name collision with another library).",
                "HELP",
                "    Print this help.",
            ]),
        })
    }
}

/// Redis's reply when a subcommand checks its own arguments and finds too many.
fn subcommand_syntax(sub: &str) -> Error {
    Error::err(format_args!("unknown subcommand or wrong number of arguments for '{sub}'. Try FUNCTION HELP."))
}

/// Letters, digits and underscores, at least one: what library and function names may hold.
fn valid_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|byte| byte.is_ascii_alphanumeric() || byte == b'_')
}

/// The library's name (from its `#!lua name=...` line) and the code after that line (its
/// line feed kept, so that line numbers match the payload's).
pub fn library_metadata(payload: &[u8]) -> Result<(String, &[u8])> {
    if !payload.starts_with(b"#!") {
        return Err(Error::fixed("ERR Missing library metadata"));
    }
    let end = payload.iter().position(|byte| *byte == b'\n').ok_or(Error::fixed("ERR Invalid library metadata"))?;
    let line = String::from_utf8_lossy(&payload[2..end]).into_owned();
    let mut parts = line.split_ascii_whitespace();
    let engine = parts.next().ok_or(Error::fixed("ERR Invalid library metadata"))?.to_string();
    let mut name = None;
    for part in parts {
        if part.len() >= 5 && part[..5].eq_ignore_ascii_case("name=") {
            if name.is_some() {
                return Err(Error::fixed("ERR Invalid metadata value, name argument was given multiple times"));
            }
            // Quotes are taken off, as Redis's argument splitting takes them off.
            name = Some(part[5..].trim_matches('"').to_string());
            continue;
        }
        return Err(Error::err(format_args!("Invalid metadata value given: {part}")));
    }
    let name = name.ok_or(Error::fixed("ERR Library name was not given"))?;
    if !valid_name(&name) {
        return Err(Error::fixed(
            "ERR Library names can only contain letters, numbers, or underscores(_) and must be at least one character long",
        ));
    }
    if !engine.eq_ignore_ascii_case("lua") {
        return Err(Error::err(format_args!("Engine '{engine}' not found")));
    }
    Ok((name, &payload[end..]))
}

/// Runs a library's code to learn its functions, as FUNCTION LOAD does.
fn compile_library(payload: &Bytes) -> Result<Library> {
    let (name, code) = library_metadata(payload)?;
    let registered = load_library(code).map_err(|reply| match reply {
        Reply::Error(text) => Error::new(String::from_utf8_lossy(&text).into_owned()),
        _ => Error::err("could not load the library"),
    })?;
    if registered.is_empty() {
        return Err(Error::fixed("ERR No functions registered"));
    }
    let mut functions: Vec<FunctionInfo> = Vec::new();
    for function in registered {
        if !valid_name(&function.name) {
            return Err(Error::fixed(
                "ERR Library names can only contain letters, numbers, or underscores(_) and must be at least one character long",
            ));
        }
        if functions.iter().any(|other| other.name == function.name) {
            return Err(Error::fixed("ERR Function already exists in the library"));
        }
        if functions.len() >= LIBRARY_FUNCTIONS_MAX {
            return Err(Error::err(format_args!("a library may register at most {LIBRARY_FUNCTIONS_MAX} functions")));
        }
        functions.push(FunctionInfo { name: function.name, description: function.description, flags: function.flags });
    }
    Ok(Library { name, code: payload.clone(), functions })
}

fn describe(library: &Library, with_code: bool) -> Reply {
    let functions = library
        .functions
        .iter()
        .map(|function| {
            Reply::Map(vec![
                (Reply::bulk("name"), Reply::bulk_text(function.name.clone())),
                (Reply::bulk("description"), function.description.clone().map_or(Reply::Nil, Reply::bulk_text)),
                (
                    Reply::bulk("flags"),
                    Reply::Set(function.flags.iter().map(|flag| Reply::bulk_text(flag.clone())).collect()),
                ),
            ])
        })
        .collect();
    let mut fields = vec![
        (Reply::bulk("library_name"), Reply::bulk_text(library.name.clone())),
        (Reply::bulk("engine"), Reply::bulk("LUA")),
        (Reply::bulk("functions"), Reply::Array(functions)),
    ];
    if with_code {
        fields.push((Reply::bulk("library_code"), Reply::Bulk(library.code.clone())));
    }
    Reply::Map(fields)
}

fn dump(libraries: &Libraries) -> Bytes {
    let codes: Vec<Bytes> = libraries.iter().map(|library| library.code.clone()).collect();
    let mut payload = vec![DUMP_VERSION];
    payload.extend(postcard::to_stdvec(&codes).expect("library code encodes"));
    let checksum = crc32c::crc32c(&payload);
    payload.extend_from_slice(&checksum.to_le_bytes());
    Bytes::from(payload)
}

fn undump(payload: &[u8]) -> Result<Vec<Bytes>> {
    let wrong = Error::fixed("ERR DUMP payload version or checksum are wrong");
    if payload.len() < 5 || payload[0] != DUMP_VERSION {
        return Err(wrong);
    }
    let (body, checksum) = payload.split_at(payload.len() - 4);
    if crc32c::crc32c(body).to_le_bytes() != checksum {
        return Err(wrong);
    }
    postcard::from_bytes(&body[1..]).map_err(|_| Error::fixed("ERR failed loading the given functions payload"))
}
