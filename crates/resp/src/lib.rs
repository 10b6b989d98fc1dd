//! RESP, the Redis protocol, as bytes: parsing requests and encoding replies. No sockets here;
//! the node's listener feeds bytes in and writes bytes out.
//!
//! - [`parser`]: incremental request parsing (multibulk and inline) under explicit limits.
//! - [`encoder`]: replies in RESP2 or RESP3.
//! - [`decoder`]: replies back into values, and requests as bytes, for Concord's own clients.

pub mod decoder;
pub mod encoder;
pub mod parser;

pub use encoder::encode;
pub use parser::{Limits, ParseError, RequestParser};
