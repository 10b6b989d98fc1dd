//! XREADGROUP GROUP group consumer [COUNT count] [BLOCK milliseconds] [NOACK] STREAMS key
//! [key ...] id [id ...]
//!
//! `>` delivers entries the group has not delivered yet, recording each as pending for the
//! consumer (unless NOACK); an id reads the consumer's own pending entries after it again.
//! Both change the group, so XREADGROUP is always a write applied from the log, and with BLOCK
//! a waiter served as the blocking list commands are.

use super::xread::{keys_after_streams, ReadOptions};
use super::{entries_reply, entry_reply, group_of, parse_id, stream_at, stream_mut, text};
use crate::command::BlockingCommand;
use crate::commands::prelude::*;
use crate::keyspace::stream::{StreamId, StreamValue};

pub const SPEC: CommandSpec = CommandSpec {
    name: "xreadgroup",
    arity: -7,
    flags: &["write", "blocking"],
    first_key: 0,
    last_key: 0,
    key_step: 0,
    key_specs: &[],
    acl_categories: &["@write", "@stream", "@slow", "@blocking"],
    tips: &[],
    group: "stream",
    since: "5.0.0",
    complexity: "For each stream mentioned: O(M) with M being the number of elements returned. If M is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1). On the other side when XREADGROUP blocks, XADD will pay the O(N) time in order to serve the N clients blocked on the stream getting new data.",
    summary: "Return new entries from a stream using a consumer group, or access the history of the pending entries for a given consumer. Can block.",
    deprecated: None,
    movable_keys: Some(keys_after_streams),
    subcommands: &[],
};

/// What XREADGROUP reads from a stream.
#[derive(Clone, Copy)]
enum From {
    /// `>`: entries never delivered to the group.
    New,
    /// The consumer's pending entries after this id.
    History(StreamId),
}

pub struct XReadGroup {
    options: ReadOptions,
    group: Bytes,
    consumer: Bytes,
    from: Vec<From>,
}

impl Command for XReadGroup {
    type Output = Reply;

    fn parse(args: &mut Args) -> Result<Self> {
        let options = ReadOptions::parse(args, true)?;
        let (group, consumer) = options.group.clone().expect("checked by the parse");
        let from = options
            .ids
            .iter()
            .map(|id| match &id[..] {
                b">" => Ok(From::New),
                b"$" => Err(Error::err("The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.")),
                _ => parse_id(id, 0, true).map(From::History),
            })
            .collect::<Result<_>>()?;
        Ok(XReadGroup { options, group, consumer, from })
    }

    fn reply(reply: Reply) -> Reply {
        reply
    }

    fn may_wait(&self) -> bool {
        self.options.block_ms.is_some()
    }
}

impl XReadGroup {
    /// Whether serving it creates its consumer (Redis then raises `xgroup-createconsumer`).
    fn is_new_consumer(&self, stream: &StreamValue) -> bool {
        stream.groups.get(&self.group[..]).is_some_and(|group| !group.consumers.contains_key(&self.consumer[..]))
    }

    /// Delivers up to `count` entries the group has not seen to the consumer.
    fn deliver_new(&self, stream: &mut StreamValue, count: usize, now_ms: TimeMs) -> Reply {
        let after = group_of(stream, &self.group).last_id;
        let ids: Vec<StreamId> = match after.next() {
            Some(start) => stream.range(start, StreamId::MAX).take(count).map(|(id, _)| id).collect(),
            None => Vec::new(),
        };
        group_of(stream, &self.group).consumer(&self.consumer, now_ms);
        for &id in &ids {
            stream.advance_group(&self.group, id);
            if !self.options.no_ack {
                // Delivered anew, even if it was pending (XGROUP SETID moved the group back).
                group_of(stream, &self.group).assign(id, &self.consumer, now_ms).delivery_count = 1;
            }
        }
        entries_reply(ids.iter().map(|id| (*id, stream.get(*id).expect("just read"))))
    }

    /// The consumer's pending entries after `after` (not including it), delivered again (an entry deleted since
    /// is reported with no fields).
    fn deliver_history(&self, stream: &mut StreamValue, after: StreamId, count: usize, now_ms: TimeMs) -> Reply {
        let group = group_of(stream, &self.group);
        let consumer = group.consumer(&self.consumer, now_ms);
        let ids: Vec<StreamId> = match after.next() {
            Some(start) => consumer.pending.range(start..).take(count).copied().collect(),
            None => Vec::new(),
        };
        let mut replies = Vec::with_capacity(ids.len());
        for id in ids {
            match stream.get(id) {
                Some(fields) => {
                    replies.push(entry_reply(id, fields));
                    let pending =
                        group_of(stream, &self.group).pending.get_mut(&id).expect("a consumer's entry is pending");
                    pending.delivery_time_ms = now_ms;
                    pending.delivery_count += 1;
                }
                None => replies.push(Reply::Array(vec![Reply::Bulk(id.to_bytes()), Reply::NilArray])),
            }
        }
        Reply::Array(replies)
    }

