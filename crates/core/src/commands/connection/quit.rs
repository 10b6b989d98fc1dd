//! QUIT

use crate::command::NodeCommand;
use crate::commands::prelude::*;
use crate::session::{Action, Host, Session};

pub const SPEC: CommandSpec = CommandSpec {
    name: "quit",
    arity: -1,
    flags: &["noscript", "loading", "stale", "fast", "no_auth", "allow_busy"],
    first_key: 0,
    last_key: 0,
    key_step: 0,
    key_specs: &[],
    acl_categories: &["@fast", "@connection"],
    tips: &[],
    group: "connection",
    since: "1.0.0",
    complexity: "O(1)",
    summary: "Close the connection",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct Quit;

impl NodeCommand for Quit {
    fn parse(_: &mut Args) -> Result<Self> {
        Ok(Quit)
    }

    fn execute(self, _: &mut Session, _: &dyn Host) -> Result<Action> {
        Ok(Action::Close(Reply::OK))
    }
}
