//! COMMAND [COUNT | INFO | DOCS | GETKEYS | LIST | HELP]

use crate::command::NodeCommand;
use crate::commands::prelude::*;
use crate::session::{Action, Host, Session};

pub const SPEC: CommandSpec = CommandSpec {
    name: "command",
    arity: -1,
    flags: &["loading", "stale"],
    first_key: 0,
    last_key: 0,
    key_step: 0,
    key_specs: &[],
    acl_categories: &["@slow", "@connection"],
    tips: &["nondeterministic_output_order"],
    group: "server",
    since: "2.8.13",
    complexity: "O(N) where N is the total number of Redis commands",
    summary: "Get array of Redis command details",
    deprecated: None,
    movable_keys: None,
    subcommands: SUBCOMMANDS,
};
pub const COUNT_SPEC: CommandSpec = CommandSpec {
    name: "command|count",
    arity: 2,
    flags: &["loading", "stale"],
    first_key: 0,
    last_key: 0,
    key_step: 0,
    key_specs: &[],
    acl_categories: &["@slow", "@connection"],
    tips: &[],
    group: "server",
    since: "2.8.13",
    complexity: "O(1)",
    summary: "Get total number of Redis commands",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};
pub const INFO_SPEC: CommandSpec = CommandSpec {
    name: "command|info",
    arity: -2,
    flags: &["loading", "stale"],
    first_key: 0,
    last_key: 0,
    key_step: 0,
    key_specs: &[],
    acl_categories: &["@slow", "@connection"],
    tips: &["nondeterministic_output_order"],
    group: "server",
    since: "2.8.13",
    complexity: "O(N) where N is the number of commands to look up",
    summary: "Get array of specific Redis command details, or all when no argument is given.",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};
pub const DOCS_SPEC: CommandSpec = CommandSpec {
    name: "command|docs",
    arity: -2,
    flags: &["loading", "stale"],
    first_key: 0,
    last_key: 0,
    key_step: 0,
    key_specs: &[],
    acl_categories: &["@slow", "@connection"],
    tips: &["nondeterministic_output_order"],
    group: "server",
    since: "7.0.0",
    complexity: "O(N) where N is the number of commands to look up",
    summary: "Get array of specific Redis command documentation",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};
pub const GETKEYS_SPEC: CommandSpec = CommandSpec {
    name: "command|getkeys",
    arity: -4,
    flags: &["loading", "stale"],
    first_key: 0,
    last_key: 0,
    key_step: 0,
    key_specs: &[],
    acl_categories: &["@slow", "@connection"],
    tips: &[],
    group: "server",
    since: "2.8.13",
    complexity: "O(N) where N is the number of arguments to the command",
    summary: "Extract keys given a full Redis command",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};
pub const LIST_SPEC: CommandSpec = CommandSpec {
    name: "command|list",
    arity: -2,
    flags: &["loading", "stale"],
    first_key: 0,
    last_key: 0,
    key_step: 0,
    key_specs: &[],
    acl_categories: &["@slow", "@connection"],
    tips: &["nondeterministic_output_order"],
    group: "server",
    since: "7.0.0",
    complexity: "O(N) where N is the total number of Redis commands",
    summary: "Get an array of Redis command names",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};
