//! Pub/Sub: what publishers and subscribers recorded, against the documented delivery rule
//! (docs/ARCHITECTURE.md, *Fan-out*): at most once, in publish order per publisher connection
//! at each subscriber, never across a cut link, and `PUBLISH` counting the receivers of the
//! whole cluster.
//!
//! A publisher sends `PUBLISH ps:<n> p<publisher>:<seq>`, one at a time, its sequence numbers
//! increasing across its connections. A subscriber's connection (a [`Session`]) subscribes to
//! a few channels (one subscriber also to a pattern), records every message with the time it
//! read it, and ends with UNSUBSCRIBE / PUNSUBSCRIBE, or when the connection breaks. Of every
//! message delivered:
//! - it belongs to a subscription of its session (the channel's, or a pattern's that matches
//!   the channel), confirmed before it and not yet ended by a confirmed unsubscribe, and it
//!   came while the session was open;
//! - its payload names a publish on that channel that was not refused, invoked before the
//!   message arrived;
//! - no subscription receives one publish twice, and the messages of one publisher
//!   connection come to a subscription in increasing sequence;
//! - it did not cross a cut link: the link from the publisher's node to the subscriber's was
//!   not cut for the whole time from the publish to the delivery.
//!
//! Of every publish that was answered: its count is at most the matching subscriptions that
//! may have been registered while it ran (requested before it returned, not unsubscribed
//! before it began; a broken session's may linger on its node). Where no fault was active
//! from a subscription's confirmation (or [`SETTLE_US`] before the publish, if later) until
//! [`DELIVERY_GRACE_US`] after the publish returned, and the session stayed open and
//! subscribed all that time, the message must have been delivered to it, and counted.

use concord_core::pattern::Pattern;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// The workload's channels are `ps:0`, `ps:1`...; the pattern subscriber's pattern matches all.
pub const CHANNEL_PREFIX: &str = "ps:";
/// How long after a fault ended the cluster may still lose messages: a relay call in flight
/// runs out its deadline (`PUBLISH_PEER_DEADLINE_MS`, 1 s), transports reconnect after their
/// backoff, a restarted node rejoins.
pub const SETTLE_US: u64 = 3_000_000;
/// How long after its `PUBLISH` returned a message may take to reach a subscriber that must
/// get it: the reply comes once every node has queued it, so only the subscriber's own link
/// is left.
pub const DELIVERY_GRACE_US: u64 = 1_000_000;

pub fn channel(index: u32) -> String {
    format!("{CHANNEL_PREFIX}{index}")
}

/// The payload of a publisher's message: unique, and naming its publish.
pub fn payload(publisher: u32, seq: u64) -> String {
    format!("p{publisher}:{seq}")
}

fn parse_payload(text: &str) -> Option<(u32, u64)> {
    let (publisher, seq) = text.strip_prefix('p')?.split_once(':')?;
    let (publisher, seq) = (publisher.parse().ok()?, seq.parse().ok()?);
    // Exactly as written (no leading zeros, no sign): anything else is mangled.
    (payload(publisher, seq) == text).then_some((publisher, seq))
}

/// How a PUBLISH ended, as its publisher saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Published {
    /// The reply: how many subscriptions the cluster counted.
    Receivers(i64),
    /// An error reply: not published.
    Refused(String),
    /// No reply (timeout, lost connection): delivered to some, all or none.
    Unknown(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Publish {
    pub publisher: u32,
    /// Which of the publisher's connections sent it: order is promised per connection.
    pub connection: u32,
    /// The node that connection was to.
    pub node: usize,
    pub seq: u64,
    pub channel: String,
    pub invoked_us: u64,
    pub completed_us: u64,
    pub outcome: Published,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Channel,
    Pattern,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subscription {
    pub kind: Kind,
    /// The channel, or the pattern.
    pub name: String,
    /// When SUBSCRIBE / PSUBSCRIBE was sent.
    pub requested_us: u64,
    /// When its confirmation came.
    pub confirmed_us: Option<u64>,
    /// When UNSUBSCRIBE / PUNSUBSCRIBE was sent, and when its confirmation came.
    pub unsubscribe_requested_us: Option<u64>,
    pub ended_us: Option<u64>,
}

impl Subscription {
    fn matches(&self, channel: &str) -> bool {
        match self.kind {
            Kind::Channel => self.name == channel,
            Kind::Pattern => Pattern::new(self.name.as_bytes()).matches(channel.as_bytes()),
        }
    }
}

/// A message as a subscriber read it: `pattern` for a `pmessage`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivery {
    pub pattern: Option<String>,
    pub channel: String,
    pub payload: String,
    pub at_us: u64,
}

/// One subscriber connection, from connecting to closing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    pub subscriber: u32,
    pub node: usize,
    pub opened_us: u64,
    /// When the subscriber stopped reading it.
    pub closed_us: u64,
    /// Why: "unsubscribed", "run over", or what broke it.
    pub closed_why: String,
    pub subscriptions: Vec<Subscription>,
    pub deliveries: Vec<Delivery>,
    /// Frames the subscriber did not expect, as it read them.
    pub strays: Vec<String>,
}

