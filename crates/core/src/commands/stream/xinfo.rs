//! XINFO STREAM key [FULL [COUNT count]] (and GROUPS key, CONSUMERS key group, HELP)

use super::{entries_reply, entry_reply, stream_at, subcommand_spec, subcommand_syntax_error, text};
use crate::commands::prelude::*;
use crate::keyspace::stream::{Group, StreamValue, ENTRIES_READ_UNKNOWN};

pub const SPEC: CommandSpec = CommandSpec {
    name: "xinfo",
    arity: -2,
    flags: &[],
    first_key: 0,
    last_key: 0,
    key_step: 0,
    key_specs: &[],
    acl_categories: &["@slow"],
    tips: &[],
    group: "stream",
    since: "5.0.0",
    complexity: "Depends on subcommand.",
    summary: "A container for stream introspection commands",
    deprecated: None,
    movable_keys: Some(crate::command::key_after_subcommand),
    subcommands: SUBCOMMANDS,
};

const KEY_AT_2: &[KeySpec] = &[KeySpec { flags: &["RO"], begin_index: 2, last_key: 0, key_step: 1 }];

/// A subcommand's spec: all but HELP read the key at position 2.
const fn subcommand(name: &'static str, arity: i32, summary: &'static str) -> CommandSpec {
    if arity == 2 {
        subcommand_spec(name, arity, &["loading", "stale"], &["@stream", "@slow"], &[], summary)
    } else {
        subcommand_spec(name, arity, &["readonly"], &["@read", "@stream", "@slow"], KEY_AT_2, summary)
    }
}

pub const STREAM_SPEC: CommandSpec = subcommand("xinfo|stream", -3, "Get information about a stream");
pub const GROUPS_SPEC: CommandSpec = subcommand("xinfo|groups", 3, "List the consumer groups of a stream");
pub const CONSUMERS_SPEC: CommandSpec = subcommand("xinfo|consumers", 4, "List the consumers in a consumer group");
pub const HELP_SPEC: CommandSpec = subcommand("xinfo|help", 2, "Show helpful text about the different subcommands");

pub const SUBCOMMANDS: &[&CommandSpec] = &[&STREAM_SPEC, &GROUPS_SPEC, &CONSUMERS_SPEC, &HELP_SPEC];

/// Entries and pending entries XINFO STREAM FULL shows when no COUNT is given.
const FULL_COUNT_DEFAULT: usize = 10;

pub enum XInfo {
    /// `Some(count)` for FULL (0: everything).
    Stream {
        key: Bytes,
        full: Option<usize>,
    },
    Groups {
        key: Bytes,
    },
    Consumers {
        key: Bytes,
        group: Bytes,
    },
    Help,
}

impl Command for XInfo {
    type Output = Reply;

    fn parse(args: &mut Args) -> Result<Self> {
        let sub = args.next_arg()?;
        let name = crate::command::find_subcommand("xinfo", SUBCOMMANDS, &sub, args.remaining())?;
        let syntax = || subcommand_syntax_error("XINFO", &sub);
        Ok(match name {
            "stream" => {
                let key = args.next_arg()?;
                let options = args.rest();
                let full = match &options[..] {
                    [] => None,
                    [full] if is(full, "full") => Some(FULL_COUNT_DEFAULT),
                    [full, count, n] if is(full, "full") && is(count, "count") => {
                        let n = parse_i64(n).ok_or(Error::NOT_INTEGER)?;
                        Some(if n < 0 { FULL_COUNT_DEFAULT } else { n as usize })
                    }
                    _ => return Err(syntax()),
                };
                XInfo::Stream { key, full }
            }
            "groups" => XInfo::Groups { key: args.next_arg()? },
            "consumers" => XInfo::Consumers { key: args.next_arg()?, group: args.next_arg()? },
            _ => XInfo::Help,
        })
    }

    fn reply(reply: Reply) -> Reply {
        reply
    }
}

fn field(name: &'static str, value: Reply) -> (Reply, Reply) {
    (Reply::bulk(name), value)
}

fn entries_read(group: &Group) -> Reply {
    if group.entries_read == ENTRIES_READ_UNKNOWN {
        Reply::Nil
    } else {
        Reply::Integer(group.entries_read)
    }
}

fn lag(stream: &StreamValue, group: &Group) -> Reply {
    stream.lag(group).map_or(Reply::Nil, Reply::Integer)
}

fn id(id: crate::keyspace::stream::StreamId) -> Reply {
    Reply::Bulk(id.to_bytes())
}