pub const HELP_SPEC: CommandSpec = CommandSpec {
    name: "command|help",
    arity: 2,
    flags: &["loading", "stale"],
    first_key: 0,
    last_key: 0,
    key_step: 0,
    key_specs: &[],
    acl_categories: &["@slow", "@connection"],
    tips: &[],
    group: "server",
    since: "5.0.0",
    complexity: "O(1)",
    summary: "Show helpful text about the different subcommands",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub const SUBCOMMANDS: &[&CommandSpec] = &[&COUNT_SPEC, &INFO_SPEC, &DOCS_SPEC, &GETKEYS_SPEC, &LIST_SPEC, &HELP_SPEC];

pub enum Command {
    Info(Option<Vec<Bytes>>),
    Count,
    Docs(Option<Vec<Bytes>>),
    GetKeys(Vec<Bytes>),
    List(Filter),
    Help,
}

/// COMMAND LIST's FILTERBY.
pub enum Filter {
    All,
    Pattern(Pattern),
    AclCategory(String),
    Nothing,
}

impl Filter {
    fn admits(&self, spec: &CommandSpec) -> bool {
        match self {
            Filter::All => true,
            Filter::Pattern(pattern) => pattern.matches(spec.name.as_bytes()),
            Filter::AclCategory(category) => spec.acl_categories.contains(&category.as_str()),
            Filter::Nothing => false,
        }
    }
}

impl NodeCommand for Command {
    fn parse(args: &mut Args) -> Result<Self> {
        if args.is_empty() {
            return Ok(Command::Info(None));
        }
        let sub = args.next_arg()?;
        let spec = SUBCOMMANDS
            .iter()
            .find(|spec| is(&sub, &spec.name["command|".len()..]))
            .ok_or_else(|| Error::unknown_subcommand("command", &sub))?;
        if !spec.arity_ok(args.remaining() + 2) {
            return Err(Error::wrong_arity(spec.name));
        }
        let names = |args: &mut Args| if args.is_empty() { None } else { Some(args.rest()) };
        Ok(match &spec.name["command|".len()..] {
            "info" => Command::Info(names(args)),
            "count" => Command::Count,
            "docs" => Command::Docs(names(args)),
            "getkeys" => Command::GetKeys(args.rest()),
            "list" => {
                if args.is_empty() {
                    Command::List(Filter::All)
                } else {
                    let (filter, kind) = (args.next_arg()?, args.next_arg()?);
                    let value = args.next_arg()?;
                    args.finish()?;
                    if !is(&filter, "FILTERBY") {
                        return Err(Error::SYNTAX);
                    }
                    Command::List(match () {
                        _ if is(&kind, "PATTERN") => Filter::Pattern(Pattern::new_nocase(&value)),
                        _ if is(&kind, "ACLCAT") => {
                            Filter::AclCategory(format!("@{}", String::from_utf8_lossy(&value).to_ascii_lowercase()))
                        }
                        // Concord has no modules.
                        _ if is(&kind, "MODULE") => Filter::Nothing,
                        _ => return Err(Error::SYNTAX),
                    })
                }
            }
            _ => Command::Help,
        })
    }

    fn execute(self, _: &mut Session, _: &dyn Host) -> Result<Action> {
        Ok(Action::Reply(match self {
            Command::Count => Reply::Integer(crate::commands::TABLE.len() as i64),
            Command::Info(None) => Reply::Array(crate::commands::TABLE.iter().map(|entry| info(entry.spec)).collect()),
            Command::Info(Some(names)) => {
                Reply::Array(names.iter().map(|name| find(name).map_or(Reply::Nil, info)).collect())
            }
            Command::Docs(None) => Reply::Map(
                crate::commands::TABLE.iter().map(|entry| (Reply::bulk(entry.spec.name), docs(entry.spec))).collect(),
            ),
            Command::Docs(Some(names)) => Reply::Map(
                names.iter().filter_map(|name| find(name)).map(|spec| (Reply::bulk(spec.name), docs(spec))).collect(),
            ),
            Command::GetKeys(argv) => get_keys(&argv)?,
            Command::List(filter) => Reply::Array(
                all_specs().filter(|spec| filter.admits(spec)).map(|spec| Reply::bulk(spec.name)).collect(),
            ),
            Command::Help => help(&[
                "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                "(no subcommand)",
                "    Return details about all Redis commands.",
                "COUNT",
                "    Return the total number of commands in this Redis server.",
                "LIST",
                "    Return a list of all commands in this Redis server.",
                "INFO [<command-name> ...]",
                "    Return details about multiple Redis commands.",
                "    If no command names are given, documentation details for all",
                "    commands are returned.",
                "DOCS [<command-name> ...]",
                "    Return documentation details about multiple Redis commands.",
                "    If no command names are given, documentation details for all",
                "    commands are returned.",
                "GETKEYS <full-command>",
                "    Return the keys from a full Redis command.",
                "HELP",
                "    Prints this help.",
            ]),
        }))
    }
}

/// Every command and subcommand, depth first.
fn all_specs() -> impl Iterator<Item = &'static CommandSpec> {
    crate::commands::TABLE
        .iter()
        .flat_map(|entry| std::iter::once(entry.spec).chain(entry.spec.subcommands.iter().copied()))
}