/// Everything the publishers and subscribers of a run recorded.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PubSubHistory {
    pub publishes: Vec<Publish>,
    pub sessions: Vec<Session>,
}

/// A stretch of time when some fault was active (a network fault, a node down, a power loss
/// armed), in history microseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    pub start_us: u64,
    pub end_us: u64,
}

/// Messages from node `from` to node `to` were dropped from `start_us` to `end_us`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cut {
    pub from: usize,
    pub to: usize,
    pub start_us: u64,
    pub end_us: u64,
}

/// The faults of a run as the checker needs them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Faults {
    pub disturbed: Vec<Window>,
    pub cuts: Vec<Cut>,
}

impl Faults {
    /// Whether no fault was active at any time in `start_us ..= end_us`.
    fn quiet(&self, start_us: u64, end_us: u64) -> bool {
        !self.disturbed.iter().any(|window| window.start_us <= end_us && window.end_us >= start_us)
    }

    /// Whether the link `from` → `to` was cut all the time from `start_us` to `end_us` (by
    /// one cut, or by several that overlap).
    fn cut_throughout(&self, from: usize, to: usize, start_us: u64, end_us: u64) -> bool {
        let mut cuts: Vec<(u64, u64)> = self
            .cuts
            .iter()
            .filter(|cut| cut.from == from && cut.to == to)
            .map(|cut| (cut.start_us, cut.end_us))
            .collect();
        cuts.sort_unstable();
        // Cut from `start_us` to here, so far.
        let mut covered_to_us = start_us;
        for (start, end) in cuts {
            if start > covered_to_us {
                break;
            }
            if end >= covered_to_us {
                covered_to_us = end;
                if covered_to_us >= end_us {
                    return true;
                }
            }
        }
        false
    }
}

fn node_name(node: usize) -> String {
    format!("n{}", node + 1)
}

fn time(us: u64) -> String {
    format!("{}.{:03} ms", us / 1000, us % 1000)
}

impl fmt::Display for Publish {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let outcome = match &self.outcome {
            Published::Receivers(count) => count.to_string(),
            Published::Refused(error) => format!("-{error}"),
            Published::Unknown(why) => format!("unknown ({why})"),
        };
        write!(
            f,
            "publisher {} connection {} via {} [{} .. {}] PUBLISH {} {} -> {outcome}",
            self.publisher,
            self.connection,
            node_name(self.node),
            time(self.invoked_us),
            time(self.completed_us),
            self.channel,
            payload(self.publisher, self.seq)
        )
    }
}

impl fmt::Display for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let subscriptions: Vec<String> = self
            .subscriptions
            .iter()
            .map(|s| {
                let kind = if s.kind == Kind::Pattern { "pattern " } else { "" };
                let confirmed = s.confirmed_us.map_or("unconfirmed".into(), time);
                let ended = s.ended_us.map_or(String::new(), |at| format!(", ended {}", time(at)));
                format!("{kind}{} (confirmed {confirmed}{ended})", s.name)
            })
            .collect();
        // The payloads in order, so that a transcript pins down every delivery.
        let payloads: Vec<&str> = self.deliveries.iter().map(|d| d.payload.as_str()).collect();
        write!(
            f,
            "subscriber {} on {} [{} .. {}, {}] {}; {} messages [{}]",
            self.subscriber,
            node_name(self.node),
            time(self.opened_us),
            time(self.closed_us),
            self.closed_why,
            subscriptions.join(", "),
            self.deliveries.len(),
            payloads.join(" ")
        )?;
        for stray in &self.strays {
            write!(f, "; stray {stray}")?;
        }
        Ok(())
    }
}

