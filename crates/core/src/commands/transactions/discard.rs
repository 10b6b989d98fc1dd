//! DISCARD

use crate::command::NodeCommand;
use crate::commands::prelude::*;
use crate::session::{Action, Host, Session};

pub const SPEC: CommandSpec = CommandSpec {
    name: "discard",
    arity: 1,
    flags: &["noscript", "loading", "stale", "fast", "allow_busy"],
    first_key: 0,
    last_key: 0,
    key_step: 0,
    key_specs: &[],
    acl_categories: &["@fast", "@transaction"],
    tips: &[],
    group: "transactions",
    since: "2.0.0",
    complexity: "O(N), when N is the number of queued commands",
    summary: "Discard all commands issued after MULTI",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct Discard;

impl NodeCommand for Discard {
    fn parse(_: &mut Args) -> Result<Self> {
        Ok(Discard)
    }

    fn execute(self, session: &mut Session, _: &dyn Host) -> Result<Action> {
        session.discard_transaction()?;
        Ok(Action::Reply(Reply::OK))
    }
}
