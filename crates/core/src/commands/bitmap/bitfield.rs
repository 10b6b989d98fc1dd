//! BITFIELD key [GET encoding offset | [OVERFLOW WRAP | SAT | FAIL] SET encoding offset value |
//! INCRBY encoding offset increment ...]

use super::setbit::{bit_at, bits_mut, parse_bit_offset};
use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "bitfield",
    arity: -2,
    flags: &["write", "denyoom"],
    first_key: 1,
    last_key: 1,
    key_step: 1,
    key_specs: &[KeySpec {
        flags: &["RW", "access", "update", "variable_flags"],
        begin_index: 1,
        last_key: 0,
        key_step: 1,
    }],
    acl_categories: &["@write", "@bitmap", "@slow"],
    tips: &[],
    group: "bitmap",
    since: "3.2.0",
    complexity: "O(1) for each subcommand specified",
    summary: "Perform arbitrary bitfield integer operations on strings",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

/// What SET and INCRBY do with a result that does not fit the field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Overflow {
    /// Keep the low bits (two's complement for signed fields).
    Wrap,
    /// Stop at the field's minimum or maximum.
    Sat,
    /// Change nothing and answer nil.
    Fail,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Get,
    Set(i64),
    IncrBy(i64),
}

/// One subcommand: a field of `bits` bits (1 to 64 signed, 1 to 63 unsigned) at bit `offset`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FieldOp {
    pub action: Action,
    pub signed: bool,
    pub bits: u32,
    pub offset: u64,
    pub overflow: Overflow,
}

const TYPE_ERROR: &str = "Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.";

/// Redis's `getBitfieldTypeFromArgument`: `i<bits>` or `u<bits>` (lower case, as Redis reads
/// it up to a zero byte).
fn parse_type(arg: &[u8]) -> Result<(bool, u32)> {
    let signed = match arg.first() {
        Some(b'i') => true,
        Some(b'u') => false,
        _ => return Err(Error::err(TYPE_ERROR)),
    };
    let digits = &arg[1..];
    let digits = &digits[..digits.iter().position(|byte| *byte == 0).unwrap_or(digits.len())];
    match parse_i64(digits) {
        Some(bits @ 1..=64) if signed || bits <= 63 => Ok((signed, bits as u32)),
        _ => Err(Error::err(TYPE_ERROR)),
    }
}

/// The subcommands, read as Redis reads them: every error is found before the key is looked at.
pub fn parse_ops(args: &mut Args) -> Result<Vec<FieldOp>> {
    let mut ops = Vec::new();
    let mut overflow = Overflow::Wrap;
    while let Some(name) = args.peek().cloned() {
        args.next_arg()?;
        let left = args.remaining();
        let action = match () {
            _ if is(&name, "GET") && left >= 2 => Action::Get,
            _ if is(&name, "SET") && left >= 3 => Action::Set(0),
            _ if is(&name, "INCRBY") && left >= 3 => Action::IncrBy(0),
            _ if is(&name, "OVERFLOW") && left >= 1 => {
                let kind = args.next_arg()?;
                overflow = match () {
                    _ if is(&kind, "WRAP") => Overflow::Wrap,
                    _ if is(&kind, "SAT") => Overflow::Sat,
                    _ if is(&kind, "FAIL") => Overflow::Fail,
                    _ => return Err(Error::err("Invalid OVERFLOW type specified")),
                };
                continue;
            }
            _ => return Err(Error::SYNTAX),
        };
        let (signed, bits) = parse_type(&args.next_arg()?)?;
        let offset = parse_bit_offset(&args.next_arg()?, Some(bits))?;
        let action = match action {
            Action::Get => Action::Get,
            Action::Set(_) => Action::Set(args.next_i64()?),
            Action::IncrBy(_) => Action::IncrBy(args.next_i64()?),
        };
        ops.push(FieldOp { action, signed, bits, offset, overflow });
    }
    Ok(ops)
}

/// The field's bits as an unsigned number; bits past the end of `bytes` read as zero.
fn get_unsigned(bytes: &[u8], offset: u64, bits: u32) -> u64 {
    (offset..offset + u64::from(bits)).fold(0, |value, at| (value << 1) | u64::from(bit_at(bytes, at)))
}

