//! Scripting and functions, one command per file.
//!
//! - [`function`] — FUNCTION FLUSH | LIST | HELP. Concord has no functions yet, so there is nothing to flush

pub mod function;
