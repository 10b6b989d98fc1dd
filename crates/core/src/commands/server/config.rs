//! CONFIG GET | SET | RESETSTAT | REWRITE | HELP

use crate::command::NodeCommand;
use crate::commands::prelude::*;
use crate::session::{Action, Host, Session};

pub const SPEC: CommandSpec = CommandSpec {
    name: "config",
    arity: -2,
    flags: &[],
    first_key: 0,
    last_key: 0,
    key_step: 0,
    key_specs: &[],
    acl_categories: &["@slow"],
    tips: &[],
    group: "server",
    since: "2.0.0",
    complexity: "Depends on subcommand.",
    summary: "A container for server configuration commands",
    deprecated: None,
    movable_keys: None,
    subcommands: SUBCOMMANDS,
};
pub const GET_SPEC: CommandSpec = CommandSpec {
    name: "config|get",
    arity: -3,
    flags: &["admin", "noscript", "loading", "stale"],
    first_key: 0,
    last_key: 0,
    key_step: 0,
    key_specs: &[],
    acl_categories: &["@admin", "@slow", "@dangerous"],
    tips: &[],
    group: "server",
    since: "2.0.0",
    complexity: "O(N) when N is the number of configuration parameters provided",
    summary: "Get the values of configuration parameters",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};
pub const SET_SPEC: CommandSpec = CommandSpec {
    name: "config|set",
    arity: -4,
    flags: &["admin", "noscript", "loading", "stale"],
    first_key: 0,
    last_key: 0,
    key_step: 0,
    key_specs: &[],
    acl_categories: &["@admin", "@slow", "@dangerous"],
    tips: &["request_policy:all_nodes", "response_policy:all_succeeded"],
    group: "server",
    since: "2.0.0",
    complexity: "O(N) when N is the number of configuration parameters provided",
    summary: "Set configuration parameters to the given values",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};
pub const RESETSTAT_SPEC: CommandSpec = CommandSpec {
    name: "config|resetstat",
    arity: 2,
    flags: &["admin", "noscript", "loading", "stale"],
    first_key: 0,
    last_key: 0,
    key_step: 0,
    key_specs: &[],
    acl_categories: &["@admin", "@slow", "@dangerous"],
    tips: &[],
    group: "server",
    since: "2.0.0",
    complexity: "O(1)",
    summary: "Reset the stats returned by INFO",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};
pub const REWRITE_SPEC: CommandSpec = CommandSpec {
    name: "config|rewrite",
    arity: 2,
    flags: &["admin", "noscript", "loading", "stale"],
    first_key: 0,
    last_key: 0,
    key_step: 0,
    key_specs: &[],
    acl_categories: &["@admin", "@slow", "@dangerous"],
    tips: &["request_policy:all_nodes", "response_policy:all_succeeded"],
    group: "server",
    since: "2.8.0",
    complexity: "O(1)",
    summary: "Rewrite the configuration file with the in memory configuration",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};
pub const HELP_SPEC: CommandSpec = CommandSpec {
    name: "config|help",
    arity: 2,
    flags: &["loading", "stale"],
    first_key: 0,
    last_key: 0,
    key_step: 0,
    key_specs: &[],
    acl_categories: &["@slow"],
    tips: &[],
    group: "server",
    since: "5.0.0",
    complexity: "O(1)",
    summary: "Show helpful text about the different subcommands",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub const SUBCOMMANDS: &[&CommandSpec] = &[&GET_SPEC, &SET_SPEC, &RESETSTAT_SPEC, &REWRITE_SPEC, &HELP_SPEC];

pub enum Config {
    Get(Vec<Bytes>),
    Set(Vec<(Bytes, Bytes)>),
    ResetStat,
    Rewrite,
    Help,
}

impl NodeCommand for Config {
    fn parse(args: &mut Args) -> Result<Self> {
        let sub = args.next_arg()?;
        let spec = SUBCOMMANDS
            .iter()
            .find(|spec| is(&sub, &spec.name["config|".len()..]))
            .ok_or_else(|| Error::unknown_subcommand("config", &sub))?;
        if !spec.arity_ok(args.remaining() + 2) {
            return Err(Error::wrong_arity(spec.name));
        }
        Ok(match &spec.name["config|".len()..] {
            "get" => Config::Get(args.rest()),
            "set" => {
                if !args.remaining().is_multiple_of(2) {
                    return Err(Error::wrong_arity("config|set"));
                }
                let rest = args.rest();
                Config::Set(rest.chunks_exact(2).map(|pair| (pair[0].clone(), pair[1].clone())).collect())
            }
            "resetstat" => Config::ResetStat,
            "rewrite" => Config::Rewrite,
            _ => Config::Help,
        })
    }

    fn execute(self, _: &mut Session, host: &dyn Host) -> Result<Action> {
        Ok(Action::Reply(match self {
            Config::Get(patterns) => Reply::Map(
                host.config_get(&patterns)
                    .into_iter()
                    .map(|(name, value)| (Reply::bulk_text(name), Reply::bulk_text(value)))
                    .collect(),
            ),
            Config::Set(pairs) => {
                // The collection encodings are replicated state: checked here, then changed
                // through the log so that every replica switches at the same entry.
                let (replicated, local): (Vec<_>, Vec<_>) = pairs
                    .into_iter()
                    .partition(|(name, _)| Encodings::canonical_name(&String::from_utf8_lossy(name)).is_some());
                let mut check = Encodings::default();
                for (name, value) in &replicated {
                    let name = String::from_utf8_lossy(name);
                    let set = parse_i64(value)
                        .ok_or_else(|| "argument couldn't be parsed into an integer".to_string())
                        .and_then(|value| check.set(&name, value));
                    if let Err(reason) = set {
                        return Err(Error::err(format_args!(
                            "CONFIG SET failed (possibly related to argument '{name}') - {reason}"
                        )));
                    }
                }
                if !local.is_empty() {
                    host.config_set(&local)?;
                }
                if !replicated.is_empty() {
                    return Ok(Action::Write(crate::request::Request::Config { pairs: replicated }));
                }
                Reply::OK
            }
            Config::ResetStat => {
                host.config_resetstat();
                Reply::OK
            }
            Config::Rewrite => return Err(Error::err("The server is running without a config file")),
            Config::Help => help(&[
                "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                "GET <pattern>",
                "    Return parameters matching the glob-like <pattern> and their values.",
                "SET <directive> <value>",
                "    Set the configuration <directive> to <value>.",
                "RESETSTAT",
                "    Reset statistics reported by the INFO command.",
                "REWRITE",
                "    Rewrite the configuration file.",
                "HELP",
                "    Prints this help.",
            ]),
        }))
    }
}
