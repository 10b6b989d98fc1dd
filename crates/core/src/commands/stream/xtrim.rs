//! XTRIM key MAXLEN | MINID [= | ~] threshold [LIMIT count]

use super::{parse_trim, stream_mut, Trim};
use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "xtrim",
    arity: -4,
    flags: &["write"],
    first_key: 1,
    last_key: 1,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["RW", "delete"], begin_index: 1, last_key: 0, key_step: 1 }],
    acl_categories: &["@write", "@stream", "@slow"],
    tips: &["nondeterministic_output"],
    group: "stream",
    since: "5.0.0",
    complexity: "O(N), with N being the number of evicted entries. Constant times are very small however, since entries are organized in macro nodes containing multiple entries that can be released with a single deallocation.",
    summary: "Trims the stream to (approximately if '~' is passed) a certain size",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct XTrim {
    key: Bytes,
    trim: Trim,
}

impl Command for XTrim {
    type Output = u64;

    fn parse(args: &mut Args) -> Result<Self> {
        let all = args.rest();
        let (trim, _) = parse_trim(&all, 1, false, &mut false)?;
        Ok(XTrim { key: all[0].clone(), trim: trim.expect("XTRIM's options are checked to trim") })
    }

    fn reply(removed: u64) -> Reply {
        Reply::Integer(removed as i64)
    }
}

impl WriteCommand for XTrim {
    fn write(&self, keyspace: &mut Keyspace, ctx: &WriteCtx) -> Result<u64> {
        let (db, encodings) = keyspace.db_and_encodings(ctx.db);
        let deleted = match stream_mut(db, &self.key, ctx.now_ms, ctx.index)? {
            Some(stream) => self.trim.apply(stream, encodings),
            None => 0,
        };
        if deleted > 0 {
            keyspace.notify(EventClass::STREAM, "xtrim", ctx.db, &self.key);
        }
        Ok(deleted)
    }
}

#[cfg(test)]
mod tests {
    use crate::commands::testing::*;
    use crate::keyspace::Keyspace;
    use crate::reply::Reply;

    #[test]
    fn trims_exactly_or_by_whole_nodes() {
        let ks = &mut Keyspace::new();
        for at in 1..=1000 {
            write(ks, at, &["xadd", "s", "*", "f", "v"]);
        }
        assert_eq!(write(ks, 1001, &["xtrim", "s", "maxlen", "~", "555"]), Reply::Integer(400));
        assert_eq!(write(ks, 1001, &["xtrim", "s", "maxlen", "=", "555"]), Reply::Integer(45));
        assert_eq!(write(ks, 1001, &["xtrim", "s", "minid", "900"]), Reply::Integer(454));
        assert_eq!(read(ks, 1001, &["xlen", "s"]), Reply::Integer(101));
        assert_eq!(
            write(ks, 1001, &["xtrim", "s", "maxlen", "~", "0", "limit", "10"]),
            Reply::Integer(1),
            "the node holding only 900-0; the next is over the limit"
        );
        assert_eq!(write(ks, 1001, &["xtrim", "s"]), error("ERR wrong number of arguments for 'xtrim' command"));
        assert_eq!(write(ks, 1001, &["xtrim", "s", "foo", "1"]), error("ERR syntax error"));
    }
}
