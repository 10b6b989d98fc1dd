//! BITFIELD_RO key [GET encoding offset [GET encoding offset ...]]

use super::bitfield::{get_all, parse_ops, reply_of, Action, FieldOp};
use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "bitfield_ro",
    arity: -2,
    flags: &["readonly", "fast"],
    first_key: 1,
    last_key: 1,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["RO", "access"], begin_index: 1, last_key: 0, key_step: 1 }],
    acl_categories: &["@read", "@bitmap", "@fast"],
    tips: &[],
    group: "bitmap",
    since: "6.0.0",
    complexity: "O(1) for each subcommand specified",
    summary: "Perform arbitrary bitfield integer operations on strings. Read-only variant of BITFIELD",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct BitFieldRo {
    key: Bytes,
    ops: Vec<FieldOp>,
}

impl Command for BitFieldRo {
    type Output = Vec<Option<i64>>;

    fn parse(args: &mut Args) -> Result<Self> {
        let key = args.next_arg()?;
        // BITFIELD's subcommands are all read first; only then are writes refused.
        let ops = parse_ops(args)?;
        if ops.iter().any(|op| op.action != Action::Get) {
            return Err(Error::err("BITFIELD_RO only supports the GET subcommand"));
        }
        Ok(BitFieldRo { key, ops })
    }

    fn reply(results: Vec<Option<i64>>) -> Reply {
        reply_of(results)
    }
}

impl ReadCommand for BitFieldRo {
    fn read(&self, keyspace: &Keyspace, ctx: &mut ReadCtx) -> Result<Vec<Option<i64>>> {
        let value = string_at(keyspace.db(ctx.db), &self.key, ctx.now_ms)?.map_or(&[][..], |value| value.as_slice());
        Ok(get_all(&self.ops, value))
    }
}

#[cfg(test)]
mod tests {
    use crate::commands::testing::*;
    use crate::keyspace::Keyspace;
    use crate::reply::Reply;

    #[test]
    fn gets_only() {
        let ks = &mut Keyspace::new();
        write(ks, 1, &["bitfield", "bits", "set", "u8", "0", "255", "set", "u8", "0", "100"]);
        assert_eq!(
            read(ks, 1, &["bitfield_ro", "bits", "get", "u8", "0", "GET", "i4", "#1"]),
            Reply::Array(vec![Reply::Integer(100), Reply::Integer(4)])
        );
        assert_eq!(read(ks, 1, &["bitfield_ro", "bits"]), Reply::Array(vec![]));
        assert_eq!(read(ks, 1, &["bitfield_ro", "missing", "get", "u8", "0"]), Reply::Array(vec![Reply::Integer(0)]));
        assert_eq!(
            read(ks, 1, &["bitfield_ro", "bits", "set", "u8", "0", "100", "get", "u8", "0"]),
            error("ERR BITFIELD_RO only supports the GET subcommand")
        );
        assert_eq!(
            read(ks, 1, &["bitfield_ro", "bits", "set", "u8", "0", "100", "get", "u4", "x"]),
            error("ERR bit offset is not an integer or out of range")
        );
        write(ks, 1, &["hset", "h", "f", "v"]);
        assert_eq!(read(ks, 1, &["bitfield_ro", "h"]), error(crate::error::Error::WRONG_TYPE.as_str()));
    }
}
