//! Connection commands, one command per file.
//!
//! - [`client`] — CLIENT ID | SETNAME | GETNAME | SETINFO | LIST | INFO | KILL | HELP
//! - [`echo`] — ECHO message
//! - [`hello`] — HELLO [protover [AUTH username password] [SETNAME clientname]]
//! - [`ping`] — PING [message]
//! - [`quit`] — QUIT
//! - [`reset`] — RESET
//! - [`select`] — SELECT index

pub mod client;
pub mod echo;
pub mod hello;
pub mod ping;
pub mod quit;
pub mod reset;
pub mod select;
