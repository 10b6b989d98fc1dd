//! Exactly-once application of client writes that a node may send more than once.
//!
//! The node that receives a client's write tags it with a request id (`RequestId`: the
//! node, its incarnation, a number it never reuses) and wraps it in `Request::Once`. If the
//! outcome of sending it is unknown (the connection to the leader dropped, the call timed out,
//! leadership moved while it was in flight), the node sends the same tagged request again,
//! wherever the shard's leader now is. The state machine remembers, per sender (a *session*:
//! node and incarnation), the replies of the tagged requests it applied; a copy that comes
//! again gets the remembered replies and changes nothing. Since every replica applies the same
//! log, every replica remembers the same replies.
//!
//! Bounds (all in `limits`):
//! - each tagged request says below which number its sender has finished with every request
//!   (`done_below`: answered, or given up on), so replies below it are dropped, and a late copy
//!   of such a request is refused instead of applied;
//! - replies larger than `ONCE_REPLY_BYTES_MAX` are remembered only as "applied";
//! - a session keeps at most `ONCE_REPLIES_PER_SESSION_MAX` replies and
//!   `ONCE_SESSION_BYTES_MAX` bytes of them: beyond, the oldest are forgotten, and a copy of a
//!   forgotten one is answered as unknown (never applied again);
//! - a session that sent nothing for `ONCE_SESSION_TTL_MS` of log time is dropped; at most
//!   `ONCE_SESSIONS_MAX` sessions are kept, the least recently used going first.
//!
//! A sender retries for at most `limits::WRITE_RETRY_MS`, far below the time-to-live, so a
//! session outlives every copy its sender could still send (assuming nodes' clocks agree to
//! within the difference, minutes).

use crate::limits::{
    ONCE_REPLIES_PER_SESSION_MAX, ONCE_REPLY_BYTES_MAX, ONCE_SESSIONS_MAX, ONCE_SESSION_BYTES_MAX, ONCE_SESSION_TTL_MS,
};
use crate::reply::Reply;
use crate::types::{NodeId, TimeMs};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Names one client write as its receiving node submitted it: that node, its incarnation (a
/// restarted node gets a new one) and a number it never reuses within the incarnation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct RequestId {
    pub node: NodeId,
    pub incarnation: u64,
    pub seq: u64,
}

type SessionKey = (NodeId, u64);

/// What is remembered of an applied request.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Remembered {
    Replies(Vec<Reply>),
    /// Applied; its replies were too large to keep.
    TooLarge,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Session {
    /// The sender has finished with every request numbered below this: none is applied again.
    done_below: u64,
    /// Requests below this that are not remembered may have been applied (their replies were
    /// forgotten to stay within bounds).
    forgotten_below: u64,
    /// Log time of the last request of this session.
    last_ms: TimeMs,
    /// Bytes of the remembered replies (as [`reply_bytes`] counts them).
    bytes: usize,
    replies: BTreeMap<u64, (Remembered, usize)>,
}

/// What to do with a tagged request.
#[derive(Clone, Debug, PartialEq)]
pub enum Seen {
    /// Not applied before: apply it, then [`Sessions::remember`] its replies.
    Fresh,
    /// Applied before: answer with what it answered then.
    Applied(Remembered),
    /// Its sender has given up on it, or its reply was forgotten: not applied (again).
    Refused(&'static str),
}

/// Every session of a shard.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Sessions {
    sessions: BTreeMap<SessionKey, Session>,
    /// Log time at which idle sessions are next looked for.
    next_expiry_ms: TimeMs,
}

/// A deterministic estimate of a reply's size in memory.
pub fn reply_bytes(reply: &Reply) -> usize {
    const NODE: usize = 32;
    match reply {
        Reply::Status(bytes) | Reply::Error(bytes) | Reply::Bulk(bytes) | Reply::Verbatim(bytes) => NODE + bytes.len(),
        Reply::Array(items) | Reply::Set(items) | Reply::Push(items) => {
            NODE + items.iter().map(reply_bytes).sum::<usize>()
        }
        Reply::Map(pairs) | Reply::Pairs(pairs) | Reply::Keyed(pairs) => {
            NODE + pairs.iter().map(|(key, value)| reply_bytes(key) + reply_bytes(value)).sum::<usize>()
        }
        _ => NODE,
    }
}

