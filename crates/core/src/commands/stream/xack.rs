//! XACK key group id [id ...]

use super::{parse_id, stream_at, stream_mut};
use crate::commands::prelude::*;
use crate::keyspace::stream::StreamId;

pub const SPEC: CommandSpec = CommandSpec {
    name: "xack",
    arity: -4,
    flags: &["write", "fast"],
    first_key: 1,
    last_key: 1,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["RW", "update"], begin_index: 1, last_key: 0, key_step: 1 }],
    acl_categories: &["@write", "@stream", "@fast"],
    tips: &[],
    group: "stream",
    since: "5.0.0",
    complexity: "O(1) for each message ID processed.",
    summary: "Marks a pending message as correctly processed, effectively removing it from the pending entries list of the consumer group. Return value of the command is the number of messages successfully acknowledged, that is, the IDs we were actually able to resolve in the PEL.",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct XAck {
    key: Bytes,
    group: Bytes,
    ids: Vec<StreamId>,
}

impl Command for XAck {
    type Output = usize;

    fn parse(args: &mut Args) -> Result<Self> {
        let (key, group) = (args.next_arg()?, args.next_arg()?);
        let ids = args.rest().iter().map(|id| parse_id(id, 0, true)).collect::<Result<_>>()?;
        Ok(XAck { key, group, ids })
    }

    fn reply(acknowledged: usize) -> Reply {
        Reply::Integer(acknowledged as i64)
    }
}

impl WriteCommand for XAck {
    fn write(&self, keyspace: &mut Keyspace, ctx: &WriteCtx) -> Result<usize> {
        let db = keyspace.db_mut(ctx.db);
        let pending = |id: &StreamId| {
            stream_at(db, &self.key, ctx.now_ms)
                .ok()
                .flatten()
                .and_then(|stream| stream.groups.get(&self.group[..]))
                .is_some_and(|group| group.pending.contains_key(id))
        };
        stream_at(db, &self.key, ctx.now_ms)?;
        if !self.ids.iter().any(pending) {
            return Ok(0);
        }
        let stream = stream_mut(db, &self.key, ctx.now_ms, ctx.index)?.expect("looked up above");
        let group = super::group_of(stream, &self.group);
        Ok(self.ids.iter().filter(|id| group.acknowledge(**id)).count())
    }
}
