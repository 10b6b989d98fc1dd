//! SELECT index

use crate::command::NodeCommand;
use crate::commands::prelude::*;
use crate::session::{Action, Host, Session};

pub const SPEC: CommandSpec = CommandSpec {
    name: "select",
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
    summary: "Change the selected database for the current connection",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct Select {
    index: DbIndex,
}

impl NodeCommand for Select {
    fn parse(args: &mut Args) -> Result<Self> {
        Ok(Select { index: args.db_index()? })
    }

    fn execute(self, session: &mut Session, _: &dyn Host) -> Result<Action> {
        session.db = self.index;
        Ok(Action::Reply(Reply::OK))
    }
}
