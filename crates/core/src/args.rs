//! Reading a command's arguments, and Redis's rules for numbers written as text.

use crate::error::{Error, Result};
use crate::limits::FLOAT_TEXT_BYTES_MAX;
use bytes::Bytes;

/// The arguments after the command name, consumed front to back by a command's `parse`.
pub struct Args<'a> {
    items: &'a [Bytes],
    position: usize,
    /// How many databases a database index may address.
    databases: u32,
}

impl<'a> Args<'a> {
    /// Arguments checked against the largest possible database count (as when a log entry is
    /// applied: the node validated the index against its configuration before proposing).
    pub fn new(items: &'a [Bytes]) -> Args<'a> {
        Args { items, position: 0, databases: crate::limits::DATABASES_MAX }
    }

    /// Arguments checked against the node's configured database count.
    pub fn with_databases(items: &'a [Bytes], databases: u32) -> Args<'a> {
        Args { items, position: 0, databases }
    }

    /// These arguments, checked against the same database count as `other`.
    pub fn with_databases_of(self, other: &Args) -> Args<'a> {
        Args { databases: other.databases, ..self }
    }

    /// A database index, within the configured count.
    pub fn db_index(&mut self) -> Result<crate::types::DbIndex> {
        let index = self.next_i64()?;
        if i32::try_from(index).is_err() {
            return Err(Error::err("value is out of range, value must between -2147483648 and 2147483647"));
        }
        if index < 0 || index >= i64::from(self.databases) {
            return Err(Error::DB_INDEX_OUT_OF_RANGE);
        }
        Ok(index as crate::types::DbIndex)
    }

    pub fn remaining(&self) -> usize {
        self.items.len() - self.position
    }

    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    /// The next argument, or a syntax error when there is none.
    pub fn next_arg(&mut self) -> Result<Bytes> {
        let item = self.items.get(self.position).cloned().ok_or(Error::SYNTAX)?;
        self.position += 1;
        Ok(item)
    }

    pub fn peek(&self) -> Option<&Bytes> {
        self.items.get(self.position)
    }

    pub fn next_i64(&mut self) -> Result<i64> {
        parse_i64(&self.next_arg()?).ok_or(Error::NOT_INTEGER)
    }

    pub fn next_f64(&mut self) -> Result<f64> {
        parse_f64(&self.next_arg()?).ok_or(Error::NOT_FLOAT)
    }

    /// Every argument not yet consumed.
    pub fn rest(&mut self) -> Vec<Bytes> {
        let rest = self.items[self.position..].to_vec();
        self.position = self.items.len();
        rest
    }

    /// Errors with a syntax error when arguments are left over.
    pub fn finish(&self) -> Result<()> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(Error::SYNTAX)
        }
    }
}

/// Whether `arg` is `word`, ignoring ASCII case (how Redis matches option names).
pub fn is(arg: &[u8], word: &str) -> bool {
    arg.eq_ignore_ascii_case(word.as_bytes())
}

/// Redis's `string2ll`: an optional minus, then digits without leading zeros; no spaces,
/// no plus sign, nothing after.
pub fn parse_i64(text: &[u8]) -> Option<i64> {
    if text.is_empty() || text.len() > 20 {
        return None;
    }
    if text == b"0" {
        return Some(0);
    }
    let (negative, digits) = match text[0] {
        b'-' => (true, &text[1..]),
        _ => (false, text),
    };
    if digits.is_empty() || !(b'1'..=b'9').contains(&digits[0]) {
        return None;
    }
    let mut magnitude: u64 = 0;
    for &digit in digits {
        if !digit.is_ascii_digit() {
            return None;
        }
        magnitude = magnitude.checked_mul(10)?.checked_add(u64::from(digit - b'0'))?;
    }
    if negative {
        if magnitude > i64::MAX as u64 + 1 {
            None
        } else {
            Some((magnitude as i64).wrapping_neg())
        }
    } else {
        i64::try_from(magnitude).ok()
    }
}

/// Redis's `string2ld`-style float parsing: no leading space, nothing trailing, never NaN.
/// Infinities are accepted here; commands that must not produce them check their result.
pub fn parse_f64(text: &[u8]) -> Option<f64> {
    if text.is_empty() || text.len() > FLOAT_TEXT_BYTES_MAX {
        return None;
    }
    let text = std::str::from_utf8(text).ok()?;
    if text.starts_with(|c: char| c.is_ascii_whitespace()) {
        return None;
    }
    let value: f64 = match text.parse() {
        Ok(value) => value,
        // strtold also takes a hexadecimal mantissa, which Rust's parser does not.
        Err(_) => parse_hex_float(text)?,
    };
    if value.is_nan() {
        return None;
    }
    Some(value)
}

