//! BITCOUNT key [start end [BYTE | BIT]]

use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "bitcount",
    arity: -2,
    flags: &["readonly"],
    first_key: 1,
    last_key: 1,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["RO", "access"], begin_index: 1, last_key: 0, key_step: 1 }],
    acl_categories: &["@read", "@bitmap", "@slow"],
    tips: &[],
    group: "bitmap",
    since: "2.6.0",
    complexity: "O(N)",
    summary: "Count set bits in a string",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

/// What a range's indexes count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    Byte,
    Bit,
}

impl Unit {
    pub fn parse(arg: &[u8]) -> Result<Unit> {
        match () {
            _ if is(arg, "BYTE") => Ok(Unit::Byte),
            _ if is(arg, "BIT") => Ok(Unit::Bit),
            _ => Err(Error::SYNTAX),
        }
    }
}

/// Redis's reading of a `start end` range over a string of `len` bytes: negative indexes count
/// from the end, then both are clamped to the string. The first and last bit it covers,
/// inclusive, or `None` if it covers nothing.
pub fn bit_range(len: usize, start: i64, end: i64, unit: Unit) -> Option<(u64, u64)> {
    let total = match unit {
        Unit::Byte => len as i64,
        Unit::Bit => (len as i64) << 3,
    };
    let start = if start < 0 { (total + start).max(0) } else { start };
    let end = if end < 0 { (total + end).max(0) } else { end }.min(total - 1);
    if start > end {
        return None;
    }
    let (start, end) = (start as u64, end as u64);
    Some(match unit {
        Unit::Byte => (start * 8, end * 8 + 7),
        Unit::Bit => (start, end),
    })
}

/// The bits of byte `at` from bit `from` to bit `to` (0 is the most significant), as a mask.
pub fn byte_mask(from: u64, to: u64) -> u8 {
    (0xffu8 >> (from & 7)) & (0xffu8 << (7 - (to & 7)))
}

/// Set bits from bit `first` to bit `last`, inclusive (both within `bytes`).
pub fn count_ones(bytes: &[u8], first: u64, last: u64) -> u64 {
    let (first_byte, last_byte) = ((first >> 3) as usize, (last >> 3) as usize);
    if first_byte == last_byte {
        return u64::from((bytes[first_byte] & byte_mask(first, last)).count_ones());
    }
    let edges =
        (bytes[first_byte] & byte_mask(first, 7)).count_ones() + (bytes[last_byte] & byte_mask(0, last)).count_ones();
    u64::from(edges) + popcount(&bytes[first_byte + 1..last_byte])
}

/// Set bits in `bytes`, a word at a time.
fn popcount(bytes: &[u8]) -> u64 {
    let mut words = bytes.chunks_exact(8);
    let mut count: u64 =
        (&mut words).map(|word| u64::from(u64::from_ne_bytes(word.try_into().expect("eight")).count_ones())).sum();
    count += words.remainder().iter().map(|byte| u64::from(byte.count_ones())).sum::<u64>();
    count
}

/// A range as given, kept to be read once the key is known to hold a string.
#[derive(Clone, Debug, PartialEq)]
enum Range {
    Whole,
    /// Both indexes negative and `start > end`: Redis answers 0 before reading the unit.
    Empty,
    Span {
        start: i64,
        end: i64,
        unit: Unit,
    },
}

pub struct BitCount {
    key: Bytes,
    /// Redis 7.0 answers 0 for a missing key and WRONGTYPE before it looks at the range, so a
    /// bad range is only reported for a string.
    range: Result<Range>,
}

fn parse_range(args: &mut Args) -> Result<Range> {
    if args.is_empty() {
        return Ok(Range::Whole);
    }
    if !(2..=3).contains(&args.remaining()) {
        return Err(Error::SYNTAX);
    }
    let (start, end) = (args.next_i64()?, args.next_i64()?);
    if start < 0 && end < 0 && start > end {
        return Ok(Range::Empty);
    }
    let unit = if args.is_empty() { Unit::Byte } else { Unit::parse(&args.next_arg()?)? };
    Ok(Range::Span { start, end, unit })
}

impl Command for BitCount {
    type Output = u64;

    fn parse(args: &mut Args) -> Result<Self> {
        let key = args.next_arg()?;
        Ok(BitCount { key, range: parse_range(args) })
    }

    fn reply(count: u64) -> Reply {
        Reply::Integer(count as i64)
    }
}

