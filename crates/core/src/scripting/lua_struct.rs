//! The `struct` library Redis gives scripts (Roberto Ierusalimschy's struct.c, as shipped in
//! Redis 7.0.15), written in Rust: `struct.pack`, `struct.unpack` and `struct.size` with its
//! format language and its error texts.
//!
//! The C library's sizes and alignment are those of the machine it is built for; these are
//! the x86-64 Linux ones Redis is run on (`l`, `L` and `T` are 8 bytes, `i` is 4, native order
//! little-endian, `!` alone aligns to 8), so a script packs the same bytes here as there.
//! Where the C code relies on the processor (shifts past 63 bits, doubles out of an integer's
//! range), this follows what x86-64 does.

use crate::limits::{LUA_C_STACK_SLOTS_MAX, SCRIPT_MEMORY_BYTES_MAX, STRUCT_INTEGER_BYTES_MAX};
use mlua::{Lua, MultiValue, Table, Value, Variadic};

/// The alignment `!` without a number selects: that of a double after a char on x86-64.
const NATIVE_ALIGN_BYTES: usize = 8;
/// Stack slots an mlua callback needs beside its arguments and results (measured: past
/// 7977 arguments and results together, mlua fails to return them).
const MLUA_CALLBACK_STACK_SLOTS: usize = 23;
const INT_BYTES: usize = 4;
const LONG_BYTES: usize = 8;

#[derive(Clone, Copy, PartialEq)]
enum Endian {
    Big,
    Little,
}

/// The settings a format's control options change as it is read.
#[derive(Clone, Copy)]
struct Header {
    endian: Endian,
    align_bytes: usize,
}

impl Default for Header {
    fn default() -> Self {
        Header { endian: Endian::Little, align_bytes: 1 }
    }
}

/// A format string being read, option by option.
struct Format<'a> {
    lua: &'a Lua,
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Format<'a> {
    /// The C library reads its format as a C string: it ends at the first NUL.
    fn new(lua: &'a Lua, bytes: &'a [u8]) -> Self {
        let end = bytes.iter().position(|&byte| byte == 0).unwrap_or(bytes.len());
        Format { lua, bytes: &bytes[..end], at: 0 }
    }

    fn next_option(&mut self) -> Option<u8> {
        let option = *self.bytes.get(self.at)?;
        self.at += 1;
        Some(option)
    }

    /// The number written after an option, or `default` if none is.
    fn number(&mut self, default: usize) -> mlua::Result<usize> {
        if !self.bytes.get(self.at).is_some_and(u8::is_ascii_digit) {
            return Ok(default);
        }
        let mut number: i32 = 0;
        while let Some(&digit) = self.bytes.get(self.at).filter(|byte| byte.is_ascii_digit()) {
            let digit = i32::from(digit - b'0');
            if number > i32::MAX / 10 || number * 10 > i32::MAX - digit {
                return Err(lua_error(self.lua, "integral size overflow"));
            }
            number = number * 10 + digit;
            self.at += 1;
        }
        Ok(number as usize)
    }

    /// The bytes an option takes (0 for the control options and `s`), reading its number.
    fn option_size(&mut self, option: u8) -> mlua::Result<usize> {
        Ok(match option {
            b'b' | b'B' | b'x' => 1,
            b'h' | b'H' => 2,
            b'l' | b'L' | b'T' | b'd' => LONG_BYTES,
            b'f' => 4,
            b'c' => self.number(1)?,
            b'i' | b'I' => {
                let size = self.number(INT_BYTES)?;
                if size > STRUCT_INTEGER_BYTES_MAX {
                    let message = format!("integral size {size} is larger than limit of {STRUCT_INTEGER_BYTES_MAX}");
                    return Err(lua_error(self.lua, &message));
                }
                size
            }
            _ => 0,
        })
    }
}

/// Padding before an option at `offset`. A size that is not a power of two (`i3`) gives the
/// C library's arithmetic, kept as is so that such formats pack the same bytes.
fn padding(offset: usize, header: Header, option: u8, size: usize) -> usize {
    if size == 0 || option == b'c' {
        return 0;
    }
    let size = size.min(header.align_bytes);
    (size - (offset & (size - 1))) & (size - 1)
}

