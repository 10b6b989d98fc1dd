//! CLIENT ID | SETNAME | GETNAME | SETINFO | LIST | INFO | KILL | UNBLOCK | REPLY | HELP

use crate::command::NodeCommand;
use crate::commands::prelude::*;
use crate::session::{Action, Host, ReplyMode, Session};

pub const SPEC: CommandSpec = CommandSpec {
    name: "client",
    arity: -2,
    flags: &[],
    first_key: 0,
    last_key: 0,
    key_step: 0,
    key_specs: &[],
    acl_categories: &["@slow"],
    tips: &[],
    group: "connection",
    since: "2.4.0",
    complexity: "Depends on subcommand.",
    summary: "A container for client connection commands",
    deprecated: None,
    movable_keys: None,
    subcommands: SUBCOMMANDS,
};
pub const ID_SPEC: CommandSpec = CommandSpec {
    name: "client|id",
    arity: 2,
    flags: &["noscript", "loading", "stale"],
    first_key: 0,
    last_key: 0,
    key_step: 0,
    key_specs: &[],
    acl_categories: &["@slow", "@connection"],
    tips: &[],
    group: "connection",
    since: "5.0.0",
    complexity: "O(1)",
    summary: "Returns the client ID for the current connection",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};
pub const SETNAME_SPEC: CommandSpec = CommandSpec {
    name: "client|setname",
    arity: 3,
    flags: &["noscript", "loading", "stale"],
    first_key: 0,
    last_key: 0,
    key_step: 0,
    key_specs: &[],
    acl_categories: &["@slow", "@connection"],
    tips: &[],
    group: "connection",
    since: "2.6.9",
    complexity: "O(1)",
    summary: "Set the current connection name",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};
pub const GETNAME_SPEC: CommandSpec = CommandSpec {
    name: "client|getname",
    arity: 2,
    flags: &["noscript", "loading", "stale"],
    first_key: 0,
    last_key: 0,
    key_step: 0,
    key_specs: &[],
    acl_categories: &["@slow", "@connection"],
    tips: &[],
    group: "connection",
    since: "2.6.9",
    complexity: "O(1)",
    summary: "Get the current connection name",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};
pub const SETINFO_SPEC: CommandSpec = CommandSpec {
    name: "client|setinfo",
    arity: 4,
    flags: &["noscript", "loading", "stale"],
    first_key: 0,
    last_key: 0,
    key_step: 0,
    key_specs: &[],
    acl_categories: &["@slow", "@connection"],
    tips: &["request_policy:all_nodes", "response_policy:all_succeeded"],
    group: "connection",
    since: "7.2.0",
    complexity: "O(1)",
    summary: "Sets information specific to the client or connection.",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};
pub const LIST_SPEC: CommandSpec = CommandSpec {
    name: "client|list",
    arity: -2,
    flags: &["admin", "noscript", "loading", "stale"],
    first_key: 0,
    last_key: 0,
    key_step: 0,
    key_specs: &[],
    acl_categories: &["@admin", "@slow", "@dangerous", "@connection"],
    tips: &["nondeterministic_output"],
    group: "connection",
    since: "2.4.0",
    complexity: "O(N) where N is the number of client connections",
    summary: "Get the list of client connections",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};
pub const INFO_SPEC: CommandSpec = CommandSpec {
    name: "client|info",
    arity: 2,
    flags: &["noscript", "loading", "stale"],
    first_key: 0,
    last_key: 0,
    key_step: 0,
    key_specs: &[],
    acl_categories: &["@slow", "@connection"],
    tips: &["nondeterministic_output"],
    group: "connection",
    since: "6.2.0",
    complexity: "O(1)",
    summary: "Returns information about the current client connection.",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};
pub const KILL_SPEC: CommandSpec = CommandSpec {
    name: "client|kill",
    arity: -3,
    flags: &["admin", "noscript", "loading", "stale"],
    first_key: 0,
    last_key: 0,
    key_step: 0,
    key_specs: &[],
    acl_categories: &["@admin", "@slow", "@dangerous", "@connection"],
    tips: &[],
    group: "connection",
    since: "2.4.0",
    complexity: "O(N) where N is the number of client connections",
    summary: "Kill the connection of a client",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};
