//! The Pub/Sub clients: publishers that send numbered messages and record each `PUBLISH`'s
//! count, and subscribers that record every message they read, each with simulated time, for
//! [`concord_check::pubsub`].
//!
//! A subscriber stays on one node (the plan spreads them): it connects, subscribes to a few
//! channels (the first subscriber to the pattern `ps:*` and one channel), reads until its
//! session's time is up, unsubscribes from everything and waits for the confirmations, then
//! connects again after a short gap. A connection that breaks, or that answers no `PING` in
//! time, ends its session there, and the next one subscribes again. A publisher connects to a
//! node at random and publishes one message at a time, `p<publisher>:<seq>` on a channel at
//! random, its sequence increasing across its connections; a lost connection or a timeout
//! leaves that publish's outcome unknown, and the publisher reconnects.

use crate::clients::{elapsed_ms, Shared, CLIENT_PORT};
use crate::net::{now_us, SimNet};
use crate::plan::{derive, Plan};
use concord_check::pubsub::{self, Delivery, Kind, Publish, Published, Session, Subscription};
use concord_core::rng::Rng;
use concord_core::Reply;
use concord_node::client::{render, Client};
use std::rc::Rc;
use std::time::Duration;

/// A `PUBLISH` waits for every other node's count (each at most `PUBLISH_PEER_DEADLINE_MS`),
/// behind the publishes before it: longer than that is a lost connection.
const PUBLISH_TIMEOUT_MS: u64 = 5_000;
/// A subscriber that heard nothing for this long sends `PING`, and gives the connection up if
/// nothing comes back within [`PONG_TIMEOUT_MS`] (or its unsubscribe is not confirmed in it).
const QUIET_MS: u64 = 300;
const PONG_TIMEOUT_MS: u64 = 2_000;
/// How long a subscriber's session lasts before it unsubscribes, and the gap before the next.
const SESSION_MS: (u64, u64) = (2_000, 6_000);
const SESSION_GAP_MS_MAX: u64 = 300;
/// The pattern the first subscriber subscribes to.
const PATTERN: &str = "ps:*";

async fn sleep_ms(ms: u64) {
    tokio::time::sleep(Duration::from_millis(ms)).await;
}

async fn connect(node: usize, timeout_ms: u64) -> Option<Client> {
    let address = format!("{}:{CLIENT_PORT}", Plan::node_name(node));
    Client::connect_on(&SimNet, &address, Duration::from_millis(timeout_ms)).await.ok()
}

/// A frame's part as text (a confirmation's count too); None for anything else (a nil).
fn text(reply: &Reply) -> Option<String> {
    match reply {
        Reply::Bulk(bytes) | Reply::Status(bytes) => Some(String::from_utf8_lossy(bytes).into_owned()),
        Reply::Integer(count) => Some(count.to_string()),
        _ => None,
    }
}

/// A publisher: from formation until the end of the liveness phase.
pub async fn publisher(index: u32, shared: Rc<Shared>) -> turmoil::Result {
    let mut rng = Rng::new(derive(shared.plan.seed, 300 + u64::from(index)));
    while shared.formed_ms.get().is_none() {
        sleep_ms(50).await;
    }
    let stop_ms = shared.stop_ms().expect("formed");
    let (nodes, channels) = (shared.plan.nodes, shared.plan.pubsub.channels);
    let (mut seq, mut connection) = (0u64, 0u32);
    while elapsed_ms() < stop_ms {
        let node = rng.below(nodes as u64) as usize;
        let Some(mut client) = connect(node, PUBLISH_TIMEOUT_MS).await else {
            sleep_ms(50 + rng.below(200)).await;
            continue;
        };
        while elapsed_ms() < stop_ms {
            seq += 1;
            let channel = pubsub::channel(rng.below(u64::from(channels)) as u32);
            let invoked_us = now_us();
            let reply = client.call(&["PUBLISH", &channel, &pubsub::payload(index, seq)]).await;
            let outcome = match &reply {
                Ok(Reply::Integer(count)) => Published::Receivers(*count),
                Ok(Reply::Error(error)) => Published::Refused(String::from_utf8_lossy(error).into_owned()),
                Ok(other) => Published::Refused(format!("not a count: {}", render(other))),
                Err(error) => Published::Unknown(error.to_string()),
            };
            let completed_us = now_us();
            let publish =
                Publish { publisher: index, connection, node, seq, channel, invoked_us, completed_us, outcome };
            shared.pubsub.borrow_mut().publishes.push(publish);
            if reply.is_err() {
                break;
            }
            sleep_ms(rng.below(40)).await;
        }
        connection += 1;
    }
    Ok(())
}

