//! One run of a script or a function, inside the apply of its log entry (or inside a read,
//! for the read-only variants): `redis.call` runs commands on the keyspace through the same
//! command table as clients' commands, with the entry's time and a seed drawn from its own.
//! A run is stopped by an instruction count and bounded in memory, so every replica stops
//! the same run at the same point with the same error.

use super::convert::lua_to_reply;
use super::sandbox::{self, Sandbox};
use super::vm::Vm;
use crate::command::{ReadCtx, WriteCtx};
use crate::commands::{self, KeyspaceOp, Kind};
use crate::keyspace::Keyspace;
use crate::limits::{DATABASES_DEFAULT, SCRIPT_INSTRUCTIONS_MAX, SCRIPT_MEMORY_BYTES_MAX};
use crate::reply::Reply;
use crate::rng::Rng;
use crate::slot::key_slot;
use crate::types::{DbIndex, TimeMs};
use bytes::Bytes;
use mlua::{ChunkMode, Function, Lua, MultiValue, Table, Value};
use std::cell::RefCell;

/// What a run's commands act on.
pub enum Store<'a> {
    /// Inside a log entry's apply: commands may write.
    Write { keyspace: &'a mut Keyspace, ctx: WriteCtx },
    /// Inside a read (EVAL_RO, EVALSHA_RO, FCALL_RO): only reads run.
    Read { keyspace: &'a Keyspace, db: DbIndex, now_ms: TimeMs, seed: u64 },
}

impl Store<'_> {
    fn keyspace(&self) -> &Keyspace {
        match self {
            Store::Write { keyspace, .. } => keyspace,
            Store::Read { keyspace, .. } => keyspace,
        }
    }

    fn db(&self) -> DbIndex {
        match self {
            Store::Write { ctx, .. } => ctx.db,
            Store::Read { db, .. } => *db,
        }
    }

    fn seed(&self) -> u64 {
        match self {
            Store::Write { ctx, .. } => ctx.random_seed,
            Store::Read { seed, .. } => *seed,
        }
    }

    fn now_ms(&self) -> TimeMs {
        match self {
            Store::Write { ctx, .. } => ctx.now_ms,
            Store::Read { now_ms, .. } => *now_ms,
        }
    }
}

/// What runs.
pub enum Program<'a> {
    /// An EVAL body (its shebang line dropped), named by its SHA1 in errors.
    Eval { code: &'a [u8], sha: &'a str },
    /// A function of a library: the library's code is run to register its functions, then
    /// the one named is called with the keys and arguments.
    Function { library_code: &'a [u8], name: &'a str },
}

pub struct Run<'a> {
    pub program: Program<'a>,
    pub keys: &'a [Bytes],
    pub args: &'a [Bytes],
    /// Writes are refused (the `_RO` variants, the `no-writes` flag).
    pub read_only: bool,
}

/// A function a library registered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Registered {
    pub name: String,
    pub flags: Vec<String>,
    pub description: Option<String>,
}

/// Runs a script or function and returns its reply (an error reply when it failed), on the
/// keyspace's kept interpreter (a fresh one when there is none, or another thread has it).
pub fn run(store: Store, run: Run) -> Reply {
    let name = match run.program {
        Program::Eval { sha, .. } => sha.to_string(),
        Program::Function { name, .. } => name.to_string(),
    };
    let mut vm = match store.keyspace().script_vm().take() {
        Some(vm) => vm,
        None => match Vm::build() {
            Ok(vm) => Box::new(vm),
            Err(mlua::Error::MemoryError(_)) => return memory_error(&name),
            Err(error) => {
                return Reply::Error(Bytes::from(format!("ERR Error running script {name}, {}", first_line(&error))))
            }
        },
    };
    let calls = RefCell::new(Calls {
        db: store.db(),
        seed: store.seed(),
        store,
        resp3: false,
        read_only: run.read_only,
        slot: run.keys.first().map(|key| key_slot(key)),
        made: 0,
    });
    let outcome = run_in(&mut vm, &calls, &run);
    let killed = vm.state.killed();
    let (reply, stopped) = match outcome {
        _ if killed => (killed_error(&name), true),
        Ok(Ran::Reply(reply)) => (reply, false),
        Ok(Ran::OutOfMemory) | Err(mlua::Error::MemoryError(_)) => (memory_error(&name), true),
        Err(error) => {
            (Reply::Error(Bytes::from(format!("ERR Error running script {name}, {}", first_line(&error)))), false)
        }
    };
    // A run stopped by a bound may have left anything half made: the interpreter is dropped.
    if !stopped && vm.settle() {
        calls.into_inner().store.keyspace().script_vm().put(vm);
    }
    reply
}

