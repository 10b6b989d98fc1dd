//! Reading replies, for Concord's own clients (joining a cluster, `concord admin`, the
//! verifier and the benchmark): RESP2 and RESP3 bytes back into [`Reply`] values.

use bytes::{Buf, Bytes, BytesMut};
use concord_core::Reply;

/// Deepest nesting of aggregates accepted, so a hostile server cannot exhaust the stack.
const DEPTH_MAX: usize = 64;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeError(pub String);

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "malformed reply: {}", self.0)
    }
}

impl std::error::Error for DecodeError {}

/// Takes one whole reply off the front of `buffer`, or `None` if it is not complete yet.
pub fn decode_reply(buffer: &mut BytesMut) -> Result<Option<Reply>, DecodeError> {
    match parse(buffer, 0, 0)? {
        None => Ok(None),
        Some((reply, end)) => {
            buffer.advance(end);
            Ok(Some(reply))
        }
    }
}

fn line(buffer: &[u8], at: usize) -> Option<(&[u8], usize)> {
    let end = at + buffer.get(at..)?.windows(2).position(|w| w == b"\r\n")?;
    Some((&buffer[at..end], end + 2))
}

fn number(text: &[u8]) -> Result<i64, DecodeError> {
    std::str::from_utf8(text)
        .ok()
        .and_then(|t| t.parse().ok())
        .ok_or_else(|| DecodeError(format!("bad number {text:?}")))
}

fn parse(buffer: &[u8], at: usize, depth: usize) -> Result<Option<(Reply, usize)>, DecodeError> {
    if depth > DEPTH_MAX {
        return Err(DecodeError("nested too deeply".into()));
    }
    let Some(&kind) = buffer.get(at) else { return Ok(None) };
    let Some((text, next)) = line(buffer, at + 1) else { return Ok(None) };
    let bytes = |t: &[u8]| Bytes::copy_from_slice(t);
    let reply = match kind {
        b'+' => Reply::Status(bytes(text)),
        b'-' => Reply::Error(bytes(text)),
        b':' => Reply::Integer(number(text)?),
        b'_' => Reply::Nil,
        b'#' => Reply::Boolean(text == b"t"),
        b',' => Reply::Double(
            std::str::from_utf8(text)
                .ok()
                .and_then(|t| t.parse().ok())
                .ok_or_else(|| DecodeError("bad double".into()))?,
        ),
        b'(' => Reply::Bulk(bytes(text)),
        b'$' | b'=' | b'!' => {
            let length = number(text)?;
            if length < 0 {
                return Ok(Some((Reply::Nil, next)));
            }
            let end = next + length as usize;
            if buffer.len() < end + 2 {
                return Ok(None);
            }
            let body = &buffer[next..end];
            let reply = match kind {
                b'=' => Reply::Verbatim(bytes(body.get(4..).unwrap_or_default())),
                b'!' => Reply::Error(bytes(body)),
                _ => Reply::Bulk(bytes(body)),
            };
            return Ok(Some((reply, end + 2)));
        }
        b'*' | b'~' | b'>' | b'%' | b'|' => {
            let count = number(text)?;
            if count < 0 {
                return Ok(Some((Reply::NilArray, next)));
            }
            let items = if matches!(kind, b'%' | b'|') { count * 2 } else { count } as usize;
            let mut position = next;
            let mut parsed = Vec::with_capacity(items.min(1024));
            for _ in 0..items {
                let Some((item, after)) = parse(buffer, position, depth + 1)? else { return Ok(None) };
                parsed.push(item);
                position = after;
            }
            let reply = match kind {
                b'%' | b'|' => {
                    let mut pairs = Vec::with_capacity(parsed.len() / 2);
                    let mut items = parsed.into_iter();
                    while let (Some(key), Some(value)) = (items.next(), items.next()) {
                        pairs.push((key, value));
                    }
                    Reply::Map(pairs)
                }
                b'~' => Reply::Set(parsed),
                b'>' => Reply::Push(parsed),
                _ => Reply::Array(parsed),
            };
            return Ok(Some((reply, position)));
        }
        other => return Err(DecodeError(format!("unknown reply type {:?}", char::from(other)))),
    };
    Ok(Some((reply, next)))
}

/// Encodes a request (an array of bulk strings).
pub fn encode_request<A: AsRef<[u8]>>(args: &[A], out: &mut Vec<u8>) {
    out.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
    for arg in args {
        let arg = arg.as_ref();
        out.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
        out.extend_from_slice(arg);
        out.extend_from_slice(b"\r\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encode;
    use concord_core::session::Protocol;

    #[test]
    fn decodes_what_the_encoder_writes() {
        let replies = vec![
            Reply::OK,
            Reply::Error(Bytes::from_static(b"ERR x")),
            Reply::Integer(-5),
            Reply::bulk("hello"),
            Reply::Nil,
            Reply::NilArray,
            Reply::Array(vec![Reply::Integer(1), Reply::Array(vec![Reply::bulk("a")])]),
            Reply::Map(vec![(Reply::bulk("k"), Reply::Integer(1))]),
            Reply::Verbatim(Bytes::from_static(b"text")),
        ];
        for protocol in [Protocol::Resp2, Protocol::Resp3] {
            let mut wire = BytesMut::new();
            for reply in &replies {
                encode(reply, protocol, &mut wire);
            }
            for reply in &replies {
                let decoded = decode_reply(&mut wire).unwrap().unwrap();
                let expected = match (protocol, reply) {
                    (Protocol::Resp2, Reply::Map(pairs)) => {
                        Reply::Array(pairs.iter().flat_map(|(k, v)| [k.clone(), v.clone()]).collect())
                    }
                    (Protocol::Resp2, Reply::Verbatim(text)) => Reply::Bulk(text.clone()),
                    (Protocol::Resp3, Reply::NilArray) => Reply::Nil,
                    _ => reply.clone(),
                };
                assert_eq!(decoded, expected);
            }
            assert!(wire.is_empty());
        }
        let mut partial = BytesMut::from(&b"*2\r\n$1\r\na\r\n"[..]);
        assert_eq!(decode_reply(&mut partial), Ok(None));
        assert_eq!(partial.len(), 11);
    }
}
