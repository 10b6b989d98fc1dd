//! This node's Pub/Sub broker: which connections subscribe to which channels and patterns,
//! and the bounded mailbox through which each receives its messages.
//!
//! PUBLISH delivers to this node's subscribers and sends one copy to every other node (see
//! [`publish`]), which delivers to its own: subscriptions never leave their node, and nothing
//! is logged or replicated. Delivery is at most once: a message is lost if its subscriber's
//! node cannot be reached in time, or if the subscriber falls too far behind (it is then
//! disconnected, as Redis's `client-output-buffer-limit pubsub` does).
//!
//! Messages are put into mailboxes under one lock, so every subscriber on a node sees the
//! messages published on it in one order, and those of one publisher in publish order. The
//! copies for another node travel in numbered batches, one call at a time; a batch given up at
//! its deadline may still arrive after the next one, and is then dropped, so order holds there
//! too (see [`RelayBatch`]).

use crate::config::Routing;
use crate::node::Node;
use crate::peers::{PUBSUB_SEQUENCED_VERSION, SERVICE_PUBSUB_BATCH, SERVICE_PUBSUB_SEQUENCED};
use bytes::Bytes;
use concord_core::limits::{
    PUBLISH_BATCH_BYTES_MAX, PUBLISH_BATCH_MESSAGES_MAX, PUBLISH_PEER_DEADLINE_MS, PUBLISH_RELAY_QUEUE_MAX,
    SUBSCRIBER_MESSAGE_OVERHEAD_BYTES, SUBSCRIBER_PENDING_BYTES_CEILING, SUBSCRIBER_PENDING_BYTES_MAX,
    SUBSCRIBER_PENDING_SOFT_BYTES, SUBSCRIBER_PENDING_SOFT_SECS,
};
use concord_core::notifications::{EventClass, Notification};
use concord_core::pattern::Pattern;
use concord_core::session::{Publication, SubscriptionKind};
use concord_core::slot::key_slot;
use concord_core::types::{Clock, GroupId, NodeId, TimeMs};
use concord_core::Error;
use concord_raft::state_machine::NotifyHook;
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, Notify};

/// A message for one subscriber: `pattern` is the subscription it matched, if a pattern;
/// `sharded` when it was published on a shard channel (SPUBLISH). `revoked`: no message, but
/// word that this node dropped the subscriber's shard channel (its slot's shard left the node;
/// see [`Broker::revoke_shard_channels`]), to be told as a `sunsubscribe` push.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    pub pattern: Option<Bytes>,
    pub channel: Bytes,
    pub payload: Bytes,
    pub sharded: bool,
    pub revoked: bool,
}

impl Message {
    fn size_bytes(&self) -> usize {
        self.pattern.as_ref().map_or(0, Bytes::len)
            + self.channel.len()
            + self.payload.len()
            + SUBSCRIBER_MESSAGE_OVERHEAD_BYTES
    }
}

/// Redis's `client-output-buffer-limit pubsub` (`CONFIG SET` changes it for every subscriber
/// at once): a subscriber is disconnected when its waiting messages pass `hard_bytes`, or stay
/// past `soft_bytes` for longer than `soft_secs` seconds. A limit of 0 is "none", as in Redis,
/// except that the hard one then stands at [`SUBSCRIBER_PENDING_BYTES_CEILING`]: a subscriber
/// that never reads never costs unbounded memory.
#[derive(Debug)]
pub struct OutputLimit {
    pub hard_bytes: AtomicU64,
    pub soft_bytes: AtomicU64,
    pub soft_secs: AtomicU64,
}

impl Default for OutputLimit {
    fn default() -> OutputLimit {
        OutputLimit {
            hard_bytes: AtomicU64::new(SUBSCRIBER_PENDING_BYTES_MAX as u64),
            soft_bytes: AtomicU64::new(SUBSCRIBER_PENDING_SOFT_BYTES as u64),
            soft_secs: AtomicU64::new(SUBSCRIBER_PENDING_SOFT_SECS),
        }
    }
}

impl OutputLimit {
    pub fn new(hard_bytes: u64, soft_bytes: u64, soft_secs: u64) -> OutputLimit {
        OutputLimit {
            hard_bytes: AtomicU64::new(hard_bytes),
            soft_bytes: AtomicU64::new(soft_bytes),
            soft_secs: AtomicU64::new(soft_secs),
        }
    }

    fn hard(&self) -> usize {
        match self.hard_bytes.load(Ordering::Relaxed) as usize {
            0 => SUBSCRIBER_PENDING_BYTES_CEILING,
            bytes => bytes.min(SUBSCRIBER_PENDING_BYTES_CEILING),
        }
    }

    /// The soft limit in bytes and how long it may be exceeded, if it is set.
    fn soft(&self) -> Option<(usize, u64)> {
        let bytes = self.soft_bytes.load(Ordering::Relaxed) as usize;
        (bytes > 0).then(|| (bytes, self.soft_secs.load(Ordering::Relaxed).saturating_mul(1000)))
    }
}

