//! Consensus for Concord's Raft groups, kept behind this one crate so that a move to a newer
//! openraft stays local.
//!
//! - [`types`]: the openraft type configuration: what a log entry, a reply and a node are.
//! - [`async_runtime`]: tokio for openraft, with its random numbers drawn from a known seed.
//! - [`log_store`]: openraft's log storage on the node's shared segmented log.
//! - [`state_machine`]: openraft's state machine on Concord's deterministic state machine,
//!   with snapshots on disk.
//! - [`network`]: how openraft reaches other nodes.
//! - [`election`]: when to hold an election: fresh timeouts and pre-votes.
//! - [`runtime`]: where consensus runs: a thread of its own, or the caller's runtime.
//! - [`lease`]: leader leases, for reads without a round of messages.
//! - [`group`]: one running Raft group, with batched proposals (group commit) and coalesced
//!   read barriers.

// openraft's storage error is large, and its traits return it by value: not ours to box.
#![allow(clippy::result_large_err)]

pub mod async_runtime;
pub mod election;
pub mod group;
pub mod lease;
pub mod log_store;
pub mod network;
pub mod runtime;
pub mod state_machine;
pub mod types;

pub use group::{Group, GroupOptions, Member, MembershipError, ReadError, StartError, WriteError};
pub use state_machine::{Machine, MachineKind};
pub use types::{NodeInfo, TypeConfig};
