//! The network a node runs on: real TCP, or the simulator's. Everything that opens a socket
//! (the client listener, the node transport, Concord's own clients) goes through [`Net`], so a
//! whole cluster can run inside a deterministic simulation.

use futures::future::BoxFuture;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use tokio::io::{AsyncRead, AsyncWrite};

pub type Reader = Pin<Box<dyn AsyncRead + Send>>;
pub type Writer = Pin<Box<dyn AsyncWrite + Send>>;

/// An open connection, split into its two directions.
pub struct Conn {
    pub reader: Reader,
    pub writer: Writer,
    pub peer: SocketAddr,
    pub local: SocketAddr,
    /// The OS file descriptor, where there is one (CLIENT LIST shows it).
    pub fd: i32,
}

pub trait Listener: Send + Sync {
    fn accept(&self) -> BoxFuture<'_, io::Result<Conn>>;
    fn local_addr(&self) -> io::Result<SocketAddr>;
}

pub trait Net: Send + Sync + 'static {
    fn bind(&self, address: String) -> BoxFuture<'static, io::Result<Box<dyn Listener>>>;
    fn connect(&self, address: String) -> BoxFuture<'static, io::Result<Conn>>;
}

/// Real TCP, with Nagle's algorithm off (requests and replies are small and latency-bound).
#[derive(Clone, Copy, Debug, Default)]
pub struct TokioNet;

fn conn(stream: tokio::net::TcpStream) -> io::Result<Conn> {
    use std::os::fd::AsRawFd;
    stream.set_nodelay(true)?;
    let (peer, local, fd) = (stream.peer_addr()?, stream.local_addr()?, stream.as_raw_fd());
    let (reader, writer) = stream.into_split();
    Ok(Conn { reader: Box::pin(reader), writer: Box::pin(writer), peer, local, fd })
}

struct TokioListener(tokio::net::TcpListener);

impl Listener for TokioListener {
    fn accept(&self) -> BoxFuture<'_, io::Result<Conn>> {
        Box::pin(async move { conn(self.0.accept().await?.0) })
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.0.local_addr()
    }
}

impl Net for TokioNet {
    fn bind(&self, address: String) -> BoxFuture<'static, io::Result<Box<dyn Listener>>> {
        Box::pin(async move {
            Ok(Box::new(TokioListener(tokio::net::TcpListener::bind(address).await?)) as Box<dyn Listener>)
        })
    }

    fn connect(&self, address: String) -> BoxFuture<'static, io::Result<Conn>> {
        Box::pin(async move { conn(tokio::net::TcpStream::connect(address).await?) })
    }
}
