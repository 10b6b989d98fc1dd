//! The connected clients: what `CLIENT LIST` shows and what `CLIENT KILL` can reach.

use bytes::Bytes;
use concord_core::session::Session;
use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::sync::watch;
use tokio::time::Instant;

/// One client as others see it, refreshed by its connection after every command.
#[derive(Clone, Debug)]
pub struct ClientView {
    pub id: u64,
    pub addr: SocketAddr,
    pub local_addr: SocketAddr,
    pub fd: i32,
    pub name: Option<Bytes>,
    pub lib_name: Option<Bytes>,
    pub lib_version: Option<Bytes>,
    pub db: u32,
    pub resp: i64,
    pub queued: Option<usize>,
    pub readonly: bool,
    /// Channels and patterns subscribed to.
    pub subscribed_channels: usize,
    pub subscribed_patterns: usize,
    pub subscribed_shard_channels: usize,
    pub last_command: &'static str,
    pub query_buffer: usize,
    pub connected_at: Instant,
    pub last_active: Instant,
}

impl ClientView {
    pub fn update(&mut self, session: &Session) {
        self.name = session.name.clone();
        self.lib_name = session.lib_name.clone();
        self.lib_version = session.lib_version.clone();
        self.db = session.db;
        self.resp = session.protocol.version();
        self.queued = session.in_transaction().then(|| session.queued_len());
        self.readonly = session.readonly;
        self.subscribed_channels = session.channels.len();
        self.subscribed_patterns = session.patterns.len();
        self.subscribed_shard_channels = session.shard_channels.len();
        self.last_command = session.last_command;
        self.last_active = Instant::now();
    }

    /// A `CLIENT LIST` line (without the newline), in Redis 7's field order.
    pub fn line(&self, now: Instant) -> String {
        let text =
            |value: &Option<Bytes>| value.as_ref().map(|v| String::from_utf8_lossy(v).into_owned()).unwrap_or_default();
        let mut flags = String::new();
        if self.queued.is_some() {
            flags.push('x');
        }
        if self.readonly {
            flags.push('r');
        }
        if self.subscribed_channels + self.subscribed_patterns + self.subscribed_shard_channels > 0 {
            flags.push('P');
        }
        if flags.is_empty() {
            flags.push('N');
        }
        format!(
            "id={} addr={} laddr={} fd={} name={} age={} idle={} flags={} db={} sub={} psub={} ssub={} multi={} qbuf={} qbuf-free=0 \
             argv-mem=0 multi-mem=0 rbs=0 rbp=0 obl=0 oll=0 omem=0 tot-mem=0 events=r cmd={} user=default redir=-1 resp={} lib-name={} lib-ver={}",
            self.id,
            self.addr,
            self.local_addr,
            self.fd,
            text(&self.name),
            now.duration_since(self.connected_at).as_secs(),
            now.duration_since(self.last_active).as_secs(),
            flags,
            self.db,
            self.subscribed_channels,
            self.subscribed_patterns,
            self.subscribed_shard_channels,
            self.queued.map_or(-1, |n| n as i64),
            self.query_buffer,
            self.last_command,
            self.resp,
            text(&self.lib_name),
            text(&self.lib_version),
        )
    }
}

/// A registered client: its view and the switch that disconnects it.
pub struct Client {
    pub view: Mutex<ClientView>,
    kill: watch::Sender<bool>,
}

impl Client {
    /// Resolves when the client is killed (CLIENT KILL or shutdown).
    pub fn killed(&self) -> watch::Receiver<bool> {
        self.kill.subscribe()
    }
}

#[derive(Default)]
pub struct ClientRegistry {
    clients: Mutex<BTreeMap<u64, Arc<Client>>>,
    next_id: AtomicU64,
    pub connections_received: AtomicU64,
    pub rejected_connections: AtomicU64,
}

impl ClientRegistry {
    pub fn len(&self) -> usize {
        self.clients.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Registers a new connection under a fresh id (ids start at 1 and are never reused).
    pub fn register(&self, addr: SocketAddr, local_addr: SocketAddr, fd: i32) -> Arc<Client> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        let now = Instant::now();
        let view = ClientView {
            id,
            addr,
            local_addr,
            fd,
            name: None,
            lib_name: None,
            lib_version: None,
            db: 0,
            resp: 2,
            queued: None,
            readonly: false,
            subscribed_channels: 0,
            subscribed_patterns: 0,
            subscribed_shard_channels: 0,
            last_command: "NULL",
            query_buffer: 0,
            connected_at: now,
            last_active: now,
        };
        let (kill, _) = watch::channel(false);
        let client = Arc::new(Client { view: Mutex::new(view), kill });
        self.clients.lock().insert(id, client.clone());
        self.connections_received.fetch_add(1, Ordering::Relaxed);
        client
    }

    pub fn unregister(&self, id: u64) {
        self.clients.lock().remove(&id);
    }

    /// `CLIENT LIST` text: one line per client, each ending in a newline.
    pub fn list(&self, ids: Option<&[u64]>) -> String {
        let now = Instant::now();
        let clients: Vec<Arc<Client>> = self.clients.lock().values().cloned().collect();
        let mut text = String::new();
        for client in clients {
            let view = client.view.lock();
            if ids.is_none_or(|ids| ids.contains(&view.id)) {
                text.push_str(&view.line(now));
                text.push('\n');
            }
        }
        text
    }

    pub fn kill(&self, id: u64) -> bool {
        match self.clients.lock().get(&id) {
            Some(client) => {
                client.kill.send_replace(true);
                true
            }
            None => false,
        }
    }

    pub fn kill_all(&self) {
        for client in self.clients.lock().values() {
            client.kill.send_replace(true);
        }
    }
}
