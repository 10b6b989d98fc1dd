//! The libraries Redis adds to Lua, written in Rust: `bit` (LuaBitOp: 32-bit operations),
//! `cjson` (lua-cjson's encode and decode) and `cmsgpack` (lua-cmsgpack's pack and unpack).
//! All are pure functions of their arguments.

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

/// lua-cjson's settings a script may change (for its own run: the interpreter is kept between
/// runs, and each run starts from [`CjsonSettings::DEFAULT`]).
#[derive(Clone, Copy)]
pub struct CjsonSettings {
    encode_depth_max: usize,
    decode_depth_max: usize,
    encode_invalid_numbers: bool,
}

fn encode_value(out: &mut Vec<u8>, value: &Value, depth: usize, settings: CjsonSettings) -> mlua::Result<()> {
    match value {
        Value::Nil => out.extend_from_slice(b"null"),
        Value::LightUserData(data) if data.0.is_null() => out.extend_from_slice(b"null"),
        Value::Boolean(flag) => out.extend_from_slice(if *flag { b"true" } else { b"false" }),
        Value::Integer(number) => out.extend_from_slice(number.to_string().as_bytes()),
        Value::Number(number) if !number.is_finite() && settings.encode_invalid_numbers => {
            let text = if number.is_nan() {
                "nan"
            } else if *number > 0.0 {
                "inf"
            } else {
                "-inf"
            };
            out.extend_from_slice(text.as_bytes());
        }
        Value::Number(number) if !number.is_finite() => {
            return Err(mlua::Error::runtime("Cannot serialise number: must not be NaN or Inf"))
        }
        Value::Number(number) => out.extend_from_slice(format_number(*number).as_bytes()),
        Value::String(text) => encode_string(out, &text.as_bytes()),
        Value::Table(table) => {
            if depth >= settings.encode_depth_max.min(SCRIPT_REPLY_DEPTH_MAX) {
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
                        encode_value(out, &table.raw_get::<Value>(at)?, depth + 1, settings)?;
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
                        encode_value(out, item, depth + 1, settings)?;
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
    depth_max: usize,
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
        if depth >= self.depth_max.min(SCRIPT_REPLY_DEPTH_MAX) {
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

impl CjsonSettings {
    pub const DEFAULT: CjsonSettings = CjsonSettings {
        encode_depth_max: SCRIPT_REPLY_DEPTH_MAX,
        decode_depth_max: SCRIPT_REPLY_DEPTH_MAX,
        encode_invalid_numbers: false,
    };
}

/// The settings a `cjson` table reads, shared with whoever resets them between runs.
pub type SharedCjsonSettings = std::sync::Arc<std::sync::Mutex<CjsonSettings>>;

/// The `cjson` table, its settings kept in `settings`.
pub fn cjson(lua: &Lua, settings: &SharedCjsonSettings) -> mlua::Result<Table> {
    let cjson = lua.create_table()?;
    let current = settings.clone();
    cjson.raw_set(
        "encode",
        lua.create_function(move |lua, value: Value| {
            let mut out = Vec::new();
            let settings = *current.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            encode_value(&mut out, &value, 0, settings)?;
            lua.create_string(&out)
        })?,
    )?;
    let current = settings.clone();
    cjson.raw_set(
        "decode",
        lua.create_function(move |lua, text: mlua::String| {
            let bytes = text.as_bytes();
            let depth_max = current.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).decode_depth_max;
            let mut decoder = Decoder { text: &bytes, at: 0, depth_max };
            let value = decoder.value(lua, 0)?;
            decoder.skip_space();
            if decoder.at != bytes.len() {
                return decoder.fail("the end");
            }
            Ok(value)
        })?,
    )?;
    cjson.raw_set("null", null())?;
    let setter = |change: fn(&mut CjsonSettings, f64)| {
        let settings = settings.clone();
        lua.create_function(move |_, value: Option<Value>| {
            let number = match value {
                Some(Value::Number(n)) => n,
                Some(Value::Integer(n)) => n as f64,
                Some(Value::Boolean(flag)) => f64::from(u8::from(flag)),
                _ => return Ok(true),
            };
            change(&mut settings.lock().unwrap_or_else(|poisoned| poisoned.into_inner()), number);
            Ok(true)
        })
    };
    cjson.raw_set("encode_max_depth", setter(|s, n| s.encode_depth_max = n.max(1.0) as usize)?)?;
    cjson.raw_set("decode_max_depth", setter(|s, n| s.decode_depth_max = n.max(1.0) as usize)?)?;
    cjson.raw_set("encode_invalid_numbers", setter(|s, n| s.encode_invalid_numbers = n != 0.0)?)?;
    // Settings of lua-cjson that change nothing here; accepted as it accepts them.
    for setting in ["encode_keep_buffer", "encode_number_precision", "decode_invalid_numbers", "encode_sparse_array"] {
        cjson.raw_set(setting, lua.create_function(|_, _: mlua::MultiValue| Ok(true))?)?;
    }
    Ok(cjson)
}

/// How deep `cmsgpack.pack` follows tables (lua-cmsgpack's `LUACMSGPACK_MAX_NESTING`): past
/// it a table packs as nil, so a table that contains itself still packs.
const MSGPACK_NESTING_MAX: usize = 16;

fn pack_integer(out: &mut Vec<u8>, n: i64) {
    match n {
        0..=127 => out.push(n as u8),
        128..=0xff => out.extend_from_slice(&[0xcc, n as u8]),
        0x100..=0xffff => {
            out.push(0xcd);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        0x1_0000..=0xffff_ffff => {
            out.push(0xce);
            out.extend_from_slice(&(n as u32).to_be_bytes());
        }
        n if n > 0 => {
            out.push(0xcf);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
        -32..=-1 => out.push(n as i8 as u8),
        -128..=-33 => out.extend_from_slice(&[0xd0, n as i8 as u8]),
        -32768..=-129 => {
            out.push(0xd1);
            out.extend_from_slice(&(n as i16).to_be_bytes());
        }
        -2_147_483_648..=-32769 => {
            out.push(0xd2);
            out.extend_from_slice(&(n as i32).to_be_bytes());
        }
        n => {
            out.push(0xd3);
            out.extend_from_slice(&n.to_be_bytes());
        }
    }
}

fn pack_length(out: &mut Vec<u8>, len: usize, small: (u8, usize), codes: [u8; 3]) {
    if len < small.1 {
        out.push(small.0 | len as u8);
    } else if codes[0] != 0 && len <= 0xff {
        out.extend_from_slice(&[codes[0], len as u8]);
    } else if len <= 0xffff {
        out.push(codes[1]);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(codes[2]);
        out.extend_from_slice(&(len as u32).to_be_bytes());
    }
}

fn pack_value(out: &mut Vec<u8>, value: &Value, level: usize) -> mlua::Result<()> {
    match value {
        Value::Boolean(flag) => out.push(if *flag { 0xc3 } else { 0xc2 }),
        Value::Integer(n) => pack_integer(out, *n),
        Value::Number(n) if n.fract() == 0.0 && n.abs() < 9.2e18 => pack_integer(out, *n as i64),
        Value::Number(n) if f64::from(*n as f32) == *n => {
            out.push(0xca);
            out.extend_from_slice(&(*n as f32).to_be_bytes());
        }
        Value::Number(n) => {
            out.push(0xcb);
            out.extend_from_slice(&n.to_be_bytes());
        }
        Value::String(text) => {
            let bytes = text.as_bytes();
            pack_length(out, bytes.len(), (0xa0, 32), [0xd9, 0xda, 0xdb]);
            out.extend_from_slice(&bytes);
        }
        Value::Table(_) if level >= MSGPACK_NESTING_MAX => out.push(0xc0),
        Value::Table(table) => {
            let pairs: Vec<(Value, Value)> = table.pairs::<Value, Value>().collect::<mlua::Result<_>>()?;
            let index = |key: &Value| match key {
                Value::Integer(n) if *n >= 1 => Some(*n as usize),
                Value::Number(n) if *n >= 1.0 && n.fract() == 0.0 => Some(*n as usize),
                _ => None,
            };
            let indices: Option<Vec<usize>> = pairs.iter().map(|(key, _)| index(key)).collect();
            let is_array = indices.is_some_and(|indices| indices.iter().max().copied().unwrap_or(0) == pairs.len());
            if is_array && !pairs.is_empty() {
                pack_length(out, pairs.len(), (0x90, 16), [0, 0xdc, 0xdd]);
                for at in 1..=pairs.len() {
                    pack_value(out, &table.raw_get::<Value>(at)?, level + 1)?;
                }
            } else {
                pack_length(out, pairs.len(), (0x80, 16), [0, 0xde, 0xdf]);
                for (key, item) in &pairs {
                    pack_value(out, key, level + 1)?;
                    pack_value(out, item, level + 1)?;
                }
            }
        }
        _ => out.push(0xc0),
    }
    Ok(())
}

struct Unpacker<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Unpacker<'_> {
    fn take(&mut self, count: usize) -> mlua::Result<&[u8]> {
        let slice =
            self.bytes.get(self.at..self.at + count).ok_or_else(|| mlua::Error::runtime("Missing bytes in input."))?;
        self.at += count;
        Ok(slice)
    }

    fn number<const N: usize>(&mut self) -> mlua::Result<[u8; N]> {
        Ok(self.take(N)?.try_into().expect("N bytes taken"))
    }

    fn length(&mut self, code: u8, small_base: u8, codes: [u8; 3]) -> mlua::Result<usize> {
        Ok(match code {
            code if code & !0x1f == small_base && small_base == 0xa0 => usize::from(code & 0x1f),
            code if code & !0x0f == small_base && small_base != 0xa0 => usize::from(code & 0x0f),
            code if code == codes[0] && code != 0 => usize::from(self.number::<1>()?[0]),
            code if code == codes[1] => usize::from(u16::from_be_bytes(self.number()?)),
            _ => u32::from_be_bytes(self.number()?) as usize,
        })
    }

    fn value(&mut self, lua: &Lua) -> mlua::Result<Value> {
        let code = self.number::<1>()?[0];
        Ok(match code {
            0x00..=0x7f => Value::Number(f64::from(code)),
            0xe0..=0xff => Value::Number(f64::from(code as i8)),
            0xc0 => Value::Nil,
            0xc2 => Value::Boolean(false),
            0xc3 => Value::Boolean(true),
            0xcc => Value::Number(f64::from(self.number::<1>()?[0])),
            0xcd => Value::Number(f64::from(u16::from_be_bytes(self.number()?))),
            0xce => Value::Number(f64::from(u32::from_be_bytes(self.number()?))),
            0xcf => Value::Number(u64::from_be_bytes(self.number()?) as f64),
            0xd0 => Value::Number(f64::from(self.number::<1>()?[0] as i8)),
            0xd1 => Value::Number(f64::from(i16::from_be_bytes(self.number()?))),
            0xd2 => Value::Number(f64::from(i32::from_be_bytes(self.number()?))),
            0xd3 => Value::Number(i64::from_be_bytes(self.number()?) as f64),
            0xca => Value::Number(f64::from(f32::from_be_bytes(self.number()?))),
            0xcb => Value::Number(f64::from_be_bytes(self.number()?)),
            0xa0..=0xbf | 0xd9 | 0xda | 0xdb | 0xc4 | 0xc5 | 0xc6 => {
                let len = match code {
                    0xc4 => usize::from(self.number::<1>()?[0]),
                    0xc5 => usize::from(u16::from_be_bytes(self.number()?)),
                    0xc6 => u32::from_be_bytes(self.number()?) as usize,
                    _ => self.length(code, 0xa0, [0xd9, 0xda, 0xdb])?,
                };
                Value::String(lua.create_string(self.take(len)?)?)
            }
            0x90..=0x9f | 0xdc | 0xdd => {
                let len = self.length(code, 0x90, [0, 0xdc, 0xdd])?;
                let table = lua.create_table()?;
                for at in 1..=len {
                    table.raw_set(at, self.value(lua)?)?;
                }
                Value::Table(table)
            }
            0x80..=0x8f | 0xde | 0xdf => {
                let len = self.length(code, 0x80, [0, 0xde, 0xdf])?;
                let table = lua.create_table()?;
                for _ in 0..len {
                    let key = self.value(lua)?;
                    let item = self.value(lua)?;
                    if !matches!(key, Value::Nil) {
                        table.raw_set(key, item)?;
                    }
                }
                Value::Table(table)
            }
            _ => return Err(mlua::Error::runtime("Bad data format in input.")),
        })
    }
}

/// Unpacks at most `limit` values (0: all) from `offset`; the offset after them (-1 at the
/// end) and the values.
fn unpack(lua: &Lua, bytes: &[u8], limit: usize, offset: usize) -> mlua::Result<(i64, Vec<Value>)> {
    let mut unpacker = Unpacker { bytes, at: offset };
    let mut values = Vec::new();
    while unpacker.at < bytes.len() && (limit == 0 || values.len() < limit) {
        values.push(unpacker.value(lua)?);
    }
    let next = if unpacker.at >= bytes.len() { -1 } else { unpacker.at as i64 };
    Ok((next, values))
}

/// The `cmsgpack` table.
pub fn cmsgpack(lua: &Lua) -> mlua::Result<Table> {
    let cmsgpack = lua.create_table()?;
    cmsgpack.raw_set(
        "pack",
        lua.create_function(|lua, values: Variadic<Value>| {
            if values.is_empty() {
                return Err(mlua::Error::runtime("MessagePack pack needs input."));
            }
            let mut out = Vec::new();
            for value in values.iter() {
                pack_value(&mut out, value, 0)?;
            }
            lua.create_string(&out)
        })?,
    )?;
    cmsgpack.raw_set(
        "unpack",
        lua.create_function(|lua, text: mlua::String| {
            let (_, values) = unpack(lua, &text.as_bytes(), 0, 0)?;
            Ok(Variadic::from_iter(values))
        })?,
    )?;
    let limited = |lua: &Lua, one: bool| {
        lua.create_function(move |lua, args: mlua::MultiValue| {
            let mut args = args.into_iter();
            let Some(Value::String(text)) = args.next() else {
                return Err(mlua::Error::runtime("bad argument #1 (string expected)"));
            };
            let number = |value: Option<Value>| match value {
                Some(Value::Number(n)) => n.max(0.0) as usize,
                Some(Value::Integer(n)) => n.max(0) as usize,
                _ => 0,
            };
            let limit = if one { 1 } else { number(args.next()) };
            let offset = number(args.next());
            let (next, values) = unpack(lua, &text.as_bytes(), limit, offset)?;
            let mut out = vec![Value::Number(next as f64)];
            out.extend(values);
            Ok(Variadic::from_iter(out))
        })
    };
    cmsgpack.raw_set("unpack_one", limited(lua, true)?)?;
    cmsgpack.raw_set("unpack_limit", limited(lua, false)?)?;
    Ok(cmsgpack)
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
