//! Replies as RESP2 or RESP3 bytes.

use bytes::{BufMut, BytesMut};
use concord_core::args::{format_double, format_human_double};
use concord_core::session::Protocol;
use concord_core::Reply;

/// Appends `reply`, encoded for `protocol`, to `out`.
pub fn encode(reply: &Reply, protocol: Protocol, out: &mut BytesMut) {
    let resp3 = protocol == Protocol::Resp3;
    match reply {
        Reply::Status(text) => line(out, b'+', text),
        Reply::Error(text) => line(out, b'-', text),
        Reply::Integer(value) => header(out, b':', *value),
        Reply::Bulk(bytes) => bulk(out, bytes),
        Reply::Nil if resp3 => out.put_slice(b"_\r\n"),
        Reply::Nil => out.put_slice(b"$-1\r\n"),
        Reply::NilArray if resp3 => out.put_slice(b"_\r\n"),
        Reply::NilArray => out.put_slice(b"*-1\r\n"),
        Reply::Array(items) => {
            header(out, b'*', items.len() as i64);
            items.iter().for_each(|item| encode(item, protocol, out));
        }
        Reply::Set(items) => {
            header(out, if resp3 { b'~' } else { b'*' }, items.len() as i64);
            items.iter().for_each(|item| encode(item, protocol, out));
        }
        Reply::Push(items) => {
            header(out, if resp3 { b'>' } else { b'*' }, items.len() as i64);
            items.iter().for_each(|item| encode(item, protocol, out));
        }
        Reply::Map(pairs) => {
            if resp3 {
                header(out, b'%', pairs.len() as i64);
            } else {
                header(out, b'*', 2 * pairs.len() as i64);
            }
            for (key, value) in pairs {
                encode(key, protocol, out);
                encode(value, protocol, out);
            }
        }
        Reply::Keyed(pairs) => {
            header(out, if resp3 { b'%' } else { b'*' }, pairs.len() as i64);
            for (key, value) in pairs {
                if !resp3 {
                    out.put_slice(b"*2\r\n");
                }
                encode(key, protocol, out);
                encode(value, protocol, out);
            }
        }
        Reply::Pairs(pairs) => {
            if resp3 {
                header(out, b'*', pairs.len() as i64);
                for (key, value) in pairs {
                    out.put_slice(b"*2\r\n");
                    encode(key, protocol, out);
                    encode(value, protocol, out);
                }
            } else {
                header(out, b'*', 2 * pairs.len() as i64);
                for (key, value) in pairs {
                    encode(key, protocol, out);
                    encode(value, protocol, out);
                }
            }
        }
        Reply::Double(value) => double(out, resp3, &format_double(*value)),
        Reply::HumanDouble(value) => double(out, resp3, &format_human_double(*value)),
        Reply::Boolean(value) if resp3 => out.put_slice(if *value { b"#t\r\n" } else { b"#f\r\n" }),
        Reply::Boolean(value) => header(out, b':', i64::from(*value)),
        Reply::Verbatim(text) if resp3 => {
            header(out, b'=', text.len() as i64 + 4);
            out.put_slice(b"txt:");
            out.put_slice(text);
            out.put_slice(b"\r\n");
        }
        Reply::Verbatim(text) => bulk(out, text),
        // The node waits for a blocked client's real reply; should this marker ever reach the
        // wire, the client sees an error rather than a malformed stream.
        Reply::Blocked => line(out, b'-', b"ERR internal: a blocked reply escaped"),
    }
}

fn header(out: &mut BytesMut, kind: u8, value: i64) {
    out.put_u8(kind);
    out.put_slice(itoa_buffer(value).as_bytes());
    out.put_slice(b"\r\n");
}

fn itoa_buffer(value: i64) -> String {
    value.to_string()
}

fn bulk(out: &mut BytesMut, bytes: &[u8]) {
    header(out, b'$', bytes.len() as i64);
    out.put_slice(bytes);
    out.put_slice(b"\r\n");
}

/// A double already printed: `,<text>` in RESP3, a bulk string in RESP2.
fn double(out: &mut BytesMut, resp3: bool, text: &str) {
    if resp3 {
        line(out, b',', text.as_bytes());
    } else {
        bulk(out, text.as_bytes());
    }
}

