//! BRPOP key [key ...] timeout: BLPOP from the other end.

use super::blpop::blocking_pop_command;
use super::End;
use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "brpop",
    summary: "Remove and get the last element in a list, or block until one is available",
    ..super::blpop::SPEC
};

blocking_pop_command!(BRPop, End::Right);
