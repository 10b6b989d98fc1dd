//! The libraries Redis adds to Lua, written in Rust: `bit` (LuaBitOp: 32-bit operations) and
//! `cjson` (lua-cjson's encode and decode). Both are pure functions of their arguments.

use crate::limits::SCRIPT_REPLY_DEPTH_MAX;
use mlua::{LightUserData, Lua, Table, Value, Variadic};

/// LuaBitOp's normalization: a number taken modulo 2^32 as a signed 32-bit integer.
fn tobit(number: f64) -> i32 {
    (number.round().rem_euclid(4_294_967_296.0) as u64 as u32) as i32
}

fn first(args: &Variadic<f64>) -> mlua::Result<f64> {
    args.first().copied().ok_or_else(|| mlua::Error::runtime("bad argument #1 (number expected, got no value)"))
}

/// The `bit` table.
pub fn bit(lua: &Lua) -> mlua::Result<Table> {
    let bit = lua.create_table()?;
    bit.raw_set("tobit", lua.create_function(|_, args: Variadic<f64>| Ok(f64::from(tobit(first(&args)?))))?)?;
    bit.raw_set("bnot", lua.create_function(|_, args: Variadic<f64>| Ok(f64::from(!tobit(first(&args)?))))?)?;
    let fold = |lua: &Lua, op: fn(i32, i32) -> i32| {
        lua.create_function(move |_, args: Variadic<f64>| {
            let start = tobit(first(&args)?);
            Ok(f64::from(args[1..].iter().fold(start, |acc, n| op(acc, tobit(*n)))))
        })
    };
    bit.raw_set("band", fold(lua, |a, b| a & b)?)?;
    bit.raw_set("bor", fold(lua, |a, b| a | b)?)?;
    bit.raw_set("bxor", fold(lua, |a, b| a ^ b)?)?;
    let shift = |lua: &Lua, op: fn(i32, u32) -> i32| {
        lua.create_function(move |_, (value, by): (f64, f64)| Ok(f64::from(op(tobit(value), tobit(by) as u32 & 31))))
    };
    bit.raw_set("lshift", shift(lua, |a, n| ((a as u32) << n) as i32)?)?;
    bit.raw_set("rshift", shift(lua, |a, n| ((a as u32) >> n) as i32)?)?;
    bit.raw_set("arshift", shift(lua, |a, n| a >> n)?)?;
    bit.raw_set("rol", shift(lua, |a, n| (a as u32).rotate_left(n) as i32)?)?;
    bit.raw_set("ror", shift(lua, |a, n| (a as u32).rotate_right(n) as i32)?)?;
    bit.raw_set(
        "bswap",
        lua.create_function(|_, value: f64| Ok(f64::from((tobit(value) as u32).swap_bytes() as i32)))?,
    )?;
    bit.raw_set(
        "tohex",
        lua.create_function(|_, (value, digits): (f64, Option<f64>)| {
            let digits = digits.map_or(8, |d| d as i64);
            let (upper, count) = (digits < 0, digits.unsigned_abs().clamp(1, 8) as usize);
            let text = format!("{:08x}", tobit(value) as u32);
            let text = text[8 - count..].to_string();
            Ok(if upper { text.to_uppercase() } else { text })
        })?,
    )?;
    Ok(bit)
}

/// lua-cjson's `cjson.null`: a light userdata holding NULL.
fn null() -> Value {
    Value::LightUserData(LightUserData(std::ptr::null_mut()))
}

/// `%.14g`, lua-cjson's default number precision.
fn format_number(number: f64) -> String {
    if number == number.trunc() && number.abs() < 1e14 {
        return format!("{}", number as i64);
    }
    let scientific = format!("{number:.13e}");
    let (mantissa, exponent) = scientific.split_once('e').expect("exponent form");
    let exponent: i32 = exponent.parse().expect("integer exponent");
    let trim = |text: String| {
        if text.contains('.') {
            text.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            text
        }
    };
    if (-4..14).contains(&exponent) {
        trim(format!("{number:.*}", (13 - exponent).max(0) as usize))
    } else {
        format!("{}e{}{:02}", trim(mantissa.to_string()), if exponent < 0 { '-' } else { '+' }, exponent.abs())
    }
}