pub const UNBLOCK_SPEC: CommandSpec = CommandSpec {
    name: "client|unblock",
    arity: -3,
    flags: &["admin", "noscript", "loading", "stale"],
    first_key: 0,
    last_key: 0,
    key_step: 0,
    key_specs: &[],
    acl_categories: &["@admin", "@slow", "@dangerous", "@connection"],
    tips: &[],
    group: "connection",
    since: "5.0.0",
    complexity: "O(log N) where N is the number of client connections",
    summary: "Unblock a client blocked in a blocking command from a different connection",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};
pub const HELP_SPEC: CommandSpec = CommandSpec {
    name: "client|help",
    arity: 2,
    flags: &["loading", "stale"],
    first_key: 0,
    last_key: 0,
    key_step: 0,
    key_specs: &[],
    acl_categories: &["@slow", "@connection"],
    tips: &[],
    group: "connection",
    since: "5.0.0",
    complexity: "O(1)",
    summary: "Show helpful text about the different subcommands",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub const REPLY_SPEC: CommandSpec = CommandSpec {
    name: "client|reply",
    arity: 3,
    flags: &["noscript", "loading", "stale"],
    first_key: 0,
    last_key: 0,
    key_step: 0,
    key_specs: &[],
    acl_categories: &["@slow", "@connection"],
    tips: &[],
    group: "connection",
    since: "3.2.0",
    complexity: "O(1)",
    summary: "Instruct the server whether to reply to commands",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub const SUBCOMMANDS: &[&CommandSpec] = &[
    &ID_SPEC,
    &SETNAME_SPEC,
    &GETNAME_SPEC,
    &SETINFO_SPEC,
    &LIST_SPEC,
    &INFO_SPEC,
    &KILL_SPEC,
    &UNBLOCK_SPEC,
    &REPLY_SPEC,
    &HELP_SPEC,
];

pub enum Client {
    Id,
    SetName(Bytes),
    GetName,
    SetInfo { attribute: Bytes, value: Bytes },
    List(Option<Vec<u64>>),
    Info,
    Kill(u64),
    Unblock { client: u64, error: bool },
    Reply(ReplyMode),
    Help,
}

/// Names are printable ASCII without spaces, so CLIENT LIST stays parseable.
pub fn check_client_name(name: &[u8]) -> Result<()> {
    if name.len() > CLIENT_NAME_BYTES_MAX || name.iter().any(|&b| !(b'!'..=b'~').contains(&b)) {
        return Err(Error::err("Client names cannot contain spaces, newlines or special characters."));
    }
    Ok(())
}

impl NodeCommand for Client {
    fn parse(args: &mut Args) -> Result<Self> {
        let sub = args.next_arg()?;
        let spec = SUBCOMMANDS
            .iter()
            .find(|spec| is(&sub, &spec.name["client|".len()..]))
            .ok_or_else(|| Error::unknown_subcommand("client", &sub))?;
        if !spec.arity_ok(args.remaining() + 2) {
            return Err(Error::wrong_arity(spec.name));
        }
        Ok(match &spec.name["client|".len()..] {
            "id" => Client::Id,
            "getname" => Client::GetName,
            "info" => Client::Info,
            "help" => Client::Help,
            "reply" => {
                let mode = args.next_arg()?;
                Client::Reply(match () {
                    _ if is(&mode, "ON") => ReplyMode::On,
                    _ if is(&mode, "OFF") => ReplyMode::Off,
                    _ if is(&mode, "SKIP") => ReplyMode::SkipNext,
                    _ => return Err(Error::SYNTAX),
                })
            }
            "setname" => {
                let name = args.next_arg()?;
                check_client_name(&name)?;
                Client::SetName(name)
            }
            "setinfo" => {
                let (attribute, value) = (args.next_arg()?, args.next_arg()?);
                if !(is(&attribute, "LIB-NAME") || is(&attribute, "LIB-VER")) {
                    return Err(Error::err(format_args!(
                        "Unrecognized option '{}'",
                        String::from_utf8_lossy(&attribute)
                    )));
                }
                if value.len() > CLIENT_NAME_BYTES_MAX || value.iter().any(|&b| !(b'!'..=b'~').contains(&b)) {
                    return Err(Error::err(format_args!(
                        "{} cannot contain spaces, newlines or special characters.",
                        String::from_utf8_lossy(&attribute).to_ascii_lowercase()
                    )));
                }
                Client::SetInfo { attribute, value }
            }
            "list" => {
                let mut ids = None;
                while !args.is_empty() {
                    let option = args.next_arg()?;
                    if is(&option, "TYPE") && !args.is_empty() {
                        let kind = args.next_arg()?;
                        if !["normal", "master", "replica", "slave", "pubsub"].iter().any(|k| is(&kind, k)) {
                            return Err(Error::err(format_args!(
                                "Unknown client type '{}'",
                                String::from_utf8_lossy(&kind)
                            )));
                        }
                    } else if is(&option, "ID") && !args.is_empty() {
                        let mut list = Vec::new();
                        while let Some(id) = args.peek() {
                            let id =
                                parse_i64(id).filter(|id| *id > 0).ok_or_else(|| Error::err("Invalid client ID"))?;
                            list.push(id as u64);
                            args.next_arg()?;
                        }
                        ids = Some(list);
                    } else {
                        return Err(Error::SYNTAX);
                    }
                }
                Client::List(ids)
            }
            "kill" => {
                let option = args.next_arg()?;
                if is(&option, "ID") && args.remaining() == 1 {
                    let id = parse_i64(&args.next_arg()?)
                        .filter(|id| *id > 0)
                        .ok_or_else(|| Error::err("client-id should be greater than 0"))?;
                    Client::Kill(id as u64)
                } else if args.is_empty() {
                    // The old form names an address; Concord kills by id only.
                    return Err(Error::err("No such client"));
                } else {
                    return Err(Error::SYNTAX);
                }
            }
            "unblock" => {
                let client = args.next_arg()?;
                let error = match args.peek() {
                    None => false,
                    Some(reason) if is(reason, "TIMEOUT") && args.remaining() == 1 => false,
                    Some(reason) if is(reason, "ERROR") && args.remaining() == 1 => true,
                    Some(_) if args.remaining() == 1 => {
                        return Err(Error::err("CLIENT UNBLOCK reason should be TIMEOUT or ERROR"))
                    }
                    Some(_) => return Err(Error::wrong_arity("client|unblock")),
                };
                let client = parse_i64(&client).ok_or(Error::NOT_INTEGER)?;
                Client::Unblock { client: client.max(0) as u64, error }
            }
            other => unreachable!("subcommand {other} has a spec but no parser"),
        })
    }

    fn execute(self, session: &mut Session, host: &dyn Host) -> Result<Action> {
        let reply = match self {
            Client::Id => Reply::Integer(session.id as i64),
            Client::GetName => Reply::optional_bulk(session.name.clone()),
            Client::SetName(name) => {
                session.name = (!name.is_empty()).then_some(name);
                host.client_update(session);
                Reply::OK
            }
            Client::SetInfo { attribute, value } => {
                let value = (!value.is_empty()).then_some(value);
                if is(&attribute, "LIB-NAME") {
                    session.lib_name = value;
                } else {
                    session.lib_version = value;
                }
                host.client_update(session);
                Reply::OK
            }
            Client::List(ids) => Reply::Verbatim(Bytes::from(host.client_list(ids.as_deref()))),
            Client::Info => {
                host.client_update(session);
                Reply::Verbatim(Bytes::from(host.client_list(Some(&[session.id]))))
            }
            Client::Kill(id) => Reply::Integer(host.client_kill(id).into()),
            // Ending a wait goes through the log: the node carries it out.
            Client::Unblock { client, error } => return Ok(Action::Unblock { client, error }),
            // OFF and SKIP answer nothing (the connection silences this reply); a SKIP while
            // replies are off changes nothing.
            Client::Reply(mode) => {
                if !(mode == ReplyMode::SkipNext && session.reply_mode == ReplyMode::Off) {
                    session.reply_mode = mode;
                }
                Reply::OK
            }
            Client::Help => help(&[
                "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                "GETNAME",
                "    Return the name of the current connection.",
                "ID",
                "    Return the ID of the current connection.",
                "INFO",
                "    Return information about the current client connection.",
                "KILL ID <client-id>",
                "    Kill the connection with the given id.",
                "LIST [options ...]",
                "    Return information about client connections. Options:",
                "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
                "      Return clients of specified type.",
                "    * ID <client-id> [<client-id> ...]",
                "      Return clients of specified IDs only.",
                "REPLY (ON|OFF|SKIP)",
                "    Control the replies sent to the current connection.",
                "UNBLOCK <clientid> [TIMEOUT|ERROR]",
                "    Unblock the specified blocked client.",
                "SETNAME <name>",
                "    Assign the name <name> to the current connection.",
                "SETINFO <option> <value>",
                "    Set client meta attr. Options are: LIB-NAME, LIB-VER.",
                "HELP",
                "    Print this help.",
            ]),
        };
        Ok(Action::Reply(reply))
    }
}
