//! XAUTOCLAIM key group consumer min-idle-time start [COUNT count] [JUSTID]

use super::xclaim::{claimed_reply, no_group};
use super::{group_of, parse_interval, stream_at, stream_mut};
use crate::commands::prelude::*;
use crate::keyspace::stream::StreamId;

pub const SPEC: CommandSpec = CommandSpec {
    name: "xautoclaim",
    arity: -6,
    flags: &["write", "fast"],
    first_key: 1,
    last_key: 1,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["RW", "update"], begin_index: 1, last_key: 0, key_step: 1 }],
    acl_categories: &["@write", "@stream", "@fast"],
    tips: &["nondeterministic_output"],
    group: "stream",
    since: "6.2.0",
    complexity: "O(1) if COUNT is small.",
    summary: "Changes (or acquires) ownership of messages in a consumer group, as if the messages were delivered to the specified consumer.",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

/// How many pending entries one call looks at, per entry it may claim (Redis's
/// `attempts_factor`).
const ATTEMPTS_PER_CLAIM: usize = 10;

pub struct XAutoClaim {
    key: Bytes,
    group: Bytes,
    consumer: Bytes,
    min_idle_ms: u64,
    start: StreamId,
    count: usize,
    just_id: bool,
}

impl Command for XAutoClaim {
    type Output = Reply;

    fn parse(args: &mut Args) -> Result<Self> {
        let all = args.rest();
        let min_idle_ms = parse_i64(&all[3])
            .ok_or_else(|| Error::err("Invalid min-idle-time argument for XAUTOCLAIM"))?
            .max(0) as u64;
        let (start, _) = parse_interval(&all[4], b"+")?;
        let mut claim = XAutoClaim {
            key: all[0].clone(),
            group: all[1].clone(),
            consumer: all[2].clone(),
            min_idle_ms,
            start,
            count: 100,
            just_id: false,
        };
        let mut at = 5;
        while at < all.len() {
            if is(&all[at], "count") && at + 1 < all.len() {
                let max = (i64::MAX as usize / ATTEMPTS_PER_CLAIM).min(crate::limits::SCAN_COUNT_MAX * 100) as i64;
                claim.count = parse_i64(&all[at + 1])
                    .filter(|count| (1..=max).contains(count))
                    .ok_or_else(|| Error::err("COUNT must be > 0"))? as usize;
                at += 2;
            } else if is(&all[at], "justid") {
                claim.just_id = true;
                at += 1;
            } else {
                return Err(Error::SYNTAX);
            }
        }
        Ok(claim)
    }

    fn reply(reply: Reply) -> Reply {
        reply
    }
}

impl WriteCommand for XAutoClaim {
    fn write(&self, keyspace: &mut Keyspace, ctx: &WriteCtx) -> Result<Reply> {
        let db = keyspace.db_mut(ctx.db);
        let exists =
            stream_at(db, &self.key, ctx.now_ms)?.is_some_and(|stream| stream.groups.contains_key(&self.group[..]));
        if !exists {
            return Err(no_group(&self.key, &self.group));
        }
        let stream = stream_mut(db, &self.key, ctx.now_ms, ctx.index)?.expect("looked up above");
        let (mut claimed, mut deleted) = (Vec::new(), Vec::new());
        let mut count = self.count;
        let mut attempts = self.count.saturating_mul(ATTEMPTS_PER_CLAIM);
        let mut next = Some(self.start);
        let mut consumer_created = false;
        while let Some(from) = next {
            if attempts == 0 || count == 0 {
                break;
            }
            attempts -= 1;
            let group = group_of(stream, &self.group);
            let Some((&id, pending)) = group.pending.range(from..).next() else {
                next = None;
                break;
            };
            next = id.next();
            let idle_ms = ctx.now_ms.saturating_sub(pending.delivery_time_ms);
            if !stream.contains(id) {
                group_of(stream, &self.group).acknowledge(id);
                deleted.push(id);
                count -= 1;
                continue;
            }
            if self.min_idle_ms > 0 && idle_ms < self.min_idle_ms {
                continue;
            }
            let group = group_of(stream, &self.group);
            consumer_created |= !group.consumers.contains_key(&self.consumer[..]);
            group.consumer(&self.consumer, ctx.now_ms);
            let pending = group.assign(id, &self.consumer, ctx.now_ms);
            if !self.just_id {
                pending.delivery_count += 1;
            }
            claimed.push(id);
            count -= 1;
        }
        // Where the next call should start: the next pending entry, or 0-0 when none is left.
        let group = group_of(stream, &self.group);
        let cursor = next.and_then(|from| group.pending.range(from..).next().map(|(id, _)| *id)).unwrap_or_default();
        let reply = Reply::Array(vec![
            Reply::Bulk(cursor.to_bytes()),
            Reply::Array(claimed.into_iter().map(|id| claimed_reply(stream, id, self.just_id)).collect()),
            Reply::Array(deleted.into_iter().map(|id| Reply::Bulk(id.to_bytes())).collect()),
        ]);
        if consumer_created {
            keyspace.notify(EventClass::STREAM, "xgroup-createconsumer", ctx.db, &self.key);
        }
        Ok(reply)
    }
}
