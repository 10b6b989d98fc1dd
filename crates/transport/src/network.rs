//! Connections between nodes and calls over them.
//!
//! - **One connection per pair.** Either node may dial the other; when both connections come
//!   up, both nodes keep the one dialed by the node with the lower id and close the other.
//! - **Calls** carry a request id; responses match by id, so many calls share a connection.
//!   Every call has a deadline. A call that could not be sent fails as unreachable (it
//!   certainly did not happen); one that timed out or lost its connection after sending may
//!   have happened.
//! - **Batching.** A writer task per connection writes everything queued for the peer with
//!   one write.
//! - **Reconnects** back off exponentially while a peer stays unreachable, one attempt in
//!   flight per peer at a time.

use crate::faults::Faults;
use crate::frame::{self, Message, MAGIC, VERSION_MAX, VERSION_MIN};
use crate::net::{Conn, Net, Reader, Writer};
use concord_core::types::{GroupId, NodeId};
use futures::future::BoxFuture;
use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::sync::{mpsc, oneshot, Notify, Semaphore};
use tokio::time::Instant;

#[derive(Clone, Debug)]
pub struct NetworkOptions {
    pub connect_timeout_ms: u64,
    pub handshake_timeout_ms: u64,
    pub backoff_min_ms: u64,
    pub backoff_max_ms: u64,
    /// Messages queued for one peer before senders wait.
    pub queue_messages_max: usize,
    /// Bytes the writer gathers into one write.
    pub write_batch_bytes_max: usize,
    /// Requests from one peer served at once; more wait.
    pub requests_in_flight_max: usize,
    /// Requests from one peer served or waiting at once; more are refused at once. The reader
    /// never waits for room: it also reads the peer's answers to this node's calls, and a
    /// reader stalled behind the peer's requests would let those calls time out and close the
    /// connection under everything in flight on it.
    pub requests_queued_max: usize,
    /// The newest wire version this node speaks (older ones for tests of mixed versions).
    pub version_max: u8,
}

impl Default for NetworkOptions {
    fn default() -> Self {
        NetworkOptions {
            connect_timeout_ms: 1_000,
            handshake_timeout_ms: 2_000,
            // Short: a peer back from a restart must be reachable again before the next
            // election round needs its vote.
            backoff_min_ms: 20,
            backoff_max_ms: 200,
            queue_messages_max: 4_096,
            write_batch_bytes_max: 4 * 1024 * 1024,
            requests_in_flight_max: 1_024,
            requests_queued_max: 16 * 1_024,
            version_max: VERSION_MAX,
        }
    }
}

/// Serves calls from peers.
pub trait Handler: Send + Sync + 'static {
    fn handle(
        &self,
        from: NodeId,
        group: GroupId,
        service: u8,
        payload: Vec<u8>,
    ) -> BoxFuture<'static, Result<Vec<u8>, String>>;
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CallError {
    /// Not sent: the peer could not be reached (or the link is cut). It did not happen.
    Unreachable(String),
    /// Sent, but no answer before the deadline: it may have happened.
    Timeout,
    /// Sent, then the connection broke: it may have happened.
    Lost,
    /// The peer answered with a failure.
    Remote(String),
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallError::Unreachable(why) => write!(f, "unreachable: {why}"),
            CallError::Timeout => write!(f, "timed out"),
            CallError::Lost => write!(f, "connection lost"),
            CallError::Remote(why) => write!(f, "peer failed: {why}"),
        }
    }
}

impl std::error::Error for CallError {}

type Pending = Mutex<BTreeMap<u64, oneshot::Sender<Result<Vec<u8>, String>>>>;

struct Connection {
    peer: NodeId,
    dialed_by: NodeId,
    outgoing: mpsc::Sender<Message>,
    pending: Pending,
    next_id: AtomicU64,
    /// Messages read from the peer so far: a call that times out while this stands still
    /// finds the connection dead (a half-open or stalled stream), and it is closed.
    received: AtomicU64,
    closed: AtomicBool,
    close: Notify,
}

