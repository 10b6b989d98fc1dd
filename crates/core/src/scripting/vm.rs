//! The interpreter scripts run in, built once and kept from one run to the next (one per
//! keyspace, beside the script cache): building one (Lua's state, Redis's libraries, the
//! sandbox) costs some hundreds of microseconds, a run of a small script a few.
//!
//! Keeping it must change nothing that a replica computes, whatever scripts that replica ran
//! before (one restored from a snapshot, or one that served EVAL_RO reads, ran others):
//!
//! - What a script can see or change does not outlive its run: KEYS and ARGV are set for the
//!   run and removed after it, globals and libraries are read-only (see [`super::sandbox`]),
//!   and the seed of `math.random`, cjson's settings, the instruction count and the instruction
//!   hook's own countdown are reset before each run.
//! - The instruction bound counts from zero at every run, so every replica stops a runaway
//!   script at the same instruction.
//! - The memory bound. Lua's allocator counts the bytes of the whole interpreter, and what a
//!   run allocates depends on the heap it starts from: a string already in the heap is not
//!   allocated again, the string table and the stacks grow only past their current size, and
//!   the collector paces itself by the heap's size. No per-run measure over a heap that
//!   differs between replicas stops the same run at the same byte. So instead every run starts
//!   from the same heap: the interpreter keeps nothing of a run (no compiled script is cached
//!   in it, a library's code is run afresh at each FCALL), and after each run it is collected
//!   in full, then kept only if its size is back to exactly the size it had when it was built
//!   (`baseline_bytes`, measured after collections that leave nothing more to free). The
//!   heap's content then is the one built (the sandbox), and so are the collector's pace (a
//!   full collection leaves no debt, and its threshold follows from that size) and the parts
//!   that grow (the string table, stacks and buffers, whose growth shows in the size). An
//!   interpreter that did not come back, or whose run was stopped by either bound, is dropped,
//!   and the next run builds a fresh one, which starts from that same heap. The bound is
//!   `baseline_bytes + SCRIPT_MEMORY_BYTES_MAX`: the same on every replica, at the same byte
//!   of the same run.
//!
//! The size check is what the argument rests on: two heaps of the same size after a full
//! collection that differ in a way that changes a later run's allocations would need one part
//! to have grown by exactly what another shrank (the string table moves by powers of two of
//! pointers, Lua's buffer by less than 64 bytes), which a run of the same sandbox does not
//! produce; a part that grew and stayed grown shows as a larger size and drops the
//! interpreter.

use super::convert::{error_table, reply_to_lua};
use super::engine::{command_args, error_text, raised, Calls};
use super::libs::{CjsonSettings, SharedCjsonSettings};
use super::sandbox::{self, Sandbox};
use crate::commands;
use crate::limits::{
    SCRIPT_HOOK_INSTRUCTIONS, SCRIPT_INSTRUCTIONS_MAX, SCRIPT_MEMORY_BYTES_MAX, SCRIPT_VM_SETTLE_COLLECTIONS_MAX,
};
use crate::reply::Reply;
use crate::rng::Rng;
use mlua::{ffi, ChunkMode, Function, HookTriggers, Lua, MultiValue, Table, Value, VmState};
use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

/// Lua 5.1's collector settings (`LUAI_GCPAUSE`, `LUAI_GCMUL`), restored after each run since
/// `collectgarbage` may change them.
const GC_PAUSE_PERCENT: i32 = 200;
const GC_STEP_MULTIPLIER_PERCENT: i32 = 200;

/// What `redis.call` answers outside a script's run (while FUNCTION LOAD runs a library).
const OUTSIDE_A_RUN: &[u8] = b"ERR redis.call/pcall can only be called inside a script invocation";

/// An interpreter with the sandbox installed, in the state every run starts from.
pub struct Vm {
    pub(super) lua: Lua,
    pub(super) sandbox: Sandbox,
    pub(super) state: Arc<RunState>,
    /// Brings Lua's concatenation buffer to the size it has between runs (see [`NORMALIZE`]).
    normalize: Function,
    /// The heap's size between runs.
    baseline_bytes: usize,
    /// Runs served (for tests: a kept interpreter's count goes on).
    runs: u64,
}