/// A one-line reply; CR and LF inside become spaces so the line cannot be split.
fn line(out: &mut BytesMut, kind: u8, text: &[u8]) {
    out.put_u8(kind);
    if text.iter().any(|&b| b == b'\r' || b == b'\n') {
        out.extend(text.iter().map(|&b| if b == b'\r' || b == b'\n' { b' ' } else { b }));
    } else {
        out.put_slice(text);
    }
    out.put_slice(b"\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn wire(reply: &Reply, protocol: Protocol) -> String {
        let mut out = BytesMut::new();
        encode(reply, protocol, &mut out);
        String::from_utf8(out.to_vec()).unwrap()
    }

    #[test]
    fn resp2_and_resp3_shapes() {
        let map = Reply::Map(vec![(Reply::bulk("a"), Reply::Integer(1))]);
        assert_eq!(wire(&map, Protocol::Resp2), "*2\r\n$1\r\na\r\n:1\r\n");
        assert_eq!(wire(&map, Protocol::Resp3), "%1\r\n$1\r\na\r\n:1\r\n");
        assert_eq!(wire(&Reply::Nil, Protocol::Resp2), "$-1\r\n");
        assert_eq!(wire(&Reply::NilArray, Protocol::Resp2), "*-1\r\n");
        assert_eq!(wire(&Reply::NilArray, Protocol::Resp3), "_\r\n");
        assert_eq!(wire(&Reply::Verbatim(Bytes::from_static(b"x")), Protocol::Resp3), "=5\r\ntxt:x\r\n");
        assert_eq!(wire(&Reply::Verbatim(Bytes::from_static(b"x")), Protocol::Resp2), "$1\r\nx\r\n");
        let pairs = Reply::Pairs(vec![(Reply::bulk("f"), Reply::bulk("v"))]);
        assert_eq!(wire(&pairs, Protocol::Resp3), "*1\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n");
        assert_eq!(wire(&pairs, Protocol::Resp2), "*2\r\n$1\r\nf\r\n$1\r\nv\r\n");
        assert_eq!(wire(&Reply::Set(vec![]), Protocol::Resp3), "~0\r\n");
        let push = Reply::Push(vec![Reply::bulk("message"), Reply::Nil]);
        assert_eq!(wire(&push, Protocol::Resp3), ">2\r\n$7\r\nmessage\r\n_\r\n");
        assert_eq!(wire(&push, Protocol::Resp2), "*2\r\n$7\r\nmessage\r\n$-1\r\n");
        assert_eq!(wire(&Reply::Boolean(true), Protocol::Resp2), ":1\r\n");
        assert_eq!(wire(&Reply::Error(Bytes::from_static(b"ERR a\r\nb")), Protocol::Resp2), "-ERR a  b\r\n");
    }

    #[test]
    fn doubles_print_like_printf_17g() {
        assert_eq!(format_double(1.5), "1.5");
        assert_eq!(format_double(0.1), "0.10000000000000001");
        assert_eq!(format_double(1e20), "1e+20");
        assert_eq!(format_double(3.0), "3");
        assert_eq!(format_double(1e-5), "1.0000000000000001e-05");
        assert_eq!(format_double(f64::INFINITY), "inf");
        assert_eq!(format_double(f64::NEG_INFINITY), "-inf");
        assert_eq!(format_double(-0.0), "-0");
        assert_eq!(format_double(0.0), "0");
        // Values whose %.17g text Redis 7.0.15 replied with (ZSCORE, RESP2 and RESP3).
        assert_eq!(format_double(1e-310), "9.9999999999999694e-311");
        assert_eq!(format_double(1791873972053020.0), "1791873972053020");
        assert_eq!(format_double(1e17), "1e+17");
        assert_eq!(format_double(123456789012345680.0), "1.2345678901234568e+17");
        assert_eq!(format_double(-1.5e-300), "-1.5000000000000001e-300");
    }

    #[test]
    fn doubles_render_as_redis_7_0_does() {
        // RESP2: bulk strings; RESP3: `,` doubles, both with `%.17g` text (addReplyDouble).
        assert_eq!(wire(&Reply::Double(0.1), Protocol::Resp2), "$19\r\n0.10000000000000001\r\n");
        assert_eq!(wire(&Reply::Double(0.1), Protocol::Resp3), ",0.10000000000000001\r\n");
        assert_eq!(wire(&Reply::Double(f64::INFINITY), Protocol::Resp2), "$3\r\ninf\r\n");
        assert_eq!(wire(&Reply::Double(f64::INFINITY), Protocol::Resp3), ",inf\r\n");
        assert_eq!(wire(&Reply::Double(f64::NEG_INFINITY), Protocol::Resp2), "$4\r\n-inf\r\n");
        assert_eq!(wire(&Reply::Double(f64::NEG_INFINITY), Protocol::Resp3), ",-inf\r\n");
        assert_eq!(wire(&Reply::Double(-0.0), Protocol::Resp2), "$2\r\n-0\r\n");
        assert_eq!(wire(&Reply::Double(-0.0), Protocol::Resp3), ",-0\r\n");
        assert_eq!(wire(&Reply::Double(3.0), Protocol::Resp3), ",3\r\n");
    }

    #[test]
    fn human_doubles_print_like_ld2string() {
        // GEOPOS replies from Redis 7.0.15 (RESP2 bulk, RESP3 double, same text).
        assert_eq!(format_human_double(13.361389338970184), "13.36138933897018433");
        assert_eq!(format_human_double(38.115_556_395_496_3), "38.11555639549629859");
        assert_eq!(format_human_double(3.0), "3");
        assert_eq!(format_human_double(-0.0), "0");
        assert_eq!(format_human_double(0.5), "0.5");
        assert_eq!(format_human_double(f64::NEG_INFINITY), "-inf");
        let coordinate = Reply::HumanDouble(13.361389338970184);
        assert_eq!(wire(&coordinate, Protocol::Resp2), "$20\r\n13.36138933897018433\r\n");
        assert_eq!(wire(&coordinate, Protocol::Resp3), ",13.36138933897018433\r\n");
    }
}
