//! Strings (Redis's `t_string.c`), one command per file.
//!
//! - [`append`] — APPEND key value
//! - [`decr`] — DECR key
//! - [`decrby`] — DECRBY key decrement
//! - [`get`] — GET key
//! - [`getdel`] — GETDEL key
//! - [`getex`] — GETEX key [EX seconds | PX milliseconds | EXAT unix-time-seconds |
//! - [`getrange`] — GETRANGE key start end
//! - [`getset`] — GETSET key value
//! - [`incr`] — INCR key
//! - [`incrby`] — INCRBY key increment
//! - [`incrbyfloat`] — INCRBYFLOAT key increment
//! - [`lcs`] — LCS key1 key2 [LEN] [IDX] [MINMATCHLEN min-match-len] [WITHMATCHLEN]
//! - [`mget`] — MGET key [key ...]
//! - [`mset`] — MSET key value [key value ...]
//! - [`msetnx`] — MSETNX key value [key value ...]
//! - [`psetex`] — PSETEX key milliseconds value
//! - [`set`] — SET key value [NX | XX] [GET] [EX seconds | PX milliseconds | EXAT unix-time-seconds |
//! - [`setex`] — SETEX key seconds value
//! - [`setnx`] — SETNX key value
//! - [`setrange`] — SETRANGE key offset value
//! - [`strlen`] — STRLEN key
//! - [`substr`] — SUBSTR key start end: GETRANGE's old name.

pub mod append;
pub mod decr;
pub mod decrby;
pub mod get;
pub mod getdel;
pub mod getex;
pub mod getrange;
pub mod getset;
pub mod incr;
pub mod incrby;
pub mod incrbyfloat;
pub mod lcs;
pub mod mget;
pub mod mset;
pub mod msetnx;
pub mod psetex;
pub mod set;
pub mod setex;
pub mod setnx;
pub mod setrange;
pub mod strlen;
pub mod substr;
