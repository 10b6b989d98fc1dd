//! INFO [section [section ...]]

use crate::command::NodeCommand;
use crate::commands::prelude::*;
use crate::session::{Action, Host, Session};

pub const SPEC: CommandSpec = CommandSpec {
    name: "info",
    arity: -1,
    flags: &["loading", "stale"],
    first_key: 0,
    last_key: 0,
    key_step: 0,
    key_specs: &[],
    acl_categories: &["@slow", "@dangerous"],
    tips: &["nondeterministic_output", "request_policy:all_shards", "response_policy:special"],
    group: "server",
    since: "1.0.0",
    complexity: "O(1)",
    summary: "Get information and statistics about the server",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct Info {
    sections: Vec<Bytes>,
}

impl NodeCommand for Info {
    fn parse(args: &mut Args) -> Result<Self> {
        Ok(Info { sections: args.rest() })
    }

    fn execute(self, _: &mut Session, host: &dyn Host) -> Result<Action> {
        Ok(Action::Reply(Reply::Verbatim(Bytes::from(host.info(&self.sections)))))
    }
}
