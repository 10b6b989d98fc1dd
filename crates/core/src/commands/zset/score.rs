//! Scores and ranges as Redis reads and writes them (`t_zset.c`, `util.c`): score arguments
//! (`string2d`), score intervals with `(` for an open end (`zslParseRange`), lexical
//! intervals (`zslParseLexRange`), and score text in ZSCAN pages (`d2string`).

use crate::commands::prelude::*;

/// C's `isspace` in the C locale.
fn is_c_space(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r')
}

/// C's `strtod` over all of `text` (no leading space): a sign, then `inf`, `infinity`, `nan`,
/// `nan(...)`, a hexadecimal or a decimal number, and nothing after. With the value, whether
/// glibc would set `ERANGE` (a finite text too large for a double, or too small to be told
/// from zero).
fn strtod(text: &[u8]) -> Option<(f64, bool)> {
    let text = std::str::from_utf8(text).ok()?;
    let negative = text.starts_with('-');
    let unsigned = text.strip_prefix(['+', '-']).unwrap_or(text);
    if unsigned.starts_with(['+', '-']) {
        return None;
    }
    let lower = unsigned.to_ascii_lowercase();
    let signed = |value: f64| if negative { -value } else { value };
    if lower == "inf" || lower == "infinity" {
        return Some((signed(f64::INFINITY), false));
    }
    if lower == "nan"
        || lower
            .strip_prefix("nan(")
            .and_then(|rest| rest.strip_suffix(')'))
            .is_some_and(|inner| inner.bytes().all(|byte| byte.is_ascii_alphanumeric() || byte == b'_'))
    {
        return Some((f64::NAN, false));
    }
    let (value, mantissa) = if let Some(hex) = lower.strip_prefix("0x") {
        (crate::args::parse_f64(text.as_bytes())?, hex.split('p').next().unwrap_or(""))
    } else {
        if !unsigned.bytes().all(|byte| byte.is_ascii_digit() || matches!(byte, b'.' | b'e' | b'E' | b'+' | b'-')) {
            return None;
        }
        let value: f64 = unsigned.parse().ok()?;
        (signed(value), lower.split('e').next().unwrap_or(""))
    };
    let nonzero = mantissa.bytes().any(|byte| byte.is_ascii_alphanumeric() && byte != b'0');
    let out_of_range = value.is_infinite() || (value == 0.0 && nonzero);
    Some((value, out_of_range))
}

/// A score argument, as Redis's `getDoubleFromObject` reads it (`string2d`): the whole text a
/// number, no leading space, not NaN, not out of a double's range.
pub fn parse_score(text: &[u8]) -> Option<f64> {
    if text.first().is_none_or(|&first| is_c_space(first)) {
        return None;
    }
    match strtod(text)? {
        (value, _) if value.is_nan() => None,
        (value, true) if value.is_infinite() || value == 0.0 => None,
        (value, _) => Some(value),
    }
}

/// The next argument as a score, or `error`.
pub fn next_score(args: &mut Args, error: Error) -> Result<f64> {
    parse_score(&args.next_arg()?).ok_or(error)
}

/// One end of a score interval as `zslParseRange` reads it: a C string (up to a NUL byte),
/// `(` for an open end, then what `strtod` takes (leading spaces too; an empty text is 0).
fn parse_bound(text: &[u8]) -> Option<(f64, bool)> {
    let text = &text[..text.iter().position(|&byte| byte == 0).unwrap_or(text.len())];
    let (text, exclusive) = match text.strip_prefix(b"(") {
        Some(rest) => (rest, true),
        None => (text, false),
    };
    let start = text.iter().position(|&byte| !is_c_space(byte)).unwrap_or(text.len());
    let value = if start == text.len() { 0.0 } else { strtod(&text[start..])?.0 };
    (!value.is_nan()).then_some((value, exclusive))
}

/// A score interval: `min <= score <= max`, either end open.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScoreRange {
    pub min: f64,
    pub min_exclusive: bool,
    pub max: f64,
    pub max_exclusive: bool,
}