impl Connection {
    fn is_open(&self) -> bool {
        !self.closed.load(Ordering::Acquire)
    }

    fn shut(&self) {
        if !self.closed.swap(true, Ordering::AcqRel) {
            self.close.notify_waiters();
            // Dropping the senders tells every waiting caller the connection was lost.
            self.pending.lock().clear();
        }
    }
}

#[derive(Default)]
struct Peer {
    connection: Option<Arc<Connection>>,
    /// The newest wire version spoken with the peer since this node started (0: never
    /// connected).
    version_seen: u8,
    /// Held while dialing; carries when the next attempt may start.
    dialing: Arc<tokio::sync::Mutex<Backoff>>,
}

#[derive(Default)]
struct Backoff {
    not_before: Option<Instant>,
    delay_ms: u64,
}

struct Inner {
    node: NodeId,
    net: Arc<dyn Net>,
    options: NetworkOptions,
    handler: OnceLock<Arc<dyn Handler>>,
    peers: Mutex<BTreeMap<NodeId, Peer>>,
    faults: Faults,
    listener: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

/// This node's end of the transport.
#[derive(Clone)]
pub struct Network {
    inner: Arc<Inner>,
}

impl Network {
    /// Listens on `address` for peers; returns the network and the address it listens on.
    pub async fn start(
        net: Arc<dyn Net>,
        address: &str,
        node: NodeId,
        options: NetworkOptions,
    ) -> std::io::Result<(Network, SocketAddr)> {
        let listener = net.bind(address.to_string()).await?;
        let local = listener.local_addr()?;
        let network = Network {
            inner: Arc::new(Inner {
                node,
                net,
                options,
                handler: OnceLock::new(),
                peers: Mutex::new(BTreeMap::new()),
                faults: Faults::default(),
                listener: Mutex::new(None),
            }),
        };
        let accepting = network.clone();
        let listening = tokio::spawn(async move {
            loop {
                match listener.accept().await {
                    Ok(conn) => {
                        let network = accepting.clone();
                        tokio::spawn(async move {
                            if let Err(error) = network.accept(conn).await {
                                tracing::debug!(%error, "peer handshake failed");
                            }
                        });
                    }
                    Err(error) => {
                        tracing::warn!(%error, "accepting a peer failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                }
            }
        });
        *network.inner.listener.lock() = Some(listening);
        Ok((network, local))
    }

    /// Stops listening and closes every connection.
    pub fn shutdown(&self) {
        if let Some(listening) = self.inner.listener.lock().take() {
            listening.abort();
        }
        for peer in self.inner.peers.lock().values_mut() {
            if let Some(connection) = peer.connection.take() {
                connection.shut();
            }
        }
    }

    /// Installs the handler for incoming calls (once; calls before it are refused).
    pub fn set_handler(&self, handler: Arc<dyn Handler>) {
        let _ = self.inner.handler.set(handler);
    }

    pub fn node(&self) -> NodeId {
        self.inner.node
    }

    pub fn faults(&self) -> &Faults {
        &self.inner.faults
    }

    /// Peers with an open connection.
    pub fn connected(&self) -> Vec<NodeId> {
        self.inner
            .peers
            .lock()
            .iter()
            .filter(|(_, p)| p.connection.as_ref().is_some_and(|c| c.is_open()))
            .map(|(id, _)| *id)
            .collect()
    }

    /// The newest wire version spoken with `peer` since this node started; 0 if it never
    /// connected. (A peer that spoke version 2 is taken to stay at 2 or above: downgrades of a
    /// running cluster are not supported.)
    pub fn version_seen(&self, peer: NodeId) -> u8 {
        self.inner.peers.lock().get(&peer).map_or(0, |slot| slot.version_seen)
    }

    /// Calls `service` of `group` on `peer` (reachable at `address`), waiting at most `deadline`.
    pub async fn call(
        &self,
        peer: NodeId,
        address: &str,
        group: GroupId,
        service: u8,
        payload: Vec<u8>,
        deadline: Duration,
    ) -> Result<Vec<u8>, CallError> {
        if !self.inner.faults.sends_to(peer) {
            return Err(CallError::Unreachable("the link is cut by fault injection".into()));
        }
        let started = Instant::now();
        let connection = tokio::time::timeout(deadline, self.connection(peer, address))
            .await
            .map_err(|_| CallError::Unreachable("connecting timed out".into()))??;
        let id = connection.next_id.fetch_add(1, Ordering::Relaxed);
        let received_before = connection.received.load(Ordering::Acquire);
        let (reply, answer) = oneshot::channel();
        connection.pending.lock().insert(id, reply);
        let message = Message::Request { id, group, service, payload };
        let remaining = deadline.saturating_sub(started.elapsed());
        if tokio::time::timeout(remaining, connection.outgoing.send(message)).await.map(|r| r.is_err()).unwrap_or(true)
        {
            connection.pending.lock().remove(&id);
            return Err(CallError::Unreachable("the peer's queue is full or closed".into()));
        }
        match tokio::time::timeout(deadline.saturating_sub(started.elapsed()), answer).await {
            Ok(Ok(Ok(bytes))) => Ok(bytes),
            Ok(Ok(Err(failure))) => Err(CallError::Remote(failure)),
            Ok(Err(_)) => Err(CallError::Lost),
            Err(_) => {
                connection.pending.lock().remove(&id);
                if connection.received.load(Ordering::Acquire) == received_before {
                    tracing::debug!(peer = %peer, "nothing heard on the connection for a whole call; closing it");
                    connection.shut();
                }
                Err(CallError::Timeout)
            }
        }
    }

    /// The open connection to `peer`, dialing it if needed (unless backing off).
    async fn connection(&self, peer: NodeId, address: &str) -> Result<Arc<Connection>, CallError> {
        let dialing = {
            let mut peers = self.inner.peers.lock();
            let slot = peers.entry(peer).or_default();
            if let Some(connection) = slot.connection.as_ref().filter(|c| c.is_open()) {
                return Ok(connection.clone());
            }
            slot.dialing.clone()
        };
        let mut backoff = dialing.lock_owned().await;
        if let Some(connection) = self.open_connection(peer) {
            return Ok(connection);
        }
        if backoff.not_before.is_some_and(|at| Instant::now() < at) {
            return Err(CallError::Unreachable(format!("backing off from {address}")));
        }
        // The attempt runs in a task of its own, holding the peer's dialing lock to its end
        // (its connect and handshake timeouts), whether or not the caller that began it still
        // waits: so there is one connection attempt in flight per peer at most. Attempts that
        // callers' short deadlines cut short each left a connection request behind, and with
        // many groups calling, a peer that held its messages for a few seconds (paused) got a
        // burst of them at once, overflowing its accept queue.
        let network = self.clone();
        let address = address.to_string();
        let attempt = tokio::spawn(async move {
            match network.dial(peer, &address).await {
                Ok(connection) => {
                    *backoff = Backoff::default();
                    Ok(connection)
                }
                Err(error) => {
                    // Back off from when it failed (a connect can take its whole timeout).
                    let options = &network.inner.options;
                    backoff.delay_ms = (backoff.delay_ms * 2).clamp(options.backoff_min_ms, options.backoff_max_ms);
                    backoff.not_before = Some(Instant::now() + Duration::from_millis(backoff.delay_ms));
                    Err(format!("{address}: {error}"))
                }
            }
        });
        match attempt.await {
            Ok(dialed) => dialed.map_err(CallError::Unreachable),
            Err(error) => Err(CallError::Unreachable(format!("the connection attempt failed: {error}"))),
        }
    }

    fn open_connection(&self, peer: NodeId) -> Option<Arc<Connection>> {
        self.inner.peers.lock().get(&peer).and_then(|slot| slot.connection.clone()).filter(|c| c.is_open())
    }

    async fn dial(&self, peer: NodeId, address: &str) -> std::io::Result<Arc<Connection>> {
        let options = &self.inner.options;
        let connecting = self.inner.net.connect(address.to_string());
        let conn = tokio::time::timeout(Duration::from_millis(options.connect_timeout_ms), connecting)
            .await
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "connect timed out"))??;
        let (found, version, reader, writer) = self.handshake(conn).await?;
        if found != peer {
            return Err(std::io::Error::other(format!("{address} is node {found}, not {peer}")));
        }
        Ok(self.register(peer, self.inner.node, version, reader, writer))
    }

    async fn accept(&self, conn: Conn) -> std::io::Result<()> {
        let (peer, version, reader, writer) = self.handshake(conn).await?;
        self.register(peer, peer, version, reader, writer);
        Ok(())
    }

    /// Exchanges Hello messages; returns the peer's id and the version to speak.
    async fn handshake(&self, conn: Conn) -> std::io::Result<(NodeId, u8, Reader, Writer)> {
        let (mut reader, mut writer) = (conn.reader, conn.writer);
        let ours_max = self.inner.options.version_max.min(VERSION_MAX);
        let hello =
            Message::Hello { magic: MAGIC, node: self.inner.node, version_min: VERSION_MIN, version_max: ours_max };
        let mut bytes = Vec::new();
        frame::encode(&hello, VERSION_MIN, &mut bytes);
        writer.write_all(&bytes).await?;
        let timeout = Duration::from_millis(self.inner.options.handshake_timeout_ms);
        let (_, answer) = tokio::time::timeout(timeout, frame::read(&mut reader))
            .await
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "handshake timed out"))??;
        let Message::Hello { magic, node, version_min, version_max } = answer else {
            return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, "expected a hello"));
        };
        if magic != MAGIC {
            return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, "not a Concord node"));
        }
        if node == self.inner.node {
            return Err(std::io::Error::other("connected to itself"));
        }
        let version = frame::negotiate_up_to(ours_max, version_min, version_max).ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::InvalidData, format!("no common wire version with node {node}"))
        })?;
        Ok((node, version, reader, writer))
    }

    /// Starts the connection's tasks and keeps it, or the one already there, whichever the
    /// lower node id dialed. Returns the connection kept.
    fn register(
        &self,
        peer: NodeId,
        dialed_by: NodeId,
        version: u8,
        reader: Reader,
        writer: Writer,
    ) -> Arc<Connection> {
        let (outgoing, queue) = mpsc::channel(self.inner.options.queue_messages_max);
        let connection = Arc::new(Connection {
            peer,
            dialed_by,
            outgoing,
            pending: Mutex::new(BTreeMap::new()),
            next_id: AtomicU64::new(1),
            received: AtomicU64::new(0),
            closed: AtomicBool::new(false),
            close: Notify::new(),
        });
        tokio::spawn(write_messages(
            connection.clone(),
            queue,
            writer,
            version,
            self.inner.options.write_batch_bytes_max,
        ));
        tokio::spawn(self.clone().read_messages(connection.clone(), reader));
        let preferred = self.inner.node.min(peer);
        let mut peers = self.inner.peers.lock();
        let slot = peers.entry(peer).or_default();
        slot.version_seen = slot.version_seen.max(version);
        match slot.connection.clone().filter(|c| c.is_open()) {
            Some(existing) if existing.dialed_by == preferred && dialed_by != preferred => {
                connection.shut();
                existing
            }
            existing => {
                if let Some(existing) = existing {
                    existing.shut();
                }
                slot.connection = Some(connection.clone());
                connection
            }
        }
    }

    async fn read_messages(self, connection: Arc<Connection>, mut reader: Reader) {
        let requests = Arc::new(Semaphore::new(self.inner.options.requests_in_flight_max));
        let queued = Arc::new(Semaphore::new(self.inner.options.requests_queued_max));
        loop {
            let message = tokio::select! {
                read = frame::read(&mut reader) => read,
                _ = connection.close.notified() => break,
            };
            let message = match message {
                Ok((_, message)) => message,
                Err(error) => {
                    tracing::debug!(peer = %connection.peer, %error, "peer connection closed");
                    break;
                }
            };
            if !self.inner.faults.hears_from(connection.peer) {
                continue;
            }
            connection.received.fetch_add(1, Ordering::Release);
            match message {
                Message::Response { id, result } => {
                    if let Some(reply) = connection.pending.lock().remove(&id) {
                        let _ = reply.send(result);
                    }
                }
                Message::Request { id, group, service, payload } => {
                    let Ok(admitted) = queued.clone().try_acquire_owned() else {
                        let refusal = Err("overloaded: too many requests from this node in flight; retry".to_string());
                        // Dropped if even the queue of answers is full: the call times out.
                        let _ = connection.outgoing.try_send(Message::Response { id, result: refusal });
                        continue;
                    };
                    let (network, connection, requests) = (self.clone(), connection.clone(), requests.clone());
                    tokio::spawn(async move {
                        let Ok(permit) = requests.acquire_owned().await else { return };
                        let result = match network.inner.handler.get() {
                            Some(handler) => handler.handle(connection.peer, group, service, payload).await,
                            None => Err("the node is still starting".to_string()),
                        };
                        drop((permit, admitted));
                        if network.inner.faults.sends_to(connection.peer) {
                            let _ = connection.outgoing.send(Message::Response { id, result }).await;
                        }
                    });
                }
                Message::Hello { .. } => break,
            }
        }
        connection.shut();
    }
}

