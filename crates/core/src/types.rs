//! Identifiers and plain values shared by every layer.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Milliseconds since the Unix epoch, as stamped by a leader. The core never reads a clock;
/// time reaches it in log entries and in read contexts.
pub type TimeMs = u64;

/// Index of a logical database (`SELECT n`).
pub type DbIndex = u32;

/// A Raft group: the metadata group or one data shard. Every log record, snapshot and RPC
/// carries one, even while a node hosts a single group.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct GroupId(pub u32);

impl GroupId {
    /// The metadata group: members, shards and the slot map.
    pub const METADATA: GroupId = GroupId(0);
    /// The first data shard.
    pub const FIRST_SHARD: GroupId = GroupId(1);
}

impl fmt::Display for GroupId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "g{}", self.0)
    }
}

/// A node's identity: 128 random bits chosen at first start and persisted (never a counter).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct NodeId(pub u128);

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:032x}", self.0)
    }
}

impl std::str::FromStr for NodeId {
    type Err = std::num::ParseIntError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        u128::from_str_radix(s, 16).map(NodeId)
    }
}

/// Where time comes from: the system clock in a real node, a simulated one in the simulator.
/// Only the node's edges read it (proposals are stamped with it; stale-key checks on reads use
/// it); the state machine only ever sees stamped times.
pub trait Clock: Send + Sync + 'static {
    /// Milliseconds since the Unix epoch.
    fn now_ms(&self) -> TimeMs;

    /// Microseconds since the Unix epoch.
    fn now_us(&self) -> u64 {
        self.now_ms() * 1000
    }
}