/// One connection's messages not yet taken by it, bounded by the node's [`OutputLimit`].
pub struct Mailbox {
    queue: Mutex<Queue>,
    limit: Arc<OutputLimit>,
    clock: Arc<dyn Clock>,
    overflowed: AtomicBool,
    arrived: Notify,
    overflow: Notify,
}

#[derive(Default)]
struct Queue {
    messages: VecDeque<Message>,
    bytes: usize,
    /// Since when the waiting messages have stood past the soft limit.
    over_soft_since_ms: Option<TimeMs>,
}

impl Mailbox {
    pub fn new(limit: Arc<OutputLimit>, clock: Arc<dyn Clock>) -> Arc<Mailbox> {
        Arc::new(Mailbox {
            queue: Mutex::new(Queue::default()),
            limit,
            clock,
            overflowed: AtomicBool::new(false),
            arrived: Notify::new(),
            overflow: Notify::new(),
        })
    }

    /// Queues a message; past the hard limit, or past the soft one for too long, drops
    /// everything queued and marks the mailbox overflowed (its connection is then closed).
    /// As in Redis, the limits are checked as messages are added.
    fn push(&self, message: Message) {
        if self.overflowed() {
            return;
        }
        let mut queue = self.queue.lock();
        let size = message.size_bytes();
        let bytes = queue.bytes + size;
        let mut over = bytes > self.limit.hard();
        match self.limit.soft() {
            Some((soft_bytes, soft_ms)) if bytes > soft_bytes => {
                let now_ms = self.clock.now_ms();
                let since_ms = *queue.over_soft_since_ms.get_or_insert(now_ms);
                over |= now_ms.saturating_sub(since_ms) > soft_ms;
            }
            _ => queue.over_soft_since_ms = None,
        }
        if over {
            *queue = Queue::default();
            drop(queue);
            self.overflowed.store(true, Ordering::Release);
            self.overflow.notify_one();
            self.arrived.notify_one();
            return;
        }
        queue.bytes = bytes;
        queue.messages.push_back(message);
        drop(queue);
        self.arrived.notify_one();
    }

    /// Takes queued messages, oldest first, up to about `bytes` (at least one if any).
    pub fn take(&self, bytes: usize) -> Vec<Message> {
        let mut queue = self.queue.lock();
        let (mut taken, mut taken_bytes) = (Vec::new(), 0);
        while taken_bytes < bytes {
            let Some(message) = queue.messages.pop_front() else { break };
            let size = message.size_bytes();
            queue.bytes -= size;
            taken_bytes += size;
            taken.push(message);
        }
        if self.limit.soft().is_none_or(|(soft_bytes, _)| queue.bytes <= soft_bytes) {
            queue.over_soft_since_ms = None;
        }
        taken
    }

    pub fn is_empty(&self) -> bool {
        self.queue.lock().messages.is_empty()
    }

    pub fn overflowed(&self) -> bool {
        self.overflowed.load(Ordering::Acquire)
    }

    /// Resolves once messages may have arrived (or the mailbox overflowed).
    pub async fn arrived(&self) {
        self.arrived.notified().await
    }

    /// Resolves once the mailbox has overflowed.
    pub async fn overflows(&self) {
        if !self.overflowed() {
            self.overflow.notified().await
        }
    }
}

struct PatternSubscribers {
    matcher: Pattern,
    subscribers: BTreeMap<u64, Arc<Mailbox>>,
}

#[derive(Default)]
struct Subscriptions {
    channels: BTreeMap<Bytes, BTreeMap<u64, Arc<Mailbox>>>,
    patterns: BTreeMap<Bytes, PatternSubscribers>,
    shard_channels: BTreeMap<Bytes, BTreeMap<u64, Arc<Mailbox>>>,
    /// Each subscriber's subscriptions, to drop them all when it leaves or RESETs.
    by_subscriber: BTreeMap<u64, BTreeSet<(SubscriptionKind, Bytes)>>,
}

/// This node's subscriptions.
#[derive(Default)]
pub struct Broker {
    subscriptions: Mutex<Subscriptions>,
}

impl Broker {
    pub fn subscribe(&self, subscriber: u64, mailbox: &Arc<Mailbox>, kind: SubscriptionKind, name: Bytes) {
        let mut subscriptions = self.subscriptions.lock();
        subscriptions.by_subscriber.entry(subscriber).or_default().insert((kind, name.clone()));
        let subscribers = match kind {
            SubscriptionKind::Channel => subscriptions.channels.entry(name).or_default(),
            SubscriptionKind::ShardChannel => subscriptions.shard_channels.entry(name).or_default(),
            SubscriptionKind::Pattern => {
                &mut subscriptions
                    .patterns
                    .entry(name)
                    .or_insert_with_key(|name| PatternSubscribers {
                        matcher: Pattern::new(name),
                        subscribers: BTreeMap::new(),
                    })
                    .subscribers
            }
        };
        subscribers.insert(subscriber, mailbox.clone());
    }

