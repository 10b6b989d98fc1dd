//! The simulated world as a node sees it: turmoil's TCP behind the node's [`Net`], and the
//! simulated wall clock.

use concord_core::types::{Clock, TimeMs};
use concord_transport::net::{Conn, Listener, Net};
use futures::future::BoxFuture;
use std::io;
use std::net::SocketAddr;

/// turmoil's TCP.
#[derive(Clone, Copy, Debug, Default)]
pub struct SimNet;

fn conn(stream: turmoil::net::TcpStream) -> io::Result<Conn> {
    let (peer, local) = (stream.peer_addr()?, stream.local_addr()?);
    let (reader, writer) = stream.into_split();
    Ok(Conn { reader: Box::pin(reader), writer: Box::pin(writer), peer, local, fd: -1 })
}

struct SimListener(turmoil::net::TcpListener);

impl Listener for SimListener {
    fn accept(&self) -> BoxFuture<'_, io::Result<Conn>> {
        Box::pin(async move { conn(self.0.accept().await?.0) })
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.0.local_addr()
    }
}

impl Net for SimNet {
    fn bind(&self, address: String) -> BoxFuture<'static, io::Result<Box<dyn Listener>>> {
        Box::pin(async move {
            Ok(Box::new(SimListener(turmoil::net::TcpListener::bind(address).await?)) as Box<dyn Listener>)
        })
    }

    fn connect(&self, address: String) -> BoxFuture<'static, io::Result<Conn>> {
        Box::pin(async move { conn(turmoil::net::TcpStream::connect(address).await?) })
    }
}

/// The simulation's wall clock, shared by every host (no skew).
#[derive(Clone, Copy, Debug, Default)]
pub struct SimClock;

/// Microseconds since the Unix epoch, in simulated time; the simulation starts at
/// [`crate::EPOCH_SECS`].
pub fn now_us() -> u64 {
    turmoil::since_epoch().expect("the clock is read inside the simulation").as_micros() as u64
}

impl Clock for SimClock {
    fn now_ms(&self) -> TimeMs {
        now_us() / 1000
    }

    fn now_us(&self) -> u64 {
        now_us()
    }
}