/// A subscriber: sessions on its node, one after another, until the end of the liveness phase.
pub async fn subscriber(index: u32, shared: Rc<Shared>) -> turmoil::Result {
    let mut rng = Rng::new(derive(shared.plan.seed, 400 + u64::from(index)));
    while shared.formed_ms.get().is_none() {
        sleep_ms(50).await;
    }
    let stop_ms = shared.stop_ms().expect("formed");
    let plan = &shared.plan.pubsub;
    let node = (plan.first_subscriber_node + index as usize) % shared.plan.nodes;
    while elapsed_ms() < stop_ms {
        let Some(client) = connect(node, PONG_TIMEOUT_MS).await else {
            sleep_ms(50 + rng.below(200)).await;
            continue;
        };
        // One channel for the pattern subscriber, else one or two.
        let wanted = if index == 0 { 1 } else { 1 + rng.below(2) };
        let mut channels: Vec<u32> = (0..plan.channels).collect();
        for i in (1..channels.len()).rev() {
            channels.swap(i, rng.below(i as u64 + 1) as usize);
        }
        channels.truncate(wanted as usize);
        channels.sort_unstable();
        let names: Vec<String> = channels.into_iter().map(pubsub::channel).collect();
        let patterns: Vec<String> = if index == 0 { vec![PATTERN.to_string()] } else { Vec::new() };
        let lasts_ms = SESSION_MS.0 + rng.below(SESSION_MS.1 - SESSION_MS.0 + 1);
        let session = SubscriberSession::new(index, node, client);
        let session = session.run(&names, &patterns, (elapsed_ms() + lasts_ms).min(stop_ms)).await;
        shared.pubsub.borrow_mut().sessions.push(session);
        sleep_ms(rng.below(SESSION_GAP_MS_MAX)).await;
    }
    Ok(())
}

struct SubscriberSession {
    client: Client,
    session: Session,
    /// When the unanswered `PING` was sent, and the unconfirmed unsubscribe. Checked whatever
    /// else comes: under turmoil a partition drops what a stream carries and the stream goes
    /// on, so a request can vanish while messages still arrive.
    ping_sent_ms: Option<u64>,
    unsubscribe_sent_ms: Option<u64>,
    /// The node refused the subscriptions (retryable): the session ends with this.
    refused: Option<String>,
}

impl SubscriberSession {
    fn new(subscriber: u32, node: usize, client: Client) -> SubscriberSession {
        let session = Session {
            subscriber,
            node,
            opened_us: now_us(),
            closed_us: 0,
            closed_why: String::new(),
            subscriptions: Vec::new(),
            deliveries: Vec::new(),
            strays: Vec::new(),
        };
        SubscriberSession { client, session, ping_sent_ms: None, unsubscribe_sent_ms: None, refused: None }
    }

    fn closed(mut self, why: impl Into<String>) -> Session {
        self.session.closed_us = now_us();
        self.session.closed_why = why.into();
        self.session
    }

    fn request(&mut self, kind: Kind, names: &[String]) {
        let requested_us = now_us();
        for name in names {
            self.session.subscriptions.push(Subscription {
                kind,
                name: name.clone(),
                requested_us,
                confirmed_us: None,
                unsubscribe_requested_us: None,
                ended_us: None,
            });
        }
    }

