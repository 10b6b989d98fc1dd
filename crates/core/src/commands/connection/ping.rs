//! PING [message]

use crate::command::NodeCommand;
use crate::commands::prelude::*;
use crate::session::{Action, Host, Session};

pub const SPEC: CommandSpec = CommandSpec {
    name: "ping",
    arity: -1,
    flags: &["fast"],
    first_key: 0,
    last_key: 0,
    key_step: 0,
    key_specs: &[],
    acl_categories: &["@fast", "@connection"],
    tips: &["request_policy:all_shards", "response_policy:all_succeeded"],
    group: "connection",
    since: "1.0.0",
    complexity: "O(1)",
    summary: "Ping the server",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct Ping {
    message: Option<Bytes>,
}

impl NodeCommand for Ping {
    fn parse(args: &mut Args) -> Result<Self> {
        let message = if args.is_empty() { None } else { Some(args.next_arg()?) };
        if !args.is_empty() {
            return Err(Error::wrong_arity("ping"));
        }
        Ok(Ping { message })
    }

    fn execute(self, session: &mut Session, _: &dyn Host) -> Result<Action> {
        if session.in_subscribe_mode() {
            // A RESP2 subscriber tells replies from messages by their shape: PING answers
            // as a message does, `["pong", message]`.
            let message = self.message.unwrap_or_default();
            return Ok(Action::Reply(Reply::Array(vec![Reply::bulk("pong"), Reply::Bulk(message)])));
        }
        Ok(Action::Reply(self.message.map_or(Reply::status("PONG"), Reply::Bulk)))
    }
}