impl fmt::Display for PubSubHistory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (id, publish) in self.publishes.iter().enumerate() {
            writeln!(f, "publish #{id} {publish}")?;
        }
        for (id, session) in self.sessions.iter().enumerate() {
            writeln!(f, "session #{id} {session}")?;
        }
        Ok(())
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    /// A frame no subscriber expects.
    Stray { session: usize, frame: String },
    /// A message for no subscription of its session (or a pattern that does not match it).
    NotSubscribed { session: usize, delivery: usize, what: String },
    /// A message before its subscription's confirmation, after its unsubscribe's, or after
    /// its session closed.
    OutOfSubscription { session: usize, delivery: usize, what: String },
    /// A payload no publisher writes.
    Mangled { session: usize, delivery: usize, payload: String },
    /// A message no publish sent, or sent on another channel.
    Phantom { session: usize, delivery: usize, what: String },
    /// A message from a publish that was refused.
    RefusedDelivered { session: usize, delivery: usize, publish: usize },
    /// A message that arrived before its publish was invoked.
    BeforePublished { session: usize, delivery: usize, publish: usize },
    /// A message that crossed a link cut all the time from its publish to its delivery.
    AcrossCut { session: usize, delivery: usize, publish: usize },
    /// One publish delivered twice to one subscription.
    Twice { session: usize, deliveries: (usize, usize), publish: usize },
    /// A publisher connection's messages out of publish order at a subscription.
    OutOfOrder { session: usize, deliveries: (usize, usize), publishes: (usize, usize) },
    /// A publish answered with more receivers than subscriptions it could have reached.
    Overcounted { publish: usize, receivers: i64, possible: usize },
    /// A publish answered with fewer receivers than the subscriptions it had to reach.
    Undercounted { publish: usize, receivers: i64, required: usize },
    /// A message a subscription had to get, with no fault about, that it did not.
    Missed { session: usize, subscription: String, publish: usize },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Stray { session, frame } => write!(f, "pubsub stray frame: session #{session} read {frame}"),
            Problem::NotSubscribed { session, delivery, what } => {
                write!(f, "pubsub message for no subscription: session #{session} message {delivery}: {what}")
            }
            Problem::OutOfSubscription { session, delivery, what } => {
                write!(f, "pubsub message out of its subscription: session #{session} message {delivery}: {what}")
            }
            Problem::Mangled { session, delivery, payload } => {
                write!(f, "pubsub message mangled: session #{session} message {delivery} carries {payload:?}")
            }
            Problem::Phantom { session, delivery, what } => {
                write!(f, "pubsub phantom message: session #{session} message {delivery}: {what}")
            }
            Problem::RefusedDelivered { session, delivery, publish } => write!(
                f,
                "pubsub refused publish delivered: session #{session} message {delivery} is publish #{publish}, which was refused"
            ),
            Problem::BeforePublished { session, delivery, publish } => write!(
                f,
                "pubsub message before its publish: session #{session} message {delivery} came before publish #{publish} was invoked"
            ),
            Problem::AcrossCut { session, delivery, publish } => write!(
                f,
                "pubsub message across a cut link: session #{session} message {delivery} (publish #{publish}) crossed a link cut from the publish to the delivery"
            ),
            Problem::Twice { session, deliveries, publish } => write!(
                f,
                "pubsub message delivered twice: session #{session} messages {} and {} are both publish #{publish}",
                deliveries.0, deliveries.1
            ),
            Problem::OutOfOrder { session, deliveries, publishes } => write!(
                f,
                "pubsub messages out of order: session #{session} message {} (publish #{}) came after message {} (publish #{}) of the same publisher connection",
                deliveries.1, publishes.1, deliveries.0, publishes.0
            ),
            Problem::Overcounted { publish, receivers, possible } => write!(
                f,
                "pubsub receivers overcounted: publish #{publish} answered {receivers}, but at most {possible} subscriptions were live"
            ),
            Problem::Undercounted { publish, receivers, required } => write!(
                f,
                "pubsub receivers undercounted: publish #{publish} answered {receivers}, but {required} subscriptions had to receive it"
            ),
            Problem::Missed { session, subscription, publish } => write!(
                f,
                "pubsub message missed: session #{session} ({subscription}) did not get publish #{publish}, with no fault about"
            ),
        }
    }
}

/// How much of a history the checks could judge.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Coverage {
    /// Messages delivered, all checked for provenance, order and duplicates.
    pub delivered: usize,
    /// Publishes answered with a count (each checked against the live subscriptions).
    pub counted: usize,
    /// (publish, subscription) pairs in a quiet window, where delivery was required.
    pub required: usize,
}

