//! XDEL key id [id ...]

use super::{parse_id, stream_mut};
use crate::commands::prelude::*;
use crate::keyspace::stream::StreamId;

pub const SPEC: CommandSpec = CommandSpec {
    name: "xdel",
    arity: -3,
    flags: &["write", "fast"],
    first_key: 1,
    last_key: 1,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["RW", "delete"], begin_index: 1, last_key: 0, key_step: 1 }],
    acl_categories: &["@write", "@stream", "@fast"],
    tips: &[],
    group: "stream",
    since: "5.0.0",
    complexity: "O(1) for each single item to delete in the stream, regardless of the stream size.",
    summary: "Removes the specified entries from the stream. Returns the number of items actually deleted, that may be different from the number of IDs passed in case certain IDs do not exist.",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct XDel {
    key: Bytes,
    ids: Vec<StreamId>,
}

impl Command for XDel {
    type Output = usize;

    fn parse(args: &mut Args) -> Result<Self> {
        let key = args.next_arg()?;
        // Every id is checked before any is deleted.
        let ids = args.rest().iter().map(|id| parse_id(id, 0, true)).collect::<Result<_>>()?;
        Ok(XDel { key, ids })
    }

    fn reply(deleted: usize) -> Reply {
        Reply::Integer(deleted as i64)
    }
}

impl WriteCommand for XDel {
    fn write(&self, keyspace: &mut Keyspace, ctx: &WriteCtx) -> Result<usize> {
        let db = keyspace.db_mut(ctx.db);
        let Some(stream) = super::stream_at(db, &self.key, ctx.now_ms)? else {
            return Ok(0);
        };
        if !self.ids.iter().any(|id| stream.contains(*id)) {
            return Ok(0);
        }
        let stream = stream_mut(db, &self.key, ctx.now_ms, ctx.index)?.expect("looked up above");
        let deleted = self.ids.iter().filter(|id| stream.delete(**id)).count();
        if deleted > 0 {
            keyspace.notify(EventClass::STREAM, "xdel", ctx.db, &self.key);
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
    fn deletes_the_entries_there_and_keeps_the_stream() {
        let ks = &mut Keyspace::new();
        write(ks, 1, &["xadd", "s", "1-1", "f", "v"]);
        write(ks, 1, &["xadd", "s", "1-2", "f", "v"]);
        assert_eq!(write(ks, 2, &["xdel", "s", "1-1", "1-1", "9-9"]), Reply::Integer(1));
        assert_eq!(
            write(ks, 2, &["xdel", "s", "1-2", "bad"]),
            error("ERR Invalid stream ID specified as stream command argument")
        );
        assert_eq!(write(ks, 2, &["xdel", "s", "1-2"]), Reply::Integer(1));
        assert_eq!(read(ks, 2, &["xlen", "s"]), Reply::Integer(0));
        assert_eq!(read(ks, 2, &["exists", "s"]), Reply::Integer(1), "an empty stream stays");
    }
}
