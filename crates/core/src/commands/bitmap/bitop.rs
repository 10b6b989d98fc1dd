//! BITOP AND | OR | XOR | NOT destkey key [key ...]

use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "bitop",
    arity: -4,
    flags: &["write", "denyoom"],
    first_key: 2,
    last_key: -1,
    key_step: 1,
    key_specs: &[
        KeySpec { flags: &["OW", "update"], begin_index: 2, last_key: 0, key_step: 1 },
        KeySpec { flags: &["RO", "access"], begin_index: 3, last_key: -1, key_step: 1 },
    ],
    acl_categories: &["@write", "@bitmap", "@slow"],
    tips: &[],
    group: "bitmap",
    since: "2.6.0",
    complexity: "O(N)",
    summary: "Perform bitwise operations between strings",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    And,
    Or,
    Xor,
    Not,
}

pub struct BitOp {
    op: Op,
    dest: Bytes,
    sources: Vec<Bytes>,
}

impl Command for BitOp {
    type Output = usize;

    fn parse(args: &mut Args) -> Result<Self> {
        let name = args.next_arg()?;
        let op = match () {
            _ if is(&name, "AND") => Op::And,
            _ if is(&name, "OR") => Op::Or,
            _ if is(&name, "XOR") => Op::Xor,
            _ if is(&name, "NOT") => Op::Not,
            _ => return Err(Error::SYNTAX),
        };
        let dest = args.next_arg()?;
        let sources = args.rest();
        if op == Op::Not && sources.len() != 1 {
            return Err(Error::err("BITOP NOT must be called with a single source key."));
        }
        Ok(BitOp { op, dest, sources })
    }

    fn reply(length: usize) -> Reply {
        Reply::Integer(length as i64)
    }
}

/// The result of `op` over `sources` (missing ones are empty), the shorter ones padded with
/// zero bytes to the longest; empty if every source is.
pub fn combine(op: Op, sources: &[&[u8]]) -> Blob {
    build_blob(|out| {
        let len = sources.iter().map(|source| source.len()).max().unwrap_or(0);
        out.resize(len, 0);
        let Some((first, rest)) = sources.split_first() else { return };
        out[..first.len()].copy_from_slice(first);
        match op {
            Op::Not => out.iter_mut().for_each(|byte| *byte = !*byte),
            Op::And => {
                for source in rest {
                    out.iter_mut().zip(source.iter().chain(std::iter::repeat(&0))).for_each(|(o, s)| *o &= s);
                }
            }
            Op::Or => {
                for source in rest {
                    out.iter_mut().zip(source.iter()).for_each(|(o, s)| *o |= s);
                }
            }
            Op::Xor => {
                for source in rest {
                    out.iter_mut().zip(source.iter()).for_each(|(o, s)| *o ^= s);
                }
            }
        }
    })
}

impl WriteCommand for BitOp {
    fn write(&self, keyspace: &mut Keyspace, ctx: &WriteCtx) -> Result<usize> {
        let db = keyspace.db_mut(ctx.db);
        let result = {
            let mut sources = Vec::with_capacity(self.sources.len());
            for key in &self.sources {
                sources.push(string_at(db, key, ctx.now_ms)?.map_or(&[][..], |value| value.as_slice()));
            }
            combine(self.op, &sources)
        };
        let len = result.len();
        if len == 0 {
            // An empty result removes the destination.
            if db.remove(&self.dest).is_some() {
                keyspace.notify(EventClass::GENERIC, "del", ctx.db, &self.dest);
            }
        } else {
            db.insert(&self.dest, Value::Str(result), None, ctx.index);
            keyspace.notify(EventClass::STRING, "set", ctx.db, &self.dest);
        }
        Ok(len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::testing::*;

    fn bytes(text: &[u8]) -> Reply {
        Reply::Bulk(Bytes::copy_from_slice(text))
    }

    fn set(ks: &mut Keyspace, key: &str, value: &[u8]) {
        write_bytes(ks, 1, &[b"set", key.as_bytes(), value]);
    }

    #[test]
    fn operations_pad_shorter_strings_with_zeros() {
        let ks = &mut Keyspace::new();
        set(ks, "a", b"\x01\x02\xff\xff");
        set(ks, "b", b"\x01\x02\xff");
        assert_eq!(write(ks, 2, &["bitop", "and", "r1", "a", "b"]), Reply::Integer(4));
        assert_eq!(read(ks, 2, &["get", "r1"]), bytes(b"\x01\x02\xff\x00"));
        assert_eq!(write(ks, 2, &["bitop", "OR", "r2", "a", "b"]), Reply::Integer(4));
        assert_eq!(read(ks, 2, &["get", "r2"]), bytes(b"\x01\x02\xff\xff"));
        assert_eq!(write(ks, 2, &["bitop", "xor", "r3", "a", "b"]), Reply::Integer(4));
        assert_eq!(read(ks, 2, &["get", "r3"]), bytes(b"\x00\x00\x00\xff"));
        assert_eq!(write(ks, 2, &["bitop", "and", "r4", "missing", "b"]), Reply::Integer(3));
        assert_eq!(read(ks, 2, &["get", "r4"]), bytes(b"\x00\x00\x00"));
        set(ks, "n", b"\xaa\x00\xff\x55");
        assert_eq!(write(ks, 2, &["bitop", "not", "n", "n"]), Reply::Integer(4));
        assert_eq!(read(ks, 2, &["get", "n"]), bytes(b"\x55\xff\x00\xaa"));
        set(ks, "one", b"1");
        set(ks, "two", b"2");
        write(ks, 2, &["bitop", "xor", "d", "one", "two", "one"]);
        assert_eq!(read(ks, 2, &["get", "d"]), bulk("2"));
    }

    #[test]
    fn an_empty_result_removes_the_destination() {
        let ks = &mut Keyspace::new();
        set(ks, "dest", b"x");
        write(ks, 2, &["expire", "dest", "100"]);
        set(ks, "empty", b"");
        assert_eq!(write(ks, 3, &["bitop", "or", "dest", "empty", "missing"]), Reply::Integer(0));
        assert_eq!(read(ks, 3, &["exists", "dest"]), Reply::Integer(0));
        // A result replaces the destination, and its expiry.
        set(ks, "dest", b"x");
        write(ks, 4, &["expire", "dest", "100"]);
        write(ks, 5, &["bitop", "not", "dest", "dest"]);
        assert_eq!(read(ks, 5, &["ttl", "dest"]), Reply::Integer(-1));
        assert_eq!(ks.db(0).get(b"dest", 5).unwrap().version, 5);
    }

    #[test]
    fn errors() {
        let ks = &mut Keyspace::new();
        assert_eq!(write(ks, 1, &["bitop", "nand", "d", "a"]), error("ERR syntax error"));
        assert_eq!(
            write(ks, 1, &["bitop", "not", "d", "a", "b"]),
            error("ERR BITOP NOT must be called with a single source key.")
        );
        assert_eq!(write(ks, 1, &["bitop", "and", "d"]), error("ERR wrong number of arguments for 'bitop' command"));
        write(ks, 1, &["hset", "h", "f", "v"]);
        assert_eq!(write(ks, 1, &["bitop", "or", "d", "missing", "h"]), error(Error::WRONG_TYPE.as_str()));
        assert_eq!(read(ks, 1, &["exists", "d"]), Reply::Integer(0));
    }
}
