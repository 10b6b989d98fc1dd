//! A small RESP client, for what Concord itself says to nodes: joining a cluster, `concord
//! admin`, `concord local`, the verifier.

use bytes::BytesMut;
use concord_core::Reply;
use concord_resp::decoder::{decode_reply, encode_request};
use concord_transport::net::{Conn, Net, Reader, Writer};
use concord_transport::TokioNet;
use std::io;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub struct Client {
    reader: Reader,
    writer: Writer,
    buffer: BytesMut,
    timeout: Duration,
}

impl Client {
    /// Connects over real TCP.
    pub async fn connect(address: &str, timeout: Duration) -> io::Result<Client> {
        Client::connect_on(&TokioNet, address, timeout).await
    }

    /// Connects over `net` (real or simulated); every later call gives up after `timeout`.
    pub async fn connect_on(net: &dyn Net, address: &str, timeout: Duration) -> io::Result<Client> {
        let conn = tokio::time::timeout(timeout, net.connect(address.to_string()))
            .await
            .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, format!("connecting to {address} timed out")))??;
        Ok(Client::over(conn, timeout))
    }

    pub fn over(conn: Conn, timeout: Duration) -> Client {
        Client { reader: conn.reader, writer: conn.writer, buffer: BytesMut::with_capacity(4096), timeout }
    }

    /// Sends one command and waits for its reply (error replies are replies, not errors).
    pub async fn call<A: AsRef<[u8]>>(&mut self, args: &[A]) -> io::Result<Reply> {
        let mut request = Vec::new();
        encode_request(args, &mut request);
        tokio::time::timeout(self.timeout, async {
            self.writer.write_all(&request).await?;
            self.read_reply().await
        })
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "no reply in time"))?
    }

    /// Sends several commands at once and waits for all their replies, in order.
    pub async fn pipeline<A: AsRef<[u8]>>(&mut self, commands: &[Vec<A>]) -> io::Result<Vec<Reply>> {
        let mut request = Vec::new();
        for args in commands {
            encode_request(args, &mut request);
        }
        tokio::time::timeout(self.timeout, async {
            self.writer.write_all(&request).await?;
            let mut replies = Vec::with_capacity(commands.len());
            for _ in commands {
                replies.push(self.read_reply().await?);
            }
            Ok(replies)
        })
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "no reply in time"))?
    }

    /// Sends one command without waiting for its reply: in subscribe mode, replies and pushed
    /// messages share the stream, and [`Client::receive`] takes them as they come.
    pub async fn send<A: AsRef<[u8]>>(&mut self, args: &[A]) -> io::Result<()> {
        let mut request = Vec::new();
        encode_request(args, &mut request);
        tokio::time::timeout(self.timeout, self.writer.write_all(&request))
            .await
            .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "the request could not be sent in time"))?
    }

    /// The next reply or pushed message, or None if nothing came within `wait`.
    pub async fn receive(&mut self, wait: Duration) -> io::Result<Option<Reply>> {
        match tokio::time::timeout(wait, self.read_reply()).await {
            Ok(reply) => reply.map(Some),
            Err(_) => Ok(None),
        }
    }

    async fn read_reply(&mut self) -> io::Result<Reply> {
        loop {
            if let Some(reply) =
                decode_reply(&mut self.buffer).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?
            {
                return Ok(reply);
            }
            if self.reader.read_buf(&mut self.buffer).await? == 0 {
                return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "the server closed the connection"));
            }
        }
    }
}

/// Renders a reply for people (the way redis-cli does, roughly).
pub fn render(reply: &Reply) -> String {
    fn go(reply: &Reply, indent: usize, out: &mut String) {
        let pad = " ".repeat(indent);
        match reply {
            Reply::Status(text) => out.push_str(&String::from_utf8_lossy(text)),
            Reply::Error(text) => out.push_str(&format!("(error) {}", String::from_utf8_lossy(text))),
            Reply::Integer(value) => out.push_str(&format!("(integer) {value}")),
            Reply::Bulk(text) | Reply::Verbatim(text) => out.push_str(&String::from_utf8_lossy(text)),
            Reply::Nil | Reply::NilArray | Reply::Blocked => out.push_str("(nil)"),
            Reply::Double(value) | Reply::HumanDouble(value) => out.push_str(&value.to_string()),
            Reply::Boolean(value) => out.push_str(&value.to_string()),
            Reply::Array(items) | Reply::Set(items) | Reply::Push(items) => {
                for (i, item) in items.iter().enumerate() {
                    out.push_str(&format!("{}{}) ", if i == 0 { String::new() } else { format!("\n{pad}") }, i + 1));
                    go(item, indent + 3, out);
                }
            }
            Reply::Map(pairs) | Reply::Pairs(pairs) | Reply::Keyed(pairs) => {
                for (i, (key, value)) in pairs.iter().enumerate() {
                    if i > 0 {
                        out.push_str(&format!("\n{pad}"));
                    }
                    go(key, indent, out);
                    out.push_str(": ");
                    go(value, indent + 2, out);
                }
            }
        }
    }
    let mut out = String::new();
    go(reply, 0, &mut out);
    out
}