fn encode_string(out: &mut Vec<u8>, bytes: &[u8]) {
    out.push(b'"');
    for &byte in bytes {
        match byte {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'/' => out.extend_from_slice(b"\\/"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0c => out.extend_from_slice(b"\\f"),
            byte if byte < 0x20 || byte == 0x7f => out.extend_from_slice(format!("\\u{byte:04x}").as_bytes()),
            byte => out.push(byte),
        }
    }
    out.push(b'"');
}

fn encode_value(out: &mut Vec<u8>, value: &Value, depth: usize) -> mlua::Result<()> {
    match value {
        Value::Nil => out.extend_from_slice(b"null"),
        Value::LightUserData(data) if data.0.is_null() => out.extend_from_slice(b"null"),
        Value::Boolean(flag) => out.extend_from_slice(if *flag { b"true" } else { b"false" }),
        Value::Integer(number) => out.extend_from_slice(number.to_string().as_bytes()),
        Value::Number(number) if !number.is_finite() => {
            return Err(mlua::Error::runtime("Cannot serialise number: must not be NaN or Inf"))
        }
        Value::Number(number) => out.extend_from_slice(format_number(*number).as_bytes()),
        Value::String(text) => encode_string(out, &text.as_bytes()),
        Value::Table(table) => {
            if depth >= SCRIPT_REPLY_DEPTH_MAX {
                return Err(mlua::Error::runtime(format!("Cannot serialise, excessive nesting ({})", depth + 1)));
            }
            let pairs: Vec<(Value, Value)> = table.pairs::<Value, Value>().collect::<mlua::Result<_>>()?;
            let index = |key: &Value| match key {
                Value::Integer(n) if *n >= 1 => Some(*n as usize),
                Value::Number(n) if *n >= 1.0 && n.fract() == 0.0 => Some(*n as usize),
                _ => None,
            };
            let indices: Option<Vec<usize>> = pairs.iter().map(|(key, _)| index(key)).collect();
            match indices {
                Some(indices) if !pairs.is_empty() => {
                    let max = indices.iter().copied().max().unwrap_or(0);
                    if max > 10 && max > pairs.len() * 2 {
                        return Err(mlua::Error::runtime("Cannot serialise table: excessively sparse array"));
                    }
                    out.push(b'[');
                    for at in 1..=max {
                        if at > 1 {
                            out.push(b',');
                        }
                        encode_value(out, &table.raw_get::<Value>(at)?, depth + 1)?;
                    }
                    out.push(b']');
                }
                _ => {
                    out.push(b'{');
                    for (at, (key, item)) in pairs.iter().enumerate() {
                        if at > 0 {
                            out.push(b',');
                        }
                        match key {
                            Value::String(text) => encode_string(out, &text.as_bytes()),
                            Value::Integer(n) => encode_string(out, n.to_string().as_bytes()),
                            Value::Number(n) => encode_string(out, format_number(*n).as_bytes()),
                            _ => {
                                return Err(mlua::Error::runtime(
                                    "Cannot serialise table: table key must be a number or string",
                                ))
                            }
                        }
                        out.push(b':');
                        encode_value(out, item, depth + 1)?;
                    }
                    out.push(b'}');
                }
            }
        }
        other => {
            return Err(mlua::Error::runtime(format!("Cannot serialise {}: type not supported", other.type_name())))
        }
    }
    Ok(())
}

struct Decoder<'a> {
    text: &'a [u8],
    at: usize,
}

