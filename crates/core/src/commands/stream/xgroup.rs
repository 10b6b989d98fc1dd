//! XGROUP CREATE key group id | $ [MKSTREAM] [ENTRIESREAD entries-read] (and SETID, DESTROY,
//! CREATECONSUMER, DELCONSUMER, HELP)

use super::{group_of, parse_id, stream_at, stream_mut, subcommand_spec, subcommand_syntax_error, text};
use crate::commands::prelude::*;
use crate::keyspace::stream::{Group, StreamId, StreamValue, ENTRIES_READ_UNKNOWN};

pub const SPEC: CommandSpec = CommandSpec {
    name: "xgroup",
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
    summary: "A container for consumer groups commands",
    deprecated: None,
    movable_keys: Some(crate::command::key_after_subcommand),
    subcommands: SUBCOMMANDS,
};

const KEY_AT_2: &[KeySpec] = &[KeySpec { flags: &["RW", "update"], begin_index: 2, last_key: 0, key_step: 1 }];

const WRITES: &[&str] = &["@write", "@stream", "@slow"];

/// A subcommand's spec: all but HELP write to the key at position 2.
const fn subcommand(
    name: &'static str,
    arity: i32,
    flags: &'static [&'static str],
    summary: &'static str,
) -> CommandSpec {
    let categories = if arity == 2 { &["@stream", "@slow"] } else { WRITES };
    subcommand_spec(name, arity, flags, categories, KEY_AT_2, summary)
}

pub const CREATE_SPEC: CommandSpec = subcommand("xgroup|create", -5, &["write", "denyoom"], "Create a consumer group.");
pub const SETID_SPEC: CommandSpec =
    subcommand("xgroup|setid", -5, &["write"], "Set a consumer group to an arbitrary last delivered ID value.");
pub const DESTROY_SPEC: CommandSpec = subcommand("xgroup|destroy", 4, &["write"], "Destroy a consumer group.");
pub const CREATECONSUMER_SPEC: CommandSpec =
    subcommand("xgroup|createconsumer", 5, &["write", "denyoom"], "Create a consumer in a consumer group.");
pub const DELCONSUMER_SPEC: CommandSpec =
    subcommand("xgroup|delconsumer", 5, &["write"], "Delete a consumer from a consumer group.");
pub const HELP_SPEC: CommandSpec =
    subcommand("xgroup|help", 2, &["loading", "stale"], "Show helpful text about the different subcommands");

pub const SUBCOMMANDS: &[&CommandSpec] =
    &[&CREATE_SPEC, &SETID_SPEC, &DESTROY_SPEC, &CREATECONSUMER_SPEC, &DELCONSUMER_SPEC, &HELP_SPEC];

/// `$` (the stream's last id) or an id.
pub enum GroupStart {
    Last,
    At(StreamId),
}

pub enum XGroup {
    Create { key: Bytes, group: Bytes, start: GroupStart, mkstream: bool, entries_read: i64 },
    SetId { key: Bytes, group: Bytes, start: GroupStart, entries_read: i64 },
    Destroy { key: Bytes, group: Bytes },
    CreateConsumer { key: Bytes, group: Bytes, consumer: Bytes },
    DelConsumer { key: Bytes, group: Bytes, consumer: Bytes },
    Help,
}

impl Command for XGroup {
    type Output = Reply;

    fn parse(args: &mut Args) -> Result<Self> {
        let sub = args.next_arg()?;
        let name = crate::command::find_subcommand("xgroup", SUBCOMMANDS, &sub, args.remaining())?;
        if name == "help" {
            return Ok(XGroup::Help);
        }
        let (key, group) = (args.next_arg()?, args.next_arg()?);
        Ok(match name {
            "create" | "setid" => {
                let start = args.next_arg()?;
                let start = if &start[..] == b"$" {
                    GroupStart::Last
                } else {
                    GroupStart::At(parse_id(&start, 0, name == "create")?)
                };
                let (mut mkstream, mut entries_read) = (false, ENTRIES_READ_UNKNOWN);
                while !args.is_empty() {
                    let option = args.next_arg()?;
                    if name == "create" && is(&option, "mkstream") {
                        mkstream = true;
                    } else if is(&option, "entriesread") && !args.is_empty() {
                        entries_read = args.next_i64()?;
                        if entries_read < 0 && entries_read != ENTRIES_READ_UNKNOWN {
                            return Err(Error::err("value for ENTRIESREAD must be positive or -1"));
                        }
                    } else {
                        return Err(subcommand_syntax_error("XGROUP", &sub));
                    }
                }
                if name == "create" {
                    XGroup::Create { key, group, start, mkstream, entries_read }
                } else {
                    XGroup::SetId { key, group, start, entries_read }
                }
            }
            "destroy" => XGroup::Destroy { key, group },
            "createconsumer" => XGroup::CreateConsumer { key, group, consumer: args.next_arg()? },
            _ => XGroup::DelConsumer { key, group, consumer: args.next_arg()? },
        })
    }

    fn reply(reply: Reply) -> Reply {
        reply
    }
}

const KEY_REQUIRED: &str = "The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.";

impl XGroup {
    fn key(&self) -> Option<&Bytes> {
        match self {
            XGroup::Create { key, .. }
            | XGroup::SetId { key, .. }
            | XGroup::Destroy { key, .. }
            | XGroup::CreateConsumer { key, .. }
            | XGroup::DelConsumer { key, .. } => Some(key),
            XGroup::Help => None,
        }
    }
}