impl Sessions {
    pub fn is_empty(&self) -> bool {
        self.sessions.is_empty()
    }

    pub fn len(&self) -> usize {
        self.sessions.len()
    }

    /// Remembered replies, across sessions.
    pub fn remembered(&self) -> usize {
        self.sessions.values().map(|session| session.replies.len()).sum()
    }

    /// Looks a tagged request up, at log time `now_ms`, first dropping what its sender says it
    /// is done with.
    pub fn seen(&mut self, id: RequestId, done_below: u64, now_ms: TimeMs) -> Seen {
        self.expire(now_ms);
        let key = (id.node, id.incarnation);
        if !self.sessions.contains_key(&key) && self.sessions.len() >= ONCE_SESSIONS_MAX {
            let oldest = self.sessions.iter().min_by_key(|(key, session)| (session.last_ms, **key)).map(|(k, _)| *k);
            if let Some(oldest) = oldest {
                self.sessions.remove(&oldest);
            }
        }
        let session = self.sessions.entry(key).or_default();
        session.last_ms = session.last_ms.max(now_ms);
        if done_below > session.done_below {
            session.done_below = done_below;
            let kept = session.replies.split_off(&done_below);
            for (_, (_, bytes)) in std::mem::replace(&mut session.replies, kept) {
                session.bytes -= bytes;
            }
        }
        if let Some((remembered, _)) = session.replies.get(&id.seq) {
            return Seen::Applied(remembered.clone());
        }
        if id.seq < session.done_below {
            return Seen::Refused("its sender had already given up on it");
        }
        if id.seq < session.forgotten_below {
            return Seen::Refused("it may have been applied before, and its reply was not kept");
        }
        Seen::Fresh
    }

    /// Remembers the replies of a fresh request just applied.
    pub fn remember(&mut self, id: RequestId, replies: &[Reply]) {
        let Some(session) = self.sessions.get_mut(&(id.node, id.incarnation)) else { return };
        let size = replies.iter().map(reply_bytes).sum::<usize>();
        let (remembered, bytes) = if size > ONCE_REPLY_BYTES_MAX {
            (Remembered::TooLarge, 16)
        } else {
            (Remembered::Replies(replies.to_vec()), size + 16)
        };
        session.bytes += bytes;
        if let Some((_, old)) = session.replies.insert(id.seq, (remembered, bytes)) {
            session.bytes -= old;
        }
        while session.replies.len() > ONCE_REPLIES_PER_SESSION_MAX || session.bytes > ONCE_SESSION_BYTES_MAX {
            let Some((seq, (_, bytes))) = session.replies.pop_first() else { break };
            session.bytes -= bytes;
            session.forgotten_below = session.forgotten_below.max(seq + 1);
        }
    }