    fn serve(&self, keyspace: &mut Keyspace, ctx: &WriteCtx, waiting_on: Option<&[u8]>) -> Result<Option<Reply>> {
        let db = keyspace.db_mut(ctx.db);
        if let Some(key) = waiting_on {
            // A waiter: only the key that became ready, and only new entries.
            let stream = match stream_at(db, key, ctx.now_ms) {
                Ok(Some(stream)) => stream,
                _ => return Err(Error::new("UNBLOCKED the stream key no longer exists")),
            };
            let Some(group) = stream.groups.get(&self.group[..]) else {
                return Err(Error::new("NOGROUP the consumer group this client was blocked on no longer exists"));
            };
            if stream.last_entry().is_none_or(|(last, _)| last <= group.last_id) {
                return Ok(None);
            }
            let stream = stream_mut(db, key, ctx.now_ms, ctx.index)?.expect("looked up above");
            let created = self.is_new_consumer(stream);
            let entries = self.deliver_new(stream, self.options.count_for(true), ctx.now_ms);
            if created {
                keyspace.notify(EventClass::STREAM, "xgroup-createconsumer", ctx.db, key);
            }
            return Ok(Some(Reply::Keyed(vec![(Reply::Bulk(Bytes::copy_from_slice(key)), entries)])));
        }
        for key in &self.options.keys {
            let stream = stream_at(db, key, ctx.now_ms)?;
            if stream.is_none_or(|stream| !stream.groups.contains_key(&self.group[..])) {
                return Err(Error::new(format!(
                    "NOGROUP No such key '{}' or consumer group '{}' in XREADGROUP with GROUP option",
                    text(key),
                    text(&self.group)
                )));
            }
        }
        let count = self.options.count_for(false);
        let mut found = Vec::new();
        let mut created = Vec::new();
        for (key, from) in self.options.keys.iter().zip(&self.from) {
            let stream = stream_at(db, key, ctx.now_ms)?.expect("checked above");
            let group = &stream.groups[&self.group[..]];
            let has_new = stream.last_entry().is_some_and(|(last, _)| last > group.last_id);
            let entries = match from {
                From::New if !has_new => continue,
                From::New => {
                    let stream = stream_mut(db, key, ctx.now_ms, ctx.index)?.expect("checked above");
                    if self.is_new_consumer(stream) {
                        created.push(key);
                    }
                    self.deliver_new(stream, count, ctx.now_ms)
                }
                From::History(after) => {
                    let stream = stream_mut(db, key, ctx.now_ms, ctx.index)?.expect("checked above");
                    if self.is_new_consumer(stream) {
                        created.push(key);
                    }
                    self.deliver_history(stream, *after, count, ctx.now_ms)
                }
            };
            found.push((Reply::Bulk(key.clone()), entries));
        }
        for key in created {
            keyspace.notify(EventClass::STREAM, "xgroup-createconsumer", ctx.db, key);
        }
        Ok((!found.is_empty()).then_some(Reply::Keyed(found)))
    }
}

impl WriteCommand for XReadGroup {
    fn write(&self, keyspace: &mut Keyspace, ctx: &WriteCtx) -> Result<Reply> {
        crate::command::serve_or_time_out(self, keyspace, ctx)
    }
}

impl BlockingCommand for XReadGroup {
    fn keys(&self) -> &[Bytes] {
        &self.options.keys
    }

    fn timeout_ms(&self) -> Option<u64> {
        self.options.timeout_ms()
    }

    fn try_serve(&self, keyspace: &mut Keyspace, ctx: &WriteCtx, ready: Option<&[u8]>) -> Result<Option<Reply>> {
        let served = self.serve(keyspace, ctx, ready)?;
        // Without BLOCK it never waits: nothing new is a nil reply.
        Ok(match served {
            None if ready.is_none() && self.options.block_ms.is_none() => Some(Reply::NilArray),
            served => served,
        })
    }

    fn timeout_reply(&self) -> Reply {
        Reply::NilArray
    }

