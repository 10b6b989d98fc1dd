//! One client connection: reads requests, dispatches them through the session, keeps
//! pipelined replies in order, and writes them back.
//!
//! Pipelining without reordering effects: consecutive writes are submitted to the log one
//! after another and complete together (group commit); consecutive reads share read
//! barriers. When a read follows writes (or a write follows reads) the earlier ones finish
//! first, so every command sees the effects of those sent before it on the connection. Each
//! command goes to the shard `routing` names; a burst of writes that spans shards is proposed to
//! each shard at once, each shard's in order.

use crate::clients::Client;
use crate::host::ConnectionHost;
use crate::node::{retryable, write_error_reply, Node};
use crate::pubsub::{self, Mailbox};
use crate::routing::{self, Plan};
use bytes::BytesMut;
use concord_core::commands::{self, unchanged};
use concord_core::limits::PIPELINE_COMMANDS_MAX;
use concord_core::request::Request;
use concord_core::rng::Rng;
use concord_core::session::{Action, Protocol, Publication, Session};
use concord_core::types::{GroupId, TimeMs};
use concord_core::Reply;
use concord_resp::{encode, RequestParser};
use concord_transport::net::{Reader, Writer};
use futures::future::BoxFuture;
use futures::FutureExt;
use std::collections::{BTreeMap, VecDeque};
use std::io;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::watch;

/// Output is written once this much has gathered, even if more replies are ready.
const OUTPUT_FLUSH_BYTES: usize = 64 * 1024;
const READ_BUFFER_BYTES: usize = 16 * 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Idle,
    Reads,
    Writes,
}

