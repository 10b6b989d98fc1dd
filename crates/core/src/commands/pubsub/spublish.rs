//! SPUBLISH shardchannel message

use crate::command::NodeCommand;
use crate::commands::prelude::*;
use crate::session::{Action, Host, Publication, Session};

pub const SPEC: CommandSpec = CommandSpec {
    name: "spublish",
    arity: 3,
    flags: &["pubsub", "loading", "stale", "fast", "may_replicate"],
    first_key: 1,
    last_key: 1,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["not_key"], begin_index: 1, last_key: 0, key_step: 1 }],
    acl_categories: &["@pubsub", "@fast"],
    tips: &[],
    group: "pubsub",
    since: "7.0.0",
    complexity: "O(N) where N is the number of clients subscribed to the receiving shard channel.",
    summary: "Post a message to a shard channel",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct SPublish {
    channel: Bytes,
    message: Bytes,
}

impl NodeCommand for SPublish {
    fn parse(args: &mut Args) -> Result<Self> {
        let (channel, message) = (args.next_arg()?, args.next_arg()?);
        args.finish()?;
        Ok(SPublish { channel, message })
    }

    /// In proxy mode shard channels' subscribers may be on any node (any node serves any
    /// slot), so the node delivers it everywhere, as PUBLISH; in redirect mode only the
    /// shard's nodes serve it (the others answer `-MOVED`) and only they receive it.
    fn execute(self, _: &mut Session, host: &dyn Host) -> Result<Action> {
        host.serves_shard_channel(&self.channel)?;
        host.serves_pubsub()?;
        Ok(Action::Publish(Publication { channel: self.channel, message: self.message, sharded: true }))
    }
}
