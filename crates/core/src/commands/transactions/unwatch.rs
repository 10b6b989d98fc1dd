//! UNWATCH

use crate::command::NodeCommand;
use crate::commands::prelude::*;
use crate::session::{Action, Host, Session};

pub const SPEC: CommandSpec = CommandSpec {
    name: "unwatch",
    arity: 1,
    flags: &["noscript", "loading", "stale", "fast", "allow_busy"],
    first_key: 0,
    last_key: 0,
    key_step: 0,
    key_specs: &[],
    acl_categories: &["@fast", "@transaction"],
    tips: &[],
    group: "transactions",
    since: "2.2.0",
    complexity: "O(1)",
    summary: "Forget about all watched keys",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct Unwatch;

impl NodeCommand for Unwatch {
    fn parse(_: &mut Args) -> Result<Self> {
        Ok(Unwatch)
    }

    fn execute(self, session: &mut Session, _: &dyn Host) -> Result<Action> {
        session.unwatch();
        Ok(Action::Reply(Reply::OK))
    }
}