/// Replies not yet written, in request order. Everything a command must set in motion (a
/// proposal, a read barrier) is started when it is dispatched, so only the front entry is ever
/// awaited.
enum Entry {
    Ready(Vec<Reply>),
    Pending(BoxFuture<'static, Vec<Reply>>),
    /// A PUBLISH counting its receivers: already delivered here and queued for the other
    /// nodes in order, so a later PUBLISH need not wait for it.
    Publishing(BoxFuture<'static, Vec<Reply>>),
}

struct Pipeline {
    entries: VecDeque<Entry>,
    /// One per reply owed, in order.
    protocols: VecDeque<Owed>,
    /// Whether the replies queued now are silenced.
    silencing: bool,
    /// The command being dispatched, for the first reply it queues: its place in the command
    /// table and when it arrived, in microseconds (INFO commandstats).
    counting: Option<(u16, u64)>,
    phase: Phase,
    /// Writes dispatched in this burst, with their shards, proposed together when the burst
    /// ends or another kind of command comes.
    writes: Vec<(GroupId, Request)>,
}

/// The next replies in order, and whether they are a PUBLISH's.
struct Next {
    replies: Vec<Reply>,
    publishing: bool,
}

/// A reply owed: the protocol it is written in, whether it is silenced (CLIENT REPLY), and
/// the command it counts for, if it is the first reply of one.
struct Owed {
    protocol: Protocol,
    silenced: bool,
    counts: Option<(u16, u64)>,
}

impl Pipeline {
    fn len(&self) -> usize {
        self.protocols.len()
    }

    fn owe(&mut self, protocol: Protocol) {
        self.protocols.push_back(Owed { protocol, silenced: self.silencing, counts: self.counting.take() });
    }

    fn ready(&mut self, protocol: Protocol, reply: Reply) {
        self.owe(protocol);
        match self.entries.back_mut() {
            Some(Entry::Ready(replies)) => replies.push(reply),
            _ => self.entries.push_back(Entry::Ready(vec![reply])),
        }
    }

    /// Whether every command before now has taken effect: no write waits to be proposed and
    /// no reply is still pending. A write that would change nothing may then be answered from
    /// the applied state, which holds every earlier write of this connection.
    fn settled(&self) -> bool {
        self.writes.is_empty() && self.entries.iter().all(|entry| matches!(entry, Entry::Ready(_)))
    }

    /// A read to queue: started at once (see [`started`]) if replies are pending ahead of it,
    /// else left to run when polled, which is at once anyway (no task to spawn).
    fn overlap(&self, read: impl std::future::Future<Output = Reply> + Send + 'static) -> BoxFuture<'static, Reply> {
        if self.settled() {
            read.boxed()
        } else {
            started(read)
        }
    }

    /// Whether everything still pending is a PUBLISH (a PUBLISH after them keeps its order
    /// without waiting: the other nodes get every connection's messages in order).
    fn only_publishing(&self) -> bool {
        self.writes.is_empty()
            && self.entries.iter().all(|entry| matches!(entry, Entry::Ready(_) | Entry::Publishing(_)))
    }

    fn pending(&mut self, protocol: Protocol, replies: BoxFuture<'static, Vec<Reply>>) {
        self.owe(protocol);
        self.entries.push_back(Entry::Pending(replies));
    }

    /// A PUBLISH's count, to come (see [`Entry::Publishing`]).
    fn publishing(&mut self, protocol: Protocol, replies: BoxFuture<'static, Vec<Reply>>) {
        self.owe(protocol);
        self.entries.push_back(Entry::Publishing(replies));
    }

    /// The next replies in order, waiting for them if needed. Cancel-safe: an entry leaves
    /// the queue only once complete.
    async fn next(&mut self) -> Next {
        let next = match self.entries.front_mut().expect("a pending entry") {
            Entry::Ready(replies) => Next { replies: std::mem::take(replies), publishing: false },
            Entry::Pending(future) => Next { replies: future.await, publishing: false },
            Entry::Publishing(future) => Next { replies: future.await, publishing: true },
        };
        self.entries.pop_front();
        next
    }
}

struct Connection {
    node: Arc<Node>,
    host: ConnectionHost,
    session: Session,
    pipeline: Pipeline,
    output: BytesMut,
    writer: Writer,
    rng: Rng,
    /// Stop reading: finish what is pending, then close.
    closing: bool,
    /// A blocking command is pending: nothing after it runs until it ends (as in Redis, a
    /// blocked client's next commands wait).
    blocked: bool,
    /// The clock read once for the reads of the latest chunk of input: every command in the
    /// buffer arrived before it, so it is a valid time for each of them, and pipelined reads
    /// share one clock reading.
    input_time_ms: Option<TimeMs>,
    /// Where the broker puts this connection's Pub/Sub messages, while it subscribes to any.
    mailbox: Option<Arc<Mailbox>>,
}

/// Serves one client until it leaves, is killed, errs, or the node shuts down.
pub async fn serve(
    node: Arc<Node>,
    (mut reader, writer): (Reader, Writer),
    client: Arc<Client>,
    mut shutdown: watch::Receiver<bool>,
) {
    let id = client.view.lock().id;
    let mut killed = client.killed();
    let mut connection = Connection {
        rng: Rng::new(node.rng_seed ^ id),
        host: ConnectionHost { node: node.clone(), client: client.clone() },
        node,
        session: Session::new(id),
        pipeline: Pipeline {
            entries: VecDeque::new(),
            protocols: VecDeque::new(),
            silencing: false,
            counting: None,
            phase: Phase::Idle,
            writes: Vec::new(),
        },
        output: BytesMut::with_capacity(READ_BUFFER_BYTES),
        writer,
        closing: false,
        blocked: false,
        input_time_ms: None,
        mailbox: None,
    };
    let mut parser = RequestParser::new(connection.node.params.live.parser_limits());
    let mut input = BytesMut::with_capacity(READ_BUFFER_BYTES);
    let result: io::Result<()> = async {
        loop {
            parser.set_limits(connection.node.params.live.parser_limits());
            while !connection.closing && !connection.blocked && connection.pipeline.len() < PIPELINE_COMMANDS_MAX {
                match parser.parse(&mut input) {
                    Ok(Some(argv)) => connection.dispatch(argv).await?,
                    Ok(None) => break,
                    Err(error) => {
                        connection.propose_writes().await;
                        match error.reply_text() {
                            Some(text) => {
                                connection.pipeline.ready(connection.session.protocol, Reply::Error(text.into()))
                            }
                            None => tracing::info!(
                                client = id,
                                "closing a client whose query buffer outgrew client-query-buffer-limit"
                            ),
                        }
                        connection.closing = true;
                    }
                }
            }
            connection.propose_writes().await;
            {
                let mut view = client.view.lock();
                view.update(&connection.session);
                view.query_buffer = parser.pending_bytes(&input);
            }
            if connection.closing && connection.pipeline.len() == 0 {
                return connection.flush().await;
            }
            // A blocked client's next commands are read (so that leaving is noticed) but not
            // run; past the query-buffer limit reading stops until it is unblocked.
            let buffered_max = connection.node.params.live.client_query_buffer_limit.load(Relaxed) as usize;
            let can_read = !connection.closing
                && connection.pipeline.len() < PIPELINE_COMMANDS_MAX
                && (!connection.blocked || input.len() < buffered_max);
            let idle_secs = connection.node.params.live.timeout_secs.load(Relaxed);
            // Subscribers are not idle while they wait for messages, as in Redis.
            let waiting_for_replies = connection.pipeline.len() > 0 || connection.mailbox.is_some();
            let mailbox = connection.mailbox.clone();
            let messages = async {
                match &mailbox {
                    Some(mailbox) => mailbox.arrived().await,
                    None => futures::future::pending::<()>().await,
                }
            };
            let idle = async {
                if idle_secs == 0 || waiting_for_replies {
                    futures::future::pending::<()>().await
                } else {
                    tokio::time::sleep(Duration::from_secs(idle_secs)).await
                }
            };
            tokio::select! {
                biased;
                _ = killed.changed() => return Ok(()),
                replies = connection.pipeline.next(), if connection.pipeline.len() > 0 => {
                    connection.emit(replies);
                    connection.emit_ready();
                    connection.flush().await?;
                    if connection.pipeline.len() == 0 {
                        connection.blocked = false;
                    }
                }
                // After replies that are ready: a (un)subscribe confirmation goes out before
                // the messages that follow it.
                _ = messages => connection.deliver_messages().await?,
                read = reader.read_buf(&mut input), if can_read => {
                    let read = read?;
                    connection.input_time_ms = None;
                    connection.node.stats.net_input_bytes.fetch_add(read as u64, Relaxed);
                    if read == 0 {
                        if connection.blocked {
                            // Gone while blocked: dropping its wait cancels it.
                            return Ok(());
                        }
                        connection.closing = true;
                    }
                    if input.capacity() - input.len() < 1024 {
                        input.reserve(READ_BUFFER_BYTES);
                    }
                }
                _ = shutdown.changed() => connection.closing = true,
                _ = idle => return Ok(()),
            }
        }
    }
    .await;
    if let Some(mailbox) = &connection.mailbox {
        if mailbox.overflowed() {
            tracing::info!(client = id, "closing a subscriber that fell past client-output-buffer-limit pubsub");
        }
        connection.node.broker.drop_subscriber(id);
    }
    if let Err(error) = result {
        tracing::debug!(client = id, %error, "client connection ended");
    }
}

impl Connection {
    /// Carries out one command.
    async fn dispatch(&mut self, argv: Vec<bytes::Bytes>) -> io::Result<()> {
        self.pipeline.counting = argv
            .first()
            .and_then(|name| commands::lookup_index(name))
            .map(|index| (index as u16, self.node.clock.now_us()));
        self.session.begin_command_replies();
        let action = self.session.dispatch(argv, &self.host);
        // A reply is written in the protocol in force after its command: HELLO 3 answers in RESP3.
        let protocol = self.session.protocol;
        let silenced = self.session.end_command_replies();
        // Reads and writes change nothing `CLIENT LIST` shows but the last command: the view
        // catches up once per chunk of input (see `serve`), not per pipelined command.
        if !matches!(action, Action::Read { .. } | Action::Write(_)) {
            self.host.client.view.lock().update(&self.session);
        }
        if !matches!(action, Action::Write(_)) {
            self.propose_writes().await;
        }
        // Subscription confirmations are pushes: sent whatever CLIENT REPLY says, as in Redis.
        self.pipeline.silencing = silenced && !matches!(action, Action::Subscriptions { .. });
        match action {
            Action::Reply(reply) => self.pipeline.ready(protocol, reply),
            Action::Close(reply) => {
                self.pipeline.ready(protocol, reply);
                self.closing = true;
            }
            Action::Hangup => self.closing = true,
            Action::Write(request @ Request::Config { .. }) => {
                self.drain().await?;
                let reply = self.node.clone().write_to_every_shard(request).await;
                self.pipeline.ready(protocol, reply);
            }
            Action::Write(request) => {
                self.enter(Phase::Writes).await?;
                let plan = match &request {
                    Request::Command { argv, .. } => self.plan(argv),
                    _ => Plan::Shard { shard: GroupId::FIRST_SHARD, slot: 0 },
                };
                match (plan, request) {
                    (Plan::Shard { shard, .. }, request) => match self.reply_if_unchanged(shard, &request) {
                        Some(reply) => self.pipeline.ready(protocol, reply),
                        None => {
                            self.pipeline.owe(protocol);
                            self.pipeline.writes.push((shard, request));
                        }
                    },
                    (Plan::Refused(reply), _) => self.pipeline.ready(protocol, reply),
                    (plan, Request::Command { db, argv }) => {
                        self.propose_writes().await;
                        let rng = Rng::new(self.rng.next_u64());
                        let reply = routing::run(self.node.clone(), plan, db, argv, true, false, rng);
                        self.pipeline.pending(protocol, reply.map(|reply| vec![reply]).boxed());
                    }
                    (_, _) => unreachable!("only commands are planned"),
                }
            }
            Action::Read { db, op, argv } => {
                self.enter(Phase::Reads).await?;
                let stale = self.session.readonly || self.node.env.defects.follower_reads;
                let shard = match self.plan(&argv) {
                    Plan::Shard { shard, .. } => shard,
                    Plan::Refused(reply) => {
                        self.pipeline.ready(protocol, reply);
                        return Ok(());
                    }
                    plan => {
                        let rng = Rng::new(self.rng.next_u64());
                        let reply =
                            self.pipeline.overlap(routing::run(self.node.clone(), plan, db, argv, false, stale, rng));
                        self.pipeline.pending(protocol, reply.map(|reply| vec![reply]).boxed());
                        return Ok(());
                    }
                };
                let local = self.node.group(shard);
                let local = if stale {
                    // A stale read is served by this node's replica of the shard, if it has one.
                    local.map(|group| self.node.read_local(&group, db, &op, &argv, &mut self.rng))
                } else if let Some(group) = local.filter(|group| group.reads_locally()) {
                    let rng = &mut self.rng;
                    let now_ms = *self.input_time_ms.get_or_insert_with(|| self.node.clock.now_ms());
                    self.node
                        .try_read_settled(&group, now_ms, |applied, now_ms| {
                            self.node.run_read(applied, db, &op, &argv, now_ms, rng)
                        })
                        .ok()
                } else {
                    None
                };
                if let Some(reply) = local {
                    self.pipeline.ready(protocol, reply);
                } else {
                    let rng = Rng::new(self.rng.next_u64());
                    let read = self.pipeline.overlap(self.node.clone().read(shard, db, op, argv, rng));
                    self.pipeline.pending(protocol, read.map(|reply| vec![reply]).boxed());
                }
            }
            Action::Block { db, argv } => {
                self.drain().await?;
                match self.plan(&argv) {
                    Plan::Shard { shard, .. } => {
                        self.blocked = true;
                        let wait = self.node.clone().block(shard, self.session.id, db, argv);
                        self.pipeline.pending(protocol, wait.map(|reply| vec![reply]).boxed());
                    }
                    Plan::Refused(reply) => self.pipeline.ready(protocol, reply),
                    // A wait can only be served by one shard's log.
                    _ => self.pipeline.ready(protocol, routing::cross_slot()),
                }
            }
            Action::Unblock { client, error } => {
                self.drain().await?;
                let unblocked = self.node.clone().unblock(client, error).await;
                self.pipeline.ready(protocol, Reply::Integer(unblocked.into()));
            }
            Action::Exec(plan) if plan.is_local() => {
                // Only PUBLISHes (and node commands): nothing to propose.
                self.drain().await?;
                let publishes = plan.publishes();
                self.session.db = plan.db_after;
                let reply = publish_in_transaction(&self.node, plan.reply(Reply::Array(Vec::new())), publishes).await;
                self.pipeline.ready(protocol, reply);
            }
            Action::Exec(plan) => {
                self.drain().await?;
                let publishes = plan.publishes();
                let map = self.node.map();
                let keys = match &plan.request {
                    Request::Transaction { watches, commands } => {
                        let mut keys: Vec<&bytes::Bytes> = watches.iter().map(|watched| &watched.key).collect();
                        keys.extend(commands.iter().flat_map(|(_, argv)| routing::command_keys(argv)));
                        keys
                    }
                    _ => Vec::new(),
                };
                let reply = match routing::transaction_shard(&map, self.node.config.routing, keys.into_iter()) {
                    Err(refusal) => refusal,
                    Ok(found) => {
                        let shard = found.map_or_else(|| map.shard_of(0).unwrap_or(GroupId::FIRST_SHARD), |(s, _)| s);
                        let (reply, db) = self.node.clone().exec(shard, plan).await;
                        if let Some(db) = db {
                            self.session.db = db;
                        }
                        publish_in_transaction(&self.node, reply, publishes).await
                    }
                };
                self.pipeline.ready(protocol, reply);
            }
            Action::Watch { db, keys } => {
                self.drain().await?;
                let reply = match self.watch(db, keys).await {
                    Ok(stamps) => self.session.add_watches(db, stamps),
                    Err(reply) => reply,
                };
                self.pipeline.ready(protocol, reply);
            }
            Action::Cluster(op) => {
                self.drain().await?;
                let reply = self.node.clone().cluster(op).await;
                self.pipeline.ready(protocol, reply);
            }
            Action::Subscriptions { changes, replies } => {
                // Every earlier reply goes out first, and this command's confirmations are
                // queued before any message for the new subscriptions can be.
                self.drain().await?;
                let id = self.session.id;
                let mailbox = self.mailbox.get_or_insert_with(|| pubsub::mailbox(&self.node)).clone();
                for change in changes {
                    if change.subscribed {
                        self.node.broker.subscribe(id, &mailbox, change.kind, change.name);
                    } else {
                        self.node.broker.unsubscribe(id, change.kind, &change.name);
                    }
                }
                for reply in replies {
                    self.pipeline.ready(protocol, reply);
                }
            }
            Action::Publish(publication) => {
                // Published after every earlier command of this connection took effect (but
                // earlier publishes, already on their way in order), and before the next one
                // runs: one publisher's messages keep their order.
                if !self.pipeline.only_publishing() {
                    self.drain().await?;
                }
                let receivers = pubsub::publish(&self.node, publication).await;
                self.pipeline.publishing(protocol, async move { vec![Reply::Integer(receivers.await)] }.boxed());
            }
        }
        if self.mailbox.is_some() && !self.session.subscribed() {
            // Unsubscribed from everything, or RESET: what is still queued is for nobody.
            self.node.broker.drop_subscriber(self.session.id);
            self.mailbox = None;
        }
        Ok(())
    }

    /// Writes the Pub/Sub messages waiting in the mailbox, as `message` / `pmessage` arrays
    /// (RESP3: push frames). A message for a subscription dropped since it was queued is
    /// skipped. An overflowed mailbox closes the connection.
    async fn deliver_messages(&mut self) -> io::Result<()> {
        let Some(mailbox) = self.mailbox.clone() else { return Ok(()) };
        loop {
            if mailbox.overflowed() {
                return Err(overflow_error());
            }
            let messages = mailbox.take(OUTPUT_FLUSH_BYTES);
            if messages.is_empty() {
                return self.flush().await;
            }
            self.encode_messages(messages);
            if self.output.len() >= OUTPUT_FLUSH_BYTES {
                self.flush().await?;
            }
        }
    }

    /// Encodes messages taken from the mailbox; one for a subscription dropped since it was
    /// queued is skipped.
    fn encode_messages(&mut self, messages: Vec<pubsub::Message>) {
        for message in messages {
            if message.revoked {
                let told = concord_core::commands::pubsub::shard_channel_revoked(&mut self.session, &message.channel);
                if let Some(push) = told {
                    encode(&push, self.session.protocol, &mut self.output);
                }
                continue;
            }
            let subscribed = match &message.pattern {
                Some(pattern) => self.session.patterns.contains(pattern),
                None if message.sharded => self.session.shard_channels.contains(&message.channel),
                None => self.session.channels.contains(&message.channel),
            };
            if !subscribed {
                continue;
            }
            let push = match message.pattern {
                Some(pattern) => Reply::Push(vec![
                    Reply::bulk("pmessage"),
                    Reply::Bulk(pattern),
                    Reply::Bulk(message.channel),
                    Reply::Bulk(message.payload),
                ]),
                None => Reply::Push(vec![
                    Reply::bulk(if message.sharded { "smessage" } else { "message" }),
                    Reply::Bulk(message.channel),
                    Reply::Bulk(message.payload),
                ]),
            };
            encode(&push, self.session.protocol, &mut self.output);
        }
    }

    /// The reply of a write that would change nothing (see `concord_core::commands::unchanged`),
    /// given as a linearizable read by the shard's leader when this node is it: no log entry,
    /// as Redis neither logs nor propagates such a write. `None`: propose it.
    fn reply_if_unchanged(&mut self, shard: GroupId, request: &Request) -> Option<Reply> {
        let Request::Command { db, argv } = request else {
            return None;
        };
        if !unchanged::is_candidate(argv.first()?) || !self.pipeline.settled() {
            return None;
        }
        let group = self.node.group(shard).filter(|group| group.reads_locally())?;
        let now_ms = *self.input_time_ms.get_or_insert_with(|| self.node.clock.now_ms());
        self.node
            .try_read_settled(&group, now_ms, |applied, now_ms| {
                unchanged::reply_if_unchanged(argv, applied.data().keyspace(), *db, now_ms)
            })
            .ok()
            .flatten()
    }

    /// Where a command goes, by the cluster map.
    fn plan(&self, argv: &[bytes::Bytes]) -> Plan {
        let node = &self.node;
        routing::plan(&node.map(), node.config.routing, argv, || node.led_shards())
    }

    /// WATCH: each key's stamp from its shard (in redirect mode the keys must share a slot).
    async fn watch(
        &mut self,
        db: concord_core::types::DbIndex,
        keys: Vec<bytes::Bytes>,
    ) -> Result<Vec<(bytes::Bytes, concord_core::keyspace::WatchStamp)>, Reply> {
        let map = self.node.map();
        if self.node.config.routing == crate::config::Routing::Redirect {
            routing::transaction_shard(&map, self.node.config.routing, keys.iter())?;
        }
        let mut by_shard: std::collections::BTreeMap<GroupId, Vec<bytes::Bytes>> = std::collections::BTreeMap::new();
        for key in keys {
            let shard = map.shard_of(concord_core::slot::key_slot(&key)).unwrap_or(GroupId::FIRST_SHARD);
            by_shard.entry(shard).or_default().push(key);
        }
        let mut stamps = Vec::new();
        for (shard, keys) in by_shard {
            stamps.extend(self.node.clone().watch(shard, db, keys, self.session.readonly).await?);
        }
        Ok(stamps)
    }

    /// Proposes the writes gathered so far, together: each shard's in connection order, the
    /// shards side by side (writes to different shards touch different keys, and none of them
    /// is answered before all are, so no order among them is observable to this client). On a
    /// shard's leader they are queued for its log at once; elsewhere they go to the leader one
    /// batch at a time, so a connection's writes keep their order across nodes too.
    async fn propose_writes(&mut self) {
        if self.pipeline.writes.is_empty() {
            return;
        }
        let writes = std::mem::take(&mut self.pipeline.writes);
        let count = writes.len();
        let mut by_shard: BTreeMap<GroupId, (Vec<usize>, Vec<Request>)> = BTreeMap::new();
        for (position, (shard, request)) in writes.into_iter().enumerate() {
            let (positions, requests) = by_shard.entry(shard).or_default();
            positions.push(position);
            requests.push(request);
        }
        let mut runs = Vec::with_capacity(by_shard.len());
        for (shard, (positions, requests)) in by_shard {
            runs.push((positions, propose_run(self.node.clone(), shard, requests).await));
        }
        let replies = if runs.len() == 1 {
            runs.pop().expect("one run").1
        } else {
            async move {
                let (positions, runs): (Vec<_>, Vec<_>) = runs.into_iter().unzip();
                let mut replies = vec![None; count];
                for (positions, run) in positions.into_iter().zip(futures::future::join_all(runs).await) {
                    assert_eq!(positions.len(), run.len(), "one reply per write");
                    for (position, reply) in positions.into_iter().zip(run) {
                        replies[position] = Some(reply);
                    }
                }
                replies.into_iter().map(|reply| reply.expect("every write answered")).collect()
            }
            .boxed()
        };
        // The protocols were queued as the writes were dispatched.
        self.pipeline.entries.push_back(Entry::Pending(replies));
    }

    /// Switches the pipeline to reads or writes, finishing the other kind first.
    async fn enter(&mut self, phase: Phase) -> io::Result<()> {
        if self.pipeline.phase != phase && self.pipeline.phase != Phase::Idle {
            self.drain().await?;
        }
        self.pipeline.phase = phase;
        Ok(())
    }

    /// Waits for every pending reply and writes them.
    async fn drain(&mut self) -> io::Result<()> {
        self.propose_writes().await;
        while self.pipeline.len() > 0 {
            let replies = self.pipeline.next().await;
            self.emit(replies);
            if self.output.len() >= OUTPUT_FLUSH_BYTES {
                self.flush().await?;
            }
        }
        self.pipeline.phase = Phase::Idle;
        self.flush().await
    }

    /// Encodes the next replies in order. Before a PUBLISH's reply go the messages already
    /// waiting, as Redis writes a message a RESP3 client publishes to itself before the
    /// count (the message was delivered here when the PUBLISH ran).
    fn emit(&mut self, Next { replies, publishing }: Next) {
        if publishing {
            if let Some(mailbox) = self.mailbox.clone().filter(|mailbox| !mailbox.overflowed()) {
                self.encode_messages(mailbox.take(usize::MAX));
            }
        }
        let mut replied_us = None;
        for reply in replies {
            let owed = self.pipeline.protocols.pop_front().expect("one protocol per reply");
            if let Some((command, arrived_us)) = owed.counts {
                // A command queued by MULTI counts when EXEC runs it, not when it is queued.
                if !matches!(&reply, Reply::Status(text) if text.as_ref() == b"QUEUED") {
                    let now_us = *replied_us.get_or_insert_with(|| self.node.clock.now_us());
                    self.node.count_command(Some(usize::from(command)), now_us.saturating_sub(arrived_us), &reply);
                }
            } else {
                self.node.count_command(None, 0, &reply);
            }
            if !owed.silenced {
                encode(&reply, owed.protocol, &mut self.output);
            }
        }
        if self.pipeline.protocols.is_empty() {
            self.pipeline.phase = Phase::Idle;
        }
    }

    /// Encodes every reply that is already complete, without waiting.
    fn emit_ready(&mut self) {
        while self.output.len() < OUTPUT_FLUSH_BYTES && !self.pipeline.entries.is_empty() {
            match self.pipeline.next().now_or_never() {
                Some(replies) => self.emit(replies),
                None => break,
            }
        }
    }

    async fn flush(&mut self) -> io::Result<()> {
        if self.output.is_empty() {
            return Ok(());
        }
        match &self.mailbox {
            // A subscriber that does not read blocks this write; its mailbox overflowing
            // ends the wait and the connection.
            Some(mailbox) => {
                let mailbox = mailbox.clone();
                tokio::select! {
                    written = self.writer.write_all(&self.output) => written?,
                    _ = mailbox.overflows() => return Err(overflow_error()),
                }
            }
            None => self.writer.write_all(&self.output).await?,
        }
        self.node.stats.net_output_bytes.fetch_add(self.output.len() as u64, Relaxed);
        self.output.clear();
        Ok(())
    }
}

/// Carries out a transaction's PUBLISHes once it is applied (an EXEC that replies with an
/// array), in order, putting their receiver counts in their places.
async fn publish_in_transaction(node: &Arc<Node>, reply: Reply, publishes: Vec<(usize, Publication)>) -> Reply {
    let Reply::Array(mut replies) = reply else { return reply };
    // All are on their way, in order, before any count is awaited.
    let mut counting = Vec::with_capacity(publishes.len());
    for (at, publication) in publishes {
        counting.push((at, pubsub::publish(node, publication).await));
    }
    for (at, receivers) in counting {
        let receivers = receivers.await;
        if let Some(slot) = replies.get_mut(at) {
            *slot = Reply::Integer(receivers);
        }
    }
    Reply::Array(replies)
}

fn overflow_error() -> io::Error {
    io::Error::other("a subscriber fell more than client-output-buffer-limit pubsub behind; disconnected")
}

/// Runs a read that needs another node or a read barrier from now on, not once it reaches the
/// front of the pipeline: reads in one burst have no order among them (every write before
/// them has been answered), so pipelined reads to other shards' leaders overlap instead of
/// waiting for each other.
fn started(read: impl std::future::Future<Output = Reply> + Send + 'static) -> BoxFuture<'static, Reply> {
    let task = tokio::spawn(read);
    async move {
        match task.await {
            Ok(reply) => reply,
            Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
            Err(_) => retryable("the node is shutting down"),
        }
    }
    .boxed()
}

/// Proposes one shard's writes: submitted now when this node leads the shard, so that the
/// connection's next batch enters the log after them; forwarded when first polled
/// otherwise (entries are polled front first, so forwarded batches go in turn).
async fn propose_run(node: Arc<Node>, shard: GroupId, requests: Vec<Request>) -> BoxFuture<'static, Vec<Reply>> {
    match node.led(shard) {
        Some(group) => {
            let ticket = node.tickets.take(shard);
            match node.submit_here(&group, Some(&ticket), &requests, false).await {
                Ok(first) => node.clone().write_tagged(shard, Some(ticket), requests, first).boxed(),
                Err(error) => futures::future::ready(vec![write_error_reply(error); requests.len()]).boxed(),
            }
        }
        None => node.clone().write_batch(shard, requests).boxed(),
    }
}
