//! XADD key [NOMKSTREAM] [MAXLEN | MINID [= | ~] threshold [LIMIT count]] * | id field value [field value ...]
//!
//! `*` takes the entry's leader-stamped time as the id's milliseconds, or, when the clock is
//! behind the last id (a new leader whose clock runs late), the next id after it: ids only grow.

use super::{parse_id, parse_trim, stream_at, Trim};
use crate::commands::prelude::*;
use crate::keyspace::stream::{AddError, NewId, StreamValue};

pub const SPEC: CommandSpec = CommandSpec {
    name: "xadd",
    arity: -5,
    flags: &["write", "denyoom", "fast"],
    first_key: 1,
    last_key: 1,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["RW", "update"], begin_index: 1, last_key: 0, key_step: 1 }],
    acl_categories: &["@write", "@stream", "@fast"],
    tips: &["nondeterministic_output"],
    group: "stream",
    since: "5.0.0",
    complexity: "O(1) when adding a new entry, O(N) when trimming where N being the number of entries evicted.",
    summary: "Appends a new entry to a stream",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct XAdd {
    key: Bytes,
    no_mkstream: bool,
    trim: Option<Trim>,
    id: NewId,
    fields: Vec<Bytes>,
}

impl Command for XAdd {
    /// The new entry's id; `None` under NOMKSTREAM when there is no stream.
    type Output = Option<Bytes>;

    fn parse(args: &mut Args) -> Result<Self> {
        let all = args.rest();
        let mut no_mkstream = false;
        let (trim, at) = parse_trim(&all, 1, true, &mut no_mkstream)?;
        let id_arg = all.get(at).ok_or_else(|| Error::wrong_arity("xadd"))?;
        let fields = all[at + 1..].to_vec();
        if fields.len() < 2 || !fields.len().is_multiple_of(2) {
            return Err(Error::wrong_arity("xadd"));
        }
        let id = if &id_arg[..] == b"*" {
            NewId::Auto
        } else if let Some(ms) = id_arg.strip_suffix(b"-*").filter(|ms| !ms.contains(&b'-')) {
            NewId::AutoSeq(parse_id(ms, 0, true)?.ms)
        } else {
            let id = parse_id(id_arg, 0, true)?;
            if id.is_zero() {
                return Err(Error::err("The ID specified in XADD must be greater than 0-0"));
            }
            NewId::Explicit(id)
        };
        Ok(XAdd { key: all[0].clone(), no_mkstream, trim, id, fields })
    }

    fn reply(id: Option<Bytes>) -> Reply {
        id.map_or(Reply::Nil, Reply::Bulk)
    }
}

impl WriteCommand for XAdd {
    fn write(&self, keyspace: &mut Keyspace, ctx: &WriteCtx) -> Result<Option<Bytes>> {
        let (db, encodings) = keyspace.db_and_encodings(ctx.db);
        let id = match stream_at(db, &self.key, ctx.now_ms)? {
            None if self.no_mkstream => return Ok(None),
            None => StreamValue::new().next_id(self.id, ctx.now_ms),
            Some(stream) if stream.last_id == crate::keyspace::stream::StreamId::MAX => Err(AddError::Exhausted),
            Some(stream) => stream.next_id(self.id, ctx.now_ms),
        };
        let id = id.map_err(|error| match error {
            AddError::Exhausted => {
                Error::err("The stream has exhausted the last possible ID, unable to add more items")
            }
            AddError::NotAboveLast => {
                Error::err("The ID specified in XADD is equal or smaller than the target stream top item")
            }
        })?;
        let stream = value_or_create::<StreamValue>(db, &self.key, ctx.now_ms, ctx.index)?;
        let fields = self.fields.iter().map(Blob::from).collect();
        stream.append(id, fields, encodings.stream_node_limits());
        let trimmed = self.trim.as_ref().is_some_and(|trim| trim.apply(stream, encodings) > 0);
        keyspace.notify(EventClass::STREAM, "xadd", ctx.db, &self.key);
        if trimmed {
            keyspace.notify(EventClass::STREAM, "xtrim", ctx.db, &self.key);
        }
        Ok(Some(id.to_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use crate::commands::testing::*;
    use crate::keyspace::Keyspace;
    use crate::reply::Reply;

    #[test]
    fn ids_come_from_the_entry_time_and_only_grow() {
        let ks = &mut Keyspace::new();
        assert_eq!(write(ks, 100, &["xadd", "s", "*", "f", "v"]), bulk("100-0"));
        assert_eq!(write(ks, 100, &["xadd", "s", "*", "f", "v"]), bulk("100-1"));
        assert_eq!(write(ks, 90, &["xadd", "s", "*", "f", "v"]), bulk("100-2"), "a clock behind the last id");
        assert_eq!(write(ks, 101, &["xadd", "s", "100-*", "f", "v"]), bulk("100-3"));
        assert_eq!(write(ks, 101, &["xadd", "s", "200-5", "f", "v"]), bulk("200-5"));
        assert_eq!(
            write(ks, 101, &["xadd", "s", "200-5", "f", "v"]),
            error("ERR The ID specified in XADD is equal or smaller than the target stream top item")
        );
        assert_eq!(
            write(ks, 101, &["xadd", "n", "0-0", "f", "v"]),
            error("ERR The ID specified in XADD must be greater than 0-0")
        );
        assert_eq!(write(ks, 101, &["xadd", "n", "0-*", "f", "v"]), bulk("0-1"));
        assert_eq!(read(ks, 101, &["xlen", "s"]), Reply::Integer(5));
    }

    #[test]
    fn options_and_errors_follow_redis() {
        let ks = &mut Keyspace::new();
        assert_eq!(write(ks, 1, &["xadd", "s", "nomkstream", "*", "f", "v"]), Reply::Nil);
        assert_eq!(read(ks, 1, &["exists", "s"]), Reply::Integer(0));
        assert_eq!(write(ks, 1, &["xadd", "s", "*", "f"]), error("ERR wrong number of arguments for 'xadd' command"));
        assert_eq!(
            write(ks, 1, &["xadd", "s", "bad", "f", "v"]),
            error("ERR Invalid stream ID specified as stream command argument")
        );
        assert_eq!(
            write(ks, 1, &["xadd", "s", "maxlen", "-1", "*", "f", "v"]),
            error("ERR The MAXLEN argument must be >= 0.")
        );
        assert_eq!(
            write(ks, 1, &["xadd", "s", "maxlen", "5", "limit", "10", "*", "f", "v"]),
            error("ERR syntax error, LIMIT cannot be used without the special ~ option")
        );
        for at in 1..=10 {
            write(ks, at, &["xadd", "s", "maxlen", "3", "*", "f", "v"]);
        }
        assert_eq!(read(ks, 10, &["xlen", "s"]), Reply::Integer(3));
        write(ks, 11, &["xadd", "s", "minid", "9", "*", "f", "v"]);
        assert_eq!(read(ks, 11, &["xlen", "s"]), Reply::Integer(3), "9-0, 10-0 and 11-0");
        write(ks, 12, &["set", "str", "v"]);
        assert_eq!(
            write(ks, 12, &["xadd", "str", "*", "f", "v"]),
            error("WRONGTYPE Operation against a key holding the wrong kind of value")
        );
    }
}
