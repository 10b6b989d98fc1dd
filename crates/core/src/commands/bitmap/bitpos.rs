//! BITPOS key bit [start [end [BYTE | BIT]]]

use super::bitcount::{bit_range, byte_mask, Unit};
use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "bitpos",
    arity: -3,
    flags: &["readonly"],
    first_key: 1,
    last_key: 1,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["RO", "access"], begin_index: 1, last_key: 0, key_step: 1 }],
    acl_categories: &["@read", "@bitmap", "@slow"],
    tips: &[],
    group: "bitmap",
    since: "2.8.7",
    complexity: "O(N)",
    summary: "Find first bit set or clear in a string",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

/// The first bit equal to `bit` from bit `first` to bit `last`, inclusive (within `bytes`).
pub fn find_bit(bytes: &[u8], first: u64, last: u64, bit: u8) -> Option<u64> {
    // Searching for a zero is searching for a one in the complement.
    let flip = if bit == 1 { 0 } else { 0xff };
    let (first_byte, last_byte) = ((first >> 3) as usize, (last >> 3) as usize);
    let in_byte = |at: usize, mask: u8| {
        let ones = (bytes[at] ^ flip) & mask;
        (ones != 0).then(|| at as u64 * 8 + u64::from(ones.leading_zeros()))
    };
    if first_byte == last_byte {
        return in_byte(first_byte, byte_mask(first, last));
    }
    if let Some(found) = in_byte(first_byte, byte_mask(first, 7)) {
        return Some(found);
    }
    let middle = &bytes[first_byte + 1..last_byte];
    let skip = u64::from_ne_bytes([flip; 8]);
    let mut words = middle.chunks_exact(8);
    let mut at = first_byte + 1;
    for word in &mut words {
        if u64::from_ne_bytes(word.try_into().expect("eight")) != skip {
            break;
        }
        at += 8;
    }
    if let Some(offset) = bytes[at..last_byte].iter().position(|byte| *byte != flip) {
        return in_byte(at + offset, 0xff);
    }
    in_byte(last_byte, byte_mask(0, last))
}

/// The range after the bit, kept to be read once the key is known to hold a string.
#[derive(Clone, Debug, PartialEq)]
struct Range {
    start: i64,
    /// `None`: to the end of the string, which then counts as followed by zeros.
    end: Option<i64>,
    unit: Unit,
}

pub struct BitPos {
    key: Bytes,
    bit: u8,
    /// Redis 7.0 answers a missing key and WRONGTYPE before it looks at the range.
    range: Result<Range>,
}

fn parse_range(args: &mut Args) -> Result<Range> {
    let rest = args.rest();
    let number = |arg: &Bytes| parse_i64(arg).ok_or(Error::NOT_INTEGER);
    match rest.len() {
        0 => Ok(Range { start: 0, end: None, unit: Unit::Byte }),
        // Read in Redis's order: start, then the unit, then the end.
        1..=3 => {
            let start = number(&rest[0])?;
            let unit = rest.get(2).map_or(Ok(Unit::Byte), |arg| Unit::parse(arg))?;
            let end = rest.get(1).map(number).transpose()?;
            Ok(Range { start, end, unit })
        }
        _ => Err(Error::SYNTAX),
    }
}

impl Command for BitPos {
    type Output = i64;

    fn parse(args: &mut Args) -> Result<Self> {
        let key = args.next_arg()?;
        let bit = match args.next_i64()? {
            bit @ (0 | 1) => bit as u8,
            _ => return Err(Error::err("The bit argument must be 1 or 0.")),
        };
        Ok(BitPos { key, bit, range: parse_range(args) })
    }

    fn reply(position: i64) -> Reply {
        Reply::Integer(position)
    }
}

