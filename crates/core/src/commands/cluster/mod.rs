//! Cluster commands, one command per file.
//!
//! - [`cluster_`] — CLUSTER INFO | MYID | NODES | SLOTS | SHARDS | KEYSLOT | MEMBERS | JOIN | PROMOTE | DEMOTE |
//! - [`asking`] — ASKING: accepted after an `-ASK` redirect (Concord sends none).
//! - [`readonly`] — READONLY: this connection accepts stale reads served by the node it is connected to.
//! - [`readwrite`] — READWRITE: back to linearizable reads.

pub mod asking;
pub mod cluster_;
pub mod readonly;
pub mod readwrite;

pub use cluster_::{Cluster, ClusterOp, Fault};