    /// Drops sessions idle for the time-to-live, looking at most once a second of log time.
    fn expire(&mut self, now_ms: TimeMs) {
        if now_ms < self.next_expiry_ms {
            return;
        }
        self.next_expiry_ms = now_ms.saturating_add(1_000);
        self.sessions.retain(|_, session| session.last_ms.saturating_add(ONCE_SESSION_TTL_MS) > now_ms);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(seq: u64) -> RequestId {
        RequestId { node: NodeId(7), incarnation: 1, seq }
    }

    #[test]
    fn a_copy_gets_the_remembered_replies_and_a_finished_one_is_refused() {
        let mut sessions = Sessions::default();
        assert_eq!(sessions.seen(id(1), 1, 1_000), Seen::Fresh);
        sessions.remember(id(1), &[Reply::Integer(1)]);
        assert_eq!(sessions.seen(id(1), 1, 1_010), Seen::Applied(Remembered::Replies(vec![Reply::Integer(1)])));
        // The sender is done with 1: its reply goes, and a late copy is refused.
        assert_eq!(sessions.seen(id(2), 2, 1_020), Seen::Fresh);
        assert_eq!(sessions.remembered(), 0);
        assert!(matches!(sessions.seen(id(1), 1, 1_030), Seen::Refused(_)));
        // Another incarnation of the same node is another session.
        let other = RequestId { incarnation: 2, ..id(1) };
        assert_eq!(sessions.seen(other, 1, 1_040), Seen::Fresh);
    }

    #[test]
    fn looking_a_copy_up_changes_no_remembered_reply() {
        let mut sessions = Sessions::default();
        assert_eq!(sessions.seen(id(1), 1, 1_000), Seen::Fresh);
        sessions.remember(id(1), &[Reply::Integer(5)]);
        let before = sessions.clone();
        for at_ms in [1_000, 1_500] {
            assert_eq!(sessions.seen(id(1), 1, at_ms), Seen::Applied(Remembered::Replies(vec![Reply::Integer(5)])));
        }
        let session = |sessions: &Sessions| sessions.sessions[&(NodeId(7), 1)].clone();
        let (was, is) = (session(&before), session(&sessions));
        assert_eq!((was.replies, was.bytes, was.done_below), (is.replies, is.bytes, is.done_below));
        assert_eq!(is.last_ms, 1_500, "a copy keeps its session alive");
    }

    #[test]
    fn sessions_survive_encoding_as_snapshots_hold_them() {
        let mut sessions = Sessions::default();
        for seq in 1..=3 {
            sessions.seen(id(seq), 1, 2_000 + seq);
            sessions.remember(id(seq), &[Reply::Bulk(format!("reply {seq}").into_bytes().into())]);
        }
        let bytes = postcard::to_stdvec(&sessions).unwrap();
        let mut restored: Sessions = postcard::from_bytes(&bytes).unwrap();
        assert_eq!(restored, sessions);
        assert_eq!(restored.seen(id(2), 1, 2_010), sessions.seen(id(2), 1, 2_010));
        assert_eq!(restored.seen(id(4), 1, 2_010), Seen::Fresh);
    }

    #[test]
    fn replies_and_sessions_stay_bounded() {
        let mut sessions = Sessions::default();
        let big = Reply::Bulk(vec![b'x'; ONCE_REPLY_BYTES_MAX + 1].into());
        assert_eq!(sessions.seen(id(1), 1, 0), Seen::Fresh);
        sessions.remember(id(1), std::slice::from_ref(&big));
        assert_eq!(sessions.seen(id(1), 1, 0), Seen::Applied(Remembered::TooLarge));
        for seq in 2..(ONCE_REPLIES_PER_SESSION_MAX as u64 + 10) {
            assert_eq!(sessions.seen(id(seq), 1, 0), Seen::Fresh);
            sessions.remember(id(seq), &[Reply::OK]);
        }
        assert_eq!(sessions.remembered(), ONCE_REPLIES_PER_SESSION_MAX);
        assert!(matches!(sessions.seen(id(3), 1, 0), Seen::Refused(_)), "forgotten: never applied again");
        for node in 0..(ONCE_SESSIONS_MAX as u128 + 5) {
            let other = RequestId { node: NodeId(100 + node), incarnation: 1, seq: 1 };
            sessions.seen(other, 1, 10 + node as u64);
        }
        assert_eq!(sessions.len(), ONCE_SESSIONS_MAX);
    }

    #[test]
    fn idle_sessions_expire_by_log_time() {
        let mut sessions = Sessions::default();
        sessions.seen(id(1), 1, 1_000);
        sessions.remember(id(1), &[Reply::OK]);
        // Just short of the time-to-live, the session and its reply are still there.
        let other = RequestId { node: NodeId(8), ..id(1) };
        sessions.seen(other, 1, 1_000 + ONCE_SESSION_TTL_MS - 1);
        assert_eq!((sessions.len(), sessions.remembered()), (2, 1));
        sessions.seen(other, 1, 1_000 + ONCE_SESSION_TTL_MS + 1_000);
        assert_eq!(sessions.len(), 1, "node 7's session lapsed");
        assert_eq!(sessions.remembered(), 0);
    }
}
