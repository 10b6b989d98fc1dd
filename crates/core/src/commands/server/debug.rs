//! DEBUG subcommand [arg ...]: the node answers the subcommands it supports (DIGEST, SLEEP,
//! ...); see the node's host implementation.

use crate::command::NodeCommand;
use crate::commands::prelude::*;
use crate::session::{Action, Host, Session};

pub const SPEC: CommandSpec = CommandSpec {
    name: "debug",
    arity: -2,
    flags: &["admin", "noscript", "loading", "stale"],
    first_key: 0,
    last_key: 0,
    key_step: 0,
    key_specs: &[],
    acl_categories: &["@admin", "@slow", "@dangerous"],
    tips: &[],
    group: "server",
    since: "1.0.0",
    complexity: "Depends on subcommand.",
    summary: "A container for debugging commands",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct Debug {
    args: Vec<Bytes>,
}

impl NodeCommand for Debug {
    fn parse(args: &mut Args) -> Result<Self> {
        Ok(Debug { args: args.rest() })
    }

    fn execute(self, _: &mut Session, host: &dyn Host) -> Result<Action> {
        Ok(Action::Reply(host.debug(&self.args)))
    }
}