impl WriteCommand for XGroup {
    fn write(&self, keyspace: &mut Keyspace, ctx: &WriteCtx) -> Result<Reply> {
        let Some(key) = self.key() else {
            return Ok(help(HELP));
        };
        let db = keyspace.db_mut(ctx.db);
        let exists = stream_at(db, key, ctx.now_ms)?.is_some();
        if let XGroup::Create { mkstream: true, .. } = self {
            if !exists {
                db.insert(key, StreamValue::new().wrap(), None, ctx.index);
            }
        } else if !exists {
            return Err(Error::err(KEY_REQUIRED));
        }
        let stream = stream_mut(db, key, ctx.now_ms, ctx.index)?.expect("the stream exists");
        let group_required = |group: &[u8], stream: &StreamValue| {
            if stream.groups.contains_key(group) {
                Ok(())
            } else {
                Err(Error::new(format!(
                    "NOGROUP No such consumer group '{}' for key name '{}'",
                    text(group),
                    text(key)
                )))
            }
        };
        // The reply, and the event Redis raises for it (if any).
        let (reply, event) = match self {
            XGroup::Create { group, start, entries_read, .. } => {
                if stream.groups.contains_key(&group[..]) {
                    return Err(Error::new("BUSYGROUP Consumer Group name already exists"));
                }
                let last_id = match start {
                    GroupStart::Last => stream.last_id,
                    GroupStart::At(id) => *id,
                };
                stream.groups.insert(Blob::new(group), Group::new(last_id, *entries_read));
                (Reply::OK, Some("xgroup-create"))
            }
            XGroup::SetId { group, start, entries_read, .. } => {
                group_required(group, stream)?;
                let last_id = match start {
                    GroupStart::Last => stream.last_id,
                    GroupStart::At(id) => *id,
                };
                let group = group_of(stream, group);
                group.last_id = last_id;
                group.entries_read = *entries_read;
                (Reply::OK, Some("xgroup-setid"))
            }
            XGroup::Destroy { group, .. } => match stream.groups.remove(&group[..]) {
                Some(_) => (Reply::Integer(1), Some("xgroup-destroy")),
                None => (Reply::Integer(0), None),
            },
            XGroup::CreateConsumer { group, consumer, .. } => {
                group_required(group, stream)?;
                let group = group_of(stream, group);
                if group.consumers.contains_key(&consumer[..]) {
                    (Reply::Integer(0), None)
                } else {
                    group.consumer(consumer, ctx.now_ms);
                    (Reply::Integer(1), Some("xgroup-createconsumer"))
                }
            }
            XGroup::DelConsumer { group, consumer, .. } => {
                group_required(group, stream)?;
                match group_of(stream, group).remove_consumer(consumer) {
                    Some(pending) => (Reply::Integer(pending as i64), Some("xgroup-delconsumer")),
                    None => (Reply::Integer(0), None),
                }
            }
            XGroup::Help => unreachable!("answered above"),
        };
        if let Some(event) = event {
            keyspace.notify(EventClass::STREAM, event, ctx.db, key);
        }
        Ok(reply)
    }
}

const HELP: &[&str] = &[
    "XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CREATE <key> <groupname> <id|$> [option]",
    "    Create a new consumer group. Options are:",
    "    * MKSTREAM",
    "      Create the empty stream if it does not exist.",
    "    * ENTRIESREAD entries_read",
    "      Set the group's entries_read counter (internal use).",
    "CREATECONSUMER <key> <groupname> <consumer>",
    "    Create a new consumer in the specified group.",
    "DELCONSUMER <key> <groupname> <consumer>",
    "    Remove the specified consumer.",
    "DESTROY <key> <groupname>",
    "    Remove the specified group.",
    "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
    "    Set the current group ID and entries_read counter.",
    "HELP",
    "    Print this help.",
];

#[cfg(test)]
mod tests {
    use crate::commands::testing::*;
    use crate::keyspace::Keyspace;
    use crate::reply::Reply;

    #[test]
    fn groups_are_created_set_and_destroyed() {
        let ks = &mut Keyspace::new();
        assert!(
            matches!(write(ks, 1, &["xgroup", "create", "s", "g", "$"]), Reply::Error(e) if e.starts_with(b"ERR The XGROUP subcommand requires the key to exist"))
        );
        assert_eq!(write(ks, 1, &["xgroup", "create", "s", "g", "$", "mkstream"]), Reply::OK);
        assert_eq!(
            write(ks, 1, &["xgroup", "create", "s", "g", "$"]),
            error("BUSYGROUP Consumer Group name already exists")
        );
        assert_eq!(
            write(ks, 1, &["xgroup", "setid", "s", "nog", "0"]),
            error("NOGROUP No such consumer group 'nog' for key name 's'")
        );
        assert_eq!(
            write(ks, 1, &["xgroup", "setid", "s", "g", "0", "entriesread", "-2"]),
            error("ERR value for ENTRIESREAD must be positive or -1")
        );
        assert_eq!(write(ks, 1, &["xgroup", "createconsumer", "s", "g", "c"]), Reply::Integer(1));
        assert_eq!(write(ks, 1, &["xgroup", "createconsumer", "s", "g", "c"]), Reply::Integer(0));
        assert_eq!(write(ks, 1, &["xgroup", "delconsumer", "s", "g", "c"]), Reply::Integer(0));
        assert_eq!(write(ks, 1, &["xgroup", "destroy", "s", "g"]), Reply::Integer(1));
        assert_eq!(write(ks, 1, &["xgroup", "destroy", "s", "g"]), Reply::Integer(0));
        assert_eq!(
            write(ks, 1, &["xgroup", "create", "s"]),
            error("ERR wrong number of arguments for 'xgroup|create' command")
        );
        assert_eq!(write(ks, 1, &["xgroup", "foo"]), error("ERR unknown subcommand 'foo'. Try XGROUP HELP."));
    }
}
