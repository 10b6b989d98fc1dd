//! PFADD key [element [element ...]]

use crate::commands::prelude::*;
use crate::hyperloglog;

pub const SPEC: CommandSpec = CommandSpec {
    name: "pfadd",
    arity: -2,
    flags: &["write", "denyoom", "fast"],
    first_key: 1,
    last_key: 1,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["RW", "insert"], begin_index: 1, last_key: 0, key_step: 1 }],
    acl_categories: &["@write", "@hyperloglog", "@fast"],
    tips: &[],
    group: "hyperloglog",
    since: "2.8.9",
    complexity: "O(1) to add every element.",
    summary: "Adds the specified elements to the specified HyperLogLog.",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct PfAdd {
    key: Bytes,
    elements: Vec<Bytes>,
}

impl Command for PfAdd {
    type Output = bool;

    fn parse(args: &mut Args) -> Result<Self> {
        Ok(PfAdd { key: args.next_arg()?, elements: args.rest() })
    }

    fn reply(updated: bool) -> Reply {
        Reply::Integer(updated.into())
    }
}

impl WriteCommand for PfAdd {
    /// True if the key was created or a register grew.
    fn write(&self, keyspace: &mut Keyspace, ctx: &WriteCtx) -> Result<bool> {
        let db = keyspace.db_mut(ctx.db);
        let elements = self.elements.iter().map(|element| &element[..]);
        let Some((blob, version)) = value_mut::<Blob>(db, &self.key, ctx.now_ms)? else {
            let mut hll = hyperloglog::empty();
            hyperloglog::add_all(&mut hll, elements)?;
            hyperloglog::invalidate_cache(&mut hll);
            db.insert(&self.key, Value::Str(build_blob(|bytes| *bytes = hll)), None, ctx.index);
            keyspace.notify(EventClass::STRING, "pfadd", ctx.db, &self.key);
            return Ok(true);
        };
        hyperloglog::encoding(blob)?;
        let outcome = hyperloglog::add_all(blob.make_mut(), elements);
        blob.settle();
        // A corrupted value may have changed before the damage was found (as in Redis).
        if !matches!(outcome, Ok(false)) {
            *version = ctx.index;
        }
        if matches!(outcome, Ok(true)) {
            keyspace.notify(EventClass::STRING, "pfadd", ctx.db, &self.key);
        }
        Ok(outcome?)
    }
}

#[cfg(test)]
mod tests {
    use crate::commands::testing::*;
    use crate::keyspace::Keyspace;
    use crate::reply::Reply;
    use bytes::Bytes;

    #[test]
    fn adds_and_reports_changes() {
        let ks = &mut Keyspace::new();
        assert_eq!(write(ks, 1, &["pfadd", "hll"]), Reply::Integer(1), "created");
        assert_eq!(read(ks, 1, &["exists", "hll"]), Reply::Integer(1));
        assert_eq!(
            read(ks, 1, &["get", "hll"]),
            Reply::Bulk(Bytes::from_static(b"HYLL\x01\0\0\0\0\0\0\0\0\0\0\x80\x7f\xff"))
        );
        assert_eq!(write(ks, 1, &["pfcount", "hll"]), Reply::Integer(0));
        assert_eq!(write(ks, 2, &["pfadd", "hll", "a", "b", "c"]), Reply::Integer(1));
        assert_eq!(write(ks, 3, &["pfadd", "hll", "a", "b", "c"]), Reply::Integer(0));
        assert_eq!(write(ks, 4, &["pfadd", "hll"]), Reply::Integer(0));
        assert_eq!(ks.db(0).get(b"hll", 0).unwrap().version, 2, "unchanged since");
        assert_eq!(write(ks, 5, &["pfadd", "hll", ""]), Reply::Integer(1));
        assert_eq!(write(ks, 5, &["pfcount", "hll"]), Reply::Integer(4));
    }

    #[test]
    fn the_value_is_redis_s() {
        let ks = &mut Keyspace::new();
        write(ks, 1, &["pfadd", "k", "a", "b", "c"]);
        let expected = b"HYLL\x01\0\0\0\0\0\0\0\0\0\0\x80\x60\xf3\x80\x50\xb1\x84\x4b\xfb\x80\x42\x5a";
        assert_eq!(read(ks, 1, &["get", "k"]), Reply::Bulk(Bytes::from_static(expected)));
        // Promoted to dense past 3000 bytes, as Redis with its default hll-sparse-max-bytes.
        let elements: Vec<String> = (0..3000).map(|i| format!("e{i}")).collect();
        let mut words = vec!["pfadd", "k"];
        words.extend(elements.iter().map(String::as_str));
        write(ks, 2, &words);
        assert_eq!(read(ks, 2, &["strlen", "k"]), Reply::Integer(12304));
    }

    #[test]
    fn errors() {
        let ks = &mut Keyspace::new();
        write(ks, 1, &["set", "s", "bar"]);
        assert_eq!(write(ks, 1, &["pfadd", "s", "1"]), error("WRONGTYPE Key is not a valid HyperLogLog string value."));
        write(ks, 1, &["hset", "h", "f", "v"]);
        assert_eq!(write(ks, 1, &["pfadd", "h", "1"]), error(crate::error::Error::WRONG_TYPE.as_str()));
        assert_eq!(write(ks, 1, &["pfadd"]), error("ERR wrong number of arguments for 'pfadd' command"));
        // A sparse value cut short: the damage is found when an element lands past its end.
        write_bytes(ks, 1, &[b"set", b"bad", b"HYLL\x01\0\0\0\0\0\0\0\0\0\0\x80\x7f"]);
        let elements: Vec<String> = (0..1000).map(|i| i.to_string()).collect();
        let mut words = vec!["pfadd", "bad"];
        words.extend(elements.iter().map(String::as_str));
        assert_eq!(write(ks, 2, &words), error("INVALIDOBJ Corrupted HLL object detected"));
        assert_eq!(ks.db(0).get(b"bad", 0).unwrap().version, 2, "what was added before stays");
    }
}