/// How a run ended, short of an error from Lua itself.
enum Ran {
    Reply(Reply),
    /// The script caught the memory error (with pcall) and raised it again.
    OutOfMemory,
}

/// Runs a library's code as FUNCTION LOAD does (no commands may run) and returns the
/// functions it registered, or the error reply. A fresh interpreter: what a library may load
/// must not depend on what ran before.
pub fn load_library(code: &[u8]) -> Result<Vec<Registered>, Reply> {
    let mut stopped = false;
    let outcome = (|| -> mlua::Result<Result<Vec<Registered>, Reply>> {
        let mut vm = Vm::build()?;
        vm.begin(0)?;
        let result = register_library(&vm, code);
        stopped = vm.state.killed();
        result
    })();
    match outcome {
        _ if stopped => Err(Reply::Error(Bytes::from(format!(
            "ERR FUNCTION LOAD timeout: the library's code ran more than {SCRIPT_INSTRUCTIONS_MAX} Lua instructions"
        )))),
        Ok(result) => result,
        Err(mlua::Error::MemoryError(_)) => Err(memory_error("(library load)")),
        Err(error) => {
            Err(Reply::Error(Bytes::from(format!("ERR Error registering functions: {}", first_line(&error)))))
        }
    }
}

fn register_library(vm: &Vm, code: &[u8]) -> mlua::Result<Result<Vec<Registered>, Reply>> {
    let chunk = match compile(&vm.lua, &vm.sandbox, code, "@user_function") {
        Ok(chunk) => chunk,
        Err(message) => return Ok(Err(Reply::Error(Bytes::from(format!("ERR Error compiling function: {message}"))))),
    };
    let (ok, value): (bool, Value) = vm.sandbox.register.call(chunk)?;
    if !ok {
        return Ok(Err(failure(&value, None, "ERR Error registering functions")));
    }
    let Value::Table(list) = value else { return Ok(Ok(Vec::new())) };
    let mut functions = Vec::new();
    for entry in list.sequence_values::<Table>() {
        let entry = entry?;
        let flags: Vec<String> =
            entry.get::<Table>("flags")?.sequence_values::<String>().collect::<mlua::Result<_>>()?;
        functions.push(Registered {
            name: entry.get("name")?,
            flags,
            description: entry.get::<Option<String>>("description")?,
        });
    }
    Ok(Ok(functions))
}

fn killed_error(name: &str) -> Reply {
    Reply::Error(Bytes::from(format!(
        "ERR Script killed: it ran more than {SCRIPT_INSTRUCTIONS_MAX} Lua instructions (Concord stops scripts by count, the same on every replica, in place of busy-reply-threshold) script: {name}"
    )))
}

fn memory_error(name: &str) -> Reply {
    Reply::Error(Bytes::from(format!(
        "ERR Script used more than {SCRIPT_MEMORY_BYTES_MAX} bytes of Lua memory (Concord's bound per script) script: {name}"
    )))
}

fn first_line(error: &mlua::Error) -> String {
    error.to_string().lines().next().unwrap_or("execution failure").chars().take(100).collect()
}

/// Compiles source (never binary) under the sandbox's globals; the error text on failure.
fn compile(lua: &Lua, sandbox: &Sandbox, code: &[u8], chunk_name: &str) -> Result<Function, String> {
    let compiled = lua.load(code).set_name(chunk_name).set_mode(ChunkMode::Text).into_function();
    match compiled {
        Ok(function) => sandbox.prepare.call::<Function>(function).map_err(|error| first_line(&error)),
        Err(mlua::Error::SyntaxError { message, .. }) => Err(message),
        Err(error) => Err(first_line(&error)),
    }
}

