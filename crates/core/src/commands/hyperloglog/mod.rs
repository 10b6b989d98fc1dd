//! HyperLogLogs (`hyperloglog.c`): strings holding cardinality estimators, one command per file
//! (the representation itself is `core::hyperloglog`).
//!
//! - [`pfadd`] — PFADD key [element [element ...]]
//! - [`pfcount`] — PFCOUNT key [key ...]
//! - [`pfdebug`] — PFDEBUG subcommand key
//! - [`pfmerge`] — PFMERGE destkey [sourcekey [sourcekey ...]]
//! - [`pfselftest`] — PFSELFTEST

pub mod pfadd;
pub mod pfcount;
pub mod pfdebug;
pub mod pfmerge;
pub mod pfselftest;
