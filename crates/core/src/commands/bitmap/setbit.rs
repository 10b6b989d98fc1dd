//! SETBIT key offset value

use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "setbit",
    arity: 4,
    flags: &["write", "denyoom"],
    first_key: 1,
    last_key: 1,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["RW", "access", "update"], begin_index: 1, last_key: 0, key_step: 1 }],
    acl_categories: &["@write", "@bitmap", "@slow"],
    tips: &[],
    group: "bitmap",
    since: "2.2.0",
    complexity: "O(1)",
    summary: "Sets or clears the bit at offset in the string value stored at key",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub const BIT_OFFSET_ERROR: Error = Error::fixed("ERR bit offset is not an integer or out of range");

/// Redis's `getBitOffsetFromArgument`: a bit offset below the largest string's bit count; with
/// `width`, `#<n>` means the n-th field of that many bits (BITFIELD).
pub fn parse_bit_offset(arg: &[u8], width: Option<u32>) -> Result<u64> {
    let (digits, width) = match (arg.first(), width) {
        (Some(b'#'), Some(width)) => (&arg[1..], i64::from(width)),
        _ => (arg, 1),
    };
    let offset = parse_i64(digits).and_then(|n| n.checked_mul(width)).ok_or(BIT_OFFSET_ERROR)?;
    if offset < 0 || (offset >> 3) as u64 >= STRING_BYTES_MAX as u64 {
        return Err(BIT_OFFSET_ERROR);
    }
    Ok(offset as u64)
}

/// The bit at `offset` (bit 0 is the most significant bit of the first byte); zero past the end.
pub fn bit_at(bytes: &[u8], offset: u64) -> u8 {
    bytes.get((offset >> 3) as usize).map_or(0, |byte| (byte >> (7 - (offset & 7))) & 1)
}

/// Redis's `lookupStringForBitCommand`: the string at `key` made long enough to address bit
/// `max_bit` (created, or padded with zero bytes), for changing in place, with its version;
/// true if it was created or grew. WRONGTYPE if the key holds something else.
pub fn bits_mut<'a>(
    db: &'a mut Db,
    key: &[u8],
    ctx: &WriteCtx,
    max_bit: u64,
) -> Result<(&'a mut Blob, &'a mut u64, bool)> {
    let len = (max_bit >> 3) as usize + 1;
    let grew = match value_mut::<Blob>(db, key, ctx.now_ms)? {
        None => {
            db.insert(key, Value::Str(build_blob(|bytes| bytes.resize(len, 0))), None, ctx.index);
            true
        }
        Some((blob, _)) if blob.len() < len => {
            blob.make_mut().resize(len, 0);
            true
        }
        Some(_) => false,
    };
    let (blob, version) = value_mut::<Blob>(db, key, ctx.now_ms)?.expect("just made sure it exists");
    Ok((blob, version, grew))
}

pub struct SetBit {
    key: Bytes,
    offset: u64,
    value: u8,
}

impl Command for SetBit {
    type Output = u8;

    fn parse(args: &mut Args) -> Result<Self> {
        let key = args.next_arg()?;
        let offset = parse_bit_offset(&args.next_arg()?, None)?;
        let value = match parse_i64(&args.next_arg()?) {
            Some(value @ (0 | 1)) => value as u8,
            _ => return Err(Error::err("bit is not an integer or out of range")),
        };
        Ok(SetBit { key, offset, value })
    }

    fn reply(previous: u8) -> Reply {
        Reply::Integer(previous.into())
    }
}

