//! TIME

use crate::command::NodeCommand;
use crate::commands::prelude::*;
use crate::session::{Action, Host, Session};

pub const SPEC: CommandSpec = CommandSpec {
    name: "time",
    arity: 1,
    flags: &["loading", "stale", "fast"],
    first_key: 0,
    last_key: 0,
    key_step: 0,
    key_specs: &[],
    acl_categories: &["@fast"],
    tips: &["nondeterministic_output"],
    group: "server",
    since: "2.6.0",
    complexity: "O(1)",
    summary: "Return the current server time",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct Time;

impl NodeCommand for Time {
    fn parse(_: &mut Args) -> Result<Self> {
        Ok(Time)
    }

    fn execute(self, _: &mut Session, host: &dyn Host) -> Result<Action> {
        let now_us = host.now_us();
        let (seconds, micros) = (now_us / 1_000_000, now_us % 1_000_000);
        Ok(Action::Reply(Reply::Array(vec![
            Reply::bulk_text(seconds.to_string()),
            Reply::bulk_text(micros.to_string()),
        ])))
    }
}
