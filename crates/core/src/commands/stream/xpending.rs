//! XPENDING key group [[IDLE min-idle-time] start end count [consumer]]

use super::{parse_interval, stream_at, text};
use crate::commands::prelude::*;
use crate::keyspace::stream::StreamId;

pub const SPEC: CommandSpec = CommandSpec {
    name: "xpending",
    arity: -3,
    flags: &["readonly"],
    first_key: 1,
    last_key: 1,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["RO", "access"], begin_index: 1, last_key: 0, key_step: 1 }],
    acl_categories: &["@read", "@stream", "@slow"],
    tips: &["nondeterministic_output"],
    group: "stream",
    since: "5.0.0",
    complexity: "O(N) with N being the number of elements returned, so asking for a small fixed number of entries per call is O(1). O(M), where M is the total number of entries scanned when used with the IDLE filter. When the command returns just the summary and the list of consumers is small, it runs in O(1) time; otherwise, an additional O(N) time for iterating every consumer.",
    summary: "Return information and entries from a stream consumer group pending entries list, that are messages fetched but never acknowledged.",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

struct Extended {
    min_idle_ms: i64,
    start: StreamId,
    end: StreamId,
    count: usize,
    consumer: Option<Bytes>,
}

pub struct XPending {
    key: Bytes,
    group: Bytes,
    /// `None`: the summary form.
    extended: Option<Extended>,
}

impl Command for XPending {
    type Output = Reply;

    fn parse(args: &mut Args) -> Result<Self> {
        let all = args.rest();
        if all.len() != 2 && !(5..=8).contains(&all.len()) {
            return Err(Error::SYNTAX);
        }
        let extended = if all.len() >= 5 {
            let mut at = 2;
            let mut min_idle_ms = 0;
            if is(&all[2], "idle") {
                min_idle_ms = parse_i64(&all[3]).ok_or(Error::NOT_INTEGER)?;
                if all.len() < 7 {
                    return Err(Error::SYNTAX);
                }
                at += 2;
            }
            let count = parse_i64(&all[at + 2]).ok_or(Error::NOT_INTEGER)?.max(0) as usize;
            let (start, end) = parse_interval(&all[at], &all[at + 1])?;
            Some(Extended { min_idle_ms, start, end, count, consumer: all.get(at + 3).cloned() })
        } else {
            None
        };
        Ok(XPending { key: all[0].clone(), group: all[1].clone(), extended })
    }

    fn reply(reply: Reply) -> Reply {
        reply
    }
}

impl ReadCommand for XPending {
    fn read(&self, keyspace: &Keyspace, ctx: &mut ReadCtx) -> Result<Reply> {
        let stream = stream_at(keyspace.db(ctx.db), &self.key, ctx.now_ms)?;
        let Some(group) = stream.and_then(|stream| stream.groups.get(&self.group[..])) else {
            return Err(Error::new(format!(
                "NOGROUP No such key '{}' or consumer group '{}'",
                text(&self.key),
                text(&self.group)
            )));
        };
        let Some(extended) = &self.extended else {
            let (Some(first), Some(last)) = (group.pending.keys().next(), group.pending.keys().next_back()) else {
                return Ok(Reply::Array(vec![Reply::Integer(0), Reply::Nil, Reply::Nil, Reply::NilArray]));
            };
            let consumers = group
                .consumers
                .iter()
                .filter(|(_, consumer)| !consumer.pending.is_empty())
                .map(|(name, consumer)| {
                    Reply::Array(vec![Reply::Bulk(bytes_of(name)), Reply::Bulk(text_of(consumer.pending.len() as i64))])
                })
                .collect();
            return Ok(Reply::Array(vec![
                Reply::Integer(group.pending.len() as i64),
                Reply::Bulk(first.to_bytes()),
                Reply::Bulk(last.to_bytes()),
                Reply::Array(consumers),
            ]));
        };
        let ids: Box<dyn Iterator<Item = &StreamId>> = match &extended.consumer {
            Some(name) => match group.consumers.get(&name[..]) {
                Some(consumer) => Box::new(consumer.pending.range(extended.start..=extended.end.max(extended.start))),
                None => return Ok(Reply::Array(Vec::new())),
            },
            None => Box::new(group.pending.range(extended.start..=extended.end.max(extended.start)).map(|(id, _)| id)),
        };
        let entries = ids
            .filter(|id| **id <= extended.end)
            .map(|id| (id, &group.pending[id]))
            .filter(|(_, pending)| {
                extended.min_idle_ms == 0 || ctx.now_ms as i64 - pending.delivery_time_ms as i64 >= extended.min_idle_ms
            })
            .take(extended.count)
            .map(|(id, pending)| {
                Reply::Array(vec![
                    Reply::Bulk(id.to_bytes()),
                    Reply::Bulk(bytes_of(&pending.consumer)),
                    Reply::Integer(ctx.now_ms.saturating_sub(pending.delivery_time_ms) as i64),
                    Reply::Integer(pending.delivery_count as i64),
                ])
            })
            .collect();
        Ok(Reply::Array(entries))
    }
}
