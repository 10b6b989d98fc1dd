//! Evidence that Concord keeps its contracts: what a run recorded, and the checks it must pass.
//! Pure code: the simulator and `concord verify` record histories; this crate judges them.
//!
//! - [`history`]: operations as a client saw them: the call, when it was invoked and completed,
//!   and its outcome (done with replies, definitely failed, or unknown).
//! - [`model`]: the sequential specification of one key (a Redis string with expiry, or a
//!   Redis set).
//! - [`linearizable`]: the per-key linearizability checker (Wing–Gong–Lowe search), with the
//!   minimal failing window of a violation.
//! - [`lost`]: lost, phantom and duplicated writes on the append-only and counter keys.
//! - [`queue`]: lists as queues: every pushed element taken once or left, none twice, none
//!   from nowhere, in the order the pushes fix.
//! - [`stream`]: streams: no acknowledged entry lost, none from nowhere, ids strictly
//!   increasing, each entry delivered once by the consumer group, acknowledged entries not
//!   left pending.
//! - [`pubsub`]: Pub/Sub's delivery rule: at most once, in order per publisher connection,
//!   never across a cut link, delivered when no fault is about, counted truly.
//! - [`converge`]: whether every replica reached the same state.
//! - [`placement`]: after slot moves, every slot owned once and no shard holding keys of
//!   slots it does not own.
//! - [`workload`]: the operations clients issue, and how a reply becomes an outcome.
//! - [`verdict`]: all checks together, and the report.

pub mod converge;
pub mod history;
pub mod linearizable;
pub mod lost;
pub mod model;
pub mod placement;
pub mod pubsub;
pub mod queue;
pub mod stream;
pub mod verdict;
pub mod workload;

pub use history::{Call, Command, History, Operation, Outcome, Value};
pub use verdict::{check_all, Verdict};