impl ScoreRange {
    pub const ERROR: Error = Error::fixed("ERR min or max is not a float");

    pub fn parse(min: &[u8], max: &[u8]) -> Result<ScoreRange> {
        let (min, min_exclusive) = parse_bound(min).ok_or(ScoreRange::ERROR)?;
        let (max, max_exclusive) = parse_bound(max).ok_or(ScoreRange::ERROR)?;
        Ok(ScoreRange { min, min_exclusive, max, max_exclusive })
    }

    /// The interval `min <= score < max` (a geohash cell's scores).
    pub fn half_open(min: f64, max: f64) -> ScoreRange {
        ScoreRange { min, min_exclusive: false, max, max_exclusive: true }
    }

    /// `zslValueGteMin`.
    pub fn above_min(&self, score: f64) -> bool {
        if self.min_exclusive {
            score > self.min
        } else {
            score >= self.min
        }
    }

    /// `zslValueLteMax`.
    pub fn below_max(&self, score: f64) -> bool {
        if self.max_exclusive {
            score < self.max
        } else {
            score <= self.max
        }
    }
}

/// One end of a lexical interval.
#[derive(Clone, Debug, PartialEq)]
pub enum LexBound {
    /// `-`: before every member.
    Least,
    /// `+`: after every member.
    Greatest,
    /// `[member`.
    Inclusive(Bytes),
    /// `(member`.
    Exclusive(Bytes),
}

impl LexBound {
    /// `zslParseLexRangeItem`.
    fn parse(text: &[u8]) -> Option<LexBound> {
        // `+` and `-` are compared as C strings: a NUL may follow them.
        let alone = text.get(1).is_none_or(|&byte| byte == 0);
        match text.first()? {
            b'+' if alone => Some(LexBound::Greatest),
            b'-' if alone => Some(LexBound::Least),
            b'(' => Some(LexBound::Exclusive(Bytes::copy_from_slice(&text[1..]))),
            b'[' => Some(LexBound::Inclusive(Bytes::copy_from_slice(&text[1..]))),
            _ => None,
        }
    }
}

/// A lexical interval between two [`LexBound`]s.
#[derive(Clone, Debug, PartialEq)]
pub struct LexRange {
    pub min: LexBound,
    pub max: LexBound,
}

impl LexRange {
    pub const ERROR: Error = Error::fixed("ERR min or max not valid string range item");

    pub fn parse(min: &[u8], max: &[u8]) -> Result<LexRange> {
        Ok(LexRange {
            min: LexBound::parse(min).ok_or(LexRange::ERROR)?,
            max: LexBound::parse(max).ok_or(LexRange::ERROR)?,
        })
    }

    /// `zslLexValueGteMin`.
    pub fn above_min(&self, member: &[u8]) -> bool {
        match &self.min {
            LexBound::Least => true,
            LexBound::Greatest => false,
            LexBound::Inclusive(min) => member >= &min[..],
            LexBound::Exclusive(min) => member > &min[..],
        }
    }

    /// `zslLexValueLteMax`.
    pub fn below_max(&self, member: &[u8]) -> bool {
        match &self.max {
            LexBound::Least => false,
            LexBound::Greatest => true,
            LexBound::Inclusive(max) => member <= &max[..],
            LexBound::Exclusive(max) => member < &max[..],
        }
    }
}

/// Redis's `d2string`: a score as ZSCAN pages (and listpacks) hold it — integers in full,
/// anything else `%.17g`.
pub fn d2string(score: f64) -> String {
    // Redis's `double2ll` range: integral values this small print as integers.
    const INTEGRAL_MAX: f64 = (i64::MAX / 2) as f64;
    if score.is_finite() && score != 0.0 && score.fract() == 0.0 && (-INTEGRAL_MAX..=INTEGRAL_MAX).contains(&score) {
        return (score as i64).to_string();
    }
    crate::args::format_double(score)
}

