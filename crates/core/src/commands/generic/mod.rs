//! Keys of any type (`db.c`, `expire.c`, `object.c`), one command per file.
//!
//! - [`dump`] — DUMP key: Concord's own versioned, checksummed payload
//! - [`restore`] — RESTORE key ttl payload [REPLACE] [ABSTTL] [IDLETIME s] [FREQ f]
//! - [`copy`] — COPY source destination [DB destination-db] [REPLACE]
//! - [`del`] — DEL key [key ...]
//! - [`exists`] — EXISTS key [key ...]: counts repeated keys each time.
//! - [`expire`] — EXPIRE key seconds [NX | XX | GT | LT]
//! - [`expireat`] — EXPIREAT key unix-time-seconds [NX | XX | GT | LT]
//! - [`expiretime`] — EXPIRETIME key
//! - [`keys`] — KEYS pattern
//! - [`move_`] — MOVE key db
//! - [`object`] — OBJECT ENCODING key (and OBJECT FREQ, IDLETIME, REFCOUNT, HELP)
//! - [`persist`] — PERSIST key
//! - [`pexpire`] — PEXPIRE key milliseconds [NX | XX | GT | LT]
//! - [`pexpireat`] — PEXPIREAT key unix-time-milliseconds [NX | XX | GT | LT]
//! - [`pexpiretime`] — PEXPIRETIME key
//! - [`pttl`] — PTTL key
//! - [`randomkey`] — RANDOMKEY
//! - [`rename`] — RENAME key newkey
//! - [`renamenx`] — RENAMENX key newkey
//! - [`scan`] — SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]
//! - [`sort`] — SORT key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC | DESC] [ALPHA]
//!   [STORE destination]: a write (it goes through the log).
//! - [`sort_ro`] — SORT_RO key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC | DESC] [ALPHA]
//! - [`touch`] — TOUCH key [key ...]: counts the keys that exist (Concord keeps no access times).
//! - [`ttl`] — TTL key
//! - [`type_`] — TYPE key
//! - [`unlink`] — UNLINK key [key ...]: DEL; memory is reclaimed as part of the same step.

pub mod copy;
pub mod del;
pub mod dump;
pub mod exists;
pub mod expire;
pub mod expireat;
pub mod expiretime;
pub mod keys;
pub mod move_;
pub mod object;
pub mod persist;
pub mod pexpire;
pub mod pexpireat;
pub mod pexpiretime;
pub mod pttl;
pub mod randomkey;
pub mod rename;
pub mod renamenx;
pub mod restore;
pub mod scan;
pub mod sort;
pub mod sort_ro;
pub mod touch;
pub mod ttl;
pub mod type_;
pub mod unlink;
