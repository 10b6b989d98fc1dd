//! SSUBSCRIBE shardchannel [shardchannel ...]

use crate::command::NodeCommand;
use crate::commands::prelude::*;
use crate::session::{Action, Host, Session, SubscriptionKind};

pub const SPEC: CommandSpec = CommandSpec {
    name: "ssubscribe",
    arity: -2,
    flags: &["pubsub", "noscript", "loading", "stale"],
    first_key: 1,
    last_key: -1,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["not_key"], begin_index: 1, last_key: -1, key_step: 1 }],
    acl_categories: &["@pubsub", "@slow"],
    tips: &[],
    group: "pubsub",
    since: "7.0.0",
    complexity: "O(N) where N is the number of shard channels to subscribe to.",
    summary: "Listens for messages published to shard channels.",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct SSubscribe {
    channels: Vec<Bytes>,
}

impl NodeCommand for SSubscribe {
    fn parse(args: &mut Args) -> Result<Self> {
        let channels = args.rest();
        super::same_slot(&channels)?;
        Ok(SSubscribe { channels })
    }

    fn execute(self, session: &mut Session, host: &dyn Host) -> Result<Action> {
        host.serves_pubsub()?;
        if let Some(channel) = self.channels.first() {
            host.serves_shard_channel(channel)?;
        }
        Ok(super::subscribe(session, SubscriptionKind::ShardChannel, self.channels))
    }
}