/// `luaL_error`: the message after the position of the Lua code that called the library
/// (none when a C function such as `pcall` called it), as Redis's Lua words it.
fn lua_error(lua: &Lua, message: &str) -> mlua::Error {
    let place = lua.inspect_stack(1, |frame| {
        let line = frame.current_line()?;
        let source = frame.source().short_src?.into_owned();
        Some(format!("{source}:{line}: "))
    });
    mlua::Error::runtime(format!("{}{message}", place.flatten().unwrap_or_default()))
}

/// `luaL_argerror`: names the function as its caller called it, as Lua does.
fn argument_error(lua: &Lua, mut position: usize, message: &str) -> mlua::Error {
    let names = lua.inspect_stack(0, |frame| {
        let names = frame.names();
        (names.name.map(|name| name.into_owned()), names.name_what)
    });
    let Some((name, name_what)) = names else {
        return lua_error(lua, &format!("bad argument #{position} ({message})"));
    };
    let name = name.unwrap_or_else(|| "?".to_string());
    if name_what == Some("method") {
        position -= 1;
        if position == 0 {
            return lua_error(lua, &format!("calling '{name}' on bad self ({message})"));
        }
    }
    lua_error(lua, &format!("bad argument #{position} to '{name}' ({message})"))
}

/// `luaL_typename`.
fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Nil => "nil",
        Value::Boolean(_) => "boolean",
        Value::LightUserData(_) | Value::UserData(_) | Value::Error(_) => "userdata",
        Value::Integer(_) | Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Table(_) => "table",
        Value::Function(_) => "function",
        Value::Thread(_) => "thread",
        _ => "userdata",
    }
}

fn type_error(lua: &Lua, args: &[Value], position: usize, expected: &str) -> mlua::Error {
    let got = args.get(position - 1).map_or("no value", type_name);
    argument_error(lua, position, &format!("{expected} expected, got {got}"))
}

/// `luaL_checknumber`: numbers, and strings that read as numbers.
fn check_number(lua: &Lua, args: &[Value], position: usize) -> mlua::Result<f64> {
    let value = args.get(position - 1).cloned().unwrap_or(Value::Nil);
    lua.coerce_number(value)?.ok_or_else(|| type_error(lua, args, position, "number"))
}

/// The C `pack` pushes a nil just past its arguments before it reads them, so the first
/// missing value is "nil" there, not "no value".
fn pack_arguments(args: &[Value]) -> Vec<Value> {
    let mut with_mark = args.to_vec();
    if !args.is_empty() {
        with_mark.push(Value::Nil);
    }
    with_mark
}

/// `luaL_checklstring`: strings, and numbers as Lua writes them.
fn check_string(lua: &Lua, args: &[Value], position: usize) -> mlua::Result<Vec<u8>> {
    let value = args.get(position - 1).cloned().unwrap_or(Value::Nil);
    match lua.coerce_string(value)? {
        Some(text) => Ok(text.as_bytes().to_vec()),
        None => Err(type_error(lua, args, position, "string")),
    }
}

/// A double converted to an unsigned 64-bit integer as x86-64 converts it: negative values
/// wrap (through the signed conversion), values past the range give 0.
fn double_to_u64(number: f64) -> u64 {
    const TWO_POW_63: f64 = 9_223_372_036_854_775_808.0;
    if number.is_nan() {
        1 << 63
    } else if number >= TWO_POW_63 * 2.0 {
        0
    } else if number >= TWO_POW_63 {
        number as u64
    } else if number < -TWO_POW_63 {
        1 << 63
    } else {
        number as i64 as u64
    }
}

/// A double converted to a signed 64-bit integer as x86-64 converts it (past the range, the
/// "integer indefinite" value).
fn double_to_i64(number: f64) -> i64 {
    const TWO_POW_63: f64 = 9_223_372_036_854_775_808.0;
    if number.is_nan() || !(-TWO_POW_63..TWO_POW_63).contains(&number) {
        i64::MIN
    } else {
        number as i64
    }
}

/// An integer in `size` bytes; past 8 bytes the value has no more bits, so the rest are 0.
fn put_integer(out: &mut Vec<u8>, number: f64, endian: Endian, size: usize) {
    let mut value = double_to_u64(number);
    let start = out.len();
    for _ in 0..size {
        out.push((value & 0xff) as u8);
        value >>= 8;
    }
    if endian == Endian::Big {
        out[start..].reverse();
    }
}