    pub fn unsubscribe(&self, subscriber: u64, kind: SubscriptionKind, name: &Bytes) {
        let mut subscriptions = self.subscriptions.lock();
        if let Some(held) = subscriptions.by_subscriber.get_mut(&subscriber) {
            held.remove(&(kind, name.clone()));
            if held.is_empty() {
                subscriptions.by_subscriber.remove(&subscriber);
            }
        }
        subscriptions.remove(subscriber, kind, name);
    }

    /// Every client subscribed to something here.
    pub fn subscribers(&self) -> Vec<u64> {
        self.subscriptions.lock().by_subscriber.keys().copied().collect()
    }

    /// Drops every subscription of a subscriber (it left, or RESET).
    pub fn drop_subscriber(&self, subscriber: u64) {
        let mut subscriptions = self.subscriptions.lock();
        for (kind, name) in subscriptions.by_subscriber.remove(&subscriber).unwrap_or_default() {
            subscriptions.remove(subscriber, kind, &name);
        }
    }

    /// Drops every subscription to a shard channel that `kept` refuses, and tells each of its
    /// subscribers (a `sunsubscribe` push, as Redis sends when a slot leaves a node); the
    /// number of channels dropped.
    pub fn revoke_shard_channels(&self, kept: impl Fn(&Bytes) -> bool) -> usize {
        let mut subscriptions = self.subscriptions.lock();
        let revoked: Vec<Bytes> =
            subscriptions.shard_channels.keys().filter(|channel| !kept(channel)).cloned().collect();
        for channel in &revoked {
            for (subscriber, mailbox) in subscriptions.shard_channels.remove(channel).unwrap_or_default() {
                let held = (SubscriptionKind::ShardChannel, channel.clone());
                if let Some(subscribed) = subscriptions.by_subscriber.get_mut(&subscriber) {
                    subscribed.remove(&held);
                    if subscribed.is_empty() {
                        subscriptions.by_subscriber.remove(&subscriber);
                    }
                }
                let (channel, payload) = (channel.clone(), Bytes::new());
                mailbox.push(Message { pattern: None, channel, payload, sharded: true, revoked: true });
            }
        }
        revoked.len()
    }

    /// Delivers a message to this node's subscribers of the channel and of every pattern it
    /// matches (of the shard channel only, for SPUBLISH); the number of deliveries (a
    /// subscriber of several matching patterns counts once for each, as in Redis).
    pub fn publish(&self, publication: &Publication) -> usize {
        let (channel, payload, sharded) = (&publication.channel, &publication.message, publication.sharded);
        let subscriptions = self.subscriptions.lock();
        let mut receivers = 0;
        let subscribers = if sharded { &subscriptions.shard_channels } else { &subscriptions.channels };
        for mailbox in subscribers.get(channel).into_iter().flat_map(BTreeMap::values) {
            let (channel, payload) = (channel.clone(), payload.clone());
            mailbox.push(Message { pattern: None, channel, payload, sharded, revoked: false });
            receivers += 1;
        }
        if sharded {
            return receivers;
        }
        for (pattern, subscribed) in &subscriptions.patterns {
            if !subscribed.matcher.matches(channel) {
                continue;
            }
            for mailbox in subscribed.subscribers.values() {
                let message = Message {
                    pattern: Some(pattern.clone()),
                    channel: channel.clone(),
                    payload: payload.clone(),
                    sharded: false,
                    revoked: false,
                };
                mailbox.push(message);
                receivers += 1;
            }
        }
        receivers
    }

    /// PUBSUB (SHARD)CHANNELS: (shard) channels with at least one subscriber here, in byte order.
    pub fn channels(&self, sharded: bool, pattern: Option<&[u8]>) -> Vec<Bytes> {
        let matcher = pattern.map(Pattern::new);
        let subscriptions = self.subscriptions.lock();
        let channels = if sharded { &subscriptions.shard_channels } else { &subscriptions.channels };
        channels
            .keys()
            .filter(|channel| matcher.as_ref().is_none_or(|matcher| matcher.matches(channel)))
            .cloned()
            .collect()
    }

    /// PUBSUB (SHARD)NUMSUB: subscribers here of each (shard) channel (pattern subscriptions
    /// not counted).
    pub fn numsub(&self, sharded: bool, channels: &[Bytes]) -> Vec<i64> {
        let subscriptions = self.subscriptions.lock();
        let subscribed = if sharded { &subscriptions.shard_channels } else { &subscriptions.channels };
        channels.iter().map(|channel| subscribed.get(channel).map_or(0, |s| s.len() as i64)).collect()
    }