/// Runs every check of the module over a run's Pub/Sub history.
pub fn check(history: &PubSubHistory, faults: &Faults) -> Vec<Problem> {
    check_with_coverage(history, faults).0
}

/// [`check`], and how much it could judge.
pub fn check_with_coverage(history: &PubSubHistory, faults: &Faults) -> (Vec<Problem>, Coverage) {
    let by_payload: BTreeMap<(u32, u64), usize> =
        history.publishes.iter().enumerate().map(|(id, p)| ((p.publisher, p.seq), id)).collect();
    let mut problems = Vec::new();
    // (session, subscription, publish) of every delivery that passed the provenance checks.
    let mut delivered = BTreeSet::new();
    for (id, session) in history.sessions.iter().enumerate() {
        for frame in &session.strays {
            problems.push(Problem::Stray { session: id, frame: frame.clone() });
        }
        deliveries(history, faults, &by_payload, id, &mut delivered, &mut problems);
    }
    let mut coverage = Coverage {
        delivered: history.sessions.iter().map(|session| session.deliveries.len()).sum(),
        ..Coverage::default()
    };
    for (id, publish) in history.publishes.iter().enumerate() {
        if let Published::Receivers(receivers) = publish.outcome {
            coverage.counted += 1;
            coverage.required += counts_and_liveness(history, faults, id, receivers, &delivered, &mut problems);
        }
    }
    (problems, coverage)
}

/// The subscription of `session` a message was for: the latest of its kind and name asked
/// for before the message came.
fn subscription_of(session: &Session, delivery: &Delivery) -> Option<usize> {
    let (kind, name) = match &delivery.pattern {
        Some(pattern) => (Kind::Pattern, pattern),
        None => (Kind::Channel, &delivery.channel),
    };
    session.subscriptions.iter().rposition(|s| s.kind == kind && s.name == *name && s.requested_us <= delivery.at_us)
}

fn deliveries(
    history: &PubSubHistory,
    faults: &Faults,
    by_payload: &BTreeMap<(u32, u64), usize>,
    id: usize,
    delivered: &mut BTreeSet<(usize, usize, usize)>,
    problems: &mut Vec<Problem>,
) {
    let session = &history.sessions[id];
    // Per subscription: the delivery of each publish; per subscription and publisher
    // connection: the last delivery and its publish.
    let mut seen: BTreeMap<(usize, usize), usize> = BTreeMap::new();
    let mut last: BTreeMap<(usize, u32, u32), (usize, usize)> = BTreeMap::new();
    for (at, delivery) in session.deliveries.iter().enumerate() {
        let Some(index) = subscription_of(session, delivery) else {
            let what = format!("{:?} on {}", delivery.payload, delivery.channel);
            problems.push(Problem::NotSubscribed { session: id, delivery: at, what });
            continue;
        };
        let subscription = &session.subscriptions[index];
        if !subscription.matches(&delivery.channel) {
            let what = format!("{} does not match pattern {}", delivery.channel, subscription.name);
            problems.push(Problem::NotSubscribed { session: id, delivery: at, what });
            continue;
        }
        let out_of_subscription = match (subscription.confirmed_us, subscription.ended_us) {
            (None, _) => Some("before its subscription was confirmed".to_string()),
            (Some(confirmed), _) if delivery.at_us < confirmed => {
                Some("before its subscription was confirmed".to_string())
            }
            (_, Some(ended)) if delivery.at_us > ended => Some("after its unsubscribe was confirmed".to_string()),
            _ if delivery.at_us > session.closed_us => Some("after its session closed".to_string()),
            _ => None,
        };
        if let Some(what) = out_of_subscription {
            problems.push(Problem::OutOfSubscription { session: id, delivery: at, what });
        }
        let Some((publisher, seq)) = parse_payload(&delivery.payload) else {
            problems.push(Problem::Mangled { session: id, delivery: at, payload: delivery.payload.clone() });
            continue;
        };
        let Some(&publish_id) = by_payload.get(&(publisher, seq)) else {
            let what = format!("no publish carried {:?}", delivery.payload);
            problems.push(Problem::Phantom { session: id, delivery: at, what });
            continue;
        };
        let publish = &history.publishes[publish_id];
        if publish.channel != delivery.channel {
            let what = format!("publish #{publish_id} went to {}, not {}", publish.channel, delivery.channel);
            problems.push(Problem::Phantom { session: id, delivery: at, what });
            continue;
        }
        if matches!(publish.outcome, Published::Refused(_)) {
            problems.push(Problem::RefusedDelivered { session: id, delivery: at, publish: publish_id });
        }
        if delivery.at_us < publish.invoked_us {
            problems.push(Problem::BeforePublished { session: id, delivery: at, publish: publish_id });
        }
        if publish.node != session.node
            && faults.cut_throughout(publish.node, session.node, publish.invoked_us, delivery.at_us)
        {
            problems.push(Problem::AcrossCut { session: id, delivery: at, publish: publish_id });
        }
        if let Some(&first) = seen.get(&(index, publish_id)) {
            problems.push(Problem::Twice { session: id, deliveries: (first, at), publish: publish_id });
            continue;
        }
        seen.insert((index, publish_id), at);
        delivered.insert((id, index, publish_id));
        let stream = (index, publish.publisher, publish.connection);
        if let Some(&(before, before_publish)) = last.get(&stream) {
            if history.publishes[before_publish].seq > seq {
                let problem = Problem::OutOfOrder {
                    session: id,
                    deliveries: (before, at),
                    publishes: (before_publish, publish_id),
                };
                problems.push(problem);
            }
        }
        last.insert(stream, (at, publish_id));
    }
}