/// A command or `container|sub`, in any case.
fn find(name: &[u8]) -> Option<&'static CommandSpec> {
    let text = std::str::from_utf8(name).ok()?.to_ascii_lowercase();
    let (parent, sub) = match text.split_once('|') {
        Some((parent, sub)) => (parent.to_string(), Some(sub.to_string())),
        None => (text, None),
    };
    let spec = crate::commands::lookup(parent.as_bytes())?.spec;
    match sub {
        None => Some(spec),
        Some(sub) => spec.subcommands.iter().copied().find(|s| s.name.split_once('|').is_some_and(|(_, n)| n == sub)),
    }
}

fn statuses(items: &[&'static str]) -> Reply {
    Reply::Set(items.iter().map(|item| Reply::status(item)).collect())
}

fn field(name: &'static str) -> Reply {
    Reply::bulk(name)
}

/// COMMAND INFO's ten-element description.
fn info(spec: &'static CommandSpec) -> Reply {
    let key_specs = spec
        .key_specs
        .iter()
        .map(|key_spec| {
            Reply::Map(vec![
                (field("flags"), statuses(key_spec.flags)),
                (
                    field("begin_search"),
                    Reply::Map(vec![
                        (field("type"), Reply::bulk("index")),
                        (
                            field("spec"),
                            Reply::Map(vec![(field("index"), Reply::Integer(key_spec.begin_index.into()))]),
                        ),
                    ]),
                ),
                (
                    field("find_keys"),
                    Reply::Map(vec![
                        (field("type"), Reply::bulk("range")),
                        (
                            field("spec"),
                            Reply::Map(vec![
                                (field("lastkey"), Reply::Integer(key_spec.last_key.into())),
                                (field("keystep"), Reply::Integer(key_spec.key_step.into())),
                                (field("limit"), Reply::Integer(0)),
                            ]),
                        ),
                    ]),
                ),
            ])
        })
        .collect();
    let subcommands = if spec.subcommands.is_empty() {
        Reply::Set(Vec::new())
    } else {
        Reply::Array(spec.subcommands.iter().map(|sub| info(sub)).collect())
    };
    Reply::Array(vec![
        Reply::bulk(spec.name),
        Reply::Integer(spec.arity.into()),
        statuses(spec.flags),
        Reply::Integer(spec.first_key.into()),
        Reply::Integer(spec.last_key.into()),
        Reply::Integer(spec.key_step.into()),
        statuses(spec.acl_categories),
        Reply::Set(spec.tips.iter().map(|tip| Reply::bulk(*tip)).collect()),
        Reply::Set(key_specs),
        subcommands,
    ])
}

/// COMMAND DOCS's description.
fn docs(spec: &'static CommandSpec) -> Reply {
    let mut fields = vec![
        (field("summary"), Reply::bulk(spec.summary)),
        (field("since"), Reply::bulk(spec.since)),
        (field("group"), Reply::bulk(spec.group)),
        (field("complexity"), Reply::bulk(spec.complexity)),
    ];
    if let Some((since, replaced_by)) = spec.deprecated {
        fields.push((field("doc_flags"), statuses(&["deprecated"])));
        fields.push((field("deprecated_since"), Reply::bulk(since)));
        fields.push((field("replaced_by"), Reply::bulk(replaced_by)));
    }
    if !spec.subcommands.is_empty() {
        fields.push((
            field("subcommands"),
            Reply::Map(spec.subcommands.iter().map(|sub| (Reply::bulk(sub.name), docs(sub))).collect()),
        ));
    }
    Reply::Map(fields)
}

fn get_keys(argv: &[Bytes]) -> Result<Reply> {
    let spec = crate::commands::lookup(&argv[0]).ok_or_else(|| Error::err("Invalid command specified"))?.spec;
    let spec = match spec
        .subcommands
        .iter()
        .find(|sub| argv.get(1).is_some_and(|name| is(name, &sub.name[spec.name.len() + 1..])))
    {
        Some(sub) => *sub,
        None => spec,
    };
    if !spec.has_keys() {
        return Err(Error::err("The command has no key arguments"));
    }
    if !spec.arity_ok(argv.len()) {
        return Err(Error::err("Invalid number of arguments specified for command"));
    }
    Ok(Reply::bulks(spec.keys(argv).cloned()))
}