    /// PUBSUB NUMPAT: distinct patterns subscribed to here.
    pub fn numpat(&self) -> i64 {
        self.subscriptions.lock().patterns.len() as i64
    }
}

impl Subscriptions {
    fn remove(&mut self, subscriber: u64, kind: SubscriptionKind, name: &Bytes) {
        match kind {
            SubscriptionKind::Channel | SubscriptionKind::ShardChannel => {
                let channels =
                    if kind == SubscriptionKind::Channel { &mut self.channels } else { &mut self.shard_channels };
                if let Some(subscribers) = channels.get_mut(name) {
                    subscribers.remove(&subscriber);
                    if subscribers.is_empty() {
                        channels.remove(name);
                    }
                }
            }
            SubscriptionKind::Pattern => {
                if let Some(subscribed) = self.patterns.get_mut(name) {
                    subscribed.subscribers.remove(&subscriber);
                    if subscribed.subscribers.is_empty() {
                        self.patterns.remove(name);
                    }
                }
            }
        }
    }
}

/// A new mailbox for a subscriber of `node`, bounded by its Pub/Sub output limit.
pub fn mailbox(node: &Node) -> Arc<Mailbox> {
    Mailbox::new(node.params.live.pubsub_output.clone(), node.clock.clone())
}

/// PUBLISH: delivers here at once and queues one copy for every other member of the cluster
/// (each node's copies go in publish order, see [`Relay`]); the returned future gives the
/// cluster-wide number of receivers (Redis Cluster counts only its own node's). A node that
/// does not answer within [`PUBLISH_PEER_DEADLINE_MS`] counts 0: delivery is at most once.
pub async fn publish(node: &Arc<Node>, publication: Publication) -> impl std::future::Future<Output = i64> + Send {
    let here = node.broker.publish(&publication) as i64;
    let map = node.map();
    let shard_nodes = match (publication.sharded, node.config.routing) {
        (true, Routing::Redirect) => {
            map.shard_of(key_slot(&publication.channel)).and_then(|shard| map.shards.get(&shard))
        }
        _ => None,
    };
    // A shard channel in redirect mode has subscribers only on its shard's nodes (the others
    // redirect them there): the message goes to those alone.
    let recipient = |id: &NodeId| {
        *id != node.id && shard_nodes.is_none_or(|shard| shard.voters.contains(id) || shard.replicas.contains(id))
    };
    let mut peers: Vec<NodeId> = map.members.keys().filter(|id| recipient(id)).copied().collect();
    if node.env.defects.pubsub_local_only {
        peers.clear();
    }
    let mut counts = Vec::with_capacity(peers.len());
    for peer in peers {
        counts.push(node.relay.send(node, peer, publication.clone()).await);
    }
    async move {
        here + futures::future::join_all(counts).await.into_iter().map(|count| count.unwrap_or(0) as i64).sum::<i64>()
    }
}

/// Publications on their way to one other node, sent in publish order, many per call: one
/// call per message would hold each publisher to the peers' round trip.
struct Queued {
    publication: Publication,
    counted: oneshot::Sender<u64>,
}

/// One ordered queue per other node, each drained by its own task (started when first used);
/// and, for the batches other nodes send here, the last one delivered from each.
pub struct Relay {
    queues: Mutex<BTreeMap<NodeId, mpsc::Sender<Queued>>>,
    /// Names this run of the node in the batches it sends.
    stream: u64,
    delivered: Mutex<BTreeMap<NodeId, (u64, u64)>>,
}

/// A batch of publications for one node. `sent` numbers the batches from `from` to that node
/// within one run of `from` (`stream`): a call abandoned at its deadline may still be delivered
/// after the next batch, and the receiver then drops it, as it does any batch not newer than
/// the last it delivered from that run.
#[derive(Serialize, Deserialize)]
pub struct RelayBatch<P> {
    pub from: NodeId,
    pub stream: u64,
    pub sent: u64,
    pub publications: Vec<P>,
}

impl Relay {
    /// `stream` names this run of the node (drawn at start).
    pub fn new(stream: u64) -> Relay {
        Relay { queues: Mutex::default(), stream, delivered: Mutex::default() }
    }

    /// Whether the batch numbered `sent` of `stream` from `from` is to be delivered: it is the
    /// first seen from that run, or newer than the last delivered. A new run of the sender
    /// starts over; only the last run of each sender is remembered, so this holds one entry
    /// per node that ever published to this one while it runs (members, bounded by the map).
    fn admit(&self, from: NodeId, stream: u64, sent: u64) -> bool {
        let mut delivered = self.delivered.lock();
        match delivered.get(&from) {
            Some(&(last_stream, last_sent)) if last_stream == stream && sent <= last_sent => false,
            _ => {
                delivered.insert(from, (stream, sent));
                true
            }
        }
    }

