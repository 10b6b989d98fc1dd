//! Redis's conversions between replies and Lua values (`redisProtocolToLuaType` and
//! `luaReplyToRedisReply` in Redis): a command's reply becomes a Lua value for the script, and
//! the script's return value becomes the client's reply. Which protocol the script asked for
//! (`redis.setresp`) decides how RESP3 types reach it.

use crate::args::{format_double, format_human_double};
use crate::limits::SCRIPT_REPLY_DEPTH_MAX;
use crate::reply::Reply;
use bytes::Bytes;
use mlua::{Lua, Table, Value};

/// A command's reply as the script sees it. `resp3`: the script called `redis.setresp(3)`.
pub fn reply_to_lua(lua: &Lua, reply: &Reply, resp3: bool) -> mlua::Result<Value> {
    Ok(match reply {
        Reply::Status(text) => single(lua, "ok", Value::String(lua.create_string(text)?))?,
        Reply::Error(text) => error_table(lua, text)?,
        Reply::Integer(n) => Value::Number(*n as f64),
        Reply::Bulk(bytes) | Reply::Verbatim(bytes) if !resp3 => Value::String(lua.create_string(bytes)?),
        Reply::Bulk(bytes) => Value::String(lua.create_string(bytes)?),
        Reply::Verbatim(bytes) => {
            let inner = lua.create_table()?;
            inner.raw_set("format", "txt")?;
            inner.raw_set("string", lua.create_string(bytes)?)?;
            single(lua, "verbatim_string", Value::Table(inner))?
        }
        Reply::Nil | Reply::NilArray | Reply::Blocked if resp3 => Value::Nil,
        Reply::Nil | Reply::NilArray | Reply::Blocked => Value::Boolean(false),
        Reply::Set(members) if resp3 => {
            let set = lua.create_table()?;
            for member in members {
                set.raw_set(reply_to_lua(lua, member, resp3)?, true)?;
            }
            single(lua, "set", Value::Table(set))?
        }
        Reply::Array(items) | Reply::Set(items) | Reply::Push(items) => {
            let table = lua.create_table_with_capacity(items.len(), 0)?;
            for (at, item) in items.iter().enumerate() {
                table.raw_set(at + 1, reply_to_lua(lua, item, resp3)?)?;
            }
            Value::Table(table)
        }
        Reply::Map(pairs) | Reply::Keyed(pairs) if resp3 => {
            let map = lua.create_table()?;
            for (key, value) in pairs {
                map.raw_set(reply_to_lua(lua, key, resp3)?, reply_to_lua(lua, value, resp3)?)?;
            }
            single(lua, "map", Value::Table(map))?
        }
        Reply::Map(pairs) | Reply::Pairs(pairs) if !resp3 => {
            let table = lua.create_table_with_capacity(pairs.len() * 2, 0)?;
            for (at, (key, value)) in pairs.iter().enumerate() {
                table.raw_set(2 * at + 1, reply_to_lua(lua, key, resp3)?)?;
                table.raw_set(2 * at + 2, reply_to_lua(lua, value, resp3)?)?;
            }
            Value::Table(table)
        }
        // Two-element arrays: RESP3's pairs, and XREAD's streams in RESP2.
        Reply::Map(pairs) | Reply::Pairs(pairs) | Reply::Keyed(pairs) => {
            let table = lua.create_table_with_capacity(pairs.len(), 0)?;
            for (at, (key, value)) in pairs.iter().enumerate() {
                let pair = lua.create_table_with_capacity(2, 0)?;
                pair.raw_set(1, reply_to_lua(lua, key, resp3)?)?;
                pair.raw_set(2, reply_to_lua(lua, value, resp3)?)?;
                table.raw_set(at + 1, pair)?;
            }
            Value::Table(table)
        }
        Reply::Double(value) | Reply::HumanDouble(value) if resp3 => single(lua, "double", Value::Number(*value))?,
        Reply::Double(value) => Value::String(lua.create_string(format_double(*value))?),
        Reply::HumanDouble(value) => Value::String(lua.create_string(format_human_double(*value))?),
        Reply::Boolean(value) if resp3 => Value::Boolean(*value),
        Reply::Boolean(value) => Value::Number(f64::from(u8::from(*value))),
    })
}