fn run_in(vm: &mut Vm, calls: &RefCell<Calls>, run: &Run) -> mlua::Result<Ran> {
    vm.begin(calls.borrow().seed)?;
    let vm = &*vm;
    let _entered = vm.enter(calls);
    let (lua, sandbox) = (&vm.lua, &vm.sandbox);
    let keys = string_array(lua, run.keys)?;
    let args = string_array(lua, run.args)?;
    let (name, outcome): (&str, (bool, Value)) = match run.program {
        Program::Eval { code, sha } => {
            sandbox.globals.raw_set("KEYS", keys)?;
            sandbox.globals.raw_set("ARGV", args)?;
            let chunk = match compile(lua, sandbox, code, "@user_script") {
                Ok(chunk) => chunk,
                Err(message) => {
                    return Ok(Ran::Reply(Reply::Error(Bytes::from(format!(
                        "ERR Error compiling script (new function): {message}"
                    )))))
                }
            };
            (sha, sandbox.run.call(chunk)?)
        }
        Program::Function { library_code, name } => {
            let chunk = match compile(lua, sandbox, library_code, "@user_function") {
                Ok(chunk) => chunk,
                Err(message) => {
                    return Ok(Ran::Reply(Reply::Error(Bytes::from(format!(
                        "ERR Error compiling function: {message}"
                    )))))
                }
            };
            let (ok, registered): (bool, Value) = sandbox.register.call(chunk)?;
            let callback = match (ok, registered) {
                (true, Value::Table(list)) => list
                    .sequence_values::<Table>()
                    .filter_map(|entry| entry.ok())
                    .find(|entry| entry.get::<String>("name").is_ok_and(|found| found == name))
                    .and_then(|entry| entry.get::<Function>("callback").ok()),
                _ => None,
            };
            let Some(callback) = callback else {
                return Ok(Ran::Reply(Reply::Error(Bytes::from_static(b"ERR Function not found"))));
            };
            (name, sandbox.run.call((callback, keys, args))?)
        }
    };
    let resp3 = calls.borrow().resp3;
    Ok(match outcome {
        (true, value) => Ran::Reply(lua_to_reply(&value, resp3)),
        (false, Value::String(text)) if text.as_bytes().starts_with(b"not enough memory") => Ran::OutOfMemory,
        (false, value) => Ran::Reply(failure(&value, Some(name), "ERR Error running script")),
    })
}

/// The error reply of a run that raised `value` (the handler's table, or what Lua gave when
/// the handler could not run).
fn failure(value: &Value, name: Option<&str>, context: &str) -> Reply {
    let Value::Table(table) = value else {
        let text = match value {
            Value::String(text) => text.to_string_lossy(),
            _ => "execution failure".to_string(),
        };
        let text: String = text.chars().take(100).collect();
        let named = name.map_or(String::new(), |name| format!(" {name},"));
        return Reply::Error(Bytes::from(format!("{context}{named} {text}")));
    };
    let message = match table.raw_get::<Value>("err") {
        Ok(Value::String(text)) => text.to_string_lossy(),
        _ => "ERR unknown error".to_string(),
    };
    let source = match table.raw_get::<Value>("source") {
        Ok(Value::String(text)) => Some(text.to_string_lossy()),
        _ => None,
    };
    let line = match table.raw_get::<Value>("line") {
        Ok(Value::Number(line)) => Some(line as i64),
        Ok(Value::Integer(line)) => Some(line),
        _ => None,
    };
    match (name, source, line) {
        (Some(name), Some(source), Some(line)) => {
            Reply::Error(Bytes::from(format!("{message} script: {name}, on {source}:{line}.")))
        }
        (Some(_), _, _) => Reply::Error(Bytes::from(message)),
        (None, _, _) => Reply::Error(Bytes::from(format!("{context}: {message}"))),
    }
}

fn string_array(lua: &Lua, items: &[Bytes]) -> mlua::Result<Table> {
    let table = lua.create_table_with_capacity(items.len(), 0)?;
    for (at, item) in items.iter().enumerate() {
        table.raw_set(at + 1, lua.create_string(item)?)?;
    }
    Ok(table)
}