impl WriteCommand for SetBit {
    fn write(&self, keyspace: &mut Keyspace, ctx: &WriteCtx) -> Result<u8> {
        let db = keyspace.db_mut(ctx.db);
        // Nothing to change: no copy of the string, no new version.
        if let Some(current) = string_at(db, &self.key, ctx.now_ms)? {
            if ((self.offset >> 3) as usize) < current.len() && bit_at(current, self.offset) == self.value {
                return Ok(self.value);
            }
        }
        let (blob, version, _) = bits_mut(db, &self.key, ctx, self.offset)?;
        let previous = bit_at(blob, self.offset);
        let byte = &mut blob.make_mut()[(self.offset >> 3) as usize];
        let mask = 0x80 >> (self.offset & 7);
        *byte = if self.value == 1 { *byte | mask } else { *byte & !mask };
        blob.settle();
        *version = ctx.index;
        keyspace.notify(EventClass::STRING, "setbit", ctx.db, &self.key);
        Ok(previous)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::testing::*;

    const T: u64 = 1000;

    #[test]
    fn sets_and_clears_bits_growing_the_string() {
        let ks = &mut Keyspace::new();
        assert_eq!(write(ks, T, &["setbit", "k", "7", "1"]), Reply::Integer(0));
        assert_eq!(read(ks, T, &["get", "k"]), bulk("\x01"));
        assert_eq!(write(ks, T, &["setbit", "k", "7", "1"]), Reply::Integer(1));
        assert_eq!(write(ks, T, &["setbit", "k", "0", "1"]), Reply::Integer(0));
        assert_eq!(write(ks, T, &["setbit", "k", "7", "0"]), Reply::Integer(1));
        assert_eq!(read(ks, T, &["get", "k"]), Reply::Bulk(Bytes::from_static(b"\x80")));
        assert_eq!(write(ks, T, &["setbit", "k", "17", "0"]), Reply::Integer(0));
        assert_eq!(read(ks, T, &["strlen", "k"]), Reply::Integer(3), "clearing past the end still pads");
        // Repeated SETBIT on a long string changes it in place.
        for bit in 0..2000 {
            write(ks, T, &["setbit", "long", &(bit * 3).to_string(), "1"]);
        }
        assert_eq!(read(ks, T, &["bitcount", "long"]), Reply::Integer(2000));
    }

    #[test]
    fn versions_change_only_with_the_value() {
        let ks = &mut Keyspace::new();
        write(ks, 10, &["setbit", "k", "3", "1"]);
        let version = |ks: &Keyspace| ks.db(0).get(b"k", 0).unwrap().version;
        assert_eq!(version(ks), 10);
        write(ks, 11, &["setbit", "k", "3", "1"]);
        write(ks, 12, &["setbit", "k", "4", "0"]);
        assert_eq!(version(ks), 10, "nothing changed");
        write(ks, 13, &["setbit", "k", "9", "0"]);
        assert_eq!(version(ks), 13, "the string grew");
    }

    #[test]
    fn errors() {
        let ks = &mut Keyspace::new();
        let offset = "ERR bit offset is not an integer or out of range";
        let bit = "ERR bit is not an integer or out of range";
        assert_eq!(write(ks, T, &["setbit", "k", "-1", "1"]), error(offset));
        assert_eq!(write(ks, T, &["setbit", "k", "x", "1"]), error(offset));
        assert_eq!(write(ks, T, &["setbit", "k", "4294967296", "1"]), error(offset));
        assert_eq!(write(ks, T, &["setbit", "k", "0", "2"]), error(bit));
        assert_eq!(write(ks, T, &["setbit", "k", "0", "-1"]), error(bit));
        assert_eq!(write(ks, T, &["setbit", "k", "0", "x"]), error(bit));
        assert_eq!(write(ks, T, &["setbit", "k", "1"]), error("ERR wrong number of arguments for 'setbit' command"));
        write(ks, T, &["hset", "h", "f", "v"]);
        assert_eq!(write(ks, T, &["setbit", "h", "0", "1"]), error(crate::error::Error::WRONG_TYPE.as_str()));
        assert_eq!(read(ks, T, &["exists", "k"]), Reply::Integer(0));
    }

    #[test]
    fn offsets() {
        assert_eq!(parse_bit_offset(b"4294967295", None), Ok(4_294_967_295));
        assert_eq!(parse_bit_offset(b"#2", None), Err(BIT_OFFSET_ERROR));
        assert_eq!(parse_bit_offset(b"#2", Some(8)), Ok(16));
        assert_eq!(parse_bit_offset(b"#-1", Some(8)), Err(BIT_OFFSET_ERROR));
        assert_eq!(parse_bit_offset(b"#536870912", Some(8)), Err(BIT_OFFSET_ERROR));
        assert_eq!(parse_bit_offset(b"#9223372036854775807", Some(2)), Err(BIT_OFFSET_ERROR));
        assert_eq!(parse_bit_offset(b"", None), Err(BIT_OFFSET_ERROR));
    }
}
