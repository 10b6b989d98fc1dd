//! UNSUBSCRIBE [channel [channel ...]]

use crate::command::NodeCommand;
use crate::commands::prelude::*;
use crate::session::{Action, Host, Session, SubscriptionKind};

pub const SPEC: CommandSpec = CommandSpec {
    name: "unsubscribe",
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
    complexity: "O(N) where N is the number of channels to unsubscribe.",
    summary: "Stops listening to messages posted to channels.",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct Unsubscribe {
    /// Empty: every channel.
    channels: Vec<Bytes>,
}

impl NodeCommand for Unsubscribe {
    fn parse(args: &mut Args) -> Result<Self> {
        Ok(Unsubscribe { channels: args.rest() })
    }

    fn execute(self, session: &mut Session, _: &dyn Host) -> Result<Action> {
        Ok(super::unsubscribe(session, SubscriptionKind::Channel, self.channels))
    }
}
