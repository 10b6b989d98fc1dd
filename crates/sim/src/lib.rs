//! A whole Concord cluster in one process, under turmoil: real node code on a simulated
//! network, disk and clock, driven by one 64-bit seed that fixes the configuration, the
//! workload and every fault. The same seed replays the same run, byte for byte.
//!
//! - [`plan`]: what a seed decides up front: cluster size and settings, clients, phases.
//! - [`net`]: turmoil's TCP behind the node's network trait, and the simulated clock.
//! - [`nemesis`]: the faults: crashes with and without lost writes, partitions, pauses, loss.
//! - [`clients`]: workload clients recording the history, and the controller that reads the
//!   final state and compares replicas.
//! - [`pubsub`]: publishers and subscribers recording what Pub/Sub delivered.
//! - [`mover`]: slot moves begun and cancelled at random while faults are injected.
//! - [`operator`]: a node removed on purpose, wiped and started again as a new member.
//! - [`run`]: one run from seed to verdict.
//! - [`trace`]: logs stamped with simulated time and host.

pub mod clients;
pub mod mover;
pub mod nemesis;
pub mod net;
pub mod operator;
pub mod plan;
pub mod pubsub;
pub mod run;
pub mod trace;

pub use plan::Options;
pub use run::{run, Run};
