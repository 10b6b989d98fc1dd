//! A Concord node: the runtime that puts the core, consensus, storage and the RESP adapter
//! together and serves clients.
//!
//! - [`config`]: server settings (flags, environment, TOML file) and the runtime parameters
//!   `CONFIG GET`/`SET` manage.
//! - [`env`]: what a node takes from the world: network, disk, clock, seed (real or simulated).
//! - [`data_dir`]: the data directory: its lock and the node's persistent identity.
//! - [`node`]: the node: its Raft group, reads, writes, transactions, expiry sweeping.
//! - [`blocked`]: this node's blocked clients (BLPOP ...) and where their replies go.
//! - [`client`]: a small RESP client, for what Concord says to nodes itself.
//! - [`cluster`]: CLUSTER replies, membership changes, fault injection, joining.
//! - [`peers`]: what nodes say to each other: Raft messages and forwarded requests.
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
pub mod host;
pub mod info;
pub mod node;
pub mod peers;
pub mod server;

pub use config::ServerConfig;
pub use env::Env;
pub use server::run;
