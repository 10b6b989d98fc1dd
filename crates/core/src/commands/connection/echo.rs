//! ECHO message

use crate::command::NodeCommand;
use crate::commands::prelude::*;
use crate::session::{Action, Host, Session};

pub const SPEC: CommandSpec = CommandSpec {
    name: "echo",
    arity: 2,
    flags: &["loading", "stale", "fast"],
    first_key: 0,
    last_key: 0,
    key_step: 0,
    key_specs: &[],
    acl_categories: &["@fast", "@connection"],
    tips: &[],
    group: "connection",
    since: "1.0.0",
    complexity: "O(1)",
    summary: "Echo the given string",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct Echo {
    message: Bytes,
}

impl NodeCommand for Echo {
    fn parse(args: &mut Args) -> Result<Self> {
        Ok(Echo { message: args.next_arg()? })
    }

    fn execute(self, _: &mut Session, _: &dyn Host) -> Result<Action> {
        Ok(Action::Reply(Reply::Bulk(self.message)))
    }
}
