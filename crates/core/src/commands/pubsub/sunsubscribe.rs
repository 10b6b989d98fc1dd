//! SUNSUBSCRIBE [shardchannel [shardchannel ...]]

use crate::command::NodeCommand;
use crate::commands::prelude::*;
use crate::session::{Action, Host, Session, SubscriptionKind};

pub const SPEC: CommandSpec = CommandSpec {
    name: "sunsubscribe",
    arity: -1,
    flags: &["pubsub", "noscript", "loading", "stale"],
    first_key: 1,
    last_key: -1,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["not_key"], begin_index: 1, last_key: -1, key_step: 1 }],
    acl_categories: &["@pubsub", "@slow"],
    tips: &[],
    group: "pubsub",
    since: "7.0.0",
    complexity: "O(N) where N is the number of shard channels to unsubscribe.",
    summary: "Stops listening to messages posted to shard channels.",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct SUnsubscribe {
    /// Empty: every shard channel.
    channels: Vec<Bytes>,
}

impl NodeCommand for SUnsubscribe {
    fn parse(args: &mut Args) -> Result<Self> {
        let channels = args.rest();
        super::same_slot(&channels)?;
        Ok(SUnsubscribe { channels })
    }

    fn execute(self, session: &mut Session, _: &dyn Host) -> Result<Action> {
        Ok(super::unsubscribe(session, SubscriptionKind::ShardChannel, self.channels))
    }
}