/// What the Rust functions of the sandbox share with the run under way.
pub(super) struct RunState {
    killed: AtomicBool,
    executed: AtomicU64,
    rng: Mutex<Rng>,
    cjson: SharedCjsonSettings,
    /// The run's `RefCell<Calls>` while [`Vm::enter`]'s guard lives, null otherwise.
    calls: AtomicPtr<()>,
}

fn locked<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl RunState {
    pub(super) fn killed(&self) -> bool {
        self.killed.load(Ordering::Relaxed)
    }

    /// Runs `f` on the run's calls, or gives None outside a run.
    fn with_calls<R>(&self, f: impl FnOnce(&RefCell<Calls<'static>>) -> R) -> Option<R> {
        let calls = self.calls.load(Ordering::Acquire) as *const RefCell<Calls<'static>>;
        // SAFETY: the pointer is set by `Vm::enter` to a RefCell that outlives the guard it
        // returns, and cleared when that guard drops; the interpreter (and so these callbacks)
        // is used by one thread at a time (it is taken out of its slot for a run). The
        // callbacks only borrow the calls for the length of one `redis.call`, so the lifetime
        // written here is never relied on.
        (!calls.is_null()).then(|| f(unsafe { &*calls }))
    }
}

/// Clears the run's calls when the run ends, however it ends.
pub(super) struct Entered<'v>(&'v AtomicPtr<()>);

impl Drop for Entered<'_> {
    fn drop(&mut self) {
        self.0.store(std::ptr::null_mut(), Ordering::Release);
    }
}

impl Vm {
    /// A fresh interpreter: the sandbox, a first empty run, then collections until nothing
    /// more is freed; its size then is the one every later run must come back to.
    pub fn build() -> mlua::Result<Vm> {
        let lua = sandbox::new_state()?;
        let state = Arc::new(RunState {
            killed: AtomicBool::new(false),
            executed: AtomicU64::new(0),
            rng: Mutex::new(Rng::new(0)),
            cjson: Arc::new(Mutex::new(CjsonSettings::DEFAULT)),
            calls: AtomicPtr::new(std::ptr::null_mut()),
        });
        let native = natives(&lua, &state)?;
        let sandbox = sandbox::install(&lua, native)?;
        let normalize = lua.load(NORMALIZE).set_name("=redis").into_function()?.call::<Function>(())?;
        let mut vm = Vm { lua, sandbox, state, normalize, baseline_bytes: 0, runs: 0 };
        vm.set_hook()?;
        // A first run grows what runs grow and keep grown (the globals' slots for KEYS and
        // ARGV, the stacks, what Rust's errors need), so that the size measured after it is
        // the one later runs come back to.
        vm.begin(0)?;
        vm.sandbox.globals.raw_set("KEYS", vm.lua.create_table()?)?;
        vm.sandbox.globals.raw_set("ARGV", vm.lua.create_table()?)?;
        for warm_up in WARM_UP {
            let chunk = vm.lua.load(warm_up).set_name("@user_script").set_mode(ChunkMode::Text).into_function()?;
            let chunk: Function = vm.sandbox.prepare.call(chunk)?;
            let _: (bool, Value) = vm.sandbox.run.call(chunk)?;
        }
        vm.sandbox.globals.raw_set("KEYS", Value::Nil)?;
        vm.sandbox.globals.raw_set("ARGV", Value::Nil)?;
        let mut size = vm.lua.used_memory();
        for _ in 0..SCRIPT_VM_SETTLE_COLLECTIONS_MAX {
            vm.lua.gc_collect()?;
            let collected = vm.lua.used_memory();
            if collected == size {
                break;
            }
            size = collected;
        }
        vm.normalize.call::<()>(())?;
        vm.lua.gc_collect()?;
        let size = vm.lua.used_memory();
        vm.baseline_bytes = size;
        vm.lua.set_memory_limit(size + SCRIPT_MEMORY_BYTES_MAX)?;
        Ok(vm)
    }

