//! PUBLISH channel message

use crate::command::NodeCommand;
use crate::commands::prelude::*;
use crate::session::{Action, Host, Publication, Session};

pub const SPEC: CommandSpec = CommandSpec {
    name: "publish",
    arity: 3,
    flags: &["pubsub", "loading", "stale", "fast", "may_replicate"],
    first_key: 0,
    last_key: 0,
    key_step: 0,
    key_specs: &[],
    acl_categories: &["@pubsub", "@fast"],
    tips: &[],
    group: "pubsub",
    since: "2.0.0",
    complexity: "O(N+M) where N is the number of clients subscribed to the receiving channel and M is the total number of subscribed patterns (by any client).",
    summary: "Posts a message to a channel.",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct Publish {
    channel: Bytes,
    message: Bytes,
}

impl NodeCommand for Publish {
    fn parse(args: &mut Args) -> Result<Self> {
        let (channel, message) = (args.next_arg()?, args.next_arg()?);
        args.finish()?;
        Ok(Publish { channel, message })
    }

    /// The node delivers it (here and to every other node) and counts the receivers.
    fn execute(self, _: &mut Session, host: &dyn Host) -> Result<Action> {
        host.serves_pubsub()?;
        Ok(Action::Publish(Publication { channel: self.channel, message: self.message, sharded: false }))
    }
}