fn get_integer(bytes: &[u8], endian: Endian, signed: bool) -> f64 {
    let fold = |value: u64, byte: &u8| (value << 8) | u64::from(*byte);
    let value = match endian {
        Endian::Big => bytes.iter().fold(0, fold),
        Endian::Little => bytes.iter().rev().fold(0, fold),
    };
    if !signed {
        return value as f64;
    }
    // x86-64 takes a shift count modulo 64, which is what `wrapping_shl` does.
    let sign_mask = u64::MAX.wrapping_shl((bytes.len() * 8).wrapping_sub(1) as u32);
    let value = if value & sign_mask != 0 { value | sign_mask } else { value };
    value as i64 as f64
}

/// The options that pack and read nothing: spaces, byte order and alignment.
fn control_option(lua: &Lua, option: u8, format: &mut Format, header: &mut Header) -> mlua::Result<()> {
    match option {
        b' ' => {}
        b'>' => header.endian = Endian::Big,
        b'<' => header.endian = Endian::Little,
        b'!' => {
            let align_bytes = format.number(NATIVE_ALIGN_BYTES)?;
            if !align_bytes.is_power_of_two() {
                return Err(lua_error(lua, &format!("alignment {align_bytes} is not a power of 2")));
            }
            header.align_bytes = align_bytes;
        }
        other => return Err(argument_error(lua, 1, &format!("invalid format option '{}'", char::from(other)))),
    }
    Ok(())
}

fn is_integer_option(option: u8) -> bool {
    matches!(option, b'b' | b'B' | b'h' | b'H' | b'l' | b'L' | b'T' | b'i' | b'I')
}

/// `struct.pack(format, ...)`.
fn pack(lua: &Lua, args: &[Value]) -> mlua::Result<mlua::String> {
    let format_bytes = check_string(lua, args, 1)?;
    let args = &pack_arguments(args);
    let mut format = Format::new(lua, &format_bytes);
    let mut header = Header::default();
    let mut out = Vec::new();
    let mut position = 2;
    while let Some(option) = format.next_option() {
        let size = format.option_size(option)?;
        out.resize(out.len() + padding(out.len(), header, option, size), 0);
        match option {
            option if is_integer_option(option) => {
                put_integer(&mut out, check_number(lua, args, position)?, header.endian, size);
                position += 1;
            }
            b'x' => out.push(0),
            b'f' => {
                let number = check_number(lua, args, position)? as f32;
                position += 1;
                out.extend_from_slice(&match header.endian {
                    Endian::Big => number.to_be_bytes(),
                    Endian::Little => number.to_le_bytes(),
                });
            }
            b'd' => {
                let number = check_number(lua, args, position)?;
                position += 1;
                out.extend_from_slice(&match header.endian {
                    Endian::Big => number.to_be_bytes(),
                    Endian::Little => number.to_le_bytes(),
                });
            }
            b'c' | b's' => {
                let text = check_string(lua, args, position)?;
                position += 1;
                let size = if size == 0 { text.len() } else { size };
                if text.len() < size {
                    // The C library names the argument after the string, and so does this.
                    return Err(argument_error(lua, position, "string too short"));
                }
                out.extend_from_slice(&text[..size]);
                if option == b's' {
                    out.push(0);
                }
            }
            other => control_option(lua, other, &mut format, &mut header)?,
        }
        // The packed string is built outside Lua's allocator; it may not outgrow what the
        // script could hold.
        if out.len() > SCRIPT_MEMORY_BYTES_MAX {
            return Err(mlua::Error::runtime("not enough memory"));
        }
    }
    lua.create_string(&out)
}