fn parse_hex_float(text: &str) -> Option<f64> {
    let (negative, body) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let body = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X"))?;
    let (mantissa, exponent) = match body.find(['p', 'P']) {
        Some(at) => (&body[..at], body[at + 1..].parse::<i32>().ok()?),
        None => (body, 0),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if whole.is_empty() && fraction.is_empty() {
        return None;
    }
    let mut value = 0f64;
    for c in whole.chars() {
        value = value * 16.0 + f64::from(c.to_digit(16)?);
    }
    let mut scale = 1.0 / 16.0;
    for c in fraction.chars() {
        value += f64::from(c.to_digit(16)?) * scale;
        scale /= 16.0;
    }
    let value = value * 2f64.powi(exponent);
    Some(if negative { -value } else { value })
}

/// Formats a float the way Redis replies with one (`%.17g`, trimmed): the shortest text
/// that reads back as the same value, with `inf`/`-inf`, and no negative zero.
pub fn format_f64(value: f64) -> String {
    if value.is_infinite() {
        return if value > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if value == 0.0 {
        return "0".into();
    }
    let exponent = value.abs().log10().floor() as i32;
    if (-4..17).contains(&exponent) {
        // Plain notation: Rust's Display is the shortest round-tripping text.
        format!("{value}")
    } else {
        // %g switches to exponent notation outside this range, with a signed two-digit exponent.
        let text = format!("{value:e}");
        let (mantissa, exp) = text.split_once('e').expect("exponent notation");
        let exp: i32 = exp.parse().expect("integer exponent");
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exp.abs())
    }
}

/// `%.17g`, as Redis 7.0 prints doubles in replies (`addReplyDouble`), and `-0` for a negative
/// zero.
pub fn format_double(value: f64) -> String {
    if value.is_nan() {
        return "nan".into();
    }
    if value.is_infinite() {
        return if value > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if value == 0.0 {
        return if value.is_sign_negative() { "-0".into() } else { "0".into() };
    }
    let scientific = format!("{value:.16e}");
    let (mantissa, exponent) = scientific.split_once('e').expect("exponent form");
    let exponent: i32 = exponent.parse().expect("integer exponent");
    if (-4..17).contains(&exponent) {
        let decimals = (16 - exponent).max(0) as usize;
        trim_fraction(format!("{value:.decimals$}"))
    } else {
        let mantissa = trim_fraction(mantissa.to_string());
        format!("{mantissa}e{}{:02}", if exponent < 0 { '-' } else { '+' }, exponent.abs())
    }
}

/// Redis's `ld2string(..., LD_STR_HUMAN)`: `%.17Lf` with trailing zeros (and a bare point)
/// trimmed, and `-0` as `0`. A double widened to a long double is the same number, and Rust
/// prints the exact value rounded to 17 places, as glibc does.
pub fn format_human_double(value: f64) -> String {
    if value.is_nan() {
        return "nan".into();
    }
    if value.is_infinite() {
        return if value > 0.0 { "inf".into() } else { "-inf".into() };
    }
    let text = trim_fraction(format!("{value:.17}"));
    if text == "-0" {
        "0".into()
    } else {
        text
    }
}

fn trim_fraction(mut text: String) -> String {
    if text.contains('.') {
        while text.ends_with('0') {
            text.pop();
        }
        if text.ends_with('.') {
            text.pop();
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_follow_string2ll() {
        assert_eq!(parse_i64(b"0"), Some(0));
        assert_eq!(parse_i64(b"-1"), Some(-1));
        assert_eq!(parse_i64(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
        for bad in
            [&b""[..], b"-", b"+1", b"01", b"-0", b" 1", b"1 ", b"1a", b"9223372036854775808", b"-9223372036854775809"]
        {
            assert_eq!(parse_i64(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn floats_follow_string2ld() {
        assert_eq!(parse_f64(b"1.5"), Some(1.5));
        assert_eq!(parse_f64(b"5.0e3"), Some(5000.0));
        assert_eq!(parse_f64(b"+inf"), Some(f64::INFINITY));
        assert_eq!(parse_f64(b"0x1p3"), Some(8.0));
        assert_eq!(parse_f64(b"nan"), None);
        assert_eq!(parse_f64(b" 1"), None);
        assert_eq!(parse_f64(b"1 "), None);
        assert_eq!(parse_f64(b"1\0"), None);
    }

    #[test]
    fn floats_format_like_redis() {
        assert_eq!(format_f64(10.5), "10.5");
        assert_eq!(format_f64(3.0), "3");
        assert_eq!(format_f64(-0.0), "0");
        assert_eq!(format_f64(17179869185.5), "17179869185.5");
        assert_eq!(format_f64(1e21), "1e+21");
        assert_eq!(format_f64(1.5e-7), "1.5e-07");
        assert_eq!(format_f64(f64::NEG_INFINITY), "-inf");
    }
}
