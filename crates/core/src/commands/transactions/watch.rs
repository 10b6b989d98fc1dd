//! WATCH key [key ...]

use crate::command::NodeCommand;
use crate::commands::prelude::*;
use crate::session::{Action, Host, Session};

pub const SPEC: CommandSpec = CommandSpec {
    name: "watch",
    arity: -2,
    flags: &["noscript", "loading", "stale", "fast", "allow_busy"],
    first_key: 1,
    last_key: -1,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["RO"], begin_index: 1, last_key: -1, key_step: 1 }],
    acl_categories: &["@fast", "@transaction"],
    tips: &[],
    group: "transactions",
    since: "2.2.0",
    complexity: "O(1) for every key.",
    summary: "Watch the given keys to determine execution of the MULTI/EXEC block",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct Watch {
    keys: Vec<Bytes>,
}

impl NodeCommand for Watch {
    fn parse(args: &mut Args) -> Result<Self> {
        Ok(Watch { keys: args.rest() })
    }

    fn execute(self, session: &mut Session, _: &dyn Host) -> Result<Action> {
        if session.in_transaction() {
            return Err(Error::err("WATCH inside MULTI is not allowed"));
        }
        Ok(Action::Watch { db: session.db, keys: self.keys })
    }
}
