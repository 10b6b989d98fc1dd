//! PFCOUNT key [key ...]

use crate::commands::prelude::*;
use crate::hyperloglog::{self, REGISTERS};

pub const SPEC: CommandSpec = CommandSpec {
    name: "pfcount",
    arity: -2,
    flags: &["readonly"],
    first_key: 1,
    last_key: -1,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["RW", "access"], begin_index: 1, last_key: -1, key_step: 1 }],
    acl_categories: &["@read", "@hyperloglog", "@slow"],
    tips: &[],
    group: "hyperloglog",
    since: "2.8.9",
    complexity: "O(1) with a very small average constant time when called with a single key. O(N) with N being the number of keys, and much bigger constant times, when called with multiple keys.",
    summary: "Return the approximated cardinality of the set(s) observed by the HyperLogLog at key(s).",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

/// The HyperLogLog at `key`, if any: WRONGTYPE for a key of another type, and Redis's "not a
/// valid HyperLogLog" WRONGTYPE for a string that is not one.
pub fn hll_at<'a>(db: &'a Db, key: &[u8], now_ms: TimeMs) -> Result<Option<&'a Blob>> {
    let Some(value) = string_at(db, key, now_ms)? else {
        return Ok(None);
    };
    hyperloglog::encoding(value)?;
    Ok(Some(value))
}

pub struct PfCount {
    keys: Vec<Bytes>,
}

impl Command for PfCount {
    type Output = u64;

    fn parse(args: &mut Args) -> Result<Self> {
        Ok(PfCount { keys: args.rest() })
    }

    fn reply(count: u64) -> Reply {
        Reply::Integer(count as i64)
    }
}

impl ReadCommand for PfCount {
    /// One key: its estimate, computed but never stored (a read leaves the value as it is on
    /// every replica; see `core::hyperloglog`). Several: the estimate of their union.
    fn read(&self, keyspace: &Keyspace, ctx: &mut ReadCtx) -> Result<u64> {
        let db = keyspace.db(ctx.db);
        if let [key] = &self.keys[..] {
            return match hll_at(db, key, ctx.now_ms)? {
                None => Ok(0),
                Some(hll) => Ok(hyperloglog::count(hll)?),
            };
        }
        let mut max = Box::new([0u8; REGISTERS]);
        for key in &self.keys {
            if let Some(hll) = hll_at(db, key, ctx.now_ms)? {
                hyperloglog::merge_into(&mut max, hll)?;
            }
        }
        Ok(hyperloglog::count_registers(&max))
    }
}

#[cfg(test)]
mod tests {
    use crate::commands::testing::*;
    use crate::keyspace::Keyspace;
    use crate::reply::Reply;

    #[test]
    fn counts_one_key_or_a_union_without_changing_anything() {
        let ks = &mut Keyspace::new();
        assert_eq!(read(ks, 1, &["pfcount", "missing"]), Reply::Integer(0));
        write(ks, 1, &["pfadd", "a", "1", "2", "3", "4", "5"]);
        write(ks, 1, &["pfadd", "b", "4", "5", "6"]);
        let before = read(ks, 1, &["get", "a"]);
        assert_eq!(read(ks, 1, &["pfcount", "a"]), Reply::Integer(5));
        assert_eq!(read(ks, 1, &["get", "a"]), before, "the cache is not written by a read");
        assert_eq!(read(ks, 1, &["pfcount", "a", "b", "missing"]), Reply::Integer(6));
        assert_eq!(read(ks, 1, &["pfcount", "a", "a"]), Reply::Integer(5));
    }

    #[test]
    fn type_and_corruption_errors() {
        let ks = &mut Keyspace::new();
        write(ks, 1, &["set", "s", "bar"]);
        write(ks, 1, &["hset", "h", "f", "v"]);
        let not_hll = "WRONGTYPE Key is not a valid HyperLogLog string value.";
        assert_eq!(read(ks, 1, &["pfcount", "s"]), error(not_hll));
        assert_eq!(read(ks, 1, &["pfcount", "missing", "s"]), error(not_hll));
        assert_eq!(read(ks, 1, &["pfcount", "h"]), error(crate::error::Error::WRONG_TYPE.as_str()));
        write(ks, 1, &["pfadd", "hll", "a", "b", "c"]);
        write(ks, 1, &["append", "hll", "hello"]);
        assert_eq!(read(ks, 1, &["pfcount", "hll"]), error("INVALIDOBJ Corrupted HLL object detected"));
        assert_eq!(read(ks, 1, &["pfcount", "hll", "missing"]), error("INVALIDOBJ Corrupted HLL object detected"));
        write(ks, 1, &["pfadd", "hll2", "a"]);
        write(ks, 1, &["setrange", "hll2", "4", "\x00"]);
        assert_eq!(read(ks, 1, &["pfcount", "hll2"]), error(not_hll), "dense of the wrong length");
    }
}