/// Writes everything queued for the peer, as few writes as possible.
async fn write_messages(
    connection: Arc<Connection>,
    mut queue: mpsc::Receiver<Message>,
    mut writer: Writer,
    version: u8,
    batch_bytes_max: usize,
) {
    let mut bytes = Vec::new();
    loop {
        let first = tokio::select! {
            message = queue.recv() => message,
            _ = connection.close.notified() => None,
        };
        let Some(first) = first else { break };
        bytes.clear();
        frame::encode(&first, version, &mut bytes);
        while bytes.len() < batch_bytes_max {
            match queue.try_recv() {
                Ok(message) => frame::encode(&message, version, &mut bytes),
                Err(_) => break,
            }
        }
        if let Err(error) = writer.write_all(&bytes).await {
            tracing::debug!(peer = %connection.peer, %error, "writing to a peer failed");
            break;
        }
    }
    connection.shut();
    let _ = writer.shutdown().await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::TokioNet;

    struct Echo;

    impl Handler for Echo {
        fn handle(
            &self,
            from: NodeId,
            group: GroupId,
            service: u8,
            mut payload: Vec<u8>,
        ) -> BoxFuture<'static, Result<Vec<u8>, String>> {
            Box::pin(async move {
                if service == 9 {
                    return Err("refused".into());
                }
                if service == 8 {
                    tokio::time::sleep(Duration::from_secs(5)).await;
                }
                payload.extend(format!(" from {} in {}", from.0, group.0).into_bytes());
                Ok(payload)
            })
        }
    }

    async fn node(id: u128) -> (Network, String) {
        let (network, address) =
            Network::start(Arc::new(TokioNet), "127.0.0.1:0", NodeId(id), NetworkOptions::default()).await.unwrap();
        network.set_handler(Arc::new(Echo));
        (network, address.to_string())
    }

    const LONG: Duration = Duration::from_secs(5);

    #[tokio::test]
    async fn calls_both_ways_share_one_connection() {
        let ((a, a_address), (b, b_address)) = (node(1).await, node(2).await);
        let answer = a.call(NodeId(2), &b_address, GroupId(3), 1, b"hi".to_vec(), LONG).await.unwrap();
        assert_eq!(answer, b"hi from 1 in 3");
        let answer = b.call(NodeId(1), &a_address, GroupId(3), 1, b"yo".to_vec(), LONG).await.unwrap();
        assert_eq!(answer, b"yo from 2 in 3");
        assert_eq!(a.connected(), vec![NodeId(2)]);
        assert_eq!(b.connected(), vec![NodeId(1)]);
        assert_eq!(
            a.call(NodeId(2), &b_address, GroupId(3), 9, vec![], LONG).await,
            Err(CallError::Remote("refused".into()))
        );
        // Many calls at once on the shared connection.
        let calls = (0..200).map(|i| a.call(NodeId(2), &b_address, GroupId(1), 1, vec![i as u8], LONG));
        let answers = futures::future::join_all(calls).await;
        assert!(answers.iter().enumerate().all(|(i, a)| a.as_ref().unwrap()[0] == i as u8));
    }

    /// A peer's burst of slow requests fills this node's room for serving them: the ones past
    /// the queue are refused at once, and the reader goes on reading, so this node's own calls
    /// to that peer still get their answers (a reader waiting for room would leave them
    /// unread until they timed out, and the connection closed under every call on it).
    #[tokio::test]
    async fn a_burst_of_slow_requests_from_a_peer_stalls_no_answer_to_this_node() {
        let small = NetworkOptions { requests_in_flight_max: 2, requests_queued_max: 4, ..NetworkOptions::default() };
        let (b, b_address) = Network::start(Arc::new(TokioNet), "127.0.0.1:0", NodeId(2), small).await.unwrap();
        b.set_handler(Arc::new(Echo));
        let (a, a_address) = node(1).await;
        let (flooder, b_address) = (a.clone(), b_address.to_string());
        let slow = tokio::spawn(async move {
            let calls = (0..10).map(|_| flooder.call(NodeId(2), &b_address, GroupId(1), 8, vec![], LONG * 3));
            futures::future::join_all(calls).await
        });
        tokio::time::sleep(Duration::from_millis(200)).await;
        let answer = b.call(NodeId(1), &a_address, GroupId(1), 1, b"x".to_vec(), Duration::from_secs(1)).await;
        assert_eq!(answer.unwrap(), b"x from 2 in 1");
        let answers = slow.await.unwrap();
        let refused =
            answers.iter().filter(|a| matches!(a, Err(CallError::Remote(why)) if why.contains("overloaded"))).count();
        assert_eq!(refused, 6, "past the 4 served or waiting: {answers:?}");
        assert_eq!(answers.iter().filter(|a| a.is_ok()).count(), 4);
    }

    #[tokio::test]
    async fn a_node_of_the_previous_version_is_spoken_to_in_its_version() {
        let old_options = NetworkOptions { version_max: 1, ..NetworkOptions::default() };
        let (old, old_address) =
            Network::start(Arc::new(TokioNet), "127.0.0.1:0", NodeId(1), old_options).await.unwrap();
        old.set_handler(Arc::new(Echo));
        let ((new, new_address), (newer, _)) = (node(2).await, node(3).await);
        assert_eq!(new.version_seen(NodeId(1)), 0, "never connected");
        assert!(new.call(NodeId(1), &old_address.to_string(), GroupId(1), 1, b"a".to_vec(), LONG).await.is_ok());
        assert_eq!((new.version_seen(NodeId(1)), old.version_seen(NodeId(2))), (1, 1));
        assert!(newer.call(NodeId(2), &new_address, GroupId(1), 1, b"b".to_vec(), LONG).await.is_ok());
        assert_eq!(new.version_seen(NodeId(3)), VERSION_MAX);
    }

    #[tokio::test]
    async fn deadlines_unreachable_peers_and_faults() {
        let ((a, _), (b, b_address)) = (node(1).await, node(2).await);
        assert_eq!(
            a.call(NodeId(2), &b_address, GroupId(1), 8, vec![], Duration::from_millis(100)).await,
            Err(CallError::Timeout)
        );
        assert!(matches!(
            a.call(NodeId(5), "127.0.0.1:1", GroupId(1), 1, vec![], LONG).await,
            Err(CallError::Unreachable(_))
        ));
        a.faults().block(NodeId(2));
        assert!(matches!(
            a.call(NodeId(2), &b_address, GroupId(1), 1, vec![], LONG).await,
            Err(CallError::Unreachable(_))
        ));
        a.faults().heal();
        // One-way cut: b ignores a, so a's call goes out and times out.
        b.faults().block_incoming(NodeId(1));
        assert_eq!(
            a.call(NodeId(2), &b_address, GroupId(1), 1, vec![], Duration::from_millis(200)).await,
            Err(CallError::Timeout)
        );
        b.faults().heal();
        assert!(a.call(NodeId(2), &b_address, GroupId(1), 1, vec![], LONG).await.is_ok());
        // An address that turns out to be another node is refused.
        assert!(matches!(
            a.call(NodeId(7), &b_address, GroupId(1), 1, vec![], LONG).await,
            Err(CallError::Unreachable(_))
        ));
    }

    #[tokio::test]
    async fn a_connection_that_went_silent_is_replaced() {
        let ((a, _), (b, b_address)) = (node(1).await, node(2).await);
        assert!(a.call(NodeId(2), &b_address, GroupId(1), 1, vec![], LONG).await.is_ok());
        // b hears a but never answers: the stream looks stalled from a's side.
        b.faults().block_outgoing(NodeId(1));
        let call = a.call(NodeId(2), &b_address, GroupId(1), 1, vec![], Duration::from_millis(100)).await;
        assert_eq!(call, Err(CallError::Timeout));
        assert!(a.connected().is_empty(), "a closed the silent connection");
        b.faults().heal();
        assert!(a.call(NodeId(2), &b_address, GroupId(1), 1, vec![], LONG).await.is_ok(), "and dialed a new one");
    }

    #[tokio::test]
    async fn reconnects_after_the_peer_returns() {
        let (a, _) = node(1).await;
        let (b, b_address) = node(2).await;
        assert!(a.call(NodeId(2), &b_address, GroupId(1), 1, vec![], LONG).await.is_ok());
        let port: u16 = b_address.rsplit(':').next().unwrap().parse().unwrap();
        b.shutdown();
        // A fresh node on the same address (same id) comes back; the old connection's end is gone.
        let mut restarted = None;
        for _ in 0..50 {
            if let Ok(found) =
                Network::start(Arc::new(TokioNet), &format!("127.0.0.1:{port}"), NodeId(2), NetworkOptions::default())
                    .await
            {
                restarted = Some(found);
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let (b2, _) = restarted.expect("rebind");
        b2.set_handler(Arc::new(Echo));
        let mut ok = false;
        for _ in 0..100 {
            if a.call(NodeId(2), &b_address, GroupId(1), 1, vec![], Duration::from_millis(500)).await.is_ok() {
                ok = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(ok, "never reconnected");
    }

    /// Connections to other nodes never complete on it, as towards a peer whose messages are
    /// all held; it counts the attempts.
    struct Silent(Arc<AtomicU64>);

    impl Net for Silent {
        fn bind(&self, address: String) -> BoxFuture<'static, std::io::Result<Box<dyn crate::net::Listener>>> {
            TokioNet.bind(address)
        }

        fn connect(&self, _address: String) -> BoxFuture<'static, std::io::Result<crate::net::Conn>> {
            self.0.fetch_add(1, Ordering::Relaxed);
            Box::pin(std::future::pending())
        }
    }

    #[tokio::test]
    async fn one_connection_attempt_at_a_time_whatever_the_callers_deadlines() {
        let attempts = Arc::new(AtomicU64::new(0));
        let options = NetworkOptions { connect_timeout_ms: 300, ..NetworkOptions::default() };
        let (a, _) =
            Network::start(Arc::new(Silent(attempts.clone())), "127.0.0.1:0", NodeId(1), options).await.unwrap();
        // Eight callers (as many groups would be) with short deadlines, for a second.
        let caller = |a: Network| async move {
            let started = Instant::now();
            while started.elapsed() < Duration::from_millis(1_000) {
                let call = a.call(NodeId(2), "127.0.0.1:9", GroupId(1), 1, vec![], Duration::from_millis(20)).await;
                assert!(matches!(call, Err(CallError::Unreachable(_))), "{call:?}");
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        };
        futures::future::join_all((0..8).map(|_| caller(a.clone()))).await;
        // An attempt per connect timeout and backoff (300 ms, then 20, 40, 80 ms): about three.
        // Attempts abandoned with their callers would be one per backoff, seven or more.
        let made = attempts.load(Ordering::Relaxed);
        assert!((1..=4).contains(&made), "{made} connection attempts in a second");
    }
}
