//! Pub/Sub commands, one command per file. Subscriptions belong to the connection (the
//! session keeps them; the node's broker routes messages to it); nothing here touches the
//! keyspace or the log.
//!
//! - [`subscribe`] — SUBSCRIBE channel [channel ...]
//! - [`unsubscribe`] — UNSUBSCRIBE [channel [channel ...]]
//! - [`psubscribe`] — PSUBSCRIBE pattern [pattern ...]
//! - [`punsubscribe`] — PUNSUBSCRIBE [pattern [pattern ...]]
//! - [`publish`] — PUBLISH channel message
//! - [`ssubscribe`] — SSUBSCRIBE shardchannel [shardchannel ...]
//! - [`sunsubscribe`] — SUNSUBSCRIBE [shardchannel [shardchannel ...]]
//! - [`spublish`] — SPUBLISH shardchannel message
//! - [`pubsub_`] — PUBSUB CHANNELS [pattern] | NUMSUB [channel ...] | NUMPAT | SHARDCHANNELS
//!   [pattern] | SHARDNUMSUB [shardchannel ...] | HELP
//!
//! Shard channels (Redis 7's sharded Pub/Sub) are a namespace of their own, counted apart from
//! channels and patterns; their names are keys, so one SSUBSCRIBE's must share a slot.

pub mod psubscribe;
pub mod publish;
pub mod pubsub_;
pub mod punsubscribe;
pub mod spublish;
pub mod ssubscribe;
pub mod subscribe;
pub mod sunsubscribe;
pub mod unsubscribe;

use crate::reply::Reply;
use crate::session::{Action, Session, SubscriptionChange, SubscriptionKind};
use bytes::Bytes;

/// The confirmation Redis sends for each channel or pattern: `[kind, name, subscriptions]`,
/// a push frame in RESP3.
fn confirmation(kind: &'static str, name: Option<Bytes>, count: usize) -> Reply {
    Reply::Push(vec![Reply::bulk(kind), Reply::optional_bulk(name), Reply::Integer(count as i64)])
}

fn set_of(session: &mut Session, kind: SubscriptionKind) -> &mut std::collections::BTreeSet<Bytes> {
    match kind {
        SubscriptionKind::Channel => &mut session.channels,
        SubscriptionKind::Pattern => &mut session.patterns,
        SubscriptionKind::ShardChannel => &mut session.shard_channels,
    }
}

/// The count in a confirmation: channels and patterns together, shard channels apart (as Redis).
fn count_of(session: &Session, kind: SubscriptionKind) -> usize {
    match kind {
        SubscriptionKind::ShardChannel => session.shard_channels.len(),
        _ => session.subscription_count(),
    }
}

/// The node dropped this connection's subscription to `channel` (its slot's shard left the
/// node): the `sunsubscribe` push Redis sends then, with the shard channels left; `None` if the
/// connection no longer held it.
pub fn shard_channel_revoked(session: &mut Session, channel: &Bytes) -> Option<Reply> {
    session
        .shard_channels
        .remove(channel)
        .then(|| confirmation("sunsubscribe", Some(channel.clone()), count_of(session, SubscriptionKind::ShardChannel)))
}

/// SSUBSCRIBE's and SUNSUBSCRIBE's shard channels are keys: they must share a slot.
fn same_slot(channels: &[Bytes]) -> crate::error::Result<()> {
    let mut slots = channels.iter().map(|channel| crate::slot::key_slot(channel));
    match slots.next() {
        Some(first) if slots.any(|slot| slot != first) => {
            Err(crate::error::Error::new("CROSSSLOT Keys in request don't hash to the same slot"))
        }
        _ => Ok(()),
    }
}

/// (P)SUBSCRIBE: adds each name (again is fine: confirmed, not counted twice).
fn subscribe(session: &mut Session, kind: SubscriptionKind, names: Vec<Bytes>) -> Action {
    let word = match kind {
        SubscriptionKind::Channel => "subscribe",
        SubscriptionKind::Pattern => "psubscribe",
        SubscriptionKind::ShardChannel => "ssubscribe",
    };
    let (mut changes, mut replies) = (Vec::new(), Vec::with_capacity(names.len()));
    for name in names {
        if set_of(session, kind).insert(name.clone()) {
            changes.push(SubscriptionChange { kind, name: name.clone(), subscribed: true });
        }
        replies.push(confirmation(word, Some(name), count_of(session, kind)));
    }
    Action::Subscriptions { changes, replies }
}

