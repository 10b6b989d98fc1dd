//! CLUSTER INFO | MYID | NODES | SLOTS | SHARDS | KEYSLOT | COUNTKEYSINSLOT | GETKEYSINSLOT |
//! MEMBERS | JOIN | PROMOTE | DEMOTE | FORGET | MIGRATESLOTS | GETSLOTMIGRATIONS |
//! CANCELSLOTMIGRATIONS | REBALANCE | SPLITSHARD | MERGESHARDS | FAULT | HELP
//!
//! The Redis Cluster subcommands clients use to find their way (INFO, NODES, SLOTS, SHARDS,
//! KEYSLOT, COUNTKEYSINSLOT, GETKEYSINSLOT), plus Concord's membership administration (JOIN, PROMOTE, DEMOTE, FORGET,
//! MEMBERS), online slot moves (MIGRATESLOTS, GETSLOTMIGRATIONS, CANCELSLOTMIGRATIONS, named as
//! Valkey 9 names them, with a target shard instead of a node), rebalancing (REBALANCE, SPLITSHARD, MERGESHARDS) and fault injection (FAULT). The node carries them out.

use crate::command::NodeCommand;
use crate::commands::prelude::*;
use crate::session::{Action, Host, Session};
use crate::types::{GroupId, NodeId};
use serde::{Deserialize, Serialize};

pub const SPEC: CommandSpec = CommandSpec {
    name: "cluster",
    arity: -2,
    flags: &[],
    first_key: 0,
    last_key: 0,
    key_step: 0,
    key_specs: &[],
    acl_categories: &["@slow"],
    tips: &[],
    group: "cluster",
    since: "3.0.0",
    complexity: "Depends on subcommand.",
    summary: "A container for cluster commands",
    deprecated: None,
    movable_keys: None,
    subcommands: SUBCOMMANDS,
};
/// What the subcommands that only report share; each spec below says how it differs.
const REPORT: CommandSpec = CommandSpec {
    name: "cluster|",
    arity: 2,
    flags: &["loading", "stale"],
    first_key: 0,
    last_key: 0,
    key_step: 0,
    key_specs: &[],
    acl_categories: &["@slow"],
    tips: &[],
    group: "cluster",
    since: "3.0.0",
    complexity: "O(1)",
    summary: "",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};
/// What the membership and fault subcommands share.
const ADMIN: CommandSpec = CommandSpec {
    flags: &["admin", "stale"],
    acl_categories: &["@admin", "@slow", "@dangerous"],
    since: "0.1.0",
    ..REPORT
};
const NONDETERMINISTIC: &[&str] = &["nondeterministic_output"];