impl ReadCommand for BitCount {
    fn read(&self, keyspace: &Keyspace, ctx: &mut ReadCtx) -> Result<u64> {
        let Some(value) = string_at(keyspace.db(ctx.db), &self.key, ctx.now_ms)? else {
            return Ok(0);
        };
        let range = match self.range.clone()? {
            Range::Whole => bit_range(value.len(), 0, -1, Unit::Byte),
            Range::Empty => None,
            Range::Span { start, end, unit } => bit_range(value.len(), start, end, unit),
        };
        Ok(range.map_or(0, |(first, last)| count_ones(value, first, last)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::testing::*;
    use proptest::prelude::*;

    fn count(ks: &Keyspace, words: &[&str]) -> Reply {
        read(ks, 1, &[&["bitcount"], words].concat())
    }

    #[test]
    fn counts_like_redis() {
        let ks = &mut Keyspace::new();
        write(ks, 1, &["set", "s", "foobar"]);
        let int = Reply::Integer;
        assert_eq!(count(ks, &["s"]), int(26));
        assert_eq!(count(ks, &["s", "0", "0"]), int(4));
        assert_eq!(count(ks, &["s", "1", "1"]), int(6));
        assert_eq!(count(ks, &["s", "1", "-2"]), int(18));
        assert_eq!(count(ks, &["s", "-2", "1"]), int(0));
        assert_eq!(count(ks, &["s", "0", "1000"]), int(26));
        assert_eq!(count(ks, &["s", "5", "30", "bit"]), int(17));
        assert_eq!(count(ks, &["s", "3", "-34", "BIT"]), int(7));
        assert_eq!(count(ks, &["s", "-6", "-15", "bit"]), int(0), "both negative, start after end");
        assert_eq!(count(ks, &["s", "-1", "-2", "nonsense"]), int(0), "answered before the unit is read");
        assert_eq!(count(ks, &["s", "0", "4294967296"]), int(26));
        assert_eq!(count(ks, &["missing", "0", "1000", "bit"]), int(0));
        assert_eq!(count(ks, &["missing", "x", "y", "z"]), int(0), "a missing key is 0 whatever the range");
        write(ks, 1, &["set", "e", ""]);
        assert_eq!(count(ks, &["e"]), int(0));
        assert_eq!(count(ks, &["e", "0", "-1", "bit"]), int(0));
        write(ks, 1, &["set", "str", "__PPxxxxxxxxxxxxxxxxRR__"]);
        assert_eq!(count(ks, &["str", "2", "-3"]), int(74));
    }

    #[test]
    fn errors_for_strings() {
        let ks = &mut Keyspace::new();
        write(ks, 1, &["set", "s", "foobar"]);
        assert_eq!(count(ks, &["s", "0"]), error("ERR syntax error"));
        assert_eq!(count(ks, &["s", "0", "1", "hello"]), error("ERR syntax error"));
        assert_eq!(count(ks, &["s", "0", "1", "bit", "x"]), error("ERR syntax error"));
        assert_eq!(count(ks, &["s", "a", "1"]), error("ERR value is not an integer or out of range"));
        write(ks, 1, &["hset", "h", "f", "v"]);
        assert_eq!(count(ks, &["h", "a"]), error(Error::WRONG_TYPE.as_str()));
        assert_eq!(read(ks, 1, &["bitcount"]), error("ERR wrong number of arguments for 'bitcount' command"));
    }

    fn naive(bytes: &[u8], first: u64, last: u64) -> u64 {
        (first..=last).filter(|bit| bytes[(bit >> 3) as usize] & (0x80 >> (bit & 7)) != 0).count() as u64
    }

    proptest! {
        #[test]
        fn counting_matches_bit_by_bit(bytes in proptest::collection::vec(any::<u8>(), 1..100), a in any::<u16>(), b in any::<u16>()) {
            let bits = bytes.len() as u64 * 8;
            let (first, last) = ((a as u64 % bits).min(b as u64 % bits), (a as u64 % bits).max(b as u64 % bits));
            prop_assert_eq!(count_ones(&bytes, first, last), naive(&bytes, first, last));
        }

        #[test]
        fn ranges_stay_within_the_string(len in 0usize..50, start in any::<i64>(), end in any::<i64>(), bit in any::<bool>()) {
            let unit = if bit { Unit::Bit } else { Unit::Byte };
            if let Some((first, last)) = bit_range(len, start, end, unit) {
                prop_assert!(first <= last && last < len as u64 * 8);
            }
        }
    }
}
