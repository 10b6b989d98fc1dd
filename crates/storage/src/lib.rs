//! Durable storage for a node: everything that must survive kill -9 and power loss.
//!
//! - [`fs`]: the small file-system trait storage goes through (the simulator injects faults
//!   under it) and its implementation on the real file system.
//! - [`record`]: the on-disk record framing (length, checksum, payload).
//! - [`log`]: the segmented log shared by all Raft groups on a node, with group commit and
//!   torn-tail recovery.
//! - [`snapshot`]: atomic, checksummed snapshot files per group.
//! - [`sim_disk`]: an in-memory disk for the simulator that loses unsynced writes on a crash.

pub mod fs;
pub mod log;
pub mod record;
pub mod sim_disk;
pub mod snapshot;

pub use fs::{Fs, StdFs};
pub use log::{GroupLog, Log, LogEntry, LogOptions, OpenError};
pub use sim_disk::{SimDisk, SimFs};
pub use snapshot::{SnapshotBody, SnapshotFile, SnapshotStore};
