//! Hashes (`t_hash.c`), one command per file.
//!
//! - [`hdel`] — HDEL key field [field ...]
//! - [`hexists`] — HEXISTS key field
//! - [`hget`] — HGET key field
//! - [`hgetall`] — HGETALL key
//! - [`hincrby`] — HINCRBY key field increment
//! - [`hincrbyfloat`] — HINCRBYFLOAT key field increment
//! - [`hkeys`] — HKEYS key
//! - [`hlen`] — HLEN key
//! - [`hmget`] — HMGET key field [field ...]
//! - [`hmset`] — HMSET key field value [field value ...]
//! - [`hrandfield`] — HRANDFIELD key [count [WITHVALUES]]
//! - [`hscan`] — HSCAN key cursor [MATCH pattern] [COUNT count]
//! - [`hset`] — HSET key field value [field value ...]
//! - [`hsetnx`] — HSETNX key field value
//! - [`hstrlen`] — HSTRLEN key field
//! - [`hvals`] — HVALS key

pub mod hdel;
pub mod hexists;
pub mod hget;
pub mod hgetall;
pub mod hincrby;
pub mod hincrbyfloat;
pub mod hkeys;
pub mod hlen;
pub mod hmget;
pub mod hmset;
pub mod hrandfield;
pub mod hscan;
pub mod hset;
pub mod hsetnx;
pub mod hstrlen;
pub mod hvals;
