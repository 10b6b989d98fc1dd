//! The wire format.
//!
//! Every frame is `[u32 length][u8 version][u32 crc32c(payload)][payload]` (little-endian),
//! where the payload is a postcard-encoded [`Message`] and `length` counts the payload only.
//! A connection starts with a [`Message::Hello`] from each side; each then speaks the highest
//! version both support, so a rolling upgrade can mix adjacent versions. The frames are the same
//! in both versions; what a version promises is what the payloads may hold:
//! - 1: the first.
//! - 2: forwarded writes and log entries may carry tagged requests (`Request::Once`, for
//!   exactly-once retries), which a node of version 1 cannot decode. A node sends them only to
//!   peers that spoke version 2 (see `Network::version_seen`).
//! - 3: log entries may carry a shard's slots (`Request::OwnSlots`); a leader proposes one
//!   only into a group whose members all spoke version 3.
//! - 4: log entries may carry slot-move steps (`Request::Migrate`) and the metadata group's
//!   slot-move changes; a node starts a move only when every member spoke version 4.
//! - 5: nodes gossip (SWIM packets and map fetches on services of their own), and the metadata
//!   group's log may carry `ReplaceMember`: a node replaces a dead member only when every
//!   member spoke version 5 (a member of an older version may just not gossip).
//! - 6: published messages go to another node in numbered batches (service 7), so that one
//!   given up at its deadline and delivered late is dropped rather than overtake the next; a
//!   node sends them unnumbered (service 4) to a peer that spoke an older version.
//! - 7: the metadata group's log may carry zones (`AddMemberInZone`, `SetZone`) and the map
//!   is of format 4; a node joins with a zone, or records one, only when every member spoke
//!   version 7.

use concord_core::limits::LOG_RECORD_BYTES_MAX;
use concord_core::types::{GroupId, NodeId};
use serde::{Deserialize, Serialize};
use std::io;
use tokio::io::{AsyncRead, AsyncReadExt};

pub const VERSION_MIN: u8 = 1;
pub const VERSION_MAX: u8 = 7;
pub const HEADER_BYTES: usize = 9;
/// Largest payload: a log entry as large as the largest log record must fit.
pub const PAYLOAD_BYTES_MAX: usize = LOG_RECORD_BYTES_MAX;
/// Tells Concord nodes from anything else that connects to the node port.
pub const MAGIC: [u8; 4] = *b"CNCD";

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Message {
    /// The first message on a connection, from both sides.
    Hello {
        magic: [u8; 4],
        node: NodeId,
        version_min: u8,
        version_max: u8,
    },
    Request {
        id: u64,
        group: GroupId,
        service: u8,
        payload: Vec<u8>,
    },
    /// `Err` carries a failure text from the serving side (it could not handle the request).
    Response {
        id: u64,
        result: Result<Vec<u8>, String>,
    },
}

/// Appends one framed message to `out`.
pub fn encode(message: &Message, version: u8, out: &mut Vec<u8>) {
    let payload = postcard::to_stdvec(message).expect("messages encode");
    assert!(payload.len() <= PAYLOAD_BYTES_MAX, "frame of {} bytes", payload.len());
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.push(version);
    out.extend_from_slice(&crc32c::crc32c(&payload).to_le_bytes());
    out.extend_from_slice(&payload);
}

/// Reads one frame. Damage (a bad checksum, an unknown version, an oversized frame) is an
/// error: the connection cannot be trusted any more and is closed.
pub async fn read<R: AsyncRead + Unpin>(reader: &mut R) -> io::Result<(u8, Message)> {
    let mut header = [0u8; HEADER_BYTES];
    reader.read_exact(&mut header).await?;
    let length = u32::from_le_bytes(header[0..4].try_into().expect("4 bytes")) as usize;
    let version = header[4];
    let checksum = u32::from_le_bytes(header[5..9].try_into().expect("4 bytes"));
    let invalid = |what: String| io::Error::new(io::ErrorKind::InvalidData, what);
    if !(VERSION_MIN..=VERSION_MAX).contains(&version) {
        return Err(invalid(format!("frame version {version} is not supported")));
    }
    if length > PAYLOAD_BYTES_MAX {
        return Err(invalid(format!("frame of {length} bytes is too large")));
    }
    let mut payload = vec![0u8; length];
    reader.read_exact(&mut payload).await?;
    if crc32c::crc32c(&payload) != checksum {
        return Err(invalid("frame checksum mismatch".to_string()));
    }
    let message = postcard::from_bytes(&payload).map_err(|e| invalid(format!("undecodable frame: {e}")))?;
    Ok((version, message))
}

/// The version two nodes speak, if their ranges meet.
pub fn negotiate(their_min: u8, their_max: u8) -> Option<u8> {
    negotiate_up_to(VERSION_MAX, their_min, their_max)
}

/// [`negotiate`] for a node that speaks versions up to `ours_max` only.
pub fn negotiate_up_to(ours_max: u8, their_min: u8, their_max: u8) -> Option<u8> {
    let version = ours_max.min(VERSION_MAX).min(their_max);
    (version >= VERSION_MIN.max(their_min)).then_some(version)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn frames_round_trip_and_damage_is_refused() {
        let message = Message::Request { id: 7, group: GroupId(1), service: 2, payload: b"hello".to_vec() };
        let mut bytes = Vec::new();
        encode(&message, 1, &mut bytes);
        encode(&Message::Response { id: 7, result: Err("no".into()) }, 1, &mut bytes);
        let mut reader = &bytes[..];
        assert_eq!(read(&mut reader).await.unwrap(), (1, message));
        assert!(matches!(read(&mut reader).await.unwrap().1, Message::Response { id: 7, .. }));
        let mut damaged = bytes.clone();
        damaged[HEADER_BYTES + 2] ^= 1;
        assert!(read(&mut &damaged[..]).await.unwrap_err().to_string().contains("checksum"));
        let mut future = bytes.clone();
        future[4] = 9;
        assert!(read(&mut &future[..]).await.unwrap_err().to_string().contains("version 9"));
    }

    /// A frame as a node of wire version 1 sends it reads the same here, and this node
    /// still writes version 1 frames byte for byte as that node did.
    #[tokio::test]
    async fn frames_of_version_1_still_read() {
        let version_1: &[u8] = &[7, 0, 0, 0, 1, 56, 10, 145, 153, 1, 7, 1, 2, 2, b'h', b'i'];
        let message = Message::Request { id: 7, group: GroupId(1), service: 2, payload: b"hi".to_vec() };
        assert_eq!(read(&mut &version_1[..]).await.unwrap(), (1, message.clone()));
        let mut bytes = Vec::new();
        encode(&message, 1, &mut bytes);
        assert_eq!(bytes, version_1);
    }

    #[test]
    fn versions_negotiate_to_the_highest_common_one() {
        assert_eq!(negotiate(1, 1), Some(1));
        assert_eq!(negotiate(1, 5), Some(5), "a node of version 5 and this one");
        assert_eq!(negotiate(1, VERSION_MAX + 3), Some(VERSION_MAX));
        assert_eq!(negotiate(VERSION_MAX + 1, VERSION_MAX + 2), None);
        assert_eq!(negotiate_up_to(1, 1, VERSION_MAX), Some(1), "a node of version 1 and one of 2");
    }
}