    /// Queues `publication` for `peer`, after every publication queued for it before; the
    /// receiver gets the peer's count of subscribers (0 if the message did not reach it). A
    /// full queue holds the publisher (its next commands wait), never more memory.
    async fn send(&self, node: &Arc<Node>, peer: NodeId, publication: Publication) -> oneshot::Receiver<u64> {
        let (counted, count) = oneshot::channel();
        let queue = self.queues.lock().entry(peer).or_insert_with(|| relay_to(node, peer)).clone();
        let _ = queue.send(Queued { publication, counted }).await;
        count
    }
}

/// Starts the task that carries queued publications to `peer`: whatever is queued when a call
/// returns goes in the next, up to [`PUBLISH_BATCH_MESSAGES_MAX`] or [`PUBLISH_BATCH_BYTES_MAX`].
fn relay_to(node: &Arc<Node>, peer: NodeId) -> mpsc::Sender<Queued> {
    let (queue, mut queued) = mpsc::channel::<Queued>(PUBLISH_RELAY_QUEUE_MAX);
    let node = Arc::downgrade(node);
    tokio::spawn(async move {
        let mut batch = Vec::new();
        let mut sent = 0u64;
        while let Some(first) = queued.recv().await {
            let mut bytes = first.publication.message.len();
            batch.push(first);
            while batch.len() < PUBLISH_BATCH_MESSAGES_MAX && bytes < PUBLISH_BATCH_BYTES_MAX {
                match queued.try_recv() {
                    Ok(next) => {
                        bytes += next.publication.message.len() + next.publication.channel.len();
                        batch.push(next);
                    }
                    Err(_) => break,
                }
            }
            let Some(node) = node.upgrade() else { return };
            sent += 1;
            let counts = deliver_to(&node, peer, sent, &batch).await;
            for (at, done) in batch.drain(..).enumerate() {
                let _ = done.counted.send(counts.get(at).copied().unwrap_or(0));
            }
        }
    });
    queue
}

/// Sends batch number `sent` to `peer`; its counts, one per publication (none if it failed).
/// A peer of a version before sequenced batches gets them unnumbered.
async fn deliver_to(node: &Node, peer: NodeId, sent: u64, batch: &[Queued]) -> Vec<u64> {
    let Some(address) = node.map().members.get(&peer).map(|member| member.addresses.node.clone()) else {
        return Vec::new();
    };
    let publications: Vec<&Publication> = batch.iter().map(|queued| &queued.publication).collect();
    let seen = node.network.version_seen(peer);
    let (service, message) = if seen == 0 || seen >= PUBSUB_SEQUENCED_VERSION {
        let batch = RelayBatch { from: node.id, stream: node.relay.stream, sent, publications };
        (SERVICE_PUBSUB_SEQUENCED, postcard::to_stdvec(&batch).expect("messages encode"))
    } else {
        (SERVICE_PUBSUB_BATCH, postcard::to_stdvec(&publications).expect("messages encode"))
    };
    let deadline = Duration::from_millis(PUBLISH_PEER_DEADLINE_MS);
    match node.network.call(peer, &address, GroupId::METADATA, service, message, deadline).await {
        Ok(answer) => postcard::from_bytes::<Vec<u64>>(&answer).unwrap_or_default(),
        Err(error) => {
            tracing::debug!(%peer, %error, "published messages did not reach a node");
            Vec::new()
        }
    }
}

/// Publishes the keyspace notifications a shard's entries raised on this replica, to this
/// node's subscribers only: every replica applies the same entries and raises its own, so a
/// client subscribed on a follower hears of that follower's shards.
pub struct KeyspaceNotifier {
    pub node: Weak<Node>,
}

/// The keyspace event classes this node raises (`notify-keyspace-events`).
pub fn wanted_here(node: &Node) -> EventClass {
    EventClass::from_bits(node.params.live.keyspace_events.load(Ordering::Relaxed))
}

impl NotifyHook for KeyspaceNotifier {
    fn wanted(&self) -> EventClass {
        self.node.upgrade().map_or(EventClass::NONE, |node| wanted_here(&node))
    }

    fn publish(&self, notifications: Vec<Notification>) {
        if let Some(node) = self.node.upgrade() {
            publish_notifications(&node, notifications);
        }
    }
}

/// Publishes keyspace events raised here to this node's subscribers, on the channel kinds
/// wanted.
pub fn publish_notifications(node: &Node, notifications: Vec<Notification>) {
    let wanted = wanted_here(node);
    // Keyspace channel first, then keyevent, as Redis's notifyKeyspaceEvent.
    for notification in notifications {
        if wanted.contains(EventClass::KEYSPACE) {
            let message = Bytes::from_static(notification.event.as_bytes());
            let channel = notification.keyspace_channel();
            node.broker.publish(&Publication { channel, message, sharded: false });
        }
        if wanted.contains(EventClass::KEYEVENT) {
            let channel = notification.keyevent_channel();
            node.broker.publish(&Publication { channel, message: notification.key, sharded: false });
        }
    }
}