impl Decoder<'_> {
    fn fail<T>(&self, what: &str) -> mlua::Result<T> {
        Err(mlua::Error::runtime(format!("Expected {what} but found invalid token at character {}", self.at + 1)))
    }

    fn skip_space(&mut self) {
        while self.text.get(self.at).is_some_and(|byte| byte.is_ascii_whitespace()) {
            self.at += 1;
        }
    }

    fn value(&mut self, lua: &Lua, depth: usize) -> mlua::Result<Value> {
        if depth >= SCRIPT_REPLY_DEPTH_MAX {
            return Err(mlua::Error::runtime(format!("Found too many nested data structures ({})", depth + 1)));
        }
        self.skip_space();
        let rest = &self.text[self.at..];
        match rest.first() {
            Some(b'{') => {
                self.at += 1;
                let table = lua.create_table()?;
                self.skip_space();
                if self.text.get(self.at) == Some(&b'}') {
                    self.at += 1;
                    return Ok(Value::Table(table));
                }
                loop {
                    self.skip_space();
                    if self.text.get(self.at) != Some(&b'"') {
                        return self.fail("object key string");
                    }
                    let key = self.string(lua)?;
                    self.skip_space();
                    if self.text.get(self.at) != Some(&b':') {
                        return self.fail("colon");
                    }
                    self.at += 1;
                    let item = self.value(lua, depth + 1)?;
                    table.raw_set(key, item)?;
                    self.skip_space();
                    match self.text.get(self.at) {
                        Some(b',') => self.at += 1,
                        Some(b'}') => {
                            self.at += 1;
                            return Ok(Value::Table(table));
                        }
                        _ => return self.fail("comma or object end"),
                    }
                }
            }
            Some(b'[') => {
                self.at += 1;
                let table = lua.create_table()?;
                self.skip_space();
                if self.text.get(self.at) == Some(&b']') {
                    self.at += 1;
                    return Ok(Value::Table(table));
                }
                for index in 1.. {
                    let item = self.value(lua, depth + 1)?;
                    table.raw_set(index, item)?;
                    self.skip_space();
                    match self.text.get(self.at) {
                        Some(b',') => self.at += 1,
                        Some(b']') => {
                            self.at += 1;
                            break;
                        }
                        _ => return self.fail("comma or array end"),
                    }
                }
                Ok(Value::Table(table))
            }
            Some(b'"') => self.string(lua),
            _ if rest.starts_with(b"true") => {
                self.at += 4;
                Ok(Value::Boolean(true))
            }
            _ if rest.starts_with(b"false") => {
                self.at += 5;
                Ok(Value::Boolean(false))
            }
            _ if rest.starts_with(b"null") => {
                self.at += 4;
                Ok(null())
            }
            Some(byte) if byte.is_ascii_digit() || *byte == b'-' => {
                let length = rest
                    .iter()
                    .position(|byte| !(byte.is_ascii_digit() || matches!(byte, b'-' | b'+' | b'.' | b'e' | b'E')))
                    .unwrap_or(rest.len());
                let number = std::str::from_utf8(&rest[..length]).ok().and_then(|text| text.parse::<f64>().ok());
                match number {
                    Some(number) => {
                        self.at += length;
                        Ok(Value::Number(number))
                    }
                    None => self.fail("value"),
                }
            }
            _ => self.fail("value"),
        }
    }

    fn string(&mut self, lua: &Lua) -> mlua::Result<Value> {
        self.at += 1;
        let mut out = Vec::new();
        loop {
            let Some(&byte) = self.text.get(self.at) else { return self.fail("string end") };
            self.at += 1;
            match byte {
                b'"' => return Ok(Value::String(lua.create_string(&out)?)),
                b'\\' => {
                    let Some(&escaped) = self.text.get(self.at) else { return self.fail("escape") };
                    self.at += 1;
                    match escaped {
                        b'n' => out.push(b'\n'),
                        b'r' => out.push(b'\r'),
                        b't' => out.push(b'\t'),
                        b'b' => out.push(0x08),
                        b'f' => out.push(0x0c),
                        b'u' => {
                            let hex = self.text.get(self.at..self.at + 4).and_then(|h| std::str::from_utf8(h).ok());
                            let Some(code) = hex.and_then(|h| u32::from_str_radix(h, 16).ok()) else {
                                return self.fail("unicode escape");
                            };
                            self.at += 4;
                            let character = char::from_u32(code).unwrap_or('\u{fffd}');
                            out.extend_from_slice(character.encode_utf8(&mut [0; 4]).as_bytes());
                        }
                        other => out.push(other),
                    }
                }
                byte => out.push(byte),
            }
        }
    }
}

/// The `cjson` table.
pub fn cjson(lua: &Lua) -> mlua::Result<Table> {
    let cjson = lua.create_table()?;
    cjson.raw_set(
        "encode",
        lua.create_function(|lua, value: Value| {
            let mut out = Vec::new();
            encode_value(&mut out, &value, 0)?;
            lua.create_string(&out)
        })?,
    )?;
    cjson.raw_set(
        "decode",
        lua.create_function(|lua, text: mlua::String| {
            let bytes = text.as_bytes();
            let mut decoder = Decoder { text: &bytes, at: 0 };
            let value = decoder.value(lua, 0)?;
            decoder.skip_space();
            if decoder.at != bytes.len() {
                return decoder.fail("the end");
            }
            Ok(value)
        })?,
    )?;
    cjson.raw_set("null", null())?;
    // Settings of lua-cjson that change nothing here; accepted as it accepts them.
    for setting in [
        "encode_keep_buffer",
        "encode_max_depth",
        "decode_max_depth",
        "encode_number_precision",
        "encode_invalid_numbers",
        "decode_invalid_numbers",
        "encode_sparse_array",
    ] {
        cjson.raw_set(setting, lua.create_function(|_, _: mlua::MultiValue| Ok(true))?)?;
    }
    Ok(cjson)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_print_as_lua_cjson_prints_them() {
        assert_eq!(format_number(100.0), "100");
        assert_eq!(format_number(0.0003), "0.0003");
        assert_eq!(format_number(1023.2), "1023.2");
        assert_eq!(format_number(1e20), "1e+20");
        assert_eq!(tobit(4_294_967_295.0), -1);
        assert_eq!(tobit(2_147_483_648.0), i32::MIN);
    }
}
