//! A Concord node: the runtime that puts the core, consensus, storage and the RESP adapter
//! together and serves clients.
//!
//! - [`config`]: server settings (flags, environment, TOML file) and the runtime parameters
//!   `CONFIG GET`/`SET` manage.
//! - [`env`]: what a node takes from the world: network, disk, clock, seed (real or simulated).
//! - [`data_dir`]: the data directory: its lock and the node's persistent identity.
//! - [`node`]: the node: its Raft group, reads, writes, transactions, expiry sweeping.
//! - [`blocked`]: this node's blocked clients (BLPOP ...) and where their replies go.
//! - [`once`]: request ids for client writes, so a write is sent again without being applied twice.
//! - [`routing`]: key → slot → shard; commands split over shards, or refused with CROSSSLOT.
//! - [`mover`]: the metadata leader drives slot moves between shards, phase by phase.
//! - [`gossip`]: SWIM membership over the node transport: who is alive, and newer maps heard of.
//! - [`healing`]: the metadata leader replaces members dead past a grace; a replaced node rejoins empty.
//! - [`stewardship`]: each shard's leader keeps its group in line with the cluster map.
//! - [`client`]: a small RESP client, for what Concord says to nodes itself.
//! - [`cluster`]: CLUSTER replies from the map, membership changes, fault injection, joining.
//! - [`peers`]: what nodes say to each other: Raft messages, forwarded requests, published messages.
//! - [`pubsub`]: this node's Pub/Sub broker: subscriptions, bounded mailboxes, cluster-wide PUBLISH.
//! - [`clients`]: connected clients, for `CLIENT LIST`/`KILL` and `INFO clients`.
//! - [`host`]: what a client session asks of the node (the core's `Host` port).
//! - [`info`]: the `INFO` report.
//! - [`connection`]: one client connection: parse, dispatch, pipeline, reply.
//! - [`server`]: listening, accepting within `maxclients`, graceful shutdown.

pub mod blocked;
pub mod client;
pub mod clients;
pub mod cluster;
pub mod config;
pub mod connection;
pub mod data_dir;
pub mod env;
pub mod gossip;
pub mod healing;
pub mod host;
pub mod info;
pub mod mover;
pub mod node;
pub mod once;
pub mod peers;
pub mod pubsub;
pub mod routing;
pub mod server;
pub mod stewardship;

pub use config::ServerConfig;
pub use env::Env;
pub use server::run;