/// In redirect mode, a shard channel is served by its shard's nodes alone (the others answer
/// `-MOVED`, and SPUBLISH reaches only them): once the map no longer gives the channel's slot to
/// a shard this node holds (a slot move handed it over, or the node's replica moved away), its
/// subscribers here are told `sunsubscribe`, as Redis does, and may subscribe again where the
/// slot went. In proxy mode every node serves every shard channel, so nothing is dropped.
pub fn revoke_moved_shard_channels(node: &Node) {
    let map = node.map();
    if node.config.routing != Routing::Redirect || !map.is_bootstrapped() {
        return;
    }
    let held_here = |channel: &Bytes| {
        let shard = map.shard_of(key_slot(channel)).and_then(|shard| map.shards.get(&shard));
        shard.is_some_and(|shard| shard.voters.contains(&node.id) || shard.replicas.contains(&node.id))
    };
    let revoked = node.broker.revoke_shard_channels(held_here);
    if revoked > 0 {
        tracing::info!(revoked, epoch = map.epoch, "shard channels whose slots left this node: subscribers told");
    }
}

/// Whether this node takes subscriptions and publications (see `Host::serves_pubsub`). Nodes
/// relay publications to the members of their maps, so a node they may not count, or whose
/// own map may lack members, would leave subscribers missing messages without a word: one
/// missing from its own map (joining, or removed; a node started to join has no map until it
/// joined), one that knows of a newer map than its own, and one that has not heard from the
/// metadata group's leader within two election timeouts (it may have been removed meanwhile,
/// or while it was down: the leader a restarted node's stored vote names is no proof).
pub fn serves_pubsub(node: &Node) -> Result<(), Error> {
    let map = node.map();
    let alone = map.members.len() <= 1;
    // Before any map, a node that is to join a cluster is not a member yet (the others do not
    // relay to it); one that is the first of its cluster is, as soon as it bootstraps.
    let member = map.members.contains_key(&node.id) || (!map.is_bootstrapped() && node.config.join.is_none());
    // Peers' word that no newer map exists is not enough: those that answered first may have
    // just restarted on maps as old (seed 602). The metadata leader stops talking to a member
    // it removed, so having heard it lately is what says this node still counts.
    let in_touch = node.meta.is_leader() || node.meta.heard_from_leader_lately();
    let current = alone || (in_touch && !node.membership.knows_newer(map.epoch));
    if member && current {
        return Ok(());
    }
    Err(Error::new("TRYAGAIN this node is (re)joining the cluster; try again shortly"))
}

/// Disconnects every subscriber here: this node found it is no longer a member, so no other
/// node relays publications to it any more.
pub fn disconnect_subscribers(node: &Node) {
    for subscriber in node.broker.subscribers() {
        node.clients.kill(subscriber);
    }
}

/// Whether this node serves shard channel `channel` (see `Host::serves_shard_channel`).
pub fn serves_shard_channel(node: &Node, channel: &[u8]) -> Result<(), Error> {
    if node.config.routing != Routing::Redirect {
        return Ok(());
    }
    let slot = key_slot(channel);
    let Some(shard) = node.map().shard_of(slot) else { return Ok(()) };
    if node.group(shard).is_some() {
        return Ok(());
    }
    match node.leader_of(shard) {
        Some((_, leader)) => Err(Error::new(format!("MOVED {slot} {}", leader.client_addr))),
        None => Err(Error::new("CLUSTERDOWN The cluster is down")),
    }
}

/// Serves another node's publications, in the order sent: delivers each to the subscribers
/// here and counts them.
pub fn serve_peer_messages(node: &Node, payload: &[u8]) -> Result<Vec<u8>, String> {
    let publications: Vec<Publication> =
        postcard::from_bytes(payload).map_err(|e| format!("undecodable messages: {e}"))?;
    deliver_here(node, &publications)
}

/// Serves another node's numbered batch (see [`RelayBatch`]): a batch older than one already
/// delivered from the same run of that node is dropped, and counts no receiver.
pub fn serve_sequenced(node: &Node, payload: &[u8]) -> Result<Vec<u8>, String> {
    let batch: RelayBatch<Publication> =
        postcard::from_bytes(payload).map_err(|e| format!("undecodable messages: {e}"))?;
    if !node.relay.admit(batch.from, batch.stream, batch.sent) {
        tracing::debug!(from = %batch.from, sent = batch.sent, "dropped published messages that came after later ones");
        return Ok(postcard::to_stdvec(&vec![0u64; batch.publications.len()]).expect("counts encode"));
    }
    deliver_here(node, &batch.publications)
}

