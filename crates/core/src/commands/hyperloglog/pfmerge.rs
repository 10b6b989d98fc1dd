//! PFMERGE destkey [sourcekey [sourcekey ...]]

use super::pfcount::hll_at;
use crate::commands::prelude::*;
use crate::hyperloglog::{self, Encoding, REGISTERS};

pub const SPEC: CommandSpec = CommandSpec {
    name: "pfmerge",
    arity: -2,
    flags: &["write", "denyoom"],
    first_key: 1,
    last_key: -1,
    key_step: 1,
    key_specs: &[
        KeySpec { flags: &["RW", "access", "insert"], begin_index: 1, last_key: 0, key_step: 1 },
        KeySpec { flags: &["RO", "access"], begin_index: 2, last_key: -1, key_step: 1 },
    ],
    acl_categories: &["@write", "@hyperloglog", "@slow"],
    tips: &[],
    group: "hyperloglog",
    since: "2.8.9",
    complexity: "O(N) to merge N HyperLogLogs, but with high constant times.",
    summary: "Merge N different HyperLogLogs into a single one.",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct PfMerge {
    dest: Bytes,
    sources: Vec<Bytes>,
}

impl Command for PfMerge {
    type Output = ();

    fn parse(args: &mut Args) -> Result<Self> {
        Ok(PfMerge { dest: args.next_arg()?, sources: args.rest() })
    }

    fn reply(_: ()) -> Reply {
        Reply::OK
    }
}

impl WriteCommand for PfMerge {
    fn write(&self, keyspace: &mut Keyspace, ctx: &WriteCtx) -> Result<()> {
        let db = keyspace.db_mut(ctx.db);
        // The destination's own registers count too; one dense input makes the result dense.
        let mut max = Box::new([0u8; REGISTERS]);
        let mut dense = false;
        for key in std::iter::once(&self.dest).chain(&self.sources) {
            if let Some(hll) = hll_at(db, key, ctx.now_ms)? {
                dense |= hyperloglog::encoding(hll)? == Encoding::Dense;
                hyperloglog::merge_into(&mut max, hll)?;
            }
        }
        match value_mut::<Blob>(db, &self.dest, ctx.now_ms)? {
            None => {
                let mut hll = hyperloglog::empty();
                hyperloglog::store(&mut hll, &max, dense)?;
                db.insert(&self.dest, Value::Str(build_blob(|bytes| *bytes = hll)), None, ctx.index);
            }
            Some((blob, version)) => {
                let outcome = hyperloglog::store(blob.make_mut(), &max, dense);
                blob.settle();
                *version = ctx.index;
                outcome?;
            }
        }
        // PFADD, as Redis names it: a merge adds many elements at once.
        keyspace.notify(EventClass::STRING, "pfadd", ctx.db, &self.dest);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::commands::testing::*;
    use crate::keyspace::Keyspace;
    use crate::reply::Reply;

    #[test]
    fn merges_into_the_destination() {
        let ks = &mut Keyspace::new();
        write(ks, 1, &["pfadd", "a", "a", "b", "c"]);
        write(ks, 1, &["pfadd", "b", "b", "c", "d"]);
        write(ks, 1, &["pfadd", "c", "c", "d", "e"]);
        assert_eq!(write(ks, 2, &["pfmerge", "m", "a", "b", "c", "missing"]), Reply::OK);
        assert_eq!(write(ks, 2, &["pfcount", "m"]), Reply::Integer(5));
        assert_eq!(write(ks, 3, &["pfmerge", "a", "b"]), Reply::OK);
        assert_eq!(write(ks, 3, &["pfcount", "a"]), Reply::Integer(4));
        assert_eq!(write(ks, 4, &["pfmerge", "empty"]), Reply::OK);
        assert_eq!(read(ks, 4, &["get", "empty"]), read(ks, 4, &["get", "empty"]));
        assert_eq!(write(ks, 4, &["pfcount", "empty"]), Reply::Integer(0));
        assert_eq!(ks.db(0).get(b"a", 0).unwrap().version, 3);
        // A dense source makes the destination dense.
        write(ks, 5, &["pfdebug", "todense", "b"]);
        write(ks, 6, &["pfmerge", "m", "b"]);
        assert_eq!(read(ks, 6, &["strlen", "m"]), Reply::Integer(12304));
        assert_eq!(write(ks, 6, &["pfcount", "m"]), Reply::Integer(5));
    }

    #[test]
    fn type_errors() {
        let ks = &mut Keyspace::new();
        write(ks, 1, &["set", "foo", "bar"]);
        let not_hll = "WRONGTYPE Key is not a valid HyperLogLog string value.";
        assert_eq!(write(ks, 1, &["pfmerge", "bar", "foo"]), error(not_hll));
        assert_eq!(write(ks, 1, &["pfmerge", "foo", "bar"]), error(not_hll));
        assert_eq!(read(ks, 1, &["exists", "bar"]), Reply::Integer(0));
        write(ks, 1, &["pfadd", "bad", "a"]);
        write(ks, 1, &["append", "bad", "hello"]);
        assert_eq!(write(ks, 1, &["pfmerge", "dest", "bad"]), error("INVALIDOBJ Corrupted HLL object detected"));
    }
}