impl ReadCommand for BitPos {
    fn read(&self, keyspace: &Keyspace, ctx: &mut ReadCtx) -> Result<i64> {
        // A missing key is an endless run of zeros.
        let Some(value) = string_at(keyspace.db(ctx.db), &self.key, ctx.now_ms)? else {
            return Ok(if self.bit == 1 { -1 } else { 0 });
        };
        let range = self.range.clone()?;
        let Some((first, last)) = bit_range(value.len(), range.start, range.end.unwrap_or(-1), range.unit) else {
            return Ok(-1);
        };
        Ok(match find_bit(value, first, last, self.bit) {
            Some(position) => position as i64,
            // No zero up to the end of the string: the first one after it, unless the range
            // had an explicit end.
            None if self.bit == 0 && range.end.is_none() => last as i64 + 1,
            None => -1,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::testing::*;
    use proptest::prelude::*;

    fn pos(ks: &Keyspace, words: &[&str]) -> Reply {
        read(ks, 1, &[&["bitpos"], words].concat())
    }

    fn set(ks: &mut Keyspace, key: &str, value: &[u8]) {
        write_bytes(ks, 1, &[b"set", key.as_bytes(), value]);
    }

    #[test]
    fn positions_like_redis() {
        let ks = &mut Keyspace::new();
        let int = Reply::Integer;
        assert_eq!(pos(ks, &["missing", "0"]), int(0));
        assert_eq!(pos(ks, &["missing", "1"]), int(-1));
        assert_eq!(pos(ks, &["missing", "0", "x", "y", "z", "w"]), int(0), "a missing key is answered first");
        set(ks, "e", b"");
        assert_eq!(pos(ks, &["e", "0"]), int(-1));
        assert_eq!(pos(ks, &["e", "1"]), int(-1));
        set(ks, "s", b"\xff\xf0\x00");
        assert_eq!(pos(ks, &["s", "0"]), int(12));
        assert_eq!(pos(ks, &["s", "0", "1", "-1", "bit"]), int(12));
        set(ks, "s", b"\x00\xff\x00");
        assert_eq!(pos(ks, &["s", "0", "1", "-1"]), int(16));
        assert_eq!(pos(ks, &["s", "0", "2", "200"]), int(16));
        assert_eq!(pos(ks, &["s", "0", "1", "1"]), int(-1));
        assert_eq!(pos(ks, &["s", "0", "8", "8", "bit"]), int(-1));
        assert_eq!(pos(ks, &["s", "1", "2", "-1"]), int(-1));
        assert_eq!(pos(ks, &["s", "1", "8", "8", "bit"]), int(8));
        set(ks, "s", b"\xff\xff\xff");
        assert_eq!(pos(ks, &["s", "0"]), int(24));
        assert_eq!(pos(ks, &["s", "0", "0"]), int(24));
        assert_eq!(pos(ks, &["s", "0", "0", "-1"]), int(-1), "an explicit end stops at the string");
        assert_eq!(pos(ks, &["s", "0", "5"]), int(-1), "start past the end");
        let mut long = vec![0xffu8; 27];
        long.push(0x0f);
        set(ks, "s", &long);
        for start in ["1", "2", "3", "8"] {
            assert_eq!(pos(ks, &["s", "0", start]), int(216));
        }
        assert_eq!(pos(ks, &["s", "0", "65", "-1", "bit"]), int(216));
    }

    #[test]
    fn errors() {
        let ks = &mut Keyspace::new();
        set(ks, "s", b"foobar");
        assert_eq!(pos(ks, &["s", "2"]), error("ERR The bit argument must be 1 or 0."));
        assert_eq!(pos(ks, &["s", "a"]), error("ERR value is not an integer or out of range"));
        assert_eq!(pos(ks, &["missing", "2"]), error("ERR The bit argument must be 1 or 0."));
        assert_eq!(pos(ks, &["s", "0", "a", "b", "c", "d"]), error("ERR syntax error"));
        assert_eq!(pos(ks, &["s", "0", "0", "1", "x"]), error("ERR syntax error"));
        assert_eq!(pos(ks, &["s", "0", "0", "x", "bit"]), error("ERR value is not an integer or out of range"));
        assert_eq!(pos(ks, &["s", "0", "x", "1", "bad"]), error("ERR value is not an integer or out of range"));
        write(ks, 1, &["hset", "h", "f", "v"]);
        assert_eq!(pos(ks, &["h", "1", "x"]), error(Error::WRONG_TYPE.as_str()));
    }

    fn naive(bytes: &[u8], first: u64, last: u64, bit: u8) -> Option<u64> {
        (first..=last).find(|at| (bytes[(at >> 3) as usize] >> (7 - (at & 7))) & 1 == bit)
    }

    proptest! {
        #[test]
        fn finding_matches_bit_by_bit(
            bytes in proptest::collection::vec(prop_oneof![Just(0u8), Just(0xffu8), any::<u8>()], 1..80),
            a in any::<u16>(),
            b in any::<u16>(),
            bit in 0u8..2,
        ) {
            let bits = bytes.len() as u64 * 8;
            let (first, last) = ((a as u64 % bits).min(b as u64 % bits), (a as u64 % bits).max(b as u64 % bits));
            prop_assert_eq!(find_bit(&bytes, first, last, bit), naive(&bytes, first, last, bit));
        }
    }
}