/// The field's value, sign-extended for a signed field.
pub fn get_field(bytes: &[u8], offset: u64, bits: u32, signed: bool) -> i64 {
    let value = get_unsigned(bytes, offset, bits);
    if signed && bits < 64 && value & (1 << (bits - 1)) != 0 {
        (value | (u64::MAX << bits)) as i64
    } else {
        value as i64
    }
}

/// Writes the low `bits` bits of `value` (`bytes` reaches the field's end).
fn set_field(bytes: &mut [u8], offset: u64, bits: u32, value: u64) {
    for j in 0..u64::from(bits) {
        let at = offset + j;
        let mask = 0x80u8 >> (at & 7);
        let byte = &mut bytes[(at >> 3) as usize];
        if value & (1 << (u64::from(bits) - 1 - j)) != 0 {
            *byte |= mask;
        } else {
            *byte &= !mask;
        }
    }
}

/// Redis's `checkUnsignedBitfieldOverflow`: `Some(result)` when `value + incr` does not fit
/// (the result under `overflow`, meaningless for `Fail`), `None` when it does.
fn unsigned_overflow(value: u64, incr: i64, bits: u32, overflow: Overflow) -> Option<u64> {
    let max = (1u64 << bits) - 1;
    let max_incr = max.wrapping_sub(value) as i64;
    let min_incr = value.wrapping_neg() as i64;
    let wrapped = || value.wrapping_add(incr as u64) & max;
    if value > max || (incr > 0 && incr > max_incr) {
        Some(if overflow == Overflow::Sat { max } else { wrapped() })
    } else if incr < 0 && incr < min_incr {
        Some(if overflow == Overflow::Sat { 0 } else { wrapped() })
    } else {
        None
    }
}

/// Redis's `checkSignedBitfieldOverflow`, likewise.
fn signed_overflow(value: i64, incr: i64, bits: u32, overflow: Overflow) -> Option<i64> {
    let max = if bits == 64 { i64::MAX } else { (1i64 << (bits - 1)) - 1 };
    let min = -max - 1;
    let max_incr = (max as u64).wrapping_sub(value as u64) as i64;
    let min_incr = min.wrapping_sub(value);
    let wrapped = || {
        let sum = (value as u64).wrapping_add(incr as u64);
        if bits == 64 {
            sum as i64
        } else if sum & (1 << (bits - 1)) != 0 {
            (sum | (u64::MAX << bits)) as i64
        } else {
            (sum & !(u64::MAX << bits)) as i64
        }
    };
    let limit = |saturated: i64| if overflow == Overflow::Sat { saturated } else { wrapped() };
    if value > max || (bits != 64 && incr > max_incr) || (value >= 0 && incr > 0 && incr > max_incr) {
        Some(limit(max))
    } else if value < min || (bits != 64 && incr < min_incr) || (value < 0 && incr < 0 && incr < min_incr) {
        Some(limit(min))
    } else {
        None
    }
}

/// Carries out a SET or INCRBY on `bytes` (long enough for the field): the reply (`None`: FAIL
/// refused it) and whether the field's bits changed.
fn set_or_incr(op: &FieldOp, bytes: &mut [u8]) -> (Option<i64>, bool) {
    let (reply, old, new) = if op.signed {
        let old = get_field(bytes, op.offset, op.bits, true);
        let (new, overflowed, reply_new) = match op.action {
            Action::IncrBy(incr) => match signed_overflow(old, incr, op.bits, op.overflow) {
                Some(limit) => (limit, true, true),
                None => (old.wrapping_add(incr), false, true),
            },
            Action::Set(value) => match signed_overflow(value, 0, op.bits, op.overflow) {
                Some(limit) => (limit, true, false),
                None => (value, false, false),
            },
            Action::Get => unreachable!("GET changes nothing"),
        };
        if overflowed && op.overflow == Overflow::Fail {
            return (None, false);
        }
        (if reply_new { new } else { old }, old as u64, new as u64)
    } else {
        let old = get_unsigned(bytes, op.offset, op.bits);
        let (new, overflowed, reply_new) = match op.action {
            Action::IncrBy(incr) => match unsigned_overflow(old, incr, op.bits, op.overflow) {
                Some(limit) => (limit, true, true),
                None => (old.wrapping_add(incr as u64), false, true),
            },
            Action::Set(value) => match unsigned_overflow(value as u64, 0, op.bits, op.overflow) {
                Some(limit) => (limit, true, false),
                None => (value as u64, false, false),
            },
            Action::Get => unreachable!("GET changes nothing"),
        };
        if overflowed && op.overflow == Overflow::Fail {
            return (None, false);
        }
        ((if reply_new { new } else { old }) as i64, old, new)
    };
    set_field(bytes, op.offset, op.bits, new);
    (Some(reply), old != new)
}

