//! PFDEBUG subcommand key

use super::pfcount::hll_at;
use crate::commands::prelude::*;
use crate::hyperloglog::{self, Encoding, REGISTERS};

pub const SPEC: CommandSpec = CommandSpec {
    name: "pfdebug",
    arity: 3,
    flags: &["write", "denyoom", "admin"],
    first_key: 2,
    last_key: 2,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["RW", "access"], begin_index: 2, last_key: 0, key_step: 1 }],
    acl_categories: &["@write", "@hyperloglog", "@admin", "@slow", "@dangerous"],
    tips: &[],
    group: "hyperloglog",
    since: "2.8.9",
    complexity: "N/A",
    summary: "Internal commands for debugging HyperLogLog values",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct PfDebug {
    subcommand: Bytes,
    key: Bytes,
}

pub enum PfDebugOutput {
    /// GETREG: every register (the value is made dense first).
    Registers(Box<[u8; REGISTERS]>),
    /// DECODE: the sparse opcodes as text.
    Decoded(String),
    /// ENCODING.
    Encoding(Encoding),
    /// TODENSE: whether it was sparse.
    Converted(bool),
}

impl Command for PfDebug {
    type Output = PfDebugOutput;

    fn parse(args: &mut Args) -> Result<Self> {
        Ok(PfDebug { subcommand: args.next_arg()?, key: args.next_arg()? })
    }

    fn reply(output: PfDebugOutput) -> Reply {
        match output {
            PfDebugOutput::Registers(registers) => {
                Reply::Array(registers.iter().map(|value| Reply::Integer((*value).into())).collect())
            }
            PfDebugOutput::Decoded(text) => Reply::bulk_text(text),
            PfDebugOutput::Encoding(encoding) => Reply::status(encoding.name()),
            PfDebugOutput::Converted(converted) => Reply::Integer(converted.into()),
        }
    }
}

impl WriteCommand for PfDebug {
    fn write(&self, keyspace: &mut Keyspace, ctx: &WriteCtx) -> Result<PfDebugOutput> {
        let db = keyspace.db_mut(ctx.db);
        let encoding = match hll_at(db, &self.key, ctx.now_ms)? {
            None => return Err(Error::err("The specified key does not exist")),
            Some(hll) => hyperloglog::encoding(hll)?,
        };
        let sub = &self.subcommand;
        if is(sub, "GETREG") || is(sub, "TODENSE") {
            let converted = encoding == Encoding::Sparse && {
                let (blob, version) = value_mut::<Blob>(db, &self.key, ctx.now_ms)?.expect("checked above");
                let outcome = hyperloglog::to_dense(blob.make_mut());
                blob.settle();
                outcome?;
                *version = ctx.index;
                true
            };
            if is(sub, "TODENSE") {
                return Ok(PfDebugOutput::Converted(converted));
            }
        }
        let hll = hll_at(db, &self.key, ctx.now_ms)?.expect("checked above");
        Ok(match () {
            _ if is(sub, "GETREG") => PfDebugOutput::Registers(hyperloglog::registers(hll)?),
            _ if is(sub, "ENCODING") => PfDebugOutput::Encoding(encoding),
            _ if is(sub, "DECODE") => {
                if encoding != Encoding::Sparse {
                    return Err(Error::err("HLL encoding is not sparse"));
                }
                let text = hyperloglog::decode(hll, STRING_BYTES_MAX).ok_or(Error::STRING_TOO_LONG)?;
                PfDebugOutput::Decoded(text)
            }
            _ => return Err(Error::err(format_args!("Unknown PFDEBUG subcommand '{}'", String::from_utf8_lossy(sub)))),
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::commands::testing::*;
    use crate::keyspace::Keyspace;
    use crate::reply::Reply;

    #[test]
    fn subcommands() {
        let ks = &mut Keyspace::new();
        write(ks, 1, &["pfadd", "hll", "a", "b", "c"]);
        assert_eq!(write(ks, 2, &["pfdebug", "encoding", "hll"]), Reply::status("sparse"));
        assert_eq!(write(ks, 2, &["pfdebug", "decode", "hll"]), bulk("Z:8436 v:1,1 Z:4274 v:2,1 Z:3068 v:1,1 Z:603"));
        let Reply::Array(registers) = write(ks, 3, &["pfdebug", "GETREG", "hll"]) else { panic!("an array") };
        assert_eq!(registers.len(), 16384);
        assert_eq!(registers.iter().filter(|value| **value != Reply::Integer(0)).count(), 3);
        assert_eq!(write(ks, 4, &["pfdebug", "encoding", "hll"]), Reply::status("dense"), "GETREG converts");
        assert_eq!(ks.db(0).get(b"hll", 0).unwrap().version, 3);
        assert_eq!(write(ks, 4, &["pfdebug", "decode", "hll"]), error("ERR HLL encoding is not sparse"));
        assert_eq!(write(ks, 4, &["pfdebug", "todense", "hll"]), Reply::Integer(0));
        write(ks, 5, &["pfadd", "s", "x"]);
        assert_eq!(write(ks, 5, &["pfdebug", "todense", "s"]), Reply::Integer(1));
        assert_eq!(write(ks, 5, &["pfcount", "s"]), Reply::Integer(1));
        assert_eq!(write(ks, 5, &["pfdebug", "nope", "s"]), error("ERR Unknown PFDEBUG subcommand 'nope'"));
        assert_eq!(write(ks, 5, &["pfdebug", "nope", "missing"]), error("ERR The specified key does not exist"));
        write(ks, 5, &["set", "str", "x"]);
        assert_eq!(
            write(ks, 5, &["pfdebug", "encoding", "str"]),
            error("WRONGTYPE Key is not a valid HyperLogLog string value.")
        );
        write(ks, 5, &["pfadd", "bad", "a"]);
        write(ks, 5, &["append", "bad", "hello"]);
        assert_eq!(write(ks, 6, &["pfdebug", "todense", "bad"]), error("INVALIDOBJ Corrupted HLL object detected"));
    }
}
