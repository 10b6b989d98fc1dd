//! Transactions (`multi.c`), one command per file.
//!
//! - [`discard`] — DISCARD
//! - [`exec`] — EXEC
//! - [`multi`] — MULTI
//! - [`unwatch`] — UNWATCH
//! - [`watch`] — WATCH key [key ...]

pub mod discard;
pub mod exec;
pub mod multi;
pub mod unwatch;
pub mod watch;