    fn served_in_turn(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use crate::commands::testing::*;
    use crate::keyspace::Keyspace;
    use crate::reply::Reply;

    fn entry(id: &str) -> Reply {
        Reply::Array(vec![bulk(id), Reply::Array(vec![bulk("f"), bulk("v")])])
    }

    #[test]
    fn delivers_new_entries_once_and_history_again() {
        let ks = &mut Keyspace::new();
        write(ks, 1, &["xadd", "s", "1-0", "f", "v"]);
        write(ks, 1, &["xadd", "s", "2-0", "f", "v"]);
        write(ks, 1, &["xgroup", "create", "s", "g", "0"]);
        assert_eq!(
            write(ks, 5, &["xreadgroup", "group", "g", "alice", "count", "1", "streams", "s", ">"]),
            Reply::Keyed(vec![(bulk("s"), Reply::Array(vec![entry("1-0")]))])
        );
        assert_eq!(
            write(ks, 6, &["xreadgroup", "group", "g", "bob", "streams", "s", ">"]),
            Reply::Keyed(vec![(bulk("s"), Reply::Array(vec![entry("2-0")]))])
        );
        assert_eq!(write(ks, 7, &["xreadgroup", "group", "g", "bob", "streams", "s", ">"]), Reply::NilArray);
        assert_eq!(
            write(ks, 8, &["xreadgroup", "group", "g", "alice", "streams", "s", "0"]),
            Reply::Keyed(vec![(bulk("s"), Reply::Array(vec![entry("1-0")]))])
        );
        assert_eq!(
            read(ks, 10, &["xpending", "s", "g", "-", "+", "10"]),
            Reply::Array(vec![
                Reply::Array(vec![bulk("1-0"), bulk("alice"), Reply::Integer(2), Reply::Integer(2)]),
                Reply::Array(vec![bulk("2-0"), bulk("bob"), Reply::Integer(4), Reply::Integer(1)]),
            ])
        );
        assert_eq!(write(ks, 11, &["xack", "s", "g", "1-0", "9-0"]), Reply::Integer(1));
        assert_eq!(
            write(ks, 12, &["xreadgroup", "group", "g", "alice", "streams", "s", "0"]),
            Reply::Keyed(vec![(bulk("s"), Reply::Array(vec![]))]),
            "an acknowledged entry is not delivered again"
        );
        assert_eq!(
            read(ks, 12, &["xpending", "s", "g"]),
            Reply::Array(vec![
                Reply::Integer(1),
                bulk("2-0"),
                bulk("2-0"),
                Reply::Array(vec![Reply::Array(vec![bulk("bob"), bulk("1")])])
            ])
        );
        assert_eq!(
            write(ks, 12, &["xreadgroup", "group", "nog", "c", "streams", "s", ">"]),
            error("NOGROUP No such key 's' or consumer group 'nog' in XREADGROUP with GROUP option")
        );
    }

    #[test]
    fn claims_move_pending_entries_to_another_consumer() {
        let ks = &mut Keyspace::new();
        for id in ["1-0", "2-0", "3-0"] {
            write(ks, 1, &["xadd", "s", id, "f", "v"]);
        }
        write(ks, 1, &["xgroup", "create", "s", "g", "0"]);
        write(ks, 10, &["xreadgroup", "group", "g", "alice", "streams", "s", ">"]);
        assert_eq!(
            write(ks, 15, &["xclaim", "s", "g", "bob", "10", "1-0"]),
            Reply::Array(vec![]),
            "not idle long enough"
        );
        assert_eq!(write(ks, 30, &["xclaim", "s", "g", "bob", "10", "1-0", "justid"]), Reply::Array(vec![bulk("1-0")]));
        write(ks, 30, &["xdel", "s", "3-0"]);
        assert_eq!(
            write(ks, 40, &["xautoclaim", "s", "g", "carol", "5", "0", "count", "1"]),
            Reply::Array(vec![bulk("2-0"), Reply::Array(vec![entry("1-0")]), Reply::Array(vec![])])
        );
        assert_eq!(
            write(ks, 40, &["xautoclaim", "s", "g", "carol", "5", "2-0"]),
            Reply::Array(vec![bulk("0-0"), Reply::Array(vec![entry("2-0")]), Reply::Array(vec![bulk("3-0")])])
        );
        assert_eq!(
            read(ks, 40, &["xpending", "s", "g", "-", "+", "10", "carol"]),
            Reply::Array(vec![
                Reply::Array(vec![bulk("1-0"), bulk("carol"), Reply::Integer(0), Reply::Integer(2)]),
                Reply::Array(vec![bulk("2-0"), bulk("carol"), Reply::Integer(0), Reply::Integer(2)]),
            ])
        );
    }
}