fn counts_and_liveness(
    history: &PubSubHistory,
    faults: &Faults,
    publish_id: usize,
    receivers: i64,
    delivered: &BTreeSet<(usize, usize, usize)>,
    problems: &mut Vec<Problem>,
) -> usize {
    let publish = &history.publishes[publish_id];
    let deadline_us = publish.completed_us + DELIVERY_GRACE_US;
    let (mut possible, mut required) = (0usize, 0usize);
    for (session_id, session) in history.sessions.iter().enumerate() {
        for (index, subscription) in session.subscriptions.iter().enumerate() {
            if !subscription.matches(&publish.channel) {
                continue;
            }
            let ended_before = subscription.ended_us.is_some_and(|ended| ended <= publish.invoked_us);
            if subscription.requested_us <= publish.completed_us && !ended_before {
                possible += 1;
            }
            let Some(confirmed) = subscription.confirmed_us.filter(|&at| at <= publish.invoked_us) else { continue };
            let stayed = session.closed_us > deadline_us
                && subscription.unsubscribe_requested_us.is_none_or(|at| at > deadline_us);
            let quiet_from = confirmed.min(publish.invoked_us.saturating_sub(SETTLE_US));
            if !stayed || !faults.quiet(quiet_from, deadline_us) {
                continue;
            }
            required += 1;
            if !delivered.contains(&(session_id, index, publish_id)) {
                let subscription =
                    format!("subscriber {} on {}: {}", session.subscriber, node_name(session.node), subscription.name);
                problems.push(Problem::Missed { session: session_id, subscription, publish: publish_id });
            }
        }
    }
    if receivers > possible as i64 {
        problems.push(Problem::Overcounted { publish: publish_id, receivers, possible });
    }
    if receivers < required as i64 {
        problems.push(Problem::Undercounted { publish: publish_id, receivers, required });
    }
    required
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1000;

    /// A hand-made history: times in ms, publishes 10 ms long.
    #[derive(Default)]
    struct Builder {
        history: PubSubHistory,
        faults: Faults,
    }

    impl Builder {
        /// A publish by publisher 0 (its connection 0, via n1) answered `receivers`.
        fn publish(&mut self, seq: u64, channel: &str, at_ms: u64, receivers: i64) -> usize {
            self.publish_as(0, 0, 0, seq, channel, at_ms, Published::Receivers(receivers))
        }

        #[allow(clippy::too_many_arguments)]
        fn publish_as(
            &mut self,
            publisher: u32,
            connection: u32,
            node: usize,
            seq: u64,
            channel: &str,
            at_ms: u64,
            outcome: Published,
        ) -> usize {
            self.history.publishes.push(Publish {
                publisher,
                connection,
                node,
                seq,
                channel: channel.into(),
                invoked_us: at_ms * MS,
                completed_us: (at_ms + 10) * MS,
                outcome,
            });
            self.history.publishes.len() - 1
        }

        /// A session of subscriber 1 on `node`, open from `open_ms` to `close_ms`, subscribed
        /// (confirmed 5 ms after opening) to `channels` and `patterns`.
        fn session(&mut self, node: usize, open_ms: u64, close_ms: u64, channels: &[&str], patterns: &[&str]) -> usize {
            let subscription = |kind, name: &&str| Subscription {
                kind,
                name: name.to_string(),
                requested_us: open_ms * MS,
                confirmed_us: Some((open_ms + 5) * MS),
                unsubscribe_requested_us: None,
                ended_us: None,
            };
            let subscriptions = channels
                .iter()
                .map(|name| subscription(Kind::Channel, name))
                .chain(patterns.iter().map(|name| subscription(Kind::Pattern, name)))
                .collect();
            self.history.sessions.push(Session {
                subscriber: 1,
                node,
                opened_us: open_ms * MS,
                closed_us: close_ms * MS,
                closed_why: "run over".into(),
                subscriptions,
                deliveries: Vec::new(),
                strays: Vec::new(),
            });
            self.history.sessions.len() - 1
        }

        fn deliver(&mut self, session: usize, channel: &str, payload: &str, at_ms: u64) {
            self.deliver_on(session, None, channel, payload, at_ms);
        }

        fn deliver_on(&mut self, session: usize, pattern: Option<&str>, channel: &str, payload: &str, at_ms: u64) {
            self.history.sessions[session].deliveries.push(Delivery {
                pattern: pattern.map(str::to_string),
                channel: channel.into(),
                payload: payload.into(),
                at_us: at_ms * MS,
            });
        }

        fn disturbed(&mut self, from_ms: u64, to_ms: u64) {
            self.faults.disturbed.push(Window { start_us: from_ms * MS, end_us: to_ms * MS });
        }

        fn cut(&mut self, from: usize, to: usize, from_ms: u64, to_ms: u64) {
            self.faults.cuts.push(Cut { from, to, start_us: from_ms * MS, end_us: to_ms * MS });
            self.disturbed(from_ms, to_ms);
        }

        fn check(&self) -> Vec<Problem> {
            check(&self.history, &self.faults)
        }
    }

    /// Two subscribers on two nodes, a channel and a pattern, every message delivered.
    fn clean() -> Builder {
        let mut h = Builder::default();
        let on_channel = h.session(0, 0, 10_000, &["ps:0"], &[]);
        let on_pattern = h.session(1, 0, 10_000, &["ps:1"], &["ps:*"]);
        for seq in 1..=4 {
            let channel = if seq % 2 == 0 { "ps:0" } else { "ps:1" };
            let at = 5_000 + seq * 100;
            h.publish(seq, channel, at, 2);
            if channel == "ps:0" {
                h.deliver(on_channel, channel, &payload(0, seq), at + 5);
            } else {
                h.deliver(on_pattern, channel, &payload(0, seq), at + 5);
            }
            h.deliver_on(on_pattern, Some("ps:*"), channel, &payload(0, seq), at + 6);
        }
        h
    }

    #[test]
    fn a_clean_history_passes() {
        assert_eq!(clean().check(), vec![]);
        let h = clean();
        let (_, coverage) = check_with_coverage(&h.history, &h.faults);
        assert_eq!(coverage, Coverage { delivered: 8, counted: 4, required: 8 });
        assert_eq!(parse_payload("p3:17"), Some((3, 17)));
        assert_eq!(parse_payload("p3:017"), None);
        assert_eq!(parse_payload("x3:17"), None);
    }

    #[test]
    fn a_duplicated_message_is_caught() {
        let mut h = clean();
        h.deliver(0, "ps:0", &payload(0, 2), 5_300);
        assert!(matches!(h.check()[..], [Problem::Twice { session: 0, publish: 1, .. }]), "{:?}", h.check());
    }

    #[test]
    fn one_publisher_connection_out_of_order_is_caught_and_two_connections_are_not() {
        let mut h = Builder::default();
        let session = h.session(1, 0, 10_000, &["ps:0"], &[]);
        h.publish_as(0, 0, 0, 1, "ps:0", 100, Published::Receivers(1));
        h.publish_as(0, 0, 0, 2, "ps:0", 200, Published::Receivers(1));
        h.deliver(session, "ps:0", "p0:2", 215);
        h.deliver(session, "ps:0", "p0:1", 216);
        assert!(matches!(h.check()[..], [Problem::OutOfOrder { publishes: (1, 0), .. }]), "{:?}", h.check());
        // Gaps are allowed; across the publisher's connections there is no order to keep.
        let mut h = Builder::default();
        let session = h.session(1, 0, 10_000, &["ps:0"], &[]);
        h.publish_as(0, 0, 0, 1, "ps:0", 100, Published::Unknown("timed out".into()));
        h.publish_as(0, 1, 2, 2, "ps:0", 200, Published::Receivers(1));
        h.publish_as(0, 1, 2, 3, "ps:0", 300, Published::Unknown("timed out".into()));
        h.publish_as(0, 1, 2, 4, "ps:0", 400, Published::Receivers(1));
        h.deliver(session, "ps:0", "p0:2", 215);
        h.deliver(session, "ps:0", "p0:1", 216);
        h.deliver(session, "ps:0", "p0:4", 415);
        assert_eq!(h.check(), vec![]);
    }

    #[test]
    fn phantom_mangled_refused_and_misrouted_messages_are_caught() {
        let mut h = clean();
        h.publish_as(0, 0, 0, 9, "ps:0", 6_000, Published::Refused("ERR no".into()));
        h.deliver(0, "ps:0", "p0:9", 6_020);
        h.deliver(0, "ps:0", "p0:77", 6_030);
        h.deliver(0, "ps:0", "p0:7x", 6_040);
        h.deliver(0, "ps:0", "p0:1", 6_050);
        let problems = h.check();
        assert!(matches!(problems[0], Problem::RefusedDelivered { delivery: 2, publish: 4, .. }), "{problems:?}");
        assert!(matches!(problems[1], Problem::Phantom { delivery: 3, .. }), "{problems:?}");
        assert!(matches!(&problems[2], Problem::Mangled { delivery: 4, payload, .. } if payload == "p0:7x"));
        // p0:1 went to ps:1.
        assert!(matches!(&problems[3], Problem::Phantom { delivery: 5, what, .. } if what.contains("ps:1")));
        assert_eq!(problems.len(), 4, "{problems:?}");
    }

    #[test]
    fn messages_outside_their_subscription_are_caught() {
        let mut h = clean();
        // Session 0 never subscribed to ps:1, nor to a pattern; the pattern does not match.
        h.deliver(0, "ps:1", "p0:1", 5_120);
        h.deliver_on(0, Some("ps:*"), "ps:1", "p0:1", 5_121);
        h.deliver_on(1, Some("ps:*"), "other", "p0:1", 5_122);
        let problems = h.check();
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems.iter().all(|p| matches!(p, Problem::NotSubscribed { .. })), "{problems:?}");
        // Before the confirmation, after the unsubscribe's, after the session closed.
        let mut h = Builder::default();
        let session = h.session(1, 0, 1_000, &["ps:0"], &[]);
        h.history.sessions[session].subscriptions[0].confirmed_us = Some(300 * MS);
        h.publish(1, "ps:0", 100, 1);
        h.publish(2, "ps:0", 700, 1);
        h.publish(3, "ps:0", 850, 1);
        h.publish(4, "ps:0", 990, 0);
        h.deliver(session, "ps:0", "p0:1", 200);
        h.deliver(session, "ps:0", "p0:2", 710);
        h.deliver(session, "ps:0", "p0:3", 860);
        h.history.sessions[session].closed_us = 900 * MS;
        h.deliver(session, "ps:0", "p0:4", 995);
        let problems = h.check();
        let whats: Vec<&str> = problems
            .iter()
            .filter_map(|p| match p {
                Problem::OutOfSubscription { what, .. } => Some(what.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(whats, vec!["before its subscription was confirmed", "after its session closed"], "{problems:?}");
        let mut h = Builder::default();
        let session = h.session(1, 0, 1_000, &["ps:0"], &[]);
        h.history.sessions[session].subscriptions[0].ended_us = Some(800 * MS);
        h.publish(1, "ps:0", 850, 0);
        h.deliver(session, "ps:0", "p0:1", 860);
        assert!(
            matches!(&h.check()[..], [Problem::OutOfSubscription { what, .. }] if what.contains("unsubscribe")),
            "{:?}",
            h.check()
        );
    }

    #[test]
    fn a_message_before_its_publish_or_across_a_cut_link_is_caught() {
        let mut h = Builder::default();
        let session = h.session(1, 0, 10_000, &["ps:0"], &[]);
        h.publish(1, "ps:0", 500, 1);
        h.deliver(session, "ps:0", "p0:1", 490);
        assert!(matches!(h.check()[..], [Problem::BeforePublished { .. }]), "{:?}", h.check());
        // n1 -> n2 cut by two overlapping faults from before the publish until after the
        // delivery; the other direction does not matter.
        let mut h = Builder::default();
        let session = h.session(1, 0, 10_000, &["ps:0"], &[]);
        h.cut(0, 1, 100, 600);
        h.cut(0, 1, 550, 900);
        h.cut(1, 0, 0, 10_000);
        h.publish(1, "ps:0", 500, 0);
        h.deliver(session, "ps:0", "p0:1", 800);
        assert!(matches!(h.check()[..], [Problem::AcrossCut { .. }]), "{:?}", h.check());
        // Healed before the delivery: the message may have waited, and crossed.
        h.faults.cuts.remove(1);
        assert_eq!(h.check(), vec![]);
        // A gap between the cuts lets it through, too; a cut that ended before the publish
        // does not matter.
        h.cut(0, 1, 700, 900);
        h.cut(0, 1, 0, 50);
        assert_eq!(h.check(), vec![]);
        h.cut(0, 1, 590, 710);
        assert!(matches!(h.check()[..], [Problem::AcrossCut { .. }]), "{:?}", h.check());
    }

    #[test]
    fn a_reply_counting_more_than_the_live_subscriptions_is_caught() {
        let mut h = clean();
        // ps:0 has session 0's subscription and session 1's pattern: two at most.
        h.publish(10, "ps:0", 7_000, 3);
        h.deliver(0, "ps:0", "p0:10", 7_012);
        h.deliver_on(1, Some("ps:*"), "ps:0", "p0:10", 7_012);
        assert!(
            matches!(h.check()[..], [Problem::Overcounted { publish: 4, receivers: 3, possible: 2 }]),
            "{:?}",
            h.check()
        );
        // A subscription whose unsubscribe was confirmed before the publish no longer counts.
        let mut h = Builder::default();
        let session = h.session(1, 0, 10_000, &["ps:0"], &[]);
        h.history.sessions[session].subscriptions[0].unsubscribe_requested_us = Some(400 * MS);
        h.history.sessions[session].subscriptions[0].ended_us = Some(450 * MS);
        h.publish(1, "ps:0", 500, 1);
        assert!(matches!(h.check()[..], [Problem::Overcounted { possible: 0, .. }]), "{:?}", h.check());
        // Unconfirmed, or on a broken session, it may still be registered.
        h.history.sessions[session].subscriptions[0].ended_us = None;
        h.history.sessions[session].closed_us = 420 * MS;
        assert_eq!(h.check(), vec![]);
    }

    #[test]
    fn a_message_missed_with_no_fault_about_is_caught() {
        let mut h = clean();
        h.history.sessions[0].deliveries.pop();
        let problems = h.check();
        assert!(matches!(problems[..], [Problem::Missed { session: 0, publish: 3, .. }]), "{problems:?}");
        // A reply short of the subscriptions that had to get it.
        let mut h = clean();
        h.history.publishes[0].outcome = Published::Receivers(1);
        assert!(
            matches!(h.check()[..], [Problem::Undercounted { publish: 0, receivers: 1, required: 2 }]),
            "{:?}",
            h.check()
        );
    }

    #[test]
    fn a_message_lost_near_a_fault_or_a_closing_session_is_allowed() {
        let drop_last_on_channel = |h: &mut Builder| {
            h.history.sessions[0].deliveries.pop();
            h.history.publishes[3].outcome = Published::Receivers(1);
        };
        // A fault during the publish; a fault that ended less than the settling time before.
        for (from, to) in [(5_400, 5_405), (2_000, 5_000)] {
            let mut h = clean();
            drop_last_on_channel(&mut h);
            h.disturbed(from, to);
            assert_eq!(h.check(), vec![], "a fault {from}..{to} ms");
        }
        // A fault between the subscription's confirmation and the publish, long before.
        let mut h = clean();
        drop_last_on_channel(&mut h);
        h.disturbed(100, 200);
        assert_eq!(h.check(), vec![]);
        // The session closed (or unsubscribed) before the message was due.
        let mut h = clean();
        drop_last_on_channel(&mut h);
        h.history.sessions[0].closed_us = 5_500 * MS;
        assert_eq!(h.check(), vec![]);
        let mut h = clean();
        drop_last_on_channel(&mut h);
        h.history.sessions[0].subscriptions[0].unsubscribe_requested_us = Some(5_500 * MS);
        assert_eq!(h.check(), vec![]);
        // With no fault at all, the same loss is a violation (and so is the count).
        let mut h = clean();
        drop_last_on_channel(&mut h);
        assert!(matches!(h.check()[..], [Problem::Missed { .. }, Problem::Undercounted { .. }]), "{:?}", h.check());
    }

    #[test]
    fn stray_frames_are_reported() {
        let mut h = clean();
        h.history.sessions[1].strays.push("[\"bogus\"]".into());
        assert!(matches!(&h.check()[..], [Problem::Stray { session: 1, .. }]), "{:?}", h.check());
    }
}
