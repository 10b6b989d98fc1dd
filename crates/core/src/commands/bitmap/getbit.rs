//! GETBIT key offset

use super::setbit::{bit_at, parse_bit_offset};
use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "getbit",
    arity: 3,
    flags: &["readonly", "fast"],
    first_key: 1,
    last_key: 1,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["RO", "access"], begin_index: 1, last_key: 0, key_step: 1 }],
    acl_categories: &["@read", "@bitmap", "@fast"],
    tips: &[],
    group: "bitmap",
    since: "2.2.0",
    complexity: "O(1)",
    summary: "Returns the bit value at offset in the string value stored at key",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct GetBit {
    key: Bytes,
    offset: u64,
}

impl Command for GetBit {
    type Output = u8;

    fn parse(args: &mut Args) -> Result<Self> {
        let key = args.next_arg()?;
        Ok(GetBit { key, offset: parse_bit_offset(&args.next_arg()?, None)? })
    }

    fn reply(bit: u8) -> Reply {
        Reply::Integer(bit.into())
    }
}

impl ReadCommand for GetBit {
    fn read(&self, keyspace: &Keyspace, ctx: &mut ReadCtx) -> Result<u8> {
        Ok(string_at(keyspace.db(ctx.db), &self.key, ctx.now_ms)?.map_or(0, |value| bit_at(value, self.offset)))
    }
}

#[cfg(test)]
mod tests {
    use crate::commands::testing::*;
    use crate::keyspace::Keyspace;
    use crate::reply::Reply;

    #[test]
    fn reads_bits_and_zero_past_the_end() {
        let ks = &mut Keyspace::new();
        write(ks, 1, &["set", "k", "`"]);
        let bits: Vec<Reply> = (0..10).map(|at| read(ks, 1, &["getbit", "k", &at.to_string()])).collect();
        let expected: Vec<Reply> = [0, 1, 1, 0, 0, 0, 0, 0, 0, 0].into_iter().map(Reply::Integer).collect();
        assert_eq!(bits, expected);
        assert_eq!(read(ks, 1, &["getbit", "missing", "100"]), Reply::Integer(0));
        assert_eq!(read(ks, 1, &["getbit", "k", "-1"]), error("ERR bit offset is not an integer or out of range"));
        assert_eq!(read(ks, 1, &["getbit", "missing", "x"]), error("ERR bit offset is not an integer or out of range"));
        write(ks, 1, &["hset", "h", "f", "v"]);
        assert_eq!(read(ks, 1, &["getbit", "h", "0"]), error(crate::error::Error::WRONG_TYPE.as_str()));
    }
}
