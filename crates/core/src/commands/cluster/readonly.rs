//! READONLY: this connection accepts stale reads served by the node it is connected to.

use crate::command::NodeCommand;
use crate::commands::prelude::*;
use crate::session::{Action, Host, Session};

pub const SPEC: CommandSpec = CommandSpec {
    name: "readonly",
    arity: 1,
    flags: &["loading", "stale", "fast"],
    first_key: 0,
    last_key: 0,
    key_step: 0,
    key_specs: &[],
    acl_categories: &["@fast", "@connection"],
    tips: &[],
    group: "cluster",
    since: "3.0.0",
    complexity: "O(1)",
    summary: "Enables read queries for a connection to a Redis Cluster replica node",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct ReadOnly;

impl NodeCommand for ReadOnly {
    fn parse(_: &mut Args) -> Result<Self> {
        Ok(ReadOnly)
    }

    fn execute(self, session: &mut Session, _: &dyn Host) -> Result<Action> {
        session.readonly = true;
        Ok(Action::Reply(Reply::OK))
    }
}