pub const INFO_SPEC: CommandSpec = CommandSpec {
    name: "cluster|info",
    tips: NONDETERMINISTIC,
    summary: "Provides info about Redis Cluster node state",
    ..REPORT
};
pub const MYID_SPEC: CommandSpec = CommandSpec { name: "cluster|myid", summary: "Return the node id", ..REPORT };
pub const NODES_SPEC: CommandSpec = CommandSpec {
    name: "cluster|nodes",
    tips: NONDETERMINISTIC,
    complexity: "O(N) where N is the total number of Cluster nodes",
    summary: "Get Cluster config for the node",
    ..REPORT
};
pub const SLOTS_SPEC: CommandSpec = CommandSpec {
    name: "cluster|slots",
    tips: NONDETERMINISTIC,
    complexity: "O(N) where N is the total number of Cluster nodes",
    summary: "Get array of Cluster slot to node mappings",
    ..REPORT
};
pub const SHARDS_SPEC: CommandSpec = CommandSpec {
    name: "cluster|shards",
    tips: NONDETERMINISTIC,
    since: "7.0.0",
    complexity: "O(N) where N is the total number of cluster nodes",
    summary: "Get array of cluster slots to node mappings",
    ..REPORT
};
pub const KEYSLOT_SPEC: CommandSpec = CommandSpec {
    name: "cluster|keyslot",
    arity: 3,
    flags: &["stale"],
    complexity: "O(N) where N is the number of bytes in the key",
    summary: "Returns the hash slot of the specified key",
    ..REPORT
};
pub const COUNTKEYSINSLOT_SPEC: CommandSpec = CommandSpec {
    name: "cluster|countkeysinslot",
    arity: 3,
    flags: &["stale"],
    complexity: "O(N) where N is the number of keys in the slot's shard",
    summary: "Return the number of keys in the specified hash slot",
    ..REPORT
};
pub const GETKEYSINSLOT_SPEC: CommandSpec = CommandSpec {
    name: "cluster|getkeysinslot",
    arity: 4,
    flags: &["stale"],
    tips: NONDETERMINISTIC,
    complexity: "O(N) where N is the number of keys in the slot's shard",
    summary: "Return key names stored by current node in a slot",
    ..REPORT
};
pub const MEMBERS_SPEC: CommandSpec = CommandSpec {
    name: "cluster|members",
    tips: NONDETERMINISTIC,
    since: "0.1.0",
    complexity: "O(N) where N is the number of members",
    summary: "List the members of the cluster with their roles, addresses and replication progress",
    ..REPORT
};
pub const JOIN_SPEC: CommandSpec = CommandSpec {
    name: "cluster|join",
    arity: -5,
    summary: "Add a node to the cluster as a voter (or a learner with LEARNER), in a failure domain with ZONE, through joint consensus",
    ..ADMIN
};
pub const PROMOTE_SPEC: CommandSpec =
    CommandSpec { name: "cluster|promote", arity: 3, summary: "Make a learner a voting member", ..ADMIN };
pub const DEMOTE_SPEC: CommandSpec =
    CommandSpec { name: "cluster|demote", arity: 3, summary: "Make a voting member a non-voting learner", ..ADMIN };
pub const FORGET_SPEC: CommandSpec = CommandSpec {
    name: "cluster|forget",
    arity: 3,
    since: "3.0.0",
    summary: "Remove a node from the cluster",
    ..ADMIN
};
pub const MIGRATESLOTS_SPEC: CommandSpec = CommandSpec {
    name: "cluster|migrateslots",
    arity: -6,
    summary: "Move slot ranges to another shard while both serve clients",
    ..ADMIN
};
pub const GETSLOTMIGRATIONS_SPEC: CommandSpec = CommandSpec {
    name: "cluster|getslotmigrations",
    tips: NONDETERMINISTIC,
    summary: "List the slot moves in progress",
    ..REPORT
};
pub const CANCELSLOTMIGRATIONS_SPEC: CommandSpec = CommandSpec {
    name: "cluster|cancelslotmigrations",
    arity: -2,
    summary: "Give up slot moves that were not handed over yet",
    ..ADMIN
};
pub const REBALANCE_SPEC: CommandSpec = CommandSpec {
    name: "cluster|rebalance",
    arity: -2,
    summary: "Show the rebalancing plan (replicas, slots), and carry it out unless DRYRUN",
    ..ADMIN
};
pub const SPLITSHARD_SPEC: CommandSpec = CommandSpec {
    name: "cluster|splitshard",
    arity: 3,
    summary: "Split a shard: a new shard, placed on the least loaded nodes, takes half its slots",
    ..ADMIN
};
pub const MERGESHARDS_SPEC: CommandSpec = CommandSpec {
    name: "cluster|mergeshards",
    arity: 4,
    summary: "Merge a shard into another: every slot of the first moves to the second",
    ..ADMIN
};
pub const FAULT_SPEC: CommandSpec = CommandSpec {
    name: "cluster|fault",
    arity: -3,
    summary: "Inject network faults on this node: cut, restore or list links to peers",
    ..ADMIN
};
pub const HELP_SPEC: CommandSpec =
    CommandSpec { name: "cluster|help", summary: "Show helpful text about the different subcommands", ..REPORT };

