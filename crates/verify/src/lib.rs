//! Verification against real processes (`concord verify`): a workload of concurrent clients
//! against a running cluster while faults are injected on a schedule; the recorded history is
//! judged by the same checkers as the simulator's.
//!
//! - [`driver`]: sending a workload call over a connection and asking replicas for their state
//!   (shared with the simulator).
//! - [`cluster`]: a local cluster of child processes to kill, restart, pause and resume.
//! - [`netns`]: network namespaces joined by a bridge, and nft rules that cut links between them.
//! - [`nemesis`]: the fault schedule: what fault, on which node, when, for how long.
//! - [`report`]: what the run saw: outcomes, violations, availability, failover times.
//! - [`run`]: one run from start to report.

pub mod cluster;
pub mod driver;
pub mod nemesis;
pub mod netns;
pub mod report;
pub mod run;

pub use run::{run, FaultKind, Options};