/// `redis.call`'s arguments as a command's: strings, and numbers printed as `%.17g`.
pub(super) fn command_args(args: &MultiValue) -> Result<Vec<Bytes>, &'static [u8]> {
    if args.is_empty() {
        return Err(b"ERR Please specify at least one argument for this redis lib call");
    }
    args.iter()
        .map(|arg| match arg {
            Value::String(text) => Ok(Bytes::copy_from_slice(&text.as_bytes())),
            Value::Number(number) => Ok(Bytes::from(crate::args::format_double(*number))),
            Value::Integer(number) => Ok(Bytes::from(number.to_string())),
            _ => Err(&b"ERR Lua redis lib command arguments must be strings or integers"[..]),
        })
        .collect()
}

/// The state `redis.call` works on.
pub(super) struct Calls<'a> {
    store: Store<'a>,
    /// The database commands run in (SELECT inside a script changes it, for the script only).
    db: DbIndex,
    seed: u64,
    pub(super) resp3: bool,
    read_only: bool,
    /// The slot of the declared keys (or, on a shard of several, of the first key touched): a
    /// command on a key of another slot is refused, as Redis Cluster refuses it.
    slot: Option<u16>,
    /// Commands run so far: each draws its randomness from its own seed.
    made: u64,
}

fn script_error(text: &'static str) -> Reply {
    Reply::Error(Bytes::from_static(text.as_bytes()))
}

impl Calls<'_> {
    pub(super) fn call(&mut self, argv: &[Bytes]) -> Reply {
        self.made += 1;
        let Some(entry) = commands::lookup(&argv[0]) else {
            return script_error("ERR Unknown Redis command called from script");
        };
        if !entry.spec.arity_ok(argv.len()) {
            return script_error("ERR Wrong number of args calling Redis command from script");
        }
        if entry.spec.has_flag("noscript") {
            return script_error("ERR This Redis command is not allowed from script");
        }
        if let Kind::Node(_) = entry.kind {
            return self.node_command(entry.spec.name, argv);
        }
        let writes = entry.spec.has_flag("write") || entry.spec.has_flag("may_replicate");
        let readable_only = matches!(self.store, Store::Read { .. }) && matches!(entry.kind, Kind::Write(_));
        if (writes && self.read_only) || readable_only {
            return script_error("ERR Write commands are not allowed from read-only scripts.");
        }
        if let Some(refusal) = self.check_keys(entry.spec.keys(argv)) {
            return refusal;
        }
        let op = match commands::parse_keyspace_command(argv) {
            Ok(Some(op)) => op,
            Ok(None) => return script_error("ERR This Redis command is not allowed from script"),
            Err(error) => return error.into(),
        };
        // A script cannot wait: XREAD and XREADGROUP with BLOCK are refused, as in Redis (the
        // other blocking commands answer at once, as in MULTI).
        let waits = match &op {
            KeyspaceOp::Read(op) => op.may_wait(),
            KeyspaceOp::Write(op) => op.may_wait(),
        };
        if matches!(entry.spec.name, "xread" | "xreadgroup") && waits {
            let name = String::from_utf8_lossy(&argv[0]);
            return crate::Error::err(format_args!("{name} command is not allowed with BLOCK option from scripts"))
                .into();
        }
        let seed = self.seed.wrapping_add(self.made.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let db = self.db;
        match (&mut self.store, op) {
            (Store::Write { keyspace, ctx }, KeyspaceOp::Write(op)) => {
                op.run(keyspace, &WriteCtx { db, random_seed: seed, from_script: true, ..*ctx })
            }
            (Store::Write { keyspace, ctx }, KeyspaceOp::Read(op)) => {
                op.run(keyspace, &mut ReadCtx { db, now_ms: ctx.now_ms, rng: &mut Rng::new(seed), from_script: true })
            }
            (Store::Read { keyspace, now_ms, .. }, KeyspaceOp::Read(op)) => {
                op.run(keyspace, &mut ReadCtx { db, now_ms: *now_ms, rng: &mut Rng::new(seed), from_script: true })
            }
            (Store::Read { .. }, KeyspaceOp::Write(_)) => {
                script_error("ERR Write commands are not allowed from read-only scripts.")
            }
        }
    }

    /// Where a command's keys may be, as Redis Cluster rules: in this shard, and in the slot of
    /// the declared keys. A script that declared none is held to the slot of the first key it
    /// touches, unless the shard owns every slot (one shard: as a standalone Redis, any key).
    fn check_keys<'k>(&mut self, mut keys: impl Iterator<Item = &'k Bytes>) -> Option<Reply> {
        let keyspace = self.store.keyspace();
        let sharded = keyspace.owned_slots().is_some_and(|owned| !owned.is_every_slot());
        keys.find_map(|key| {
            let slot = key_slot(key);
            if !keyspace.owns_slot(slot) {
                return Some(script_error("ERR Script attempted to access a non local key in a cluster node"));
            }
            match self.slot {
                Some(held) if held != slot => {
                    Some(script_error("ERR Script attempted to access keys that do not hash to the same slot"))
                }
                None if sharded => {
                    self.slot = Some(slot);
                    None
                }
                _ => None,
            }
        })
    }

    /// The connection commands a script may run; the rest need a client connection.
    fn node_command(&mut self, name: &str, argv: &[Bytes]) -> Reply {
        match name {
            "ping" if argv.len() == 1 => Reply::status("PONG"),
            "ping" if argv.len() == 2 => Reply::Bulk(argv[1].clone()),
            "ping" => crate::Error::wrong_arity("ping").into(),
            "echo" => Reply::Bulk(argv[1].clone()),
            "select" => match crate::args::parse_i64(&argv[1]) {
                Some(db) if (0..i64::from(DATABASES_DEFAULT)).contains(&db) => {
                    self.db = db as DbIndex;
                    Reply::OK
                }
                Some(_) => crate::Error::DB_INDEX_OUT_OF_RANGE.into(),
                None => crate::Error::NOT_INTEGER.into(),
            },
            "time" => {
                let now_ms = self.store.now_ms();
                Reply::Array(vec![
                    Reply::bulk_text((now_ms / 1000).to_string()),
                    Reply::bulk_text((now_ms % 1000 * 1000).to_string()),
                ])
            }
            _ => script_error("ERR This Redis command is not allowed from script"),
        }
    }
}

