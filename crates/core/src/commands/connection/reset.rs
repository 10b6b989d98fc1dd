//! RESET

use crate::command::NodeCommand;
use crate::commands::prelude::*;
use crate::session::{Action, Host, Session};

pub const SPEC: CommandSpec = CommandSpec {
    name: "reset",
    arity: 1,
    flags: &["noscript", "loading", "stale", "fast", "no_auth", "allow_busy"],
    first_key: 0,
    last_key: 0,
    key_step: 0,
    key_specs: &[],
    acl_categories: &["@fast", "@connection"],
    tips: &[],
    group: "connection",
    since: "6.2.0",
    complexity: "O(1)",
    summary: "Reset the connection",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct Reset;

impl NodeCommand for Reset {
    fn parse(_: &mut Args) -> Result<Self> {
        Ok(Reset)
    }

    fn execute(self, session: &mut Session, host: &dyn Host) -> Result<Action> {
        session.reset();
        host.client_update(session);
        Ok(Action::Reply(Reply::status("RESET")))
    }
}
