//! MULTI

use crate::command::NodeCommand;
use crate::commands::prelude::*;
use crate::session::{Action, Host, Session};

pub const SPEC: CommandSpec = CommandSpec {
    name: "multi",
    arity: 1,
    flags: &["noscript", "loading", "stale", "fast", "allow_busy"],
    first_key: 0,
    last_key: 0,
    key_step: 0,
    key_specs: &[],
    acl_categories: &["@fast", "@transaction"],
    tips: &[],
    group: "transactions",
    since: "1.2.0",
    complexity: "O(1)",
    summary: "Mark the start of a transaction block",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct Multi;

impl NodeCommand for Multi {
    fn parse(_: &mut Args) -> Result<Self> {
        Ok(Multi)
    }

    fn execute(self, session: &mut Session, _: &dyn Host) -> Result<Action> {
        session.begin_transaction()?;
        Ok(Action::Reply(Reply::OK))
    }
}