/// Delivers publications from another node to the subscribers here; their counts, encoded.
fn deliver_here(node: &Node, publications: &[Publication]) -> Result<Vec<u8>, String> {
    let counts: Vec<u64> = publications.iter().map(|publication| node.broker.publish(publication) as u64).collect();
    if node.env.defects.pubsub_twice {
        for publication in publications {
            node.broker.publish(publication);
        }
    }
    Ok(postcard::to_stdvec(&counts).expect("counts encode"))
}

/// Serves another node's PUBLISH: delivers to the subscribers here and counts them.
pub fn serve_peer_message(node: &Node, payload: &[u8]) -> Result<Vec<u8>, String> {
    let publication: Publication = postcard::from_bytes(payload).map_err(|e| format!("undecodable message: {e}"))?;
    let receivers = node.broker.publish(&publication) as u64;
    Ok(postcard::to_stdvec(&receivers).expect("counts encode"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_older_than_one_delivered_from_the_same_run_is_dropped() {
        let relay = Relay::new(1);
        let (a, b) = (NodeId(7), NodeId(8));
        assert!(relay.admit(a, 10, 1) && relay.admit(a, 10, 3), "in order, gaps allowed (lost batches)");
        assert!(!relay.admit(a, 10, 2), "given up at its deadline, then delivered after batch 3");
        assert!(!relay.admit(a, 10, 3), "a copy of the last one");
        assert!(relay.admit(b, 10, 1), "each sender has its own numbering");
        assert!(relay.admit(a, 11, 1), "the sender restarted: a new run starts over");
        assert!(!relay.admit(a, 11, 1) && relay.admit(a, 11, 2));
    }

    fn bytes(text: &str) -> Bytes {
        Bytes::copy_from_slice(text.as_bytes())
    }

    fn publication(channel: &str, message: &str, sharded: bool) -> Publication {
        Publication { channel: bytes(channel), message: bytes(message), sharded }
    }

    /// A clock the test moves by hand.
    #[derive(Default)]
    struct HandClock(AtomicU64);

    impl Clock for HandClock {
        fn now_ms(&self) -> TimeMs {
            self.0.load(Ordering::Relaxed)
        }
    }

    fn mailbox() -> Arc<Mailbox> {
        Mailbox::new(Arc::new(OutputLimit::default()), Arc::new(HandClock::default()))
    }

    /// Bytes a message of a 1-byte channel and `payload` bytes counts.
    fn counted(payload: usize) -> u64 {
        (1 + payload + SUBSCRIBER_MESSAGE_OVERHEAD_BYTES) as u64
    }

    #[test]
    fn messages_reach_channel_and_pattern_subscribers_in_publish_order() {
        let broker = Broker::default();
        let (first, second) = (mailbox(), mailbox());
        broker.subscribe(1, &first, SubscriptionKind::Channel, bytes("news"));
        broker.subscribe(2, &second, SubscriptionKind::Pattern, bytes("n*"));
        broker.subscribe(2, &second, SubscriptionKind::Pattern, bytes("x*"));
        assert_eq!(broker.publish(&publication("news", "1", false)), 2);
        assert_eq!(broker.publish(&publication("news", "2", false)), 2);
        assert_eq!(broker.publish(&publication("other", "3", false)), 0);
        let payloads: Vec<Bytes> = first.take(usize::MAX).into_iter().map(|m| m.payload).collect();
        assert_eq!(payloads, vec![bytes("1"), bytes("2")]);
        let taken = second.take(usize::MAX);
        assert_eq!(taken.len(), 2);
        assert_eq!(
            taken[0],
            Message {
                pattern: Some(bytes("n*")),
                channel: bytes("news"),
                payload: bytes("1"),
                sharded: false,
                revoked: false
            }
        );
        assert_eq!(broker.channels(false, None), vec![bytes("news")]);
        assert_eq!(broker.channels(false, Some(b"x*")), Vec::<Bytes>::new());
        assert_eq!(broker.numsub(false, &[bytes("news"), bytes("n*")]), vec![1, 0]);
        assert_eq!(broker.numpat(), 2);
    }

    #[test]
    fn dropping_a_subscriber_removes_all_its_subscriptions() {
        let broker = Broker::default();
        let (first, second) = (mailbox(), mailbox());
        broker.subscribe(1, &first, SubscriptionKind::Channel, bytes("a"));
        broker.subscribe(1, &first, SubscriptionKind::Pattern, bytes("*"));
        broker.subscribe(2, &second, SubscriptionKind::Channel, bytes("a"));
        broker.drop_subscriber(1);
        assert_eq!(broker.publish(&publication("a", "m", false)), 1);
        assert_eq!(broker.numpat(), 0);
        broker.unsubscribe(2, SubscriptionKind::Channel, &bytes("a"));
        assert_eq!(broker.channels(false, None), Vec::<Bytes>::new());
        assert!(first.is_empty());
    }

    #[test]
    fn a_mailbox_past_its_limit_overflows_and_frees_its_messages() {
        let broker = Broker::default();
        let small = Mailbox::new(Arc::new(OutputLimit::new(3 * counted(4), 0, 0)), Arc::new(HandClock::default()));
        broker.subscribe(1, &small, SubscriptionKind::Channel, bytes("c"));
        for _ in 0..3 {
            broker.publish(&publication("c", "1234", false));
        }
        assert!(!small.overflowed());
        broker.publish(&publication("c", "1234", false));
        assert!(small.overflowed());
        assert!(small.is_empty(), "an overflowed mailbox keeps nothing");
    }

    #[test]
    fn a_mailbox_past_its_soft_limit_for_too_long_overflows() {
        let broker = Broker::default();
        let clock = Arc::new(HandClock::default());
        let limit = Arc::new(OutputLimit::new(10 * counted(4), 2 * counted(4), 60));
        let slow = Mailbox::new(limit.clone(), clock.clone());
        broker.subscribe(1, &slow, SubscriptionKind::Channel, bytes("c"));
        for _ in 0..3 {
            broker.publish(&publication("c", "1234", false));
        }
        clock.0.store(60_000, Ordering::Relaxed);
        broker.publish(&publication("c", "1234", false));
        assert!(!slow.overflowed(), "past the soft limit for 60 s, not longer");
        assert_eq!(slow.take(2 * counted(4) as usize).len(), 2, "read back down to the soft limit");
        clock.0.store(100_000, Ordering::Relaxed);
        broker.publish(&publication("c", "1234", false));
        assert!(!slow.overflowed(), "reading below the soft limit starts its time again");
        clock.0.store(160_001, Ordering::Relaxed);
        broker.publish(&publication("c", "1234", false));
        assert!(slow.overflowed(), "past the soft limit for more than 60 s");
        assert!(slow.is_empty());

        // A limit changed at runtime applies to the subscribers already there.
        let other = Mailbox::new(limit.clone(), clock.clone());
        broker.subscribe(2, &other, SubscriptionKind::Channel, bytes("d"));
        limit.soft_bytes.store(0, Ordering::Relaxed);
        limit.hard_bytes.store(counted(4), Ordering::Relaxed);
        broker.publish(&publication("d", "1234", false));
        assert!(!other.overflowed());
        broker.publish(&publication("d", "1234", false));
        assert!(other.overflowed(), "the lowered hard limit holds for an existing subscriber");
    }

    #[test]
    fn shard_channels_are_a_namespace_of_their_own() {
        let broker = Broker::default();
        let (plain, sharded) = (mailbox(), mailbox());
        broker.subscribe(1, &plain, SubscriptionKind::Channel, bytes("c"));
        broker.subscribe(1, &plain, SubscriptionKind::Pattern, bytes("*"));
        broker.subscribe(2, &sharded, SubscriptionKind::ShardChannel, bytes("c"));
        assert_eq!(broker.publish(&publication("c", "s", true)), 1, "patterns never match shard channels");
        assert_eq!(broker.publish(&publication("c", "p", false)), 2);
        assert_eq!(
            sharded.take(usize::MAX),
            vec![Message { pattern: None, channel: bytes("c"), payload: bytes("s"), sharded: true, revoked: false }]
        );
        assert_eq!(broker.channels(true, None), vec![bytes("c")]);
        assert_eq!(broker.numsub(true, &[bytes("c")]), vec![1]);
        broker.drop_subscriber(2);
        assert_eq!(broker.channels(true, None), Vec::<Bytes>::new());
    }

    #[test]
    fn revoked_shard_channels_are_dropped_and_their_subscribers_told() {
        let broker = Broker::default();
        let (first, second) = (mailbox(), mailbox());
        broker.subscribe(1, &first, SubscriptionKind::ShardChannel, bytes("gone"));
        broker.subscribe(1, &first, SubscriptionKind::ShardChannel, bytes("kept"));
        broker.subscribe(2, &second, SubscriptionKind::ShardChannel, bytes("gone"));
        broker.subscribe(2, &second, SubscriptionKind::Channel, bytes("gone"));
        assert_eq!(broker.revoke_shard_channels(|channel| &channel[..] == b"kept"), 1);
        let told = |mailbox: &Arc<Mailbox>| mailbox.take(usize::MAX);
        let revoked =
            Message { pattern: None, channel: bytes("gone"), payload: Bytes::new(), sharded: true, revoked: true };
        assert_eq!((told(&first), told(&second)), (vec![revoked.clone()], vec![revoked]));
        assert_eq!(broker.channels(true, None), vec![bytes("kept")]);
        assert_eq!(broker.publish(&publication("gone", "m", true)), 0, "nobody holds the shard channel here");
        assert_eq!(broker.publish(&publication("gone", "m", false)), 1, "the plain channel of that name is another");
        broker.drop_subscriber(1);
        assert_eq!(broker.subscribers(), vec![2]);
    }
}