/// Every GET of `ops` against `value` (a missing key reads as zeros).
pub fn get_all(ops: &[FieldOp], value: &[u8]) -> Vec<Option<i64>> {
    ops.iter().map(|op| Some(get_field(value, op.offset, op.bits, op.signed))).collect()
}

pub fn reply_of(results: Vec<Option<i64>>) -> Reply {
    Reply::Array(results.into_iter().map(|result| result.map_or(Reply::Nil, Reply::Integer)).collect())
}

pub struct BitField {
    key: Bytes,
    ops: Vec<FieldOp>,
}

impl Command for BitField {
    type Output = Vec<Option<i64>>;

    fn parse(args: &mut Args) -> Result<Self> {
        let key = args.next_arg()?;
        Ok(BitField { key, ops: parse_ops(args)? })
    }

    fn reply(results: Vec<Option<i64>>) -> Reply {
        reply_of(results)
    }
}

impl WriteCommand for BitField {
    fn write(&self, keyspace: &mut Keyspace, ctx: &WriteCtx) -> Result<Vec<Option<i64>>> {
        let db = keyspace.db_mut(ctx.db);
        let writes = self.ops.iter().filter(|op| op.action != Action::Get);
        let Some(max_bit) = writes.map(|op| op.offset + u64::from(op.bits) - 1).max() else {
            // Only GETs: a read, which creates nothing.
            let value = string_at(db, &self.key, ctx.now_ms)?.map_or(&[][..], |value| value.as_slice());
            return Ok(get_all(&self.ops, value));
        };
        let (blob, version, grew) = bits_mut(db, &self.key, ctx, max_bit)?;
        let bytes = blob.make_mut();
        let mut changed = grew;
        // Redis raises `setbit` when a SET or INCRBY was carried out, changed bits or not.
        let mut performed = false;
        let results: Vec<Option<i64>> = self
            .ops
            .iter()
            .map(|op| match op.action {
                Action::Get => Some(get_field(bytes, op.offset, op.bits, op.signed)),
                Action::Set(_) | Action::IncrBy(_) => {
                    let (reply, changed_bits) = set_or_incr(op, bytes);
                    changed |= changed_bits;
                    performed |= reply.is_some();
                    reply
                }
            })
            .collect();
        blob.settle();
        if changed {
            *version = ctx.index;
        }
        if performed {
            keyspace.notify(EventClass::STRING, "setbit", ctx.db, &self.key);
        }
        Ok(results)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::testing::*;

    fn ints(values: &[Option<i64>]) -> Reply {
        reply_of(values.to_vec())
    }

    fn field(ks: &mut Keyspace, words: &[&str]) -> Reply {
        write(ks, 1, &[&["bitfield"], words].concat())
    }

    #[test]
    fn set_get_and_incrby() {
        let ks = &mut Keyspace::new();
        assert_eq!(field(ks, &["bits", "set", "i8", "0", "-100"]), ints(&[Some(0)]));
        assert_eq!(field(ks, &["bits", "set", "i8", "0", "101"]), ints(&[Some(-100)]));
        assert_eq!(field(ks, &["bits", "get", "i8", "0"]), ints(&[Some(101)]));
        assert_eq!(
            field(ks, &["b2", "set", "u8", "0", "255", "incrby", "u8", "0", "100", "get", "u8", "0"]),
            ints(&[Some(0), Some(99), Some(99)])
        );
        assert_eq!(
            field(ks, &["b3", "set", "i8", "0", "255", "set", "i8", "0", "100", "get", "i8", "0"]),
            ints(&[Some(0), Some(-1), Some(100)])
        );
        assert_eq!(
            field(ks, &["abc", "set", "u8", "#0", "65", "set", "u8", "#1", "66", "set", "u8", "#2", "67"]),
            ints(&[Some(0), Some(0), Some(0)])
        );
        assert_eq!(read(ks, 1, &["get", "abc"]), bulk("ABC"));
        assert_eq!(field(ks, &["bits"]), ints(&[]));
        assert_eq!(field(ks, &["nokey", "get", "u4", "100"]), ints(&[Some(0)]));
        assert_eq!(read(ks, 1, &["exists", "nokey"]), Reply::Integer(0), "GETs create nothing");
        write(ks, 1, &["set", "one", "1"]);
        assert_eq!(field(ks, &["one", "get", "u1", "0"]), ints(&[Some(0)]));
        // Regression #3564.
        assert_eq!(
            field(ks, &["m", "SET", "i8", "0", "10", "SET", "i8", "64", "10", "INCRBY", "i8", "10", "99900"]),
            ints(&[Some(0), Some(0), Some(60)])
        );
        assert_eq!(
            field(ks, &["big", "set", "i64", "0", "-1", "get", "u63", "0", "get", "i64", "0"]),
            ints(&[Some(0), Some(i64::MAX), Some(-1)])
        );
    }

    #[test]
    fn overflows() {
        let ks = &mut Keyspace::new();
        field(ks, &["w", "set", "u8", "#0", "100"]);
        assert_eq!(field(ks, &["w", "overflow", "wrap", "incrby", "u8", "#0", "257"]), ints(&[Some(101)]));
        assert_eq!(field(ks, &["w", "overflow", "wrap", "incrby", "u8", "#0", "255"]), ints(&[Some(100)]));
        assert_eq!(field(ks, &["w", "overflow", "sat", "incrby", "u8", "#0", "257"]), ints(&[Some(255)]));
        assert_eq!(field(ks, &["w", "overflow", "sat", "incrby", "u8", "#0", "-300"]), ints(&[Some(0)]));
        assert_eq!(field(ks, &["w", "overflow", "sat", "incrby", "i8", "#0", "257"]), ints(&[Some(127)]));
        assert_eq!(field(ks, &["w", "overflow", "sat", "incrby", "i8", "#0", "-255"]), ints(&[Some(-128)]));
        assert_eq!(
            field(ks, &["s", "set", "i8", "#0", "100", "overflow", "wrap", "incrby", "i8", "#0", "257"]),
            ints(&[Some(0), Some(101)])
        );
        assert_eq!(
            field(ks, &["f", "overflow", "fail", "incrby", "u2", "0", "4", "get", "u2", "0"]),
            ints(&[None, Some(0)])
        );
        assert_eq!(
            field(ks, &["f", "overflow", "fail", "set", "i4", "0", "8", "set", "i4", "0", "7"]),
            ints(&[None, Some(0)])
        );
        assert_eq!(
            field(ks, &["sat", "overflow", "sat", "set", "u8", "0", "-1", "get", "u8", "0"]),
            ints(&[Some(0), Some(255)])
        );
        assert_eq!(
            field(ks, &["i64", "set", "i64", "0", "9223372036854775807", "incrby", "i64", "0", "1"]),
            ints(&[Some(0), Some(i64::MIN)])
        );
        assert_eq!(field(ks, &["i64", "overflow", "fail", "incrby", "i64", "0", "-1"]), ints(&[None]));
    }

    /// The TCL suite's wrap fuzzing, checked against arbitrary-precision arithmetic.
    #[test]
    fn wrapping_matches_modular_arithmetic() {
        let mut rng = crate::rng::Rng::new(7);
        for _ in 0..2000 {
            let bits = 1 + rng.below(64) as u32;
            let signed = bits == 64 || rng.below(2) == 1;
            let range = 1i128 << bits;
            let min = if signed { -(range / 2) } else { 0 };
            let pick = |rng: &mut crate::rng::Rng| {
                let wide = min * 2 + (rng.next_u64() as i128 % (range * 2)).abs();
                wide.clamp(i64::MIN as i128, i64::MAX as i128) as i64
            };
            let (value, incr) = (pick(&mut rng), pick(&mut rng));
            let kind = format!("{}{bits}", if signed { "i" } else { "u" });
            let ks = &mut Keyspace::new();
            field(ks, &["k", "set", &kind, "0", &value.to_string()]);
            field(ks, &["k", "incrby", &kind, "0", &incr.to_string()]);
            let expected = ((value as i128 + incr as i128 - min).rem_euclid(range) + min) as i64;
            assert_eq!(field(ks, &["k", "get", &kind, "0"]), ints(&[Some(expected)]), "{kind} {value}+{incr}");
            // FAIL refuses exactly what does not fit.
            let fits = |n: i128| (min..min + range).contains(&n);
            let ks = &mut Keyspace::new();
            let set = field(ks, &["k", "overflow", "fail", "set", &kind, "0", &value.to_string()]);
            let incr_reply = field(ks, &["k", "overflow", "fail", "incrby", &kind, "0", &incr.to_string()]);
            let refused = set == ints(&[None]) || incr_reply == ints(&[None]);
            let overflow = !fits(value as i128) || !fits(value as i128 + incr as i128);
            assert_eq!(refused, overflow, "{kind} {value}+{incr}");
        }
    }

    #[test]
    fn errors() {
        let ks = &mut Keyspace::new();
        let kind = "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.";
        for bad in ["u64", "i65", "I8", "x8", "i0", "i", "u-1"] {
            assert_eq!(field(ks, &["k", "get", bad, "0"]), error(kind), "{bad}");
        }
        assert_eq!(field(ks, &["k", "overflow", "x"]), error("ERR Invalid OVERFLOW type specified"));
        assert_eq!(field(ks, &["k", "overflow"]), error("ERR syntax error"));
        assert_eq!(field(ks, &["k", "get", "i8"]), error("ERR syntax error"));
        assert_eq!(field(ks, &["k", "nope", "i8", "0"]), error("ERR syntax error"));
        assert_eq!(
            field(ks, &["k", "set", "i8", "#-1", "1"]),
            error("ERR bit offset is not an integer or out of range")
        );
        assert_eq!(field(ks, &["k", "set", "i8", "0", "x"]), error("ERR value is not an integer or out of range"));
        write(ks, 1, &["hset", "h", "f", "v"]);
        assert_eq!(field(ks, &["h", "get", "i8", "0"]), error(Error::WRONG_TYPE.as_str()));
        assert_eq!(
            field(ks, &["h", "get", "i8", "x"]),
            error("ERR bit offset is not an integer or out of range"),
            "arguments first"
        );
        assert_eq!(read(ks, 1, &["exists", "k"]), Reply::Integer(0));
    }

    #[test]
    fn versions_follow_changes() {
        let ks = &mut Keyspace::new();
        let version = |ks: &Keyspace| ks.db(0).get(b"k", 0).unwrap().version;
        write(ks, 10, &["bitfield", "k", "set", "i5", "0", "0"]);
        assert_eq!(version(ks), 10, "created");
        write(ks, 11, &["bitfield", "k", "set", "i5", "0", "0"]);
        assert_eq!(version(ks), 10, "no change");
        write(ks, 12, &["bitfield", "k", "set", "i5", "0", "1"]);
        assert_eq!(version(ks), 12);
        write(ks, 13, &["bitfield", "k", "set", "i5", "90", "0"]);
        assert_eq!(version(ks), 13, "grew");
        write(ks, 14, &["bitfield", "k", "overflow", "fail", "incrby", "u2", "0", "9"]);
        assert_eq!(version(ks), 13, "refused");
    }
}
