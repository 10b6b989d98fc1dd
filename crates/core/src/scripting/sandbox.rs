//! The interpreter a script runs in: Lua 5.1 with the libraries Redis loads (base, table,
//! string, math) and nothing that reaches outside (no io, os, package, debug, loadfile,
//! dofile or print); the `redis` table; globals and library tables read-only, as Redis 7
//! makes them; `math.random` drawn from the log entry's seed, so every replica draws the
//! same numbers.
//!
//! The interpreter is kept from one run to the next (see [`super::vm`]), so nothing a script
//! can reach may keep what it wrote: the real globals table is reachable only through the
//! read-only proxy (`getfenv` and the thread's globals give the proxy), `setfenv` may not
//! change the environment of the thread or of the sandbox's own functions, the string
//! metatable is read-only, and `newproxy` (the one way to a finalizer that would run during
//! a later run) is removed.

use crate::limits::SCRIPT_MEMORY_BYTES_MAX;
use mlua::{Function, Lua, LuaOptions, StdLib, Table};

/// A new interpreter with its memory bounded (a kept one moves the bound above its own size).
pub fn new_state() -> mlua::Result<Lua> {
    // The debug library is loaded only so that the prelude can keep `debug.getinfo` for the
    // error handler (as Redis does); the prelude removes it before any script runs, so no
    // script can reach `debug.sethook` and lift the instruction bound.
    let lua = unsafe {
        Lua::unsafe_new_with(StdLib::TABLE | StdLib::STRING | StdLib::MATH | StdLib::DEBUG, LuaOptions::new())
    };
    lua.set_memory_limit(SCRIPT_MEMORY_BYTES_MAX)?;
    Ok(lua)
}

/// What the prelude hands back: `run(f, keys, args)` calls `f` (with the keys and arguments
/// when it is a function, not an EVAL body) under Redis's error handler and returns
/// `ok, value`; `prepare(f)` gives `f` the read-only globals.
pub struct Sandbox {
    pub run: Function,
    pub prepare: Function,
    /// `register(library_code)`: runs a library's code, returning `ok, functions-or-error`.
    pub register: Function,
    /// The real globals table, behind the proxy scripts see: where a run's KEYS and ARGV go.
    pub globals: Table,
}

/// Installs Redis's libraries and protections; `native` holds the functions written in Rust
/// (`call`, `command`, `setresp`, `random`, `error_text`...).
pub fn install(lua: &Lua, native: Table) -> mlua::Result<Sandbox> {
    let prelude: Function = lua.load(PRELUDE).set_name("=redis").into_function()?;
    let (run, prepare, register, globals): (Function, Function, Function, Table) = prelude.call(native)?;
    Ok(Sandbox { run, prepare, register, globals })
}

/// Chunk name `=redis`: the error handler skips its frames when it looks for the script's
/// line.
const PRELUDE: &str = r#"
local native = ...
local real = _G
local dbg_getinfo = debug.getinfo
local raw_pcall, raw_xpcall, raw_setmetatable, raw_rawset = pcall, xpcall, setmetatable, rawset
local raw_loadstring = loadstring
local select, unpack, error, type, tostring, tonumber, floor = select, unpack, error, type, tostring, tonumber, math.floor
local pairs, ipairs, raw_getfenv, raw_setfenv, raw_getmetatable = pairs, ipairs, getfenv, setfenv, getmetatable
local killed = native.killed

real.bit = native.bit
real.cjson = native.cjson
real.cmsgpack = native.cmsgpack
real.struct = native.struct
real.debug = nil
real.loadfile = nil
real.dofile = nil
real.print = nil
real.load = nil
real.module = nil
real.require = nil
real.gcinfo = nil
real.newproxy = nil

local function pack(...) return { n = select('#', ...), ... } end
local as_lua_error

-- A stopped script stays stopped: pcall cannot catch the stop.
real.pcall = function(...)
  local results = pack(raw_pcall(...))
  if killed() then error(results[2], 0) end
  if not results[1] then results[2] = as_lua_error(results[2]) end
  return unpack(results, 1, results.n)
end
real.xpcall = function(...)
  local results = pack(raw_xpcall(...))
  if killed() then error(results[2], 0) end
  return unpack(results, 1, results.n)
end

-- Binary chunks could break the interpreter: only source is loaded.
real.loadstring = function(text, name)
  if type(text) == 'string' and text:sub(1, 1) == '\27' then
    return nil, 'binary code loading is not allowed'
  end
  return raw_loadstring(text, name)
end

