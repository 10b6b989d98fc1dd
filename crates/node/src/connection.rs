//! One client connection: reads requests, dispatches them through the session, keeps
//! pipelined replies in order, and writes them back.
//!
//! Pipelining without reordering effects: consecutive writes are submitted to the log one
//! after another and complete together (group commit); consecutive reads share read
//! barriers. When a read follows writes (or a write follows reads) the earlier ones finish
//! first, so every command sees the effects of those sent before it on the connection.

use crate::clients::Client;
use crate::host::ConnectionHost;
use crate::node::{write_error_reply, Node};
use bytes::BytesMut;
use concord_core::limits::PIPELINE_COMMANDS_MAX;
use concord_core::rng::Rng;
use concord_core::session::{Action, Protocol, Session};
use concord_core::Reply;
use concord_resp::{encode, RequestParser};
use futures::future::BoxFuture;
use futures::stream::FuturesOrdered;
use futures::{FutureExt, StreamExt};
use std::collections::VecDeque;
use std::io;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::OwnedWriteHalf;
use tokio::net::TcpStream;
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

/// Replies not yet written, in request order.
struct Pipeline {
    replies: FuturesOrdered<BoxFuture<'static, Reply>>,
    protocols: VecDeque<Protocol>,
    phase: Phase,
}

impl Pipeline {
    fn len(&self) -> usize {
        self.protocols.len()
    }

    fn push(&mut self, protocol: Protocol, reply: BoxFuture<'static, Reply>) {
        self.replies.push_back(reply);
        self.protocols.push_back(protocol);
    }

    fn ready(&mut self, protocol: Protocol, reply: Reply) {
        self.push(protocol, futures::future::ready(reply).boxed());
    }
}

struct Connection {
    node: Arc<Node>,
    host: ConnectionHost,
    session: Session,
    pipeline: Pipeline,
    output: BytesMut,
    writer: OwnedWriteHalf,
    rng: Rng,
    /// Stop reading: finish what is pending, then close.
    closing: bool,
}

/// Serves one client until it leaves, is killed, errs, or the node shuts down.
pub async fn serve(node: Arc<Node>, stream: TcpStream, client: Arc<Client>, mut shutdown: watch::Receiver<bool>) {
    let id = client.view.lock().id;
    let _ = stream.set_nodelay(true);
    let (mut reader, writer) = stream.into_split();
    let mut killed = client.killed();
    let mut connection = Connection {
        rng: Rng::new(node.rng_seed ^ id),
        host: ConnectionHost { node: node.clone(), client: client.clone() },
        node,
        session: Session::new(id),
        pipeline: Pipeline { replies: FuturesOrdered::new(), protocols: VecDeque::new(), phase: Phase::Idle },
        output: BytesMut::with_capacity(READ_BUFFER_BYTES),
        writer,
        closing: false,
    };
    let mut parser = RequestParser::new(connection.node.params.live.parser_limits());
    let mut input = BytesMut::with_capacity(READ_BUFFER_BYTES);
    let result: io::Result<()> = async {
        loop {
            parser.set_limits(connection.node.params.live.parser_limits());
            while !connection.closing && connection.pipeline.len() < PIPELINE_COMMANDS_MAX {
                match parser.parse(&mut input) {
                    Ok(Some(argv)) => connection.dispatch(argv).await?,
                    Ok(None) => break,
                    Err(error) => {
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
            client.view.lock().query_buffer = parser.pending_bytes(&input);
            if connection.closing && connection.pipeline.len() == 0 {
                return connection.flush().await;
            }
            let can_read = !connection.closing && connection.pipeline.len() < PIPELINE_COMMANDS_MAX;
            let idle_secs = connection.node.params.live.timeout_secs.load(Relaxed);
            let waiting_for_replies = connection.pipeline.len() > 0;
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
                reply = connection.pipeline.replies.next(), if connection.pipeline.len() > 0 => {
                    let reply = reply.expect("a pending reply");
                    connection.emit(reply);
                    connection.emit_ready();
                    connection.flush().await?;
                }
                read = reader.read_buf(&mut input), if can_read => {
                    let read = read?;
                    connection.node.stats.net_input_bytes.fetch_add(read as u64, Relaxed);
                    if read == 0 {
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
    if let Err(error) = result {
        tracing::debug!(client = id, %error, "client connection ended");
    }
}

impl Connection {
    /// Carries out one command.
    async fn dispatch(&mut self, argv: Vec<bytes::Bytes>) -> io::Result<()> {
        let action = self.session.dispatch(argv, &self.host);
        // A reply is written in the protocol in force after its command: HELLO 3 answers in RESP3.
        let protocol = self.session.protocol;
        self.host.client.view.lock().update(&self.session);
        match action {
            Action::Reply(reply) => self.pipeline.ready(protocol, reply),
            Action::Close(reply) => {
                self.pipeline.ready(protocol, reply);
                self.closing = true;
            }
            Action::Write(request) => {
                self.enter(Phase::Writes).await?;
                match self.node.group.submit(request).await {
                    Ok(reply) => self
                        .pipeline
                        .push(protocol, async move { reply.await.unwrap_or_else(write_error_reply) }.boxed()),
                    Err(error) => self.pipeline.ready(protocol, write_error_reply(error)),
                }
            }
            Action::Read { db, op } => {
                self.enter(Phase::Reads).await?;
                let (node, stale, mut rng) = (self.node.clone(), self.session.readonly, Rng::new(self.rng.next_u64()));
                self.pipeline.push(protocol, async move { node.read(db, op, stale, &mut rng).await }.boxed());
            }
            Action::Exec(plan) => {
                self.drain().await?;
                let (reply, db) = self.node.exec(plan).await;
                if let Some(db) = db {
                    self.session.db = db;
                }
                self.pipeline.ready(protocol, reply);
            }
            Action::Watch { db, keys } => {
                self.drain().await?;
                let reply = match self.node.watch(db, keys, self.session.readonly).await {
                    Ok(stamps) => self.session.add_watches(db, stamps),
                    Err(reply) => reply,
                };
                self.pipeline.ready(protocol, reply);
            }
        }
        Ok(())
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
        while let Some(reply) = self.pipeline.replies.next().await {
            self.emit(reply);
            if self.output.len() >= OUTPUT_FLUSH_BYTES {
                self.flush().await?;
            }
        }
        self.pipeline.phase = Phase::Idle;
        self.flush().await
    }

    /// Encodes the next reply in order.
    fn emit(&mut self, reply: Reply) {
        let protocol = self.pipeline.protocols.pop_front().expect("one protocol per reply");
        self.node.count_command(&reply);
        encode(&reply, protocol, &mut self.output);
        if self.pipeline.protocols.is_empty() {
            self.pipeline.phase = Phase::Idle;
        }
    }

    /// Encodes every reply that is already complete, without waiting.
    fn emit_ready(&mut self) {
        while self.output.len() < OUTPUT_FLUSH_BYTES && !self.pipeline.protocols.is_empty() {
            match self.pipeline.replies.next().now_or_never() {
                Some(Some(reply)) => self.emit(reply),
                _ => break,
            }
        }
    }

    async fn flush(&mut self) -> io::Result<()> {
        if self.output.is_empty() {
            return Ok(());
        }
        self.writer.write_all(&self.output).await?;
        self.node.stats.net_output_bytes.fetch_add(self.output.len() as u64, Relaxed);
        self.output.clear();
        Ok(())
    }
}