/// (P)UNSUBSCRIBE: drops each name, or every one of its kind when none is given. With nothing
/// to drop, one confirmation with a nil name, as Redis.
fn unsubscribe(session: &mut Session, kind: SubscriptionKind, names: Vec<Bytes>) -> Action {
    let word = match kind {
        SubscriptionKind::Channel => "unsubscribe",
        SubscriptionKind::Pattern => "punsubscribe",
        SubscriptionKind::ShardChannel => "sunsubscribe",
    };
    let names = if names.is_empty() { set_of(session, kind).iter().cloned().collect() } else { names };
    if names.is_empty() {
        let count = count_of(session, kind);
        return Action::Subscriptions { changes: Vec::new(), replies: vec![confirmation(word, None, count)] };
    }
    let (mut changes, mut replies) = (Vec::new(), Vec::with_capacity(names.len()));
    for name in names {
        if set_of(session, kind).remove(&name) {
            changes.push(SubscriptionChange { kind, name: name.clone(), subscribed: false });
        }
        replies.push(confirmation(word, Some(name), count_of(session, kind)));
    }
    Action::Subscriptions { changes, replies }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::args::Args;
    use crate::command::NodeCommand;
    use crate::commands::testing::argv;
    use crate::session::Publication;

    fn run<C: NodeCommand>(session: &mut Session, words: &[&str]) -> Action {
        let items = argv(words);
        C::parse(&mut Args::new(&items)).and_then(|command| command.execute(session, &NoHost)).unwrap()
    }

    #[test]
    fn a_revoked_shard_channel_is_confirmed_once_with_the_shard_channels_left() {
        let mut session = Session::new(1);
        run::<ssubscribe::SSubscribe>(&mut session, &["{t}1", "{t}2"]);
        run::<subscribe::Subscribe>(&mut session, &["plain"]);
        let revoked = shard_channel_revoked(&mut session, &Bytes::from_static(b"{t}1"));
        assert_eq!(revoked, Some(confirm("sunsubscribe", "{t}1", 1)), "one shard channel left; channels apart");
        assert_eq!(shard_channel_revoked(&mut session, &Bytes::from_static(b"{t}1")), None, "no longer held");
        assert!(session.channels.contains(&Bytes::from_static(b"plain")));
    }

    fn replies(action: Action) -> (Vec<SubscriptionChange>, Vec<Reply>) {
        match action {
            Action::Subscriptions { changes, replies } => (changes, replies),
            _ => panic!("not a subscription change"),
        }
    }

    fn confirm(kind: &'static str, name: &str, count: i64) -> Reply {
        Reply::Push(vec![Reply::bulk(kind), Reply::bulk(name.to_owned()), Reply::Integer(count)])
    }

    /// The pubsub commands ask nothing of the host but PUBSUB's counts.
    struct NoHost;

    impl crate::session::Host for NoHost {
        fn now_ms(&self) -> u64 {
            0
        }
        fn now_us(&self) -> u64 {
            0
        }
        fn databases(&self) -> u32 {
            16
        }
        fn info(&self, _: &[Bytes]) -> String {
            String::new()
        }
        fn config_get(&self, _: &[Bytes]) -> Vec<(String, String)> {
            Vec::new()
        }
        fn config_set(&self, _: &[(Bytes, Bytes)]) -> Result<(), crate::Error> {
            Ok(())
        }
        fn config_resetstat(&self) {}
        fn client_list(&self, _: Option<&[u64]>) -> String {
            String::new()
        }
        fn client_update(&self, _: &Session) {}
        fn client_kill(&self, _: u64) -> bool {
            false
        }
        fn debug(&self, _: &[Bytes]) -> Reply {
            Reply::OK
        }
        fn shutdown(&self) {}
        fn pubsub_channels(&self, sharded: bool, _: Option<&[u8]>) -> Vec<Bytes> {
            vec![Bytes::from_static(if sharded { b"shard" } else { b"news" })]
        }
        fn pubsub_numsub(&self, sharded: bool, channels: &[Bytes]) -> Vec<i64> {
            channels.iter().map(|channel| channel.len() as i64 + i64::from(sharded) * 10).collect()
        }
        fn pubsub_numpat(&self) -> i64 {
            7
        }
    }

    #[test]
    fn subscribing_counts_channels_and_patterns_together() {
        let mut session = Session::new(1);
        let (changes, confirmations) = replies(run::<subscribe::Subscribe>(&mut session, &["a", "b", "a"]));
        assert_eq!(changes.len(), 2, "a second subscription to a channel changes nothing");
        assert_eq!(
            confirmations,
            vec![confirm("subscribe", "a", 1), confirm("subscribe", "b", 2), confirm("subscribe", "a", 2)]
        );
        let (_, confirmations) = replies(run::<psubscribe::PSubscribe>(&mut session, &["n*"]));
        assert_eq!(confirmations, vec![confirm("psubscribe", "n*", 3)]);
        assert!(session.in_subscribe_mode());
    }

    #[test]
    fn unsubscribing_with_no_arguments_drops_every_channel() {
        let mut session = Session::new(1);
        run::<subscribe::Subscribe>(&mut session, &["b", "a"]);
        run::<psubscribe::PSubscribe>(&mut session, &["p*"]);
        let (changes, confirmations) = replies(run::<unsubscribe::Unsubscribe>(&mut session, &[]));
        assert_eq!(confirmations, vec![confirm("unsubscribe", "a", 2), confirm("unsubscribe", "b", 1)]);
        assert!(changes.iter().all(|change| !change.subscribed && change.kind == SubscriptionKind::Channel));
        let (changes, confirmations) = replies(run::<unsubscribe::Unsubscribe>(&mut session, &[]));
        assert!(changes.is_empty());
        assert_eq!(confirmations, vec![Reply::Push(vec![Reply::bulk("unsubscribe"), Reply::Nil, Reply::Integer(1)])]);
        let (_, confirmations) = replies(run::<punsubscribe::PUnsubscribe>(&mut session, &["p*", "q*"]));
        assert_eq!(confirmations, vec![confirm("punsubscribe", "p*", 0), confirm("punsubscribe", "q*", 0)]);
        assert!(!session.in_subscribe_mode());
    }

    #[test]
    fn shard_channels_count_apart_and_must_share_a_slot() {
        let mut session = Session::new(1);
        run::<subscribe::Subscribe>(&mut session, &["a"]);
        let (_, confirmations) = replies(run::<ssubscribe::SSubscribe>(&mut session, &["{t}1", "{t}2"]));
        assert_eq!(confirmations, vec![confirm("ssubscribe", "{t}1", 1), confirm("ssubscribe", "{t}2", 2)]);
        let items = argv(&["a", "b"]);
        assert!(ssubscribe::SSubscribe::parse(&mut Args::new(&items)).is_err(), "a and b are in different slots");
        run::<unsubscribe::Unsubscribe>(&mut session, &[]);
        assert!(session.in_subscribe_mode(), "shard channels keep the connection in subscribe mode");
        let (_, confirmations) = replies(run::<sunsubscribe::SUnsubscribe>(&mut session, &["{t}1"]));
        assert_eq!(confirmations, vec![confirm("sunsubscribe", "{t}1", 1)]);
    }

    #[test]
    fn resp3_connections_are_never_in_subscribe_mode() {
        let mut session = Session::new(1);
        session.protocol = crate::session::Protocol::Resp3;
        run::<subscribe::Subscribe>(&mut session, &["a"]);
        assert!(!session.in_subscribe_mode());
    }

    #[test]
    fn publish_and_pubsub_parse_as_redis() {
        let mut session = Session::new(1);
        match run::<publish::Publish>(&mut session, &["ch", "hi"]) {
            Action::Publish(publication) => assert_eq!(
                publication,
                Publication { channel: Bytes::from_static(b"ch"), message: Bytes::from_static(b"hi"), sharded: false }
            ),
            _ => panic!("PUBLISH publishes"),
        }
        let reply = |words: &[&str]| match run::<pubsub_::PubSub>(&mut Session::new(2), words) {
            Action::Reply(reply) => reply,
            _ => panic!("PUBSUB replies at once"),
        };
        assert_eq!(reply(&["NUMPAT"]), Reply::Integer(7));
        assert_eq!(reply(&["channels", "*"]), Reply::Array(vec![Reply::bulk("news")]));
        assert_eq!(
            reply(&["numsub", "a", "bb"]),
            Reply::Array(vec![Reply::bulk("a"), Reply::Integer(1), Reply::bulk("bb"), Reply::Integer(2)])
        );
        assert_eq!(reply(&["numsub"]), Reply::Array(vec![]));
        assert_eq!(reply(&["SHARDCHANNELS"]), Reply::Array(vec![Reply::bulk("shard")]));
        assert_eq!(reply(&["shardnumsub", "a"]), Reply::Array(vec![Reply::bulk("a"), Reply::Integer(11)]));
        let items = argv(&["numpat", "extra"]);
        assert!(pubsub_::PubSub::parse(&mut Args::new(&items)).is_err());
        let items = argv(&["nosuch"]);
        assert!(pubsub_::PubSub::parse(&mut Args::new(&items)).is_err());
    }
}