/// `{err = text}`: how an error reply reaches a script (trailing line ends trimmed).
pub fn error_table(lua: &Lua, text: &[u8]) -> mlua::Result<Value> {
    let end = text.iter().rposition(|byte| !matches!(byte, b'\r' | b'\n')).map_or(0, |at| at + 1);
    single(lua, "err", Value::String(lua.create_string(&text[..end])?))
}

fn single(lua: &Lua, field: &str, value: Value) -> mlua::Result<Value> {
    let table = lua.create_table_with_capacity(0, 1)?;
    table.raw_set(field, value)?;
    Ok(Value::Table(table))
}

/// The script's return value as the client's reply. `resp3`: the script's protocol, which
/// decides what a boolean becomes.
pub fn lua_to_reply(value: &Value, resp3: bool) -> Reply {
    lua_to_reply_at(value, resp3, 0)
}

fn lua_to_reply_at(value: &Value, resp3: bool, depth: usize) -> Reply {
    if depth > SCRIPT_REPLY_DEPTH_MAX {
        return Reply::Error(Bytes::from_static(b"ERR reached lua stack limit"));
    }
    match value {
        Value::String(text) => Reply::Bulk(Bytes::copy_from_slice(&text.as_bytes())),
        Value::Boolean(true) if !resp3 => Reply::Integer(1),
        Value::Boolean(false) if !resp3 => Reply::Nil,
        Value::Boolean(value) => Reply::Boolean(*value),
        // Redis converts with a C cast, which on x86-64 gives i64::MIN past the range.
        Value::Number(n) if n.is_nan() || !(-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(n) => {
            Reply::Integer(i64::MIN)
        }
        Value::Number(n) => Reply::Integer(*n as i64),
        Value::Integer(n) => Reply::Integer(*n),
        Value::Table(table) => table_to_reply(table, resp3, depth),
        _ => Reply::Nil,
    }
}

fn string_field(table: &Table, field: &str) -> Option<Bytes> {
    match table.raw_get::<Value>(field).ok()? {
        Value::String(text) => Some(Bytes::copy_from_slice(&text.as_bytes())),
        _ => None,
    }
}

/// Spaces for line ends: a status line cannot hold them.
fn one_line(text: Bytes) -> Bytes {
    if !text.iter().any(|byte| matches!(byte, b'\r' | b'\n')) {
        return text;
    }
    Bytes::from(text.iter().map(|byte| if matches!(byte, b'\r' | b'\n') { b' ' } else { *byte }).collect::<Vec<u8>>())
}

fn table_to_reply(table: &Table, resp3: bool, depth: usize) -> Reply {
    if let Some(error) = string_field(table, "err") {
        return Reply::Error(error);
    }
    if let Some(status) = string_field(table, "ok") {
        return Reply::Status(one_line(status));
    }
    match table.raw_get::<Value>("double") {
        Ok(Value::Number(value)) => return Reply::Double(value),
        Ok(Value::Integer(value)) => return Reply::Double(value as f64),
        _ => {}
    }
    if let Some(number) = string_field(table, "big_number") {
        return Reply::Bulk(one_line(number));
    }
    if let Ok(Value::Table(verbatim)) = table.raw_get::<Value>("verbatim_string") {
        if let (Some(_), Some(text)) = (string_field(&verbatim, "format"), string_field(&verbatim, "string")) {
            return Reply::Verbatim(text);
        }
    }
    if let Ok(Value::Table(map)) = table.raw_get::<Value>("map") {
        let pairs = map
            .pairs::<Value, Value>()
            .filter_map(|pair| pair.ok())
            .map(|(key, value)| (lua_to_reply_at(&key, resp3, depth + 1), lua_to_reply_at(&value, resp3, depth + 1)))
            .collect();
        return Reply::Map(pairs);
    }
    if let Ok(Value::Table(set)) = table.raw_get::<Value>("set") {
        let members = set
            .pairs::<Value, Value>()
            .filter_map(|pair| pair.ok())
            .map(|(member, _)| lua_to_reply_at(&member, resp3, depth + 1))
            .collect();
        return Reply::Set(members);
    }
    let mut items = Vec::new();
    for at in 1.. {
        match table.raw_get::<Value>(at) {
            Ok(Value::Nil) | Err(_) => break,
            Ok(item) => {
                let item = lua_to_reply_at(&item, resp3, depth + 1);
                // A table nested too deep: the whole reply is that error, as in Redis.
                if depth + 1 > SCRIPT_REPLY_DEPTH_MAX {
                    return item;
                }
                items.push(item);
            }
        }
    }
    Reply::Array(items)
}
