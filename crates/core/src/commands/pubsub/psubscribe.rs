//! PSUBSCRIBE pattern [pattern ...]

use crate::command::NodeCommand;
use crate::commands::prelude::*;
use crate::session::{Action, Host, Session, SubscriptionKind};

pub const SPEC: CommandSpec = CommandSpec {
    name: "psubscribe",
    arity: -2,
    flags: &["pubsub", "noscript", "loading", "stale"],
    first_key: 0,
    last_key: 0,
    key_step: 0,
    key_specs: &[],
    acl_categories: &["@pubsub", "@slow"],
    tips: &[],
    group: "pubsub",
    since: "2.0.0",
    complexity: "O(N) where N is the number of patterns to subscribe to.",
    summary: "Listens for messages published to channels that match one or more patterns.",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct PSubscribe {
    patterns: Vec<Bytes>,
}

impl NodeCommand for PSubscribe {
    fn parse(args: &mut Args) -> Result<Self> {
        Ok(PSubscribe { patterns: args.rest() })
    }

    fn execute(self, session: &mut Session, host: &dyn Host) -> Result<Action> {
        host.serves_pubsub()?;
        Ok(super::subscribe(session, SubscriptionKind::Pattern, self.patterns))
    }
}
