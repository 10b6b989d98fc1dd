//! PUNSUBSCRIBE [pattern [pattern ...]]

use crate::command::NodeCommand;
use crate::commands::prelude::*;
use crate::session::{Action, Host, Session, SubscriptionKind};

pub const SPEC: CommandSpec = CommandSpec {
    name: "punsubscribe",
    arity: -1,
    flags: &["pubsub", "noscript", "loading", "stale"],
    first_key: 0,
    last_key: 0,
    key_step: 0,
    key_specs: &[],
    acl_categories: &["@pubsub", "@slow"],
    tips: &[],
    group: "pubsub",
    since: "2.0.0",
    complexity: "O(N) where N is the number of patterns to unsubscribe.",
    summary: "Stops listening to messages published to channels that match one or more patterns.",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct PUnsubscribe {
    /// Empty: every pattern.
    patterns: Vec<Bytes>,
}

impl NodeCommand for PUnsubscribe {
    fn parse(args: &mut Args) -> Result<Self> {
        Ok(PUnsubscribe { patterns: args.rest() })
    }

    fn execute(self, session: &mut Session, _: &dyn Host) -> Result<Action> {
        Ok(super::unsubscribe(session, SubscriptionKind::Pattern, self.patterns))
    }
}
