//! How nodes talk to each other: request/response calls over one TCP connection per pair of
//! nodes, whichever side dialed.
//!
//! - [`frame`]: the wire format — length, version, checksum, payload — and the handshake.
//! - [`faults`]: fault injection: cut links to chosen peers, in one direction or both.
//! - [`net`]: the network underneath: real TCP, or the simulator's.
//! - [`network`]: connections, calls with deadlines, reconnects with backoff, batching of
//!   everything queued for a peer into one write, and serving incoming calls.
//!
//! The transport carries opaque payloads addressed to a Raft group and a service; it knows
//! nothing of what they mean.

pub mod faults;
pub mod frame;
pub mod net;
pub mod network;

pub use faults::Faults;
pub use net::{Net, TokioNet};
pub use network::{CallError, Handler, Network, NetworkOptions};