/// `struct.unpack(format, data [, offset])`: the values, then the offset after them.
fn unpack(lua: &Lua, args: &[Value]) -> mlua::Result<MultiValue> {
    let format_bytes = check_string(lua, args, 1)?;
    let data = check_string(lua, args, 2)?;
    let offset = match args.get(2) {
        None | Some(Value::Nil) => 1,
        Some(_) => double_to_i64(check_number(lua, args, 3)?),
    };
    // The C library keeps the offset unsigned: a negative one passes this check and then
    // finds the data too short.
    let mut at = offset as usize;
    if at == 0 {
        return Err(argument_error(lua, 3, "offset must be 1 or greater"));
    }
    at -= 1;
    let too_short = |size: usize, at: usize| size > data.len() || at > data.len() - size;
    let mut format = Format::new(lua, &format_bytes);
    let mut header = Header::default();
    let mut results: Vec<Value> = Vec::new();
    while let Some(option) = format.next_option() {
        let mut size = format.option_size(option)?;
        at = at.wrapping_add(padding(at, header, option, size));
        if too_short(size, at) {
            return Err(argument_error(lua, 2, "data string too short"));
        }
        // Redis's bound, less the slots mlua's callback keeps for itself.
        if args.len() + results.len() + 2 > LUA_C_STACK_SLOTS_MAX - MLUA_CALLBACK_STACK_SLOTS {
            return Err(lua_error(lua, "stack overflow (too many results)"));
        }
        match option {
            option if is_integer_option(option) => {
                let number = get_integer(&data[at..at + size], header.endian, option.is_ascii_lowercase());
                results.push(Value::Number(number));
            }
            b'x' => {}
            b'f' => {
                let bytes: [u8; 4] = data[at..at + 4].try_into().expect("four bytes");
                let number = match header.endian {
                    Endian::Big => f32::from_be_bytes(bytes),
                    Endian::Little => f32::from_le_bytes(bytes),
                };
                results.push(Value::Number(f64::from(number)));
            }
            b'd' => {
                let bytes: [u8; 8] = data[at..at + 8].try_into().expect("eight bytes");
                let number = match header.endian {
                    Endian::Big => f64::from_be_bytes(bytes),
                    Endian::Little => f64::from_le_bytes(bytes),
                };
                results.push(Value::Number(number));
            }
            b'c' => {
                if size == 0 {
                    let previous = match results.last() {
                        Some(value) => lua.coerce_number(value.clone())?,
                        None => None,
                    };
                    let Some(previous) = previous else {
                        return Err(lua_error(lua, "format 'c0' needs a previous size"));
                    };
                    size = double_to_u64(previous) as usize;
                    results.pop();
                    if too_short(size, at) {
                        return Err(argument_error(lua, 2, "data string too short"));
                    }
                }
                results.push(Value::String(lua.create_string(&data[at..at + size])?));
            }
            b's' => {
                let Some(length) = data[at..].iter().position(|&byte| byte == 0) else {
                    return Err(lua_error(lua, "unfinished string in data"));
                };
                results.push(Value::String(lua.create_string(&data[at..at + length])?));
                size = length + 1;
            }
            other => control_option(lua, other, &mut format, &mut header)?,
        }
        at = at.wrapping_add(size);
    }
    results.push(Value::Number(at.wrapping_add(1) as i64 as f64));
    Ok(MultiValue::from_iter(results))
}

/// `struct.size(format)`: the bytes `pack` gives for a format of fixed size.
fn size(lua: &Lua, args: &[Value]) -> mlua::Result<f64> {
    let format_bytes = check_string(lua, args, 1)?;
    let mut format = Format::new(lua, &format_bytes);
    let mut header = Header::default();
    let mut total: usize = 0;
    while let Some(option) = format.next_option() {
        let size = format.option_size(option)?;
        total = total.wrapping_add(padding(total, header, option, size));
        if option == b's' {
            return Err(argument_error(lua, 1, "option 's' has no fixed size"));
        }
        if option == b'c' && size == 0 {
            return Err(argument_error(lua, 1, "option 'c0' has no fixed size"));
        }
        // Unknown letters and digits are let through here, as the C library lets them.
        if !option.is_ascii_alphanumeric() {
            control_option(lua, option, &mut format, &mut header)?;
        }
        total = total.wrapping_add(size);
    }
    Ok(total as i64 as f64)
}

/// The `struct` table.
pub fn table(lua: &Lua) -> mlua::Result<Table> {
    let table = lua.create_table()?;
    table.raw_set("pack", lua.create_function(|lua, args: Variadic<Value>| pack(lua, &args))?)?;
    table.raw_set("unpack", lua.create_function(|lua, args: Variadic<Value>| unpack(lua, &args))?)?;
    table.raw_set("size", lua.create_function(|lua, args: Variadic<Value>| size(lua, &args))?)?;
    Ok(table)
}