/// A score as a reply: a double in RESP3, a bulk string in RESP2.
pub fn score_reply(score: f64) -> Reply {
    Reply::Double(score)
}

/// Members, with their scores if asked: RESP2 flattens pairs, RESP3 nests them.
pub fn members_reply(pairs: Vec<(Bytes, f64)>, with_scores: bool) -> Reply {
    if with_scores {
        Reply::Pairs(pairs.into_iter().map(|(member, score)| (Reply::Bulk(member), score_reply(score))).collect())
    } else {
        Reply::bulks(pairs.into_iter().map(|(member, _)| member))
    }
}

/// Stored members and scores as owned values for a reply.
pub fn owned<'a>(pairs: impl IntoIterator<Item = (&'a [u8], f64)>) -> Vec<(Bytes, f64)> {
    pairs.into_iter().map(|(member, score)| (bytes_of(member), score)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_follow_string2d() {
        assert_eq!(parse_score(b"1.5"), Some(1.5));
        assert_eq!(parse_score(b"-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_score(b"+Infinity"), Some(f64::INFINITY));
        assert_eq!(parse_score(b"0x10"), Some(16.0));
        assert_eq!(parse_score(b"1e-310"), Some(1e-310), "denormals are fine");
        assert_eq!(parse_score(b"-0"), Some(-0.0));
        assert_eq!(parse_score(b"0e-9999"), Some(0.0), "zero is not an underflow");
        // Redis 7.0.15 answers `ERR value is not a valid float` to each of these.
        for bad in [
            &b""[..],
            b" 1",
            b"1 ",
            b"nan",
            b"-nan",
            b"1e400",
            b"-1e400",
            b"1e-400",
            b"abc",
            b"1\0",
            b"1e",
            b"+-1",
            b"-",
            b".",
        ] {
            assert_eq!(parse_score(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn score_ranges_follow_zsl_parse_range() {
        let range = ScoreRange::parse(b"(1.5", b"+inf").unwrap();
        assert!(range.min_exclusive && !range.max_exclusive);
        assert!(!range.above_min(1.5) && range.above_min(1.6) && range.below_max(f64::INFINITY));
        // strtod skips leading spaces and reads an empty text as 0; a NUL ends the text.
        assert_eq!(ScoreRange::parse(b" 1", b"").unwrap().min, 1.0);
        assert_eq!(
            ScoreRange::parse(b"(", b"2\0x").unwrap(),
            ScoreRange { min: 0.0, min_exclusive: true, max: 2.0, max_exclusive: false }
        );
        assert_eq!(ScoreRange::parse(b"1e400", b"1").unwrap().min, f64::INFINITY);
        for bad in [&b"nan"[..], b"1 ", b"((1", b"x", b"[1"] {
            assert_eq!(ScoreRange::parse(bad, b"1"), Err(ScoreRange::ERROR));
        }
    }

    #[test]
    fn lex_ranges_follow_zsl_parse_lex_range() {
        let range = LexRange::parse(b"[b", b"(d").unwrap();
        assert!(range.above_min(b"b") && !range.above_min(b"a") && range.below_max(b"c") && !range.below_max(b"d"));
        let all = LexRange::parse(b"-", b"+").unwrap();
        assert!(all.above_min(b"") && all.below_max(b"\xff"));
        let none = LexRange::parse(b"+", b"-").unwrap();
        assert!(!none.above_min(b"a") && !none.below_max(b"a"));
        for bad in [&b""[..], b"a", b"+a", b"-a", b"1"] {
            assert_eq!(LexRange::parse(bad, b"+"), Err(LexRange::ERROR));
        }
    }

    #[test]
    fn scan_scores_print_as_d2string() {
        assert_eq!(d2string(1e17), "100000000000000000");
        assert_eq!(d2string(2.5), "2.5");
        assert_eq!(d2string(0.1), "0.10000000000000001");
        assert_eq!(d2string(-0.0), "-0");
        assert_eq!(d2string(f64::INFINITY), "inf");
        assert_eq!(d2string(1e19), "1e+19");
    }
}