    /// Resets what a run may have changed of the sandbox's own state, and the instruction
    /// count, with the hook's own countdown (Lua keeps it from the last run otherwise, and
    /// would check the next run first after anywhere up to a thousand instructions).
    pub(super) fn begin(&mut self, seed: u64) -> mlua::Result<()> {
        self.runs += 1;
        self.state.killed.store(false, Ordering::Relaxed);
        self.state.executed.store(0, Ordering::Relaxed);
        *locked(&self.state.rng) = Rng::new(seed);
        *locked(&self.state.cjson) = CjsonSettings::DEFAULT;
        // SAFETY: sets the hook already set again, with the same function, mask and count,
        // which restarts the countdown; nothing is pushed, popped or freed. (mlua's `set_hook`
        // would do it too, but leaves the hook it replaces behind as garbage with a
        // finalizer, which takes a second collection to free after every run.)
        unsafe {
            self.lua.exec_raw::<()>((), |state| {
                let (hook, mask, count) =
                    (ffi::lua_gethook(state), ffi::lua_gethookmask(state), ffi::lua_gethookcount(state));
                ffi::lua_sethook(state, hook, mask, count);
            })
        }
    }

    /// Installs the instruction bound: past it every check raises again, so that no `pcall`
    /// can keep the script going.
    fn set_hook(&self) -> mlua::Result<()> {
        let state = self.state.clone();
        self.lua.set_hook(HookTriggers::new().every_nth_instruction(SCRIPT_HOOK_INSTRUCTIONS), move |_, _| {
            let executed = state.executed.fetch_add(u64::from(SCRIPT_HOOK_INSTRUCTIONS), Ordering::Relaxed)
                + u64::from(SCRIPT_HOOK_INSTRUCTIONS);
            if state.killed() || executed > SCRIPT_INSTRUCTIONS_MAX {
                state.killed.store(true, Ordering::Relaxed);
                return Err(mlua::Error::runtime("Script killed: too many instructions"));
            }
            Ok(VmState::Continue)
        })
    }

    /// Lets the sandbox's `redis.call` reach `calls` until the guard drops.
    pub(super) fn enter<'v>(&'v self, calls: &'v RefCell<Calls<'_>>) -> Entered<'v> {
        self.state.calls.store(calls as *const RefCell<Calls<'_>> as *mut (), Ordering::Release);
        Entered(&self.state.calls)
    }

    /// After a run: removes what the run left and collects; whether the interpreter is back to
    /// the state every run starts from (if not, it must be dropped).
    pub(super) fn settle(&self) -> bool {
        let cleared = self.sandbox.globals.raw_set("KEYS", Value::Nil).is_ok()
            && self.sandbox.globals.raw_set("ARGV", Value::Nil).is_ok();
        self.lua.gc_set_pause(GC_PAUSE_PERCENT);
        self.lua.gc_set_step_multiplier(GC_STEP_MULTIPLIER_PERCENT);
        // Collections until the size is back or stops changing: the first finalizes what the
        // run left with a finalizer (the userdata of errors raised in Rust) and the next frees
        // it; each halves a string table or concatenation buffer that the run grew, down to
        // their sizes between runs (the buffer by way of `normalize` once it stops halving).
        let mut last = None;
        let mut normalized = false;
        for _ in 0..SCRIPT_VM_SETTLE_COLLECTIONS_MAX {
            if !cleared || self.lua.gc_collect().is_err() {
                return false;
            }
            let size = self.lua.used_memory();
            if size == self.baseline_bytes {
                return true;
            }
            if last == Some(size) {
                if normalized || self.normalize.call::<()>(()).is_err() {
                    return false;
                }
                normalized = true;
            }
            last = Some(size);
        }
        false
    }
}

/// What the first runs do: many strings (Lua's string table grows, then the collections
/// after it halve it back to the size any larger table comes back to), a command's arguments
/// through `redis.pcall`, an error raised in Rust caught by `pcall`, then one that ends the run.
const WARM_UP: [&str; 2] = [
    r#"
local strings = {}
for i = 1, 16384 do strings[i] = 'warm-up ' .. i end
strings = nil
redis.pcall('ping', 'warm-up')
pcall(redis.call)
return 1
"#,
    "return redis.call('ping', 'warm-up')",
];

/// Lua 5.1's concatenation buffer grows to the longest concatenation and each full collection
/// halves it while it is over 64 bytes, so after a run it ends anywhere in 33 to 64 bytes; one
/// concatenation of 64 bytes brings it to exactly 64, its size between runs.
const NORMALIZE: &str = r#"
local half = string.rep('n', 32)
return function() local whole = half .. half end
"#;

/// Where a keyspace keeps its interpreter between runs. Not replicated state: a copy of the
/// keyspace (a snapshot's, a test's) starts without one and builds its own, to the same state.
#[derive(Default)]
pub struct VmSlot(Mutex<Option<Box<Vm>>>);

