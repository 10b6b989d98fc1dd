//! Replies as values, independent of the wire protocol. The RESP adapter renders them as
//! RESP2 or RESP3; the HTTP adapter as JSON.

use bytes::Bytes;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Reply {
    /// `+OK`-style status line. Never contains CR or LF.
    Status(Bytes),
    /// An error line, including its code (`ERR ...`, `WRONGTYPE ...`).
    Error(Bytes),
    Integer(i64),
    Bulk(Bytes),
    /// A missing value: `$-1` in RESP2, `_` in RESP3.
    Nil,
    /// A missing aggregate: `*-1` in RESP2, `_` in RESP3.
    NilArray,
    Array(Vec<Reply>),
    /// A map in RESP3; a flat key, value, key, value array in RESP2.
    Map(Vec<(Reply, Reply)>),
    /// An array of two-element arrays in RESP3; a flat array in RESP2 (HRANDFIELD WITHVALUES).
    Pairs(Vec<(Reply, Reply)>),
    /// A set in RESP3; an array in RESP2.
    Set(Vec<Reply>),
    /// A double in RESP3; a bulk string in RESP2 (`%.17g`, as Redis's `addReplyDouble`).
    Double(f64),
    /// A double printed as Redis prints coordinates (`addReplyHumanLongDouble`: `%.17Lf` with
    /// trailing zeros trimmed): a double in RESP3, a bulk string in RESP2 (GEOPOS).
    HumanDouble(f64),
    /// A boolean in RESP3; the integer 1 or 0 in RESP2.
    Boolean(bool),
    /// Verbatim plain text (`=` with format `txt`) in RESP3; a bulk string in RESP2.
    Verbatim(Bytes),
    /// Not a reply: what applying a blocking command that must wait returns. Its client's real
    /// reply comes later, when the state machine serves (or times out) the waiter. Never sent
    /// to a client.
    Blocked,
    /// An out-of-band message (Pub/Sub): a push frame (`>`) in RESP3, an array in RESP2.
    /// Declared last: replies cross the node transport, and earlier variants keep their tags.
    Push(Vec<Reply>),
    /// A map in RESP3; an array of two-element arrays in RESP2 (XREAD's streams).
    Keyed(Vec<(Reply, Reply)>),
}

impl Reply {
    pub const OK: Reply = Reply::Status(Bytes::from_static(b"OK"));
    pub const QUEUED: Reply = Reply::Status(Bytes::from_static(b"QUEUED"));

    pub fn status(text: &'static str) -> Reply {
        Reply::Status(Bytes::from_static(text.as_bytes()))
    }

    pub fn bulk(bytes: impl Into<Bytes>) -> Reply {
        Reply::Bulk(bytes.into())
    }

    pub fn bulk_text(text: impl Into<String>) -> Reply {
        Reply::Bulk(Bytes::from(text.into()))
    }

    pub fn optional_bulk(value: Option<Bytes>) -> Reply {
        value.map_or(Reply::Nil, Reply::Bulk)
    }

    pub fn bulks<I: IntoIterator<Item = Bytes>>(items: I) -> Reply {
        Reply::Array(items.into_iter().map(Reply::Bulk).collect())
    }

    pub fn is_error(&self) -> bool {
        matches!(self, Reply::Error(_))
    }
}

impl From<crate::error::Error> for Reply {
    fn from(error: crate::error::Error) -> Reply {
        Reply::Error(error.into_bytes())
    }
}
