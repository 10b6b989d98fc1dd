//! HELLO [protover [AUTH username password] [SETNAME clientname]]

use super::client::check_client_name;
use crate::command::NodeCommand;
use crate::commands::prelude::*;
use crate::session::{Action, Host, Protocol, Session};
use crate::SERVER_VERSION;

pub const SPEC: CommandSpec = CommandSpec {
    name: "hello",
    arity: -1,
    flags: &["noscript", "loading", "stale", "fast", "no_auth", "allow_busy"],
    first_key: 0,
    last_key: 0,
    key_step: 0,
    key_specs: &[],
    acl_categories: &["@fast", "@connection"],
    tips: &[],
    group: "connection",
    since: "6.0.0",
    complexity: "O(1)",
    summary: "Handshake with Redis",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct Hello {
    protocol: Option<Protocol>,
    name: Option<Bytes>,
}

impl NodeCommand for Hello {
    fn parse(args: &mut Args) -> Result<Self> {
        let mut hello = Hello { protocol: None, name: None };
        if args.is_empty() {
            return Ok(hello);
        }
        let version = parse_i64(&args.next_arg()?)
            .ok_or_else(|| Error::err("Protocol version is not an integer or out of range"))?;
        hello.protocol = Some(match version {
            2 => Protocol::Resp2,
            3 => Protocol::Resp3,
            _ => return Err(Error::fixed("NOPROTO unsupported protocol version")),
        });
        while !args.is_empty() {
            let option = args.next_arg()?;
            if is(&option, "AUTH") && args.remaining() >= 2 {
                let (user, _password) = (args.next_arg()?, args.next_arg()?);
                // No access control yet: only the default user exists, and it needs no password.
                if !is(&user, "default") {
                    return Err(Error::fixed("WRONGPASS invalid username-password pair or user is disabled."));
                }
            } else if is(&option, "SETNAME") && !args.is_empty() {
                let name = args.next_arg()?;
                check_client_name(&name)?;
                hello.name = Some(name);
            } else {
                return Err(Error::err(format_args!(
                    "Syntax error in HELLO option '{}'",
                    String::from_utf8_lossy(&option)
                )));
            }
        }
        Ok(hello)
    }

    fn execute(self, session: &mut Session, host: &dyn Host) -> Result<Action> {
        if let Some(protocol) = self.protocol {
            session.protocol = protocol;
        }
        if let Some(name) = self.name {
            session.name = (!name.is_empty()).then_some(name);
        }
        host.client_update(session);
        let field = |name: &'static str| Reply::bulk(name);
        Ok(Action::Reply(Reply::Map(vec![
            (field("server"), Reply::bulk("redis")),
            (field("version"), Reply::bulk(SERVER_VERSION)),
            (field("proto"), Reply::Integer(session.protocol.version())),
            (field("id"), Reply::Integer(session.id as i64)),
            (field("mode"), Reply::bulk("standalone")),
            (field("role"), Reply::bulk("master")),
            (field("modules"), Reply::Array(Vec::new())),
        ])))
    }
}
