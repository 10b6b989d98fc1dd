//! Concord's pure core: everything that decides what the database does, with no I/O — no
//! sockets, files, clocks or ambient randomness — so it runs the same on every replica and
//! inside the deterministic simulator.
//!
//! - [`limits`]: every bound Concord enforces, with the assertions that tie them together.
//! - [`types`]: identifiers (nodes, groups, databases) and time.
//! - [`error`]: error replies worded as Redis words them.
//! - [`reply`]: replies as protocol-independent values.
//! - [`args`]: argument reading and Redis's number rules.
//! - [`decimal`]: exact decimal sums for INCRBYFLOAT.
//! - [`pattern`]: glob patterns for KEYS, SCAN and CONFIG GET.
//! - [`rng`]: the seeded random generator.
//! - [`geohash`]: Redis's geohash math, for the GEO commands.
//! - [`hyperloglog`]: Redis's HyperLogLog strings (sparse and dense registers, the estimate).
//! - [`keyspace`]: databases, values (one module per type), expiry and watch stamps.
//! - [`command`]: what a command is (spec, parse, apply, reply).
//! - [`commands`]: the command table, one file per command.
//! - [`scripting`]: Lua scripts and functions, run inside the state machine.
//! - [`request`]: what the log carries.
//! - [`notifications`]: keyspace notifications (event classes, the outbox of an entry's events).
//! - [`blocking`]: blocked clients, as replicated state.
//! - [`once`]: exactly-once application of client writes sent more than once.
//! - [`state_machine`]: applies log entries; snapshots and digests.
//! - [`session`]: a client connection's state and command dispatch.
//! - [`slot`]: key hash slots.
//! - [`migration`]: moving slots between shards, as the source and the target apply it.
//! - [`cluster_map`]: the metadata group's map: members, shards, slot ownership, epochs.
//! - [`placement`]: the rebalancing planner: replicas, leaders and slots, as a list of steps.

pub mod args;
pub mod blocking;
pub mod cluster_map;
pub mod command;
pub mod commands;
pub mod decimal;
pub mod error;
pub mod geohash;
pub mod hyperloglog;
pub mod keyspace;
pub mod limits;
pub mod migration;
pub mod notifications;
pub mod once;
pub mod pattern;
pub mod placement;
pub mod reply;
pub mod request;
pub mod rng;
pub mod scripting;
pub mod session;
pub mod slot;
pub mod state_machine;
pub mod types;

/// The Redis version Concord presents itself as: the one whose semantics it follows.
pub const SERVER_VERSION: &str = "7.0.15";

pub use error::Error;
pub use reply::Reply;