impl ReadCommand for XInfo {
    fn read(&self, keyspace: &Keyspace, ctx: &mut ReadCtx) -> Result<Reply> {
        let key = match self {
            XInfo::Help => return Ok(help(HELP)),
            XInfo::Stream { key, .. } | XInfo::Groups { key } | XInfo::Consumers { key, .. } => key,
        };
        let stream = stream_at(keyspace.db(ctx.db), key, ctx.now_ms)?.ok_or(Error::NO_SUCH_KEY)?;
        Ok(match self {
            XInfo::Stream { full, .. } => stream_info(stream, *full),
            XInfo::Groups { .. } => Reply::Array(
                stream
                    .groups
                    .iter()
                    .map(|(name, group)| {
                        Reply::Map(vec![
                            field("name", Reply::Bulk(bytes_of(name))),
                            field("consumers", Reply::Integer(group.consumers.len() as i64)),
                            field("pending", Reply::Integer(group.pending.len() as i64)),
                            field("last-delivered-id", id(group.last_id)),
                            field("entries-read", entries_read(group)),
                            field("lag", lag(stream, group)),
                        ])
                    })
                    .collect(),
            ),
            XInfo::Consumers { group: name, .. } => {
                let group = stream.groups.get(&name[..]).ok_or_else(|| {
                    Error::new(format!("NOGROUP No such consumer group '{}' for key name '{}'", text(name), text(key)))
                })?;
                Reply::Array(
                    group
                        .consumers
                        .iter()
                        .map(|(name, consumer)| {
                            Reply::Map(vec![
                                field("name", Reply::Bulk(bytes_of(name))),
                                field("pending", Reply::Integer(consumer.pending.len() as i64)),
                                field("idle", Reply::Integer(ctx.now_ms.saturating_sub(consumer.seen_time_ms) as i64)),
                            ])
                        })
                        .collect(),
                )
            }
            XInfo::Help => unreachable!("answered above"),
        })
    }
}

fn stream_info(stream: &StreamValue, full: Option<usize>) -> Reply {
    let mut fields = vec![
        field("length", Reply::Integer(stream.len() as i64)),
        field("radix-tree-keys", Reply::Integer(stream.nodes().len() as i64)),
        field("radix-tree-nodes", Reply::Integer(stream.nodes().len() as i64 + 1)),
        field("last-generated-id", id(stream.last_id)),
        field("max-deleted-entry-id", id(stream.max_deleted_id)),
        field("entries-added", Reply::Integer(stream.entries_added as i64)),
        field("recorded-first-entry-id", id(stream.first_id())),
    ];
    let Some(count) = full else {
        let edge = |entry: Option<(_, &[Blob])>| entry.map_or(Reply::Nil, |(at, fields)| entry_reply(at, fields));
        fields.push(field("groups", Reply::Integer(stream.groups.len() as i64)));
        fields.push(field("first-entry", edge(stream.first_entry())));
        fields.push(field("last-entry", edge(stream.last_entry())));
        return Reply::Map(fields);
    };
    let limit = if count == 0 { usize::MAX } else { count };
    let all = stream.range(crate::keyspace::stream::StreamId::MIN, crate::keyspace::stream::StreamId::MAX);
    fields.push(field("entries", entries_reply(all.take(limit))));
    let groups = stream
        .groups
        .iter()
        .map(|(name, group)| {
            let pending = group
                .pending
                .iter()
                .take(limit)
                .map(|(at, pending)| {
                    Reply::Array(vec![
                        id(*at),
                        Reply::Bulk(bytes_of(&pending.consumer)),
                        Reply::Integer(pending.delivery_time_ms as i64),
                        Reply::Integer(pending.delivery_count as i64),
                    ])
                })
                .collect();
            let consumers = group
                .consumers
                .iter()
                .map(|(name, consumer)| {
                    let pending = consumer
                        .pending
                        .iter()
                        .take(limit)
                        .map(|at| {
                            let details = &group.pending[at];
                            Reply::Array(vec![
                                id(*at),
                                Reply::Integer(details.delivery_time_ms as i64),
                                Reply::Integer(details.delivery_count as i64),
                            ])
                        })
                        .collect();
                    Reply::Map(vec![
                        field("name", Reply::Bulk(bytes_of(name))),
                        field("seen-time", Reply::Integer(consumer.seen_time_ms as i64)),
                        field("pel-count", Reply::Integer(consumer.pending.len() as i64)),
                        field("pending", Reply::Array(pending)),
                    ])
                })
                .collect();
            Reply::Map(vec![
                field("name", Reply::Bulk(bytes_of(name))),
                field("last-delivered-id", id(group.last_id)),
                field("entries-read", entries_read(group)),
                field("lag", lag(stream, group)),
                field("pel-count", Reply::Integer(group.pending.len() as i64)),
                field("pending", Reply::Array(pending)),
                field("consumers", Reply::Array(consumers)),
            ])
        })
        .collect();
    fields.push(field("groups", Reply::Array(groups)));
    Reply::Map(fields)
}

const HELP: &[&str] = &[
    "XINFO <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CONSUMERS <key> <groupname>",
    "    Show consumers of <groupname>.",
    "GROUPS <key>",
    "    Show the stream consumer groups.",
    "STREAM <key> [FULL [COUNT <count>]",
    "    Show information about the stream.",
    "HELP",
    "    Print this help.",
];