/// Whether `code` compiles, as SCRIPT LOAD checks before it caches a script; the error text
/// when it does not.
pub fn check_compiles(code: &[u8]) -> Result<(), String> {
    let lua = sandbox::new_state().map_err(|error| first_line(&error))?;
    let compiled = lua.load(code).set_name("@user_script").set_mode(ChunkMode::Text).into_function();
    match compiled {
        Ok(_) => Ok(()),
        Err(mlua::Error::SyntaxError { message, .. }) => Err(message),
        Err(error) => Err(first_line(&error)),
    }
}

/// Marks the text of an error reply raised by `redis.call`, so that the error handler turns it
/// back into Redis's `{err = ...}` table.
const RAISED_REPLY: &str = "\u{0}redis-reply:";

/// An error reply, raised from Rust (trailing line ends trimmed).
pub(super) fn raised(text: &[u8]) -> mlua::Error {
    let end = text.iter().rposition(|byte| !matches!(byte, b'\r' | b'\n')).map_or(0, |at| at + 1);
    mlua::Error::RuntimeError(format!("{RAISED_REPLY}{}", String::from_utf8_lossy(&text[..end])))
}

/// The text of an error raised in Rust: a reply's as it is, anything else's with `ERR`.
pub(super) fn error_text(value: &Value) -> Option<String> {
    fn root(error: &mlua::Error) -> &mlua::Error {
        match error {
            mlua::Error::CallbackError { cause, .. } => root(cause),
            mlua::Error::WithContext { cause, .. } => root(cause),
            other => other,
        }
    }
    let Value::Error(error) = value else { return None };
    Some(match root(error) {
        mlua::Error::RuntimeError(text) => match text.strip_prefix(RAISED_REPLY) {
            Some(reply) => reply.to_string(),
            None => format!("ERR {text}"),
        },
        other => format!("ERR {}", other.to_string().lines().next().unwrap_or("error")),
    })
}