impl VmSlot {
    /// The kept interpreter, if there is one and no other run (a read on another thread) has
    /// it.
    pub fn take(&self) -> Option<Box<Vm>> {
        locked(&self.0).take()
    }

    /// Keeps `vm` for the next run, unless another run already put one back.
    pub fn put(&self, vm: Box<Vm>) {
        let mut slot = locked(&self.0);
        if slot.is_none() {
            *slot = Some(vm);
        }
    }

    /// The kept interpreter's heap size between runs, and the runs it served (for tests).
    pub fn kept(&self) -> Option<(usize, u64)> {
        locked(&self.0).as_ref().map(|vm| (vm.baseline_bytes, vm.runs))
    }
}

impl Clone for VmSlot {
    fn clone(&self) -> VmSlot {
        VmSlot::default()
    }
}

/// Whether an interpreter is kept changes nothing a keyspace computes.
impl PartialEq for VmSlot {
    fn eq(&self, _: &VmSlot) -> bool {
        true
    }
}

impl std::fmt::Debug for VmSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("VmSlot")
    }
}

/// The functions written in Rust that the prelude wraps. `call`, `command` and `setresp` act
/// on the run under way, and refuse (or do nothing) outside one.
fn natives(lua: &Lua, state: &Arc<RunState>) -> mlua::Result<Table> {
    let native = lua.create_table()?;
    let run = state.clone();
    native.raw_set(
        "call",
        lua.create_function(move |lua, args: MultiValue| {
            run.with_calls(|calls| {
                let argv = command_args(&args).map_err(raised)?;
                let mut calls = calls.borrow_mut();
                match calls.call(&argv) {
                    Reply::Error(text) => Err(raised(&text)),
                    reply => reply_to_lua(lua, &reply, calls.resp3),
                }
            })
            .unwrap_or_else(|| Err(raised(OUTSIDE_A_RUN)))
        })?,
    )?;
    let run = state.clone();
    native.raw_set(
        "command",
        lua.create_function(move |lua, args: MultiValue| {
            run.with_calls(|calls| {
                let argv = match command_args(&args) {
                    Ok(argv) => argv,
                    Err(text) => return Ok((error_table(lua, text)?, true)),
                };
                let mut calls = calls.borrow_mut();
                let reply = calls.call(&argv);
                Ok((reply_to_lua(lua, &reply, calls.resp3)?, reply.is_error()))
            })
            .unwrap_or_else(|| Ok((error_table(lua, OUTSIDE_A_RUN)?, true)))
        })?,
    )?;
    let run = state.clone();
    native.raw_set(
        "setresp",
        lua.create_function(move |_, version: i64| {
            run.with_calls(|calls| calls.borrow_mut().resp3 = version == 3);
            Ok(())
        })?,
    )?;
    let draw = state.clone();
    native.raw_set(
        "random",
        lua.create_function(move |_, ()| Ok((locked(&draw.rng).next_u64() >> 11) as f64 / (1u64 << 53) as f64))?,
    )?;
    let seeding = state.clone();
    native.raw_set(
        "randomseed",
        lua.create_function(move |_, seed: f64| {
            *locked(&seeding.rng) = Rng::new(seed as i64 as u64);
            Ok(())
        })?,
    )?;
    native.raw_set("error_text", lua.create_function(|_, value: Value| Ok(error_text(&value)))?)?;
    let stopped = state.clone();
    native.raw_set("killed", lua.create_function(move |_, ()| Ok(stopped.killed()))?)?;
    native.raw_set("sha1hex", lua.create_function(|_, text: mlua::String| Ok(super::sha1hex(&text.as_bytes())))?)?;
    native.raw_set(
        "exists",
        lua.create_function(|_, name: mlua::String| Ok(commands::lookup(&name.as_bytes()).is_some()))?,
    )?;
    native.raw_set("is_flag", lua.create_function(|_, name: String| Ok(super::ScriptFlags::default().set(&name)))?)?;
    native.raw_set("bit", super::libs::bit(lua)?)?;
    native.raw_set("cjson", super::libs::cjson(lua, &state.cjson)?)?;
    native.raw_set("cmsgpack", super::libs::cmsgpack(lua)?)?;
    native.raw_set("struct", super::lua_struct::table(lua)?)?;
    native.raw_set("version", crate::SERVER_VERSION)?;
    native.raw_set("version_num", 0x0007_000f)?;
    Ok(native)
}