pub const SUBCOMMANDS: &[&CommandSpec] = &[
    &INFO_SPEC,
    &MYID_SPEC,
    &NODES_SPEC,
    &SLOTS_SPEC,
    &SHARDS_SPEC,
    &KEYSLOT_SPEC,
    &COUNTKEYSINSLOT_SPEC,
    &GETKEYSINSLOT_SPEC,
    &MEMBERS_SPEC,
    &JOIN_SPEC,
    &PROMOTE_SPEC,
    &DEMOTE_SPEC,
    &FORGET_SPEC,
    &MIGRATESLOTS_SPEC,
    &GETSLOTMIGRATIONS_SPEC,
    &CANCELSLOTMIGRATIONS_SPEC,
    &REBALANCE_SPEC,
    &SPLITSHARD_SPEC,
    &MERGESHARDS_SPEC,
    &FAULT_SPEC,
    &HELP_SPEC,
];

/// A cluster request for the node to carry out.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ClusterOp {
    Info,
    MyId,
    Nodes,
    Slots,
    Shards,
    Members,
    /// Keys in a slot (of database 0, as Redis Cluster has only that one).
    CountKeysInSlot(u16),
    /// Up to this many keys of a slot.
    GetKeysInSlot(u16, usize),
    /// Adds a node (learner first; a voter once caught up, unless `voter` is false).
    Join {
        node: NodeId,
        raft_addr: String,
        client_addr: String,
        voter: bool,
    },
    Promote(NodeId),
    Demote(NodeId),
    Forget(NodeId),
    /// Moves slot ranges to a shard, online (see `migration`).
    MigrateSlots {
        ranges: Vec<(u16, u16)>,
        target: GroupId,
    },
    /// The slot moves in progress.
    GetSlotMigrations,
    /// Gives up one move (or every one) not yet handed over.
    CancelSlotMigrations(Option<u64>),
    /// The rebalancing plan (see `placement`): shown, and carried out unless `dry_run`.
    Rebalance {
        dry_run: bool,
    },
    /// Splits a shard: a new shard takes half its slots.
    SplitShard(GroupId),
    /// Merges shard `from` into `into`: every slot of `from` moves to `into`.
    MergeShards {
        from: GroupId,
        into: GroupId,
    },
    Fault(Fault),
    /// As `Join`, for a node that carries a failure domain (`--zone`): the member and its zone
    /// enter the map at once. A variant of its own so that a join without a zone reads the same
    /// on a node of the previous version.
    JoinInZone {
        node: NodeId,
        raft_addr: String,
        client_addr: String,
        voter: bool,
        zone: String,
    },
}

impl ClusterOp {
    /// Whether only the leader can carry it out (membership changes).
    pub fn needs_leader(&self) -> bool {
        matches!(
            self,
            ClusterOp::Join { .. }
                | ClusterOp::JoinInZone { .. }
                | ClusterOp::Promote(_)
                | ClusterOp::Demote(_)
                | ClusterOp::Forget(_)
                | ClusterOp::MigrateSlots { .. }
                | ClusterOp::CancelSlotMigrations(_)
                | ClusterOp::Rebalance { .. }
                | ClusterOp::SplitShard(_)
                | ClusterOp::MergeShards { .. }
        )
    }
}

/// Fault injection on this node's links.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Fault {
    /// Cut the link to a peer both ways, only outgoing, or only incoming.
    Block {
        peer: NodeId,
        outgoing: bool,
        incoming: bool,
    },
    Unblock(NodeId),
    Heal,
    List,
}

fn slot(arg: &[u8]) -> Result<u16> {
    std::str::from_utf8(arg)
        .ok()
        .and_then(|text| text.parse::<i64>().ok())
        .filter(|slot| (0..i64::from(SLOTS)).contains(slot))
        .map(|slot| slot as u16)
        .ok_or_else(|| Error::err("Invalid or out of range slot"))
}

fn node_id(arg: &[u8]) -> Result<NodeId> {
    std::str::from_utf8(arg).ok().and_then(|text| text.parse().ok()).ok_or_else(|| Error::err("Invalid node id"))
}

/// A shard as `CLUSTER SHARDS` names it (`g3`), or its bare number.
fn shard_id(arg: &[u8]) -> Result<GroupId> {
    let text = std::str::from_utf8(arg).unwrap_or_default();
    text.strip_prefix('g')
        .unwrap_or(text)
        .parse::<u32>()
        .ok()
        .filter(|id| *id > 0)
        .map(GroupId)
        .ok_or_else(|| Error::err("Invalid shard id"))
}

