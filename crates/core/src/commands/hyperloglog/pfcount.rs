//! PFCOUNT key [key ...]

use crate::commands::prelude::*;
use crate::hyperloglog::{self, REGISTERS};

pub const SPEC: CommandSpec = CommandSpec {
    name: "pfcount",
    arity: -2,
    flags: &["readonly", "may_replicate"],
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

impl PfCount {
    /// The estimate of several keys' union: nothing is stored.
    fn count_union(&self, db: &Db, now_ms: TimeMs) -> Result<u64> {
        let mut max = Box::new([0u8; REGISTERS]);
        for key in &self.keys {
            if let Some(hll) = hll_at(db, key, now_ms)? {
                hyperloglog::merge_into(&mut max, hll)?;
            }
        }
        Ok(hyperloglog::count_registers(&max))
    }
}

impl WriteCommand for PfCount {
    /// One key: its cached estimate, or the estimate computed and then cached in the value's
    /// header, as Redis does (a write, through the log, so every replica caches the same).
    /// Several: the estimate of their union.
    fn write(&self, keyspace: &mut Keyspace, ctx: &WriteCtx) -> Result<u64> {
        let db = keyspace.db_mut(ctx.db);
        let [key] = &self.keys[..] else {
            return self.count_union(db, ctx.now_ms);
        };
        let Some((blob, version)) = value_mut::<Blob>(db, key, ctx.now_ms)? else {
            return Ok(0);
        };
        hyperloglog::encoding(blob)?;
        if let Some(cached) = hyperloglog::cached_count(blob) {
            return Ok(cached);
        }
        let count = hyperloglog::count(blob)?;
        hyperloglog::store_count(blob.make_mut(), count);
        blob.settle();
        *version = ctx.index;
        Ok(count)
    }
}

impl MayChangeNothing for PfCount {
    /// Unchanged unless one key's cache is stale: most PFCOUNTs cost a read.
    fn reply_if_unchanged(&self, keyspace: &Keyspace, db: DbIndex, now_ms: TimeMs) -> Option<Reply> {
        let db = keyspace.db(db);
        let count = match &self.keys[..] {
            [key] => match hll_at(db, key, now_ms).ok()? {
                None => 0,
                Some(hll) => hyperloglog::cached_count(hll)?,
            },
            _ => self.count_union(db, now_ms).ok()?,
        };
        Some(Self::reply(count))
    }
}

#[cfg(test)]
mod tests {
    use crate::commands::testing::*;
    use crate::keyspace::Keyspace;
    use crate::reply::Reply;

    #[test]
    fn counts_one_key_caching_the_estimate_or_a_union_without_changing_anything() {
        let ks = &mut Keyspace::new();
        assert_eq!(write(ks, 1, &["pfcount", "missing"]), Reply::Integer(0));
        write(ks, 1, &["pfadd", "a", "1", "2", "3", "4", "5"]);
        write(ks, 1, &["pfadd", "b", "4", "5", "6"]);
        let stale_byte = |ks: &mut Keyspace| read(ks, 1, &["getrange", "a", "15", "15"]);
        assert_eq!(stale_byte(ks), Reply::Bulk(bytes::Bytes::from_static(b"\x80")), "PFADD leaves the cache stale");
        let before = read(ks, 1, &["get", "b"]);
        assert_eq!(write(ks, 2, &["pfcount", "a", "b", "missing"]), Reply::Integer(6));
        assert_eq!(read(ks, 1, &["get", "b"]), before, "a union caches nothing");
        assert_eq!(write(ks, 3, &["pfcount", "a"]), Reply::Integer(5));
        assert_eq!(stale_byte(ks), Reply::Bulk(bytes::Bytes::from_static(b"\x00")), "cached, as Redis does");
        assert_eq!(ks.db(0).get(b"a", 3).unwrap().version, 3, "a cached estimate is a change WATCH sees");
        assert_eq!(write(ks, 4, &["pfcount", "a", "a"]), Reply::Integer(5));
        write(ks, 5, &["pfadd", "a", "6"]);
        assert_eq!(stale_byte(ks), Reply::Bulk(bytes::Bytes::from_static(b"\x80")));
        assert_eq!(write(ks, 6, &["pfcount", "a"]), Reply::Integer(6));
    }

    #[test]
    fn type_and_corruption_errors() {
        let ks = &mut Keyspace::new();
        write(ks, 1, &["set", "s", "bar"]);
        write(ks, 1, &["hset", "h", "f", "v"]);
        let not_hll = "WRONGTYPE Key is not a valid HyperLogLog string value.";
        assert_eq!(write(ks, 1, &["pfcount", "s"]), error(not_hll));
        assert_eq!(write(ks, 1, &["pfcount", "missing", "s"]), error(not_hll));
        assert_eq!(write(ks, 1, &["pfcount", "h"]), error(crate::error::Error::WRONG_TYPE.as_str()));
        write(ks, 1, &["pfadd", "hll", "a", "b", "c"]);
        write(ks, 1, &["append", "hll", "hello"]);
        assert_eq!(write(ks, 1, &["pfcount", "hll"]), error("INVALIDOBJ Corrupted HLL object detected"));
        assert_eq!(write(ks, 1, &["pfcount", "hll", "missing"]), error("INVALIDOBJ Corrupted HLL object detected"));
        write(ks, 1, &["pfadd", "hll2", "a"]);
        write(ks, 1, &["setrange", "hll2", "4", "\x00"]);
        assert_eq!(write(ks, 1, &["pfcount", "hll2"]), error(not_hll), "dense of the wrong length");
    }
}
