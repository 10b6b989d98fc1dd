//! EXEC

use crate::command::NodeCommand;
use crate::commands::prelude::*;
use crate::session::{Action, Host, Session};

pub const SPEC: CommandSpec = CommandSpec {
    name: "exec",
    arity: 1,
    flags: &["noscript", "loading", "stale", "skip_slowlog"],
    first_key: 0,
    last_key: 0,
    key_step: 0,
    key_specs: &[],
    acl_categories: &["@slow", "@transaction"],
    tips: &[],
    group: "transactions",
    since: "1.2.0",
    complexity: "Depends on commands in the transaction",
    summary: "Execute all commands issued after MULTI",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct Exec;

impl NodeCommand for Exec {
    fn parse(_: &mut Args) -> Result<Self> {
        Ok(Exec)
    }

    fn execute(self, session: &mut Session, host: &dyn Host) -> Result<Action> {
        session.exec(host)
    }
}
