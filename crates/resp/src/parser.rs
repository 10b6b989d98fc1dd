//! Incremental request parsing, following Redis's `processMultibulkBuffer` and
//! `processInlineBuffer`: the same limits, the same error texts, and the same tolerance (a bare
//! `\n` ends an inline line; the two bytes after a bulk are skipped unchecked).
//!
//! The parser keeps its place inside a partially received request, so a large request that
//! arrives in many reads is scanned once, not once per read.

use bytes::{Buf, Bytes, BytesMut};
use concord_core::args::parse_i64;
use concord_core::limits::{
    ARGUMENT_OVERHEAD_BYTES, HEADER_LINE_BYTES_MAX, INLINE_REQUEST_BYTES_MAX, MULTIBULK_ARGS_MAX,
};

/// Bulk payloads at least this large get buffer room reserved ahead of the reads...
const BIG_ARGUMENT_BYTES: usize = 32 * 1024;
/// ...but never more than this at once, so announcing a huge argument costs the announcer.
const RESERVE_BYTES_MAX: usize = 1024 * 1024;

/// Limits that Redis makes configurable.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// `proto-max-bulk-len`.
    pub bulk_bytes_max: usize,
    /// `client-query-buffer-limit`.
    pub query_buffer_bytes_max: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            bulk_bytes_max: concord_core::limits::BULK_BYTES_MAX_DEFAULT,
            query_buffer_bytes_max: concord_core::limits::QUERY_BUFFER_BYTES_MAX_DEFAULT,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParseError {
    /// Reply `-ERR Protocol error: <text>`, then close the connection.
    Protocol(&'static str),
    /// `expected '$', got '<byte>'`.
    ExpectedDollar(u8),
    /// The client's buffered request outgrew the query-buffer limit: close without a reply.
    QueryBufferLimit,
}

impl ParseError {
    /// The error reply, or `None` when the connection is closed silently.
    pub fn reply_text(&self) -> Option<String> {
        match self {
            ParseError::Protocol(text) => Some(format!("ERR Protocol error: {text}")),
            ParseError::ExpectedDollar(byte) => {
                let shown = if matches!(byte, b'\r' | b'\n') { ' ' } else { char::from(*byte) };
                Some(format!("ERR Protocol error: expected '$', got '{shown}'"))
            }
            ParseError::QueryBufferLimit => None,
        }
    }
}

/// Where the parser is inside a multibulk request.
#[derive(Debug, Default)]
struct Multibulk {
    args_left: usize,
    args: Vec<Bytes>,
    /// Length of the bulk whose header was read, while its payload is awaited.
    bulk_len: Option<usize>,
    /// Bytes charged against the query buffer for arguments already parsed.
    charged: usize,
}

#[derive(Debug, Default)]
pub struct RequestParser {
    limits: Limits,
    multibulk: Option<Multibulk>,
}

impl RequestParser {
    pub fn new(limits: Limits) -> RequestParser {
        RequestParser { limits, multibulk: None }
    }

    pub fn set_limits(&mut self, limits: Limits) {
        self.limits = limits;
    }

    /// Bytes held for the request in progress (parsed arguments plus what is still buffered):
    /// what CLIENT LIST calls `qbuf`.
    pub fn pending_bytes(&self, buffer: &BytesMut) -> usize {
        self.multibulk.as_ref().map_or(0, |m| m.charged) + buffer.len()
    }

    /// Parses the next complete, non-empty request out of `buffer`, consuming its bytes.
    /// `Ok(None)` means more bytes are needed.
    pub fn parse(&mut self, buffer: &mut BytesMut) -> Result<Option<Vec<Bytes>>, ParseError> {
        loop {
            if self.pending_bytes(buffer) > self.limits.query_buffer_bytes_max {
                return Err(ParseError::QueryBufferLimit);
            }
            let request = if self.multibulk.is_some() || buffer.first() == Some(&b'*') {
                self.parse_multibulk(buffer)?
            } else if buffer.is_empty() {
                return Ok(None);
            } else {
                parse_inline(buffer)?
            };
            match request {
                None => return Ok(None),
                // Empty requests (a blank line, `*0`) get no reply.
                Some(args) if args.is_empty() => continue,
                Some(args) => return Ok(Some(args)),
            }
        }
    }

    fn parse_multibulk(&mut self, buffer: &mut BytesMut) -> Result<Option<Vec<Bytes>>, ParseError> {
        if self.multibulk.is_none() {
            let Some(line) = take_line(buffer, "too big mbulk count string")? else {
                return Ok(None);
            };
            let count = parse_i64(&line[1..]).filter(|&count| count <= MULTIBULK_ARGS_MAX as i64);
            let Some(count) = count else {
                return Err(ParseError::Protocol("invalid multibulk length"));
            };
            if count <= 0 {
                return Ok(Some(Vec::new()));
            }
            // Never trust the count for allocation: a hostile client may announce billions.
            let capacity = (count as usize).min(1024);
            self.multibulk =
                Some(Multibulk { args_left: count as usize, args: Vec::with_capacity(capacity), ..Default::default() });
        }
        let bulk_bytes_max = self.limits.bulk_bytes_max;
        let state = self.multibulk.as_mut().expect("set above");
        while state.args_left > 0 {
            let length = match state.bulk_len {
                Some(length) => length,
                None => {
                    let Some(line) = take_line(buffer, "too big bulk count string")? else {
                        return Ok(None);
                    };
                    if line[0] != b'$' {
                        return Err(ParseError::ExpectedDollar(line[0]));
                    }
                    let length =
                        parse_i64(&line[1..]).filter(|&length| length >= 0 && length as usize <= bulk_bytes_max);
                    let Some(length) = length else {
                        return Err(ParseError::Protocol("invalid bulk length"));
                    };
                    state.bulk_len = Some(length as usize);
                    length as usize
                }
            };
            if buffer.len() < length + 2 {
                if length >= BIG_ARGUMENT_BYTES {
                    buffer.reserve((length + 2 - buffer.len()).min(RESERVE_BYTES_MAX));
                }
                return Ok(None);
            }
            // A small argument gets an allocation of its own: sharing the read buffer would
            // keep the whole buffer alive for as long as the argument lives (in the log's
            // cache, say), and stop the buffer's reuse. A big one keeps its part of the buffer,
            // which it mostly fills anyway, instead of being copied.
            let arg = if length < BIG_ARGUMENT_BYTES {
                let arg = Bytes::copy_from_slice(&buffer[..length]);
                buffer.advance(length);
                arg
            } else {
                buffer.split_to(length).freeze()
            };
            buffer.advance(2);
            state.charged += length + ARGUMENT_OVERHEAD_BYTES;
            state.args.push(arg);
            state.args_left -= 1;
            state.bulk_len = None;
        }
        Ok(self.multibulk.take().map(|state| state.args))
    }
}

/// Takes a `\r`-terminated header line (without the two terminator bytes), or `None` if it is
/// not complete yet. Errors with `too_big` if no terminator appears within the line limit.
fn take_line(buffer: &mut BytesMut, too_big: &'static str) -> Result<Option<Bytes>, ParseError> {
    match buffer.iter().position(|&b| b == b'\r') {
        Some(end) if end + 1 < buffer.len() => {
            let line = buffer.split_to(end).freeze();
            buffer.advance(2);
            Ok(Some(line))
        }
        Some(_) => Ok(None),
        None if buffer.len() > HEADER_LINE_BYTES_MAX => Err(ParseError::Protocol(too_big)),
        None => Ok(None),
    }
}

fn parse_inline(buffer: &mut BytesMut) -> Result<Option<Vec<Bytes>>, ParseError> {
    let Some(end) = buffer.iter().position(|&b| b == b'\n') else {
        if buffer.len() > INLINE_REQUEST_BYTES_MAX {
            return Err(ParseError::Protocol("too big inline request"));
        }
        return Ok(None);
    };
    let mut line = buffer.split_to(end + 1);
    line.truncate(end);
    if line.last() == Some(&b'\r') {
        line.truncate(end - 1);
    }
    // Redis reads the line as a C string: it ends at the first NUL byte.
    if let Some(nul) = line.iter().position(|&b| b == 0) {
        line.truncate(nul);
    }
    split_args(&line).map(Some).ok_or(ParseError::Protocol("unbalanced quotes in request"))
}

/// Redis's `sdssplitargs`: whitespace-separated words, with double quotes (escapes `\xHH`,
/// `\n`, `\r`, `\t`, `\b`, `\a`, `\<char>`) and single quotes (only `\'`).
pub fn split_args(line: &[u8]) -> Option<Vec<Bytes>> {
    let mut args = Vec::new();
    let mut i = 0;
    loop {
        while i < line.len() && is_space(line[i]) {
            i += 1;
        }
        if i == line.len() {
            return Some(args);
        }
        let mut current = Vec::new();
        let (mut in_double, mut in_single) = (false, false);
        loop {
            if in_double {
                let &byte = line.get(i)?;
                if byte == b'\\'
                    && i + 3 < line.len()
                    && line[i + 1] == b'x'
                    && is_hex(line[i + 2])
                    && is_hex(line[i + 3])
                {
                    current.push(hex(line[i + 2]) * 16 + hex(line[i + 3]));
                    i += 3;
                } else if byte == b'\\' && i + 1 < line.len() {
                    i += 1;
                    current.push(match line[i] {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 8,
                        b'a' => 7,
                        other => other,
                    });
                } else if byte == b'"' {
                    // The closing quote must end the word.
                    if i + 1 < line.len() && !is_space(line[i + 1]) {
                        return None;
                    }
                    i += 1;
                    break;
                } else {
                    current.push(byte);
                }
            } else if in_single {
                let &byte = line.get(i)?;
                if byte == b'\\' && line.get(i + 1) == Some(&b'\'') {
                    current.push(b'\'');
                    i += 1;
                } else if byte == b'\'' {
                    if i + 1 < line.len() && !is_space(line[i + 1]) {
                        return None;
                    }
                    i += 1;
                    break;
                } else {
                    current.push(byte);
                }
            } else {
                match line.get(i) {
                    None | Some(b' ' | b'\n' | b'\r' | b'\t') => break,
                    Some(b'"') => in_double = true,
                    Some(b'\'') => in_single = true,
                    Some(&byte) => current.push(byte),
                }
            }
            i += 1;
        }
        args.push(Bytes::from(current));
    }
}

fn is_space(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r')
}

fn is_hex(byte: u8) -> bool {
    byte.is_ascii_hexdigit()
}

fn hex(byte: u8) -> u8 {
    (byte as char).to_digit(16).expect("checked hex digit") as u8
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn parse_all(input: &[u8]) -> Result<Vec<Vec<Bytes>>, ParseError> {
        let mut parser = RequestParser::default();
        let mut buffer = BytesMut::from(input);
        let mut requests = Vec::new();
        while let Some(request) = parser.parse(&mut buffer)? {
            requests.push(request);
        }
        Ok(requests)
    }

    fn words(items: &[&str]) -> Vec<Bytes> {
        items.iter().map(|item| Bytes::copy_from_slice(item.as_bytes())).collect()
    }

    #[test]
    fn multibulk_and_inline() {
        assert_eq!(parse_all(b"*2\r\n$3\r\nGET\r\n$1\r\na\r\n").unwrap(), vec![words(&["GET", "a"])]);
        assert_eq!(
            parse_all(b"PING\r\nSET a \"b c\"\n\r\n*0\r\n").unwrap(),
            vec![words(&["PING"]), words(&["SET", "a", "b c"])]
        );
        assert_eq!(parse_all(b"set k 'it\\'s' \"\\x41\\n\"\r\n").unwrap(), vec![words(&["set", "k", "it's", "A\n"])]);
        assert_eq!(parse_all(b"a\"b c\"d\r\n").unwrap_err(), ParseError::Protocol("unbalanced quotes in request"));
        assert_eq!(parse_all(b"echo \"\" ''\r\n").unwrap(), vec![words(&["echo", "", ""])]);
    }

    #[test]
    fn protocol_errors_match_redis() {
        let text = |input: &[u8]| parse_all(input).unwrap_err().reply_text().unwrap();
        assert_eq!(text(b"*x\r\n"), "ERR Protocol error: invalid multibulk length");
        assert_eq!(text(b"*3000000000\r\n"), "ERR Protocol error: invalid multibulk length");
        assert_eq!(text(b"*1\r\n+foo\r\n"), "ERR Protocol error: expected '$', got '+'");
        assert_eq!(text(b"*1\r\n$-1\r\n"), "ERR Protocol error: invalid bulk length");
        assert_eq!(text(b"*1\r\n$600000000\r\n"), "ERR Protocol error: invalid bulk length");
        assert_eq!(text(b"\"unterminated\r\n"), "ERR Protocol error: unbalanced quotes in request");
        assert_eq!(text(&vec![b'a'; 70 * 1024]), "ERR Protocol error: too big inline request");
        let mut long_count = b"*".to_vec();
        long_count.extend(vec![b'1'; 70 * 1024]);
        assert_eq!(text(&long_count), "ERR Protocol error: too big mbulk count string");
    }

    #[test]
    fn huge_counts_do_not_allocate_and_buffer_limit_closes() {
        let mut parser = RequestParser::new(Limits { bulk_bytes_max: 1024, query_buffer_bytes_max: 4096 });
        let mut buffer = BytesMut::from(&b"*2147483647\r\n"[..]);
        assert_eq!(parser.parse(&mut buffer), Ok(None));
        let mut result = Ok(None);
        for _ in 0..200 {
            buffer.extend_from_slice(b"$1\r\na\r\n");
            result = parser.parse(&mut buffer);
            if result.is_err() {
                break;
            }
        }
        assert_eq!(result, Err(ParseError::QueryBufferLimit));
    }

    proptest! {
        #[test]
        fn any_split_of_a_stream_parses_the_same(args in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..40), 1..6), cut in 0usize..400) {
            let mut wire = format!("*{}\r\n", args.len()).into_bytes();
            for arg in &args {
                wire.extend(format!("${}\r\n", arg.len()).into_bytes());
                wire.extend(arg);
                wire.extend(b"\r\n");
            }
            let cut = cut.min(wire.len());
            let mut parser = RequestParser::default();
            let mut buffer = BytesMut::from(&wire[..cut]);
            let first = parser.parse(&mut buffer).unwrap();
            buffer.extend_from_slice(&wire[cut..]);
            let request = match first {
                Some(request) => request,
                None => parser.parse(&mut buffer).unwrap().unwrap(),
            };
            prop_assert_eq!(request, args.into_iter().map(Bytes::from).collect::<Vec<_>>());
            prop_assert!(buffer.is_empty());
        }

        #[test]
        fn garbage_never_panics(input in prop::collection::vec(any::<u8>(), 0..300)) {
            let _ = parse_all(&input);
        }
    }
}
