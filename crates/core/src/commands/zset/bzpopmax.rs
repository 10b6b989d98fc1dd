//! BZPOPMAX key [key ...] timeout: BZPOPMIN from the other end.

use super::bzpopmin::blocking_zpop_command;
use super::pop::End;
use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "bzpopmax",
    summary: "Remove and return the member with the highest score from one or more sorted sets, or block until one is available",
    ..super::bzpopmin::SPEC
};

blocking_zpop_command!(BZPopMax, End::Max);