local random, randomseed = native.random, native.randomseed
real.math.random = function(...)
  local count = select('#', ...)
  local r = random()
  if count == 0 then return r end
  if count == 1 then
    local upper = floor(tonumber((...)) or error("bad argument #1 to 'random' (number expected)", 2))
    if upper < 1 then error("bad argument #1 to 'random' (interval is empty)", 2) end
    return floor(r * upper) + 1
  end
  if count == 2 then
    local lower, upper = ...
    lower = floor(tonumber(lower) or error("bad argument #1 to 'random' (number expected)", 2))
    upper = floor(tonumber(upper) or error("bad argument #2 to 'random' (number expected)", 2))
    if lower > upper then error("bad argument #2 to 'random' (interval is empty)", 2) end
    return floor(r * (upper - lower + 1)) + lower
  end
  error('wrong number of arguments', 2)
end
real.math.randomseed = function(seed) randomseed(tonumber(seed) or 0) end

local function raise(text) error({ err = text }) end

-- redis.call is the Rust function itself, not a Lua wrapper: `return redis.call(...)` is
-- then no tail call, and the error handler still finds the script's line.
local command, error_text = native.command, native.error_text
local redis = {}
redis.call = native.call
redis.pcall = function(...)
  return (command(...))
end
-- An error raised in Rust reaches Lua as a userdata: redis.call's become Redis's error
-- tables, anything else its text.
as_lua_error = function(err)
  if type(err) == 'userdata' then
    local text = error_text(err)
    if text ~= nil then return { err = text } end
  end
  return err
end
local function reply_text(...)
  if select('#', ...) ~= 1 then return nil end
  local text = ...
  if type(text) ~= 'string' and type(text) ~= 'number' then return nil end
  return tostring(text)
end
redis.error_reply = function(...)
  local text = reply_text(...)
  if text == nil then return { err = 'ERR wrong number or type of arguments' } end
  if text:sub(1, 1) == '-' then text = text:sub(2) end
  if not text:find(' ', 1, true) then text = 'ERR ' .. text end
  return { err = (text:gsub('[\r\n]+$', '')) }
end
redis.status_reply = function(...)
  local text = reply_text(...)
  if text == nil then return { err = 'ERR wrong number or type of arguments' } end
  return { ok = text }
end
redis.sha1hex = function(...)
  if select('#', ...) ~= 1 then raise('ERR wrong number of arguments') end
  local text = ...
  return native.sha1hex(tostring(text))
end
redis.LOG_DEBUG, redis.LOG_VERBOSE, redis.LOG_NOTICE, redis.LOG_WARNING = 0, 1, 2, 3
-- Logging would be I/O inside apply on every replica: the arguments are checked, nothing is
-- written.
redis.log = function(...)
  if select('#', ...) < 2 then raise('ERR redis.log() requires two arguments or more.') end
  local level = ...
  if type(level) ~= 'number' then raise('ERR First argument must be a number (log level).') end
  if level < 0 or level > 3 then raise('ERR Invalid debug level.') end
end
redis.setresp = function(...)
  if select('#', ...) ~= 1 then raise('ERR redis.setresp() requires one argument.') end
  local version = tonumber((...))
  if version ~= 2 and version ~= 3 then raise('ERR RESP version must be 2 or 3.') end
  native.setresp(version)
end
-- Concord replicates the script itself, applied on every replica: the replication controls
-- are accepted and change nothing.
redis.REPL_NONE, redis.REPL_AOF, redis.REPL_SLAVE, redis.REPL_REPLICA, redis.REPL_ALL = 0, 1, 2, 2, 3
redis.set_repl = function(...)
  if select('#', ...) ~= 1 then raise('ERR redis.set_repl() requires two arguments.') end
  local flags = tonumber((...))
  if flags == nil or flags < 0 or flags > 3 then
    raise('ERR Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.')
  end
end
redis.replicate_commands = function() return true end
redis.breakpoint = function() return false end
redis.debug = function() end
redis.REDIS_VERSION = native.version
redis.REDIS_VERSION_NUM = native.version_num
redis.acl_check_cmd = function(name, ...)
  if type(name) ~= 'string' or not native.exists(name) then
    raise('ERR Invalid command passed to redis.acl_check_cmd()')
  end
  return true
end
real.redis = redis

