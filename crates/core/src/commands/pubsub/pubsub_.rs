//! PUBSUB CHANNELS [pattern] | NUMSUB [channel ...] | NUMPAT | HELP
//!
//! Answered from this node's subscribers only, as Redis Cluster answers them per node.

use crate::command::NodeCommand;
use crate::commands::prelude::*;
use crate::session::{Action, Host, Session};

pub const SPEC: CommandSpec = CommandSpec {
    name: "pubsub",
    arity: -2,
    flags: &[],
    first_key: 0,
    last_key: 0,
    key_step: 0,
    key_specs: &[],
    acl_categories: &["@slow"],
    tips: &[],
    group: "pubsub",
    since: "2.8.0",
    complexity: "Depends on subcommand.",
    summary: "A container for Pub/Sub commands.",
    deprecated: None,
    movable_keys: None,
    subcommands: SUBCOMMANDS,
};
pub const CHANNELS_SPEC: CommandSpec = CommandSpec {
    name: "pubsub|channels",
    arity: -2,
    flags: &["pubsub", "loading", "stale"],
    first_key: 0,
    last_key: 0,
    key_step: 0,
    key_specs: &[],
    acl_categories: &["@pubsub", "@slow"],
    tips: &[],
    group: "pubsub",
    since: "2.8.0",
    complexity: "O(N) where N is the number of active channels, and assuming constant time pattern matching (relatively short channels and patterns)",
    summary: "Returns the active channels.",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};
pub const NUMSUB_SPEC: CommandSpec = CommandSpec {
    name: "pubsub|numsub",
    arity: -2,
    flags: &["pubsub", "loading", "stale"],
    first_key: 0,
    last_key: 0,
    key_step: 0,
    key_specs: &[],
    acl_categories: &["@pubsub", "@slow"],
    tips: &[],
    group: "pubsub",
    since: "2.8.0",
    complexity: "O(N) for the NUMSUB subcommand, where N is the number of requested channels",
    summary: "Returns a count of subscribers to channels.",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};
pub const NUMPAT_SPEC: CommandSpec = CommandSpec {
    name: "pubsub|numpat",
    arity: 2,
    flags: &["pubsub", "loading", "stale"],
    first_key: 0,
    last_key: 0,
    key_step: 0,
    key_specs: &[],
    acl_categories: &["@pubsub", "@slow"],
    tips: &[],
    group: "pubsub",
    since: "2.8.0",
    complexity: "O(1)",
    summary: "Returns a count of unique pattern subscriptions.",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};
pub const HELP_SPEC: CommandSpec = CommandSpec {
    name: "pubsub|help",
    arity: 2,
    flags: &["loading", "stale"],
    first_key: 0,
    last_key: 0,
    key_step: 0,
    key_specs: &[],
    acl_categories: &["@slow"],
    tips: &[],
    group: "pubsub",
    since: "6.2.0",
    complexity: "O(1)",
    summary: "Returns helpful text about the different subcommands.",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub const SHARDCHANNELS_SPEC: CommandSpec = CommandSpec {
    name: "pubsub|shardchannels",
    arity: -2,
    flags: &["pubsub", "loading", "stale"],
    first_key: 0,
    last_key: 0,
    key_step: 0,
    key_specs: &[],
    acl_categories: &["@pubsub", "@slow"],
    tips: &[],
    group: "pubsub",
    since: "7.0.0",
    complexity: "O(N) where N is the number of active shard channels, and assuming constant time pattern matching (relatively short shard channels).",
    summary: "Returns the active shard channels.",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};
pub const SHARDNUMSUB_SPEC: CommandSpec = CommandSpec {
    name: "pubsub|shardnumsub",
    arity: -2,
    flags: &["pubsub", "loading", "stale"],
    first_key: 0,
    last_key: 0,
    key_step: 0,
    key_specs: &[],
    acl_categories: &["@pubsub", "@slow"],
    tips: &[],
    group: "pubsub",
    since: "7.0.0",
    complexity: "O(N) for the SHARDNUMSUB subcommand, where N is the number of requested shard channels",
    summary: "Returns the count of subscribers of shard channels.",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub const SUBCOMMANDS: &[&CommandSpec] =
    &[&CHANNELS_SPEC, &NUMSUB_SPEC, &NUMPAT_SPEC, &SHARDCHANNELS_SPEC, &SHARDNUMSUB_SPEC, &HELP_SPEC];

pub enum PubSub {
    /// (SHARD)CHANNELS: shard channels when `sharded`.
    Channels {
        sharded: bool,
        pattern: Option<Bytes>,
    },
    NumSub {
        sharded: bool,
        channels: Vec<Bytes>,
    },
    NumPat,
    Help,
}

impl NodeCommand for PubSub {
    fn parse(args: &mut Args) -> Result<Self> {
        let sub = args.next_arg()?;
        let spec = SUBCOMMANDS
            .iter()
            .find(|spec| is(&sub, &spec.name["pubsub|".len()..]))
            .ok_or_else(|| Error::unknown_subcommand("pubsub", &sub))?;
        if !spec.arity_ok(args.remaining() + 2) {
            return Err(Error::wrong_arity(spec.name));
        }
        Ok(match &spec.name["pubsub|".len()..] {
            name @ ("channels" | "shardchannels") => {
                let pattern = if args.is_empty() { None } else { Some(args.next_arg()?) };
                if !args.is_empty() {
                    return Err(Error::wrong_arity(spec.name));
                }
                PubSub::Channels { sharded: name == "shardchannels", pattern }
            }
            name @ ("numsub" | "shardnumsub") => {
                PubSub::NumSub { sharded: name == "shardnumsub", channels: args.rest() }
            }
            "numpat" => PubSub::NumPat,
            _ => PubSub::Help,
        })
    }

    fn execute(self, _: &mut Session, host: &dyn Host) -> Result<Action> {
        Ok(Action::Reply(match self {
            PubSub::Channels { sharded, pattern } => Reply::bulks(host.pubsub_channels(sharded, pattern.as_deref())),
            PubSub::NumSub { sharded, channels } => {
                let counts = host.pubsub_numsub(sharded, &channels);
                Reply::Array(
                    channels
                        .into_iter()
                        .zip(counts)
                        .flat_map(|(channel, count)| [Reply::Bulk(channel), Reply::Integer(count)])
                        .collect(),
                )
            }
            PubSub::NumPat => Reply::Integer(host.pubsub_numpat()),
            PubSub::Help => help(&[
                "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                "CHANNELS [<pattern>]",
                "    Return the currently active channels matching a <pattern> (default: '*').",
                "NUMPAT",
                "    Return number of subscriptions to patterns.",
                "NUMSUB [<channel> ...]",
                "    Return the number of subscribers for the specified channels, excluding",
                "    pattern subscriptions(default: no channels).",
                "SHARDCHANNELS [<pattern>]",
                "    Return the currently active shard level channels matching a <pattern> (default: '*').",
                "SHARDNUMSUB [<shardchannel> ...]",
                "    Return the number of subscribers for the specified shard level channel(s)",
                "HELP",
                "    Prints this help.",
            ]),
        }))
    }
}
