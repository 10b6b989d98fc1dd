//! Server commands, one command per file.
//!
//! - [`command_`] — COMMAND [COUNT | INFO | DOCS | GETKEYS | LIST | HELP]
//! - [`config`] — CONFIG GET | SET | RESETSTAT | REWRITE | HELP
//! - [`dbsize`] — DBSIZE
//! - [`debug`] — DEBUG subcommand [arg ...]: the node answers the subcommands it supports (DIGEST, SLEEP,
//! - [`flushall`] — FLUSHALL [ASYNC | SYNC]
//! - [`flushdb`] — FLUSHDB [ASYNC | SYNC]
//! - [`info`] — INFO [section [section ...]]
//! - [`memory`] — MEMORY USAGE key [SAMPLES count] | MEMORY HELP
//! - [`shutdown`] — SHUTDOWN [NOSAVE | SAVE] [NOW] [FORCE] [ABORT]
//! - [`swapdb`] — SWAPDB index1 index2
//! - [`time`] — TIME

pub mod command_;
pub mod config;
pub mod dbsize;
pub mod debug;
pub mod flushall;
pub mod flushdb;
pub mod info;
pub mod memory;
pub mod shutdown;
pub mod swapdb;
pub mod time;