local registered, registering = nil, false
local function register_function(...)
  if not registering then raise('ERR redis.register_function can only be called on FUNCTION LOAD command') end
  local count = select('#', ...)
  local name, callback, flags, description
  if count == 1 and type((...)) ~= 'table' then
    raise('ERR calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments).')
  end
  if count == 2 then
    name, callback = ...
    if type(name) ~= 'string' then raise('ERR first argument to redis.register_function must be a string') end
    if type(callback) ~= 'function' then raise('ERR second argument to redis.register_function must be a function') end
  end
  if count == 1 then
    local spec = ...
    for key, _ in pairs(spec) do
      if key ~= 'function_name' and key ~= 'callback' and key ~= 'flags' and key ~= 'description' then
        raise('ERR unknown argument given to redis.register_function')
      end
    end
    name, callback, flags, description = spec.function_name, spec.callback, spec.flags, spec.description
    if name == nil then raise('ERR redis.register_function must get a function name argument') end
    if callback == nil then raise('ERR redis.register_function must get a callback argument') end
  elseif count == 2 then
    name, callback = ...
  else
    raise('ERR wrong number of arguments to redis.register_function')
  end
  if type(name) ~= 'string' then raise('ERR function_name argument given to redis.register_function must be a string') end
  if type(callback) ~= 'function' then raise('ERR callback argument given to redis.register_function must be a function') end
  if description ~= nil and type(description) ~= 'string' then
    raise('ERR description argument given to redis.register_function must be a string')
  end
  local flag_names = {}
  if flags ~= nil then
    if type(flags) ~= 'table' then raise('ERR flags argument to redis.register_function must be a table representing function flags') end
    for _, flag in ipairs(flags) do
      if type(flag) ~= 'string' or not native.is_flag(flag) then raise('ERR unknown flag given') end
      flag_names[#flag_names + 1] = flag
    end
  end
  registered[#registered + 1] = { name = name, callback = callback, flags = flag_names, description = description }
end

-- What a library's code sees while it is loaded, as in Redis: only redis.register_function,
-- redis.log and the version; anything else is a nonexistent global.
local function missing(_, name)
  error("Script attempted to access nonexistent global variable '" .. tostring(name) .. "'", 2)
end
local load_redis = {
  register_function = register_function, log = redis.log, LOG_DEBUG = 0, LOG_VERBOSE = 1, LOG_NOTICE = 2,
  LOG_WARNING = 3, REDIS_VERSION = redis.REDIS_VERSION, REDIS_VERSION_NUM = redis.REDIS_VERSION_NUM,
}
raw_setmetatable(load_redis, { __index = missing })
local load_globals = { redis = load_redis }
local lookup = real

local protected = raw_setmetatable({}, { __mode = 'k' })
local function deny() error('Attempt to modify a readonly table', 2) end
local function readonly(target)
  local proxy = {}
  local meta = { __index = target, __newindex = deny }
  local shown = raw_setmetatable({}, { __index = meta, __newindex = deny })
  meta.__metatable = shown
  protected[proxy], protected[shown] = true, true
  return raw_setmetatable(proxy, meta)
end
real.setmetatable = function(target, meta)
  if protected[target] then error('Attempt to modify a readonly table', 2) end
  return raw_setmetatable(target, meta)
end
real.rawset = function(target, key, value)
  if protected[target] then error('Attempt to modify a readonly table', 2) end
  return raw_rawset(target, key, value)
end
load_globals.redis = readonly(load_redis)
for _, name in ipairs({ 'redis', 'string', 'math', 'table', 'coroutine', 'cjson', 'bit', 'struct', 'cmsgpack' }) do
  if real[name] ~= nil then real[name] = readonly(real[name]) end
end

local env = {}
local env_meta = {
  __index = function(_, name)
    local value = lookup[name]
    if value == nil then
      error("Script attempted to access nonexistent global variable '" .. tostring(name) .. "'", 2)
    end
    return value
  end,
  __newindex = deny,
}
env_meta.__metatable = readonly({})
protected[env] = true
raw_setmetatable(env, env_meta)
real._G = env

local function handler(err)
  local info
  for level = 2, 200 do
    info = dbg_getinfo(level, 'Sl')
    if info == nil or (info.what ~= 'C' and info.source ~= '=redis') then break end
  end
  err = as_lua_error(err)
  if type(err) ~= 'table' then err = { err = 'ERR ' .. tostring(err) } end
  if info then
    err.source = info.source
    err.line = info.currentline
  end
  return err
end

local function run(f, keys, args)
  if keys == nil then return raw_xpcall(f, handler) end
  return raw_xpcall(function() return f(keys, args) end, handler)
end

local function prepare(f)
  setfenv(f, env)
  return f
end

-- The list is not kept once handed back: the interpreter outlives the call.
local function register(f)
  registered, registering, lookup = {}, true, load_globals
  local ok, err = raw_xpcall(f, handler)
  local list = registered
  registered, registering, lookup = nil, false, real
  if not ok then return false, err end
  return true, list
end

-- The interpreter outlives the run, so no script may reach the real globals (they would keep
-- what it wrote for the next run): a level counts from the caller of these wrappers.
real.getfenv = function(target)
  if target == nil then target = 1 end
  if type(target) == 'number' and target > 0 then target = target + 1 end
  local found = raw_getfenv(target)
  if found == real then return env end
  return found
end
real.setfenv = function(target, value)
  if type(target) == 'number' then
    if target == 0 then error('Attempt to modify a readonly table', 2) end
    target = target + 1
  end
  if raw_getfenv(target) == real then error('Attempt to modify a readonly table', 2) end
  return raw_setfenv(target, value)
end
local string_meta = raw_getmetatable('')
string_meta.__index = real.string
string_meta.__metatable = readonly({ __index = real.string })
-- Chunks that loadstring makes take the thread's globals: the proxy, read-only.
raw_setfenv(0, env)

return run, prepare, register, real
"#;
