//! XCLAIM key group consumer min-idle-time id [id ...] [IDLE ms] [TIME unix-time-milliseconds]
//! [RETRYCOUNT count] [FORCE] [JUSTID] [LASTID lastid]
//!
//! Delivery times are the entry's leader-stamped time (or the one IDLE/TIME gives), so every
//! replica records the same.

use super::{entry_reply, group_of, parse_id, stream_at, stream_mut, text};
use crate::commands::prelude::*;
use crate::keyspace::stream::{StreamId, StreamValue};

pub const SPEC: CommandSpec = CommandSpec {
    name: "xclaim",
    arity: -6,
    flags: &["write", "fast"],
    first_key: 1,
    last_key: 1,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["RW", "update"], begin_index: 1, last_key: 0, key_step: 1 }],
    acl_categories: &["@write", "@stream", "@fast"],
    tips: &["nondeterministic_output"],
    group: "stream",
    since: "5.0.0",
    complexity: "O(log N) with N being the number of messages in the PEL of the consumer group.",
    summary: "Changes (or acquires) ownership of a message in a consumer group, as if the message was delivered to the specified consumer.",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

/// When the claimed entries count as delivered.
enum DeliveryTime {
    Now,
    IdleMs(i64),
    AtMs(i64),
}

pub struct XClaim {
    key: Bytes,
    group: Bytes,
    consumer: Bytes,
    min_idle_ms: u64,
    ids: Vec<StreamId>,
    delivery_time: DeliveryTime,
    retry_count: Option<u64>,
    force: bool,
    just_id: bool,
    last_id: StreamId,
}

/// An integer option, with the error Redis gives for it.
fn integer(arg: &[u8], message: &'static str) -> Result<i64> {
    parse_i64(arg).ok_or_else(|| Error::err(message))
}

impl Command for XClaim {
    type Output = Reply;

    fn parse(args: &mut Args) -> Result<Self> {
        let all = args.rest();
        let min_idle_ms = integer(&all[3], "Invalid min-idle-time argument for XCLAIM")?.max(0) as u64;
        let mut at = 4;
        let mut ids = Vec::new();
        while let Some(id) = all.get(at).and_then(|arg| parse_id(arg, 0, true).ok()) {
            ids.push(id);
            at += 1;
        }
        let mut claim = XClaim {
            key: all[0].clone(),
            group: all[1].clone(),
            consumer: all[2].clone(),
            min_idle_ms,
            ids,
            delivery_time: DeliveryTime::Now,
            retry_count: None,
            force: false,
            just_id: false,
            last_id: StreamId::MIN,
        };
        while at < all.len() {
            let (option, value) = (&all[at], all.get(at + 1));
            at += 1;
            match value {
                _ if is(option, "force") => claim.force = true,
                _ if is(option, "justid") => claim.just_id = true,
                Some(value) if is(option, "idle") => {
                    claim.delivery_time =
                        DeliveryTime::IdleMs(integer(value, "Invalid IDLE option argument for XCLAIM")?);
                    at += 1;
                }
                Some(value) if is(option, "time") => {
                    claim.delivery_time =
                        DeliveryTime::AtMs(integer(value, "Invalid TIME option argument for XCLAIM")?);
                    at += 1;
                }
                Some(value) if is(option, "retrycount") => {
                    let count = integer(value, "Invalid RETRYCOUNT option argument for XCLAIM")?;
                    claim.retry_count = u64::try_from(count).ok();
                    at += 1;
                }
                Some(value) if is(option, "lastid") => {
                    claim.last_id = parse_id(value, 0, true)?;
                    at += 1;
                }
                _ => return Err(Error::err(format_args!("Unrecognized XCLAIM option '{}'", text(option)))),
            }
        }
        Ok(claim)
    }

    fn reply(reply: Reply) -> Reply {
        reply
    }
}

/// The NOGROUP error of XCLAIM and XAUTOCLAIM.
pub fn no_group(key: &[u8], group: &[u8]) -> Error {
    Error::new(format!("NOGROUP No such key '{}' or consumer group '{}'", text(key), text(group)))
}

/// The reply for a claimed entry: its id (JUSTID) or the entry.
pub fn claimed_reply(stream: &StreamValue, id: StreamId, just_id: bool) -> Reply {
    match (just_id, stream.get(id)) {
        (false, Some(fields)) => entry_reply(id, fields),
        _ => Reply::Bulk(id.to_bytes()),
    }
}

impl WriteCommand for XClaim {
    fn write(&self, keyspace: &mut Keyspace, ctx: &WriteCtx) -> Result<Reply> {
        let db = keyspace.db_mut(ctx.db);
        let exists =
            stream_at(db, &self.key, ctx.now_ms)?.is_some_and(|stream| stream.groups.contains_key(&self.group[..]));
        if !exists {
            return Err(no_group(&self.key, &self.group));
        }
        let stream = stream_mut(db, &self.key, ctx.now_ms, ctx.index)?.expect("looked up above");
        let now_ms = ctx.now_ms as i64;
        let delivery_time_ms = match self.delivery_time {
            DeliveryTime::Now => now_ms,
            DeliveryTime::IdleMs(idle) => now_ms.saturating_sub(idle),
            DeliveryTime::AtMs(at) => at,
        };
        let delivery_time_ms = if (0..=now_ms).contains(&delivery_time_ms) { delivery_time_ms } else { now_ms } as u64;
        let mut claimed = Vec::new();
        let mut consumer_created = false;
        for &id in &self.ids {
            let entry_exists = stream.contains(id);
            let group = group_of(stream, &self.group);
            if !entry_exists {
                // An entry deleted meanwhile cannot be claimed: it leaves the pending list.
                group.acknowledge(id);
                continue;
            }
            match group.pending.get(&id) {
                None if !self.force => continue,
                Some(pending)
                    if self.min_idle_ms > 0
                        && ctx.now_ms.saturating_sub(pending.delivery_time_ms) < self.min_idle_ms =>
                {
                    continue
                }
                _ => {}
            }
            consumer_created |= !group.consumers.contains_key(&self.consumer[..]);
            group.consumer(&self.consumer, ctx.now_ms);
            let pending = group.assign(id, &self.consumer, delivery_time_ms);
            match self.retry_count {
                Some(count) => pending.delivery_count = count,
                None if !self.just_id => pending.delivery_count += 1,
                None => {}
            }
            claimed.push(id);
        }
        let group = group_of(stream, &self.group);
        group.last_id = group.last_id.max(self.last_id);
        let reply = Reply::Array(claimed.into_iter().map(|id| claimed_reply(stream, id, self.just_id)).collect());
        if consumer_created {
            keyspace.notify(EventClass::STREAM, "xgroup-createconsumer", ctx.db, &self.key);
        }
        Ok(reply)
    }
}
