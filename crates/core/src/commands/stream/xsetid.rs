//! XSETID key last-id [ENTRIESADDED entries-added] [MAXDELETEDID max-deleted-id]

use super::{parse_id, stream_mut};
use crate::commands::prelude::*;
use crate::keyspace::stream::StreamId;

pub const SPEC: CommandSpec = CommandSpec {
    name: "xsetid",
    arity: -3,
    flags: &["write", "denyoom", "fast"],
    first_key: 1,
    last_key: 1,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["RW", "update"], begin_index: 1, last_key: 0, key_step: 1 }],
    acl_categories: &["@write", "@stream", "@fast"],
    tips: &[],
    group: "stream",
    since: "5.0.0",
    complexity: "O(1)",
    summary: "An internal command for replicating stream values",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct XSetId {
    key: Bytes,
    last_id: StreamId,
    entries_added: Option<u64>,
    max_deleted_id: Option<StreamId>,
}

impl Command for XSetId {
    type Output = ();

    fn parse(args: &mut Args) -> Result<Self> {
        let key = args.next_arg()?;
        let last_id = parse_id(&args.next_arg()?, 0, true)?;
        let (mut entries_added, mut max_deleted_id) = (None, None);
        while !args.is_empty() {
            let option = args.next_arg()?;
            if is(&option, "entriesadded") && !args.is_empty() {
                let added = args.next_i64()?;
                if added < 0 {
                    return Err(Error::err("entries_added must be positive"));
                }
                entries_added = Some(added as u64);
            } else if is(&option, "maxdeletedid") && !args.is_empty() {
                let id = parse_id(&args.next_arg()?, 0, true)?;
                if last_id < id {
                    return Err(Error::err(
                        "The ID specified in XSETID is smaller than the provided max_deleted_entry_id",
                    ));
                }
                max_deleted_id = Some(id).filter(|id| !id.is_zero());
            } else {
                return Err(Error::SYNTAX);
            }
        }
        Ok(XSetId { key, last_id, entries_added, max_deleted_id })
    }

    fn reply(_: ()) -> Reply {
        Reply::OK
    }
}

impl WriteCommand for XSetId {
    fn write(&self, keyspace: &mut Keyspace, ctx: &WriteCtx) -> Result<()> {
        let db = keyspace.db_mut(ctx.db);
        let stream = super::stream_at(db, &self.key, ctx.now_ms)?.ok_or(Error::NO_SUCH_KEY)?;
        if let Some((top, _)) = stream.last_entry() {
            if self.last_id < top {
                return Err(Error::err("The ID specified in XSETID is smaller than the target stream top item"));
            }
            if self.entries_added.is_some_and(|added| added < stream.len() as u64) {
                return Err(Error::err(
                    "The entries_added specified in XSETID is smaller than the target stream length",
                ));
            }
        }
        let stream = stream_mut(db, &self.key, ctx.now_ms, ctx.index)?.expect("looked up above");
        stream.set_last_id(self.last_id, self.entries_added, self.max_deleted_id);
        keyspace.notify(EventClass::STREAM, "xsetid", ctx.db, &self.key);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::commands::testing::*;
    use crate::keyspace::Keyspace;
    use crate::reply::Reply;

    #[test]
    fn moves_the_last_id_up_only_past_the_top_entry() {
        let ks = &mut Keyspace::new();
        assert_eq!(write(ks, 1, &["xsetid", "s", "5-0"]), error("ERR no such key"));
        write(ks, 1, &["xadd", "s", "5-0", "f", "v"]);
        assert_eq!(
            write(ks, 1, &["xsetid", "s", "4-0"]),
            error("ERR The ID specified in XSETID is smaller than the target stream top item")
        );
        assert_eq!(write(ks, 1, &["xsetid", "s", "9-0", "entriesadded", "7", "maxdeletedid", "8-0"]), Reply::OK);
        assert_eq!(write(ks, 1, &["xadd", "s", "*", "f", "v"]), bulk("9-1"));
        assert_eq!(
            write(ks, 1, &["xsetid", "s", "10-0", "entriesadded", "1"]),
            error("ERR The entries_added specified in XSETID is smaller than the target stream length")
        );
    }
}