pub enum Cluster {
    Op(ClusterOp),
    KeySlot(Bytes),
    Help,
}

impl NodeCommand for Cluster {
    fn parse(args: &mut Args) -> Result<Self> {
        let sub = args.next_arg()?;
        let spec = SUBCOMMANDS
            .iter()
            .find(|spec| is(&sub, &spec.name["cluster|".len()..]))
            .ok_or_else(|| Error::unknown_subcommand("cluster", &sub))?;
        if !spec.arity_ok(args.remaining() + 2) {
            return Err(Error::wrong_arity(spec.name));
        }
        let op = match &spec.name["cluster|".len()..] {
            "info" => ClusterOp::Info,
            "myid" => ClusterOp::MyId,
            "nodes" => ClusterOp::Nodes,
            "slots" => ClusterOp::Slots,
            "shards" => ClusterOp::Shards,
            "members" => ClusterOp::Members,
            "keyslot" => return Ok(Cluster::KeySlot(args.next_arg()?)),
            "countkeysinslot" => ClusterOp::CountKeysInSlot(slot(&args.next_arg()?)?),
            "getkeysinslot" => {
                let at = slot(&args.next_arg()?)?;
                let count = args.next_i64()?;
                if count < 0 {
                    return Err(Error::err("Invalid number of keys"));
                }
                ClusterOp::GetKeysInSlot(at, (count as usize).min(SCAN_COUNT_MAX))
            }
            "help" => return Ok(Cluster::Help),
            "join" => {
                let node = node_id(&args.next_arg()?)?;
                let raft_addr = String::from_utf8_lossy(&args.next_arg()?).into_owned();
                let client_addr = String::from_utf8_lossy(&args.next_arg()?).into_owned();
                let (mut voter, mut zone) = (true, None);
                while let Some(option) = args.peek() {
                    if is(option, "LEARNER") && voter {
                        args.next_arg()?;
                        voter = false;
                    } else if is(option, "ZONE") && zone.is_none() {
                        args.next_arg()?;
                        let label = String::from_utf8_lossy(&args.next_arg()?).into_owned();
                        crate::cluster_map::check_zone(&label).map_err(Error::err)?;
                        zone = Some(label);
                    } else {
                        return Err(Error::SYNTAX);
                    }
                }
                match zone {
                    Some(zone) => ClusterOp::JoinInZone { node, raft_addr, client_addr, voter, zone },
                    None => ClusterOp::Join { node, raft_addr, client_addr, voter },
                }
            }
            "promote" => ClusterOp::Promote(node_id(&args.next_arg()?)?),
            "demote" => ClusterOp::Demote(node_id(&args.next_arg()?)?),
            "forget" => ClusterOp::Forget(node_id(&args.next_arg()?)?),
            "migrateslots" => {
                if !is(&args.next_arg()?, "SLOTSRANGE") {
                    return Err(Error::SYNTAX);
                }
                let mut ranges = Vec::new();
                while args.peek().is_some_and(|arg| !is(arg, "SHARD")) {
                    let first = slot(&args.next_arg()?)?;
                    let last = slot(&args.next_arg()?)?;
                    if last < first {
                        return Err(Error::err(format_args!(
                            "start slot number {first} is greater than end slot number {last}"
                        )));
                    }
                    ranges.push((first, last));
                }
                if ranges.is_empty() || !args.peek().is_some_and(|arg| is(arg, "SHARD")) {
                    return Err(Error::SYNTAX);
                }
                args.next_arg()?;
                let target = shard_id(&args.next_arg()?)?;
                ClusterOp::MigrateSlots { ranges, target }
            }
            "getslotmigrations" => ClusterOp::GetSlotMigrations,
            "splitshard" => ClusterOp::SplitShard(shard_id(&args.next_arg()?)?),
            "mergeshards" => {
                let from = shard_id(&args.next_arg()?)?;
                ClusterOp::MergeShards { from, into: shard_id(&args.next_arg()?)? }
            }
            "rebalance" => match args.peek() {
                None => ClusterOp::Rebalance { dry_run: false },
                Some(arg) if is(arg, "DRYRUN") => {
                    args.next_arg()?;
                    ClusterOp::Rebalance { dry_run: true }
                }
                Some(_) => return Err(Error::SYNTAX),
            },
            "cancelslotmigrations" => match args.peek() {
                None => ClusterOp::CancelSlotMigrations(None),
                Some(arg) if is(arg, "ALL") => {
                    args.next_arg()?;
                    ClusterOp::CancelSlotMigrations(None)
                }
                Some(_) => {
                    let id = args.next_i64()?;
                    ClusterOp::CancelSlotMigrations(Some(u64::try_from(id).map_err(|_| Error::err("Invalid move id"))?))
                }
            },
            "fault" => {
                let action = args.next_arg()?;
                let fault = match () {
                    _ if is(&action, "HEAL") => Fault::Heal,
                    _ if is(&action, "LIST") => Fault::List,
                    _ if is(&action, "UNBLOCK") => Fault::Unblock(node_id(&args.next_arg()?)?),
                    _ if is(&action, "BLOCK") => {
                        Fault::Block { peer: node_id(&args.next_arg()?)?, outgoing: true, incoming: true }
                    }
                    _ if is(&action, "BLOCK-OUTGOING") => {
                        Fault::Block { peer: node_id(&args.next_arg()?)?, outgoing: true, incoming: false }
                    }
                    _ if is(&action, "BLOCK-INCOMING") => {
                        Fault::Block { peer: node_id(&args.next_arg()?)?, outgoing: false, incoming: true }
                    }
                    _ => return Err(Error::SYNTAX),
                };
                ClusterOp::Fault(fault)
            }
            other => unreachable!("subcommand {other} has a spec but no parser"),
        };
        args.finish()?;
        Ok(Cluster::Op(op))
    }