    /// Subscribes, reads until `until_ms`, unsubscribes; the session as it went.
    async fn run(mut self, channels: &[String], patterns: &[String], until_ms: u64) -> Session {
        for (kind, command, names) in [(Kind::Channel, "SUBSCRIBE", channels), (Kind::Pattern, "PSUBSCRIBE", patterns)]
        {
            if names.is_empty() {
                continue;
            }
            self.request(kind, names);
            let mut argv = vec![command.to_string()];
            argv.extend(names.iter().cloned());
            if let Err(error) = self.client.send(&argv).await {
                return self.closed(error.to_string());
            }
        }
        loop {
            if self.unsubscribe_sent_ms.is_none() && elapsed_ms() >= until_ms {
                let requested_us = now_us();
                for subscription in &mut self.session.subscriptions {
                    subscription.unsubscribe_requested_us = Some(requested_us);
                }
                let mut commands = vec![vec!["UNSUBSCRIBE"]];
                if !patterns.is_empty() {
                    commands.push(vec!["PUNSUBSCRIBE"]);
                }
                for argv in commands {
                    if let Err(error) = self.client.send(&argv).await {
                        return self.closed(error.to_string());
                    }
                }
                self.unsubscribe_sent_ms = Some(elapsed_ms());
            }
            if self.unsubscribe_sent_ms.is_some() && self.session.subscriptions.iter().all(|s| s.ended_us.is_some()) {
                return self.closed("unsubscribed");
            }
            let overdue = |sent: Option<u64>| sent.is_some_and(|sent| elapsed_ms() - sent > PONG_TIMEOUT_MS);
            if overdue(self.ping_sent_ms) {
                return self.closed(format!("no PING reply in {PONG_TIMEOUT_MS} ms"));
            }
            if overdue(self.unsubscribe_sent_ms) {
                return self.closed(format!("no unsubscribe confirmation in {PONG_TIMEOUT_MS} ms"));
            }
            match self.client.receive(Duration::from_millis(QUIET_MS)).await {
                Err(error) => return self.closed(error.to_string()),
                Ok(Some(frame)) => {
                    self.take(frame);
                    if let Some(why) = self.refused.take() {
                        return self.closed(why);
                    }
                }
                Ok(None) if self.ping_sent_ms.is_none() && self.unsubscribe_sent_ms.is_none() => {
                    if let Err(error) = self.client.send(&["PING"]).await {
                        return self.closed(error.to_string());
                    }
                    self.ping_sent_ms = Some(elapsed_ms());
                }
                Ok(None) => {}
            }
        }
    }

    /// Records one frame: a confirmation, a message, a `PING`'s reply, or a stray.
    fn take(&mut self, frame: Reply) {
        let at_us = now_us();
        let items = match &frame {
            Reply::Array(items) | Reply::Push(items) => items.as_slice(),
            // PONG, out of subscribe mode (once every unsubscribe is through).
            Reply::Status(status) if &status[..] == b"PONG" => {
                self.ping_sent_ms = None;
                return;
            }
            // A node refusing subscriptions for now (it is rejoining the cluster): they stay
            // unconfirmed, so nothing was owed to them, and the session ends.
            Reply::Error(text) if text.starts_with(b"TRYAGAIN") => {
                self.refused = Some(String::from_utf8_lossy(text).into_owned());
                return;
            }
            _ => {
                self.session.strays.push(render(&frame));
                return;
            }
        };
        let texts: Option<Vec<String>> = items.iter().map(text).collect();
        let confirm = |kind: Kind, name: &str, subscriptions: &mut [Subscription], ending: bool| {
            let found = subscriptions.iter_mut().find(|s| {
                s.kind == kind && s.name == name && if ending { s.ended_us.is_none() } else { s.confirmed_us.is_none() }
            });
            match found {
                Some(subscription) if ending => subscription.ended_us = Some(at_us),
                Some(subscription) => subscription.confirmed_us = Some(at_us),
                None => return false,
            }
            true
        };
        let subscriptions = &mut self.session.subscriptions;
        let parts: Option<Vec<&str>> = texts.as_ref().map(|texts| texts.iter().map(String::as_str).collect());
        let understood = match parts {
            Some(parts) => match parts[..] {
                ["subscribe", name, _] => confirm(Kind::Channel, name, subscriptions, false),
                ["psubscribe", name, _] => confirm(Kind::Pattern, name, subscriptions, false),
                ["unsubscribe", name, _] => confirm(Kind::Channel, name, subscriptions, true),
                ["punsubscribe", name, _] => confirm(Kind::Pattern, name, subscriptions, true),
                ["message", channel, payload] => {
                    let delivery = Delivery { pattern: None, channel: channel.into(), payload: payload.into(), at_us };
                    self.session.deliveries.push(delivery);
                    true
                }
                ["pmessage", pattern, channel, payload] => {
                    let delivery = Delivery {
                        pattern: Some(pattern.into()),
                        channel: channel.into(),
                        payload: payload.into(),
                        at_us,
                    };
                    self.session.deliveries.push(delivery);
                    true
                }
                ["pong", ""] => {
                    self.ping_sent_ms = None;
                    true
                }
                _ => false,
            },
            None => false,
        };
        if !understood {
            self.session.strays.push(render(&frame));
        }
    }
}