    fn execute(self, _: &mut Session, _: &dyn Host) -> Result<Action> {
        Ok(match self {
            Cluster::Op(op) => Action::Cluster(op),
            Cluster::KeySlot(key) => Action::Reply(Reply::Integer(crate::slot::key_slot(&key).into())),
            Cluster::Help => Action::Reply(help(&[
                "CLUSTER <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                "INFO | MYID | NODES | SLOTS | SHARDS",
                "    Cluster state and topology, as Redis Cluster clients read them.",
                "KEYSLOT <key>",
                "    Return the hash slot for <key>.",
                "COUNTKEYSINSLOT <slot> | GETKEYSINSLOT <slot> <count>",
                "    Count the keys in <slot>, or return up to <count> of them.",
                "MEMBERS",
                "    Members with their role, addresses and replication progress.",
                "JOIN <node-id> <node-addr> <client-addr> [LEARNER] [ZONE <zone>]",
                "    Add a node: a learner, promoted to voter once caught up (unless LEARNER).",
                "PROMOTE <node-id> | DEMOTE <node-id> | FORGET <node-id>",
                "    Make a learner a voter, a voter a learner, or remove a node.",
                "MIGRATESLOTS SLOTSRANGE <start> <end> [<start> <end> ...] SHARD <shard-id>",
                "    Move slot ranges to another shard while both serve clients.",
                "GETSLOTMIGRATIONS | CANCELSLOTMIGRATIONS [<id>|ALL]",
                "    List the slot moves in progress, or give up those not handed over yet.",
                "SPLITSHARD <shard-id> | MERGESHARDS <shard-id> <into-shard-id>",
                "    Give half a shard's slots to a new shard, or all of them to another shard.",
                "REBALANCE [DRYRUN]",
                "    Show the plan that spreads replicas and slots evenly, and carry it out.",
                "FAULT BLOCK|BLOCK-OUTGOING|BLOCK-INCOMING|UNBLOCK <node-id> | FAULT HEAL | FAULT LIST",
                "    Cut or restore this node's links to peers (fault injection for tests).",
                "HELP",
                "    Print this help.",
            ])),
        })
    }
}
