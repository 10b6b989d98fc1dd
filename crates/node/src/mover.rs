//! The driver of slot moves: on the metadata group's leader, carries each move of the cluster
//! map through its phases (see `concord_core::migration` for what the shards do, and
//! `cluster_map` for the phases). Also `CLUSTER REBALANCE`: the planner's steps
//! (`concord_core::placement`) turned into changes of the map, which the shards' leaders and
//! this driver then carry out.
//!
//! The driver keeps nothing of its own: whenever it starts on a move (first, after a failed
//! step, or on a new metadata leader) it begins a new attempt, and both shards refuse the steps
//! of any older one. So a step whose outcome is unknown, a lost batch or a deposed leader's
//! driver still running can only make the move start its copy again, never leave a stale key
//! on the target or hand the slots over early.

use crate::node::Node;
use concord_core::cluster_map::{ClusterChange, MovePhase, SlotMove};
use concord_core::commands::{self, KeyspaceOp};
use concord_core::limits::{MOVE_FENCE_KEYS_MAX, MOVE_ROUNDS_MAX};
use concord_core::migration::{progress_of, MigrateStep};
use concord_core::placement::{Layout, Step as PlanStep};
use concord_core::reply::Reply;
use concord_core::request::Request;
use concord_core::rng::Rng;
use concord_core::types::GroupId;
use concord_core::types::NodeId;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

/// How often the metadata leader looks for moves to drive, and waits after a failed attempt.
const MOVE_POLL_MS: u64 = 200;

/// Drives the map's moves while this node leads the metadata group, one at a time, lowest id
/// first.
pub async fn drive_moves(node: Arc<Node>) {
    let mut interval = tokio::time::interval(Duration::from_millis(MOVE_POLL_MS));
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // The voting members last seen while leading, and whether one joined since the last
    // rebalance on join.
    let mut voters: Option<BTreeSet<NodeId>> = None;
    let mut joined = false;
    loop {
        interval.tick().await;
        if !node.meta.is_leader() {
            voters = None;
            continue;
        }
        let map = node.map();
        let now: BTreeSet<NodeId> = map.members.iter().filter(|(_, m)| m.voter).map(|(id, _)| *id).collect();
        joined |= voters.as_ref().is_some_and(|before| !now.is_subset(before));
        voters = Some(now);
        if joined && node.config.rebalance_on_join && map.moves.is_empty() && map.is_settled() {
            let reply = rebalance_with(&node, false, false).await;
            tracing::info!(?reply, "rebalanced replicas after a member joined");
            joined = reply.is_error();
        }
        let next = node.map().moves.iter().next().map(|(id, m)| (*id, m.clone()));
        if let Some((id, slot_move)) = next {
            if let Err(why) = drive(&node, id, slot_move).await {
                tracing::info!(id, %why, "slot move attempt stopped; it starts again");
                tokio::time::sleep(Duration::from_millis(MOVE_POLL_MS)).await;
            }
        }
    }
}

type Step = Result<(), String>;

/// One attempt at move `id`, from the phase the map gives it to its end.
async fn drive(node: &Arc<Node>, id: u64, slot_move: SlotMove) -> Step {
    let attempt = integer(meta(node, ClusterChange::MoveAttempt { id }).await?)?;
    let SlotMove { ranges, source, target, phase, .. } = slot_move;
    match phase {
        MovePhase::Copying | MovePhase::Fenced => {
            prepare(node, id, attempt, target, &ranges).await?;
            shard(node, source, MigrateStep::Track { migration: id, attempt, ranges: ranges.clone() }).await?;
            let mut round_keys = u64::MAX;
            let mut round = 0;
            // Copy rounds while the source serves the slots, until one is short.
            while phase == MovePhase::Copying && round_keys > MOVE_FENCE_KEYS_MAX && round < MOVE_ROUNDS_MAX {
                let progress = copy_batch(node, id, attempt, source, target).await?;
                if progress.round_ended {
                    round_keys = progress.round_keys;
                    round = progress.round + 1;
                }
            }
            let epoch = match phase {
                MovePhase::Copying => integer(meta(node, ClusterChange::MoveFence { id, attempt }).await?)?,
                _ => node.map().moves.get(&id).map(|m| m.fenced_epoch).ok_or("the move is gone")?,
            };
            shard(node, source, MigrateStep::Fence { migration: id, attempt, epoch }).await?;
            while !copy_batch(node, id, attempt, source, target).await?.complete {}
            let epoch = integer(meta(node, ClusterChange::MoveHandOver { id, attempt }).await?)?;
            // The target serves the slots from its next entry on, rather than at its leader's
            // next look at the map.
            own(node, target, epoch).await?;
            finish(node, id, attempt, source, target, &ranges).await
        }
        MovePhase::HandedOver => finish(node, id, attempt, source, target, &ranges).await,
        MovePhase::Cancelled => {
            // The source serves the slots again before anything is dropped anywhere.
            own(node, source, node.map().epoch).await?;
            finish(node, id, attempt, target, source, &ranges).await
        }
    }
}

/// The target forgets what an earlier attempt copied, until it is ready to import.
async fn prepare(node: &Arc<Node>, id: u64, attempt: u64, target: GroupId, ranges: &[(u16, u16)]) -> Step {
    loop {
        let step = MigrateStep::Prepare { migration: id, attempt, ranges: ranges.to_vec() };
        if integer(shard(node, target, step).await?)? == 0 {
            return Ok(());
        }
    }
}

/// Exports one batch from the source and imports it into the target.
async fn copy_batch(
    node: &Arc<Node>,
    id: u64,
    attempt: u64,
    source: GroupId,
    target: GroupId,
) -> Result<concord_core::migration::Progress, String> {
    let Reply::Bulk(batch) = shard(node, source, MigrateStep::Export { migration: id, attempt }).await? else {
        return Err("the source's export is not a batch".into());
    };
    let progress = progress_of(&batch)?;
    if progress.keys > 0 {
        shard(node, target, MigrateStep::Import { attempt, batch }).await?;
    }
    Ok(progress)
}

/// Tells `group` the slots the map gives it now.
async fn own(node: &Arc<Node>, group: GroupId, epoch: u64) -> Step {
    let map = node.map();
    let ranges = map.served_by(group).ok_or("no slot map")?.ranges().to_vec();
    shard(node, group, MigrateStep::Own { ranges, epoch: epoch.max(map.epoch) }).await.map(|_| ())
}

/// Drops the leftovers on `left` (the side that does not own the slots), forgets the move on
/// both, and ends it in the map.
async fn finish(node: &Arc<Node>, id: u64, attempt: u64, left: GroupId, kept: GroupId, ranges: &[(u16, u16)]) -> Step {
    let drop_keys = !node.env.defects.move_leftovers;
    let drop = MigrateStep::Finish { migration: id, ranges: ranges.to_vec(), drop_keys };
    while integer(shard(node, left, drop.clone()).await?)? != 0 {}
    shard(node, kept, MigrateStep::Finish { migration: id, ranges: ranges.to_vec(), drop_keys: false }).await?;
    meta(node, ClusterChange::MoveDone { id, attempt }).await.map(|_| ())
}

/// Proposes a change to the metadata group (led here) and returns its reply.
async fn meta(node: &Arc<Node>, change: ClusterChange) -> Result<Reply, String> {
    match node.meta.propose(Request::Cluster(change)).await {
        Ok(reply) if reply.is_error() => Err(error_text(&reply)),
        Ok(reply) => Ok(reply),
        Err(error) => Err(format!("{error:?}")),
    }
}

/// Writes a step into a shard's log, wherever its leader is.
async fn shard(node: &Arc<Node>, group: GroupId, step: MigrateStep) -> Result<Reply, String> {
    let reply = node.clone().write_batch(group, vec![Request::Migrate(step)]).await.pop().ok_or("no reply")?;
    if reply.is_error() {
        return Err(format!("{group}: {}", error_text(&reply)));
    }
    Ok(reply)
}

fn integer(reply: Reply) -> Result<u64, String> {
    match reply {
        Reply::Integer(n) if n >= 0 => Ok(n as u64),
        other => Err(format!("unexpected reply {other:?}")),
    }
}

fn error_text(reply: &Reply) -> String {
    match reply {
        Reply::Error(text) => String::from_utf8_lossy(text).into_owned(),
        other => format!("{other:?}"),
    }
}

/// `CLUSTER REBALANCE [DRYRUN]` on the metadata leader: plans from the map and each shard's key
/// count, and (unless `dry_run`) records each step in the map: replicas placed and unplaced
/// (the shards' leaders follow), slot moves (driven here, one at a time). Leadership steps are
/// shown but left to the map's preferred leaders, which the shards' leaders already follow.
/// Replies one line per step.
pub async fn rebalance(node: &Arc<Node>, dry_run: bool) -> Reply {
    rebalance_with(node, dry_run, true).await
}

/// [`rebalance`], moving slots too only if `slots`.
async fn rebalance_with(node: &Arc<Node>, dry_run: bool, slots: bool) -> Reply {
    let map = node.map();
    if !map.moves.is_empty() {
        return concord_core::Error::err("slot moves are in progress; rebalance once they are done").into();
    }
    let mut loads = BTreeMap::new();
    for &shard in map.shards.keys() {
        let argv = vec![bytes::Bytes::from_static(b"DBSIZE")];
        let Ok(Some(KeyspaceOp::Read(op))) = commands::parse_keyspace_command(&argv) else {
            unreachable!("DBSIZE is a read")
        };
        match node.clone().read_for_node(shard, 0, op, argv, Rng::new(node.next_seed())).await {
            Reply::Integer(keys) => loads.insert(shard, keys.max(0) as u64),
            other => return other,
        };
    }
    let mut layout = Layout::from_map(&map, &loads);
    layout.options.balance_slots = slots;
    let plan = layout.plan();
    let mut lines = Vec::with_capacity(plan.len());
    for step in plan {
        let (change, text) = match step {
            PlanStep::AddReplica { shard, node: to } => {
                (Some(ClusterChange::PlaceReplica { shard, node: to }), format!("add a replica of {shard} on {to}"))
            }
            PlanStep::RemoveReplica { shard, node: from } => (
                Some(ClusterChange::UnplaceReplica { shard, node: from }),
                format!("remove the replica of {shard} from {from}"),
            ),
            PlanStep::TransferLeader { shard, to } => {
                (None, format!("lead {shard} from {to} (left to the map's preferred leaders)"))
            }
            PlanStep::MoveSlots { first, last, from, to } => (
                Some(ClusterChange::MoveSlots { ranges: vec![(first, last)], target: to }),
                format!("move slots {first}-{last} from {from} to {to}"),
            ),
        };
        if let (Some(change), false) = (change, dry_run) {
            if let Err(why) = meta(node, change).await {
                lines.push(Reply::bulk_text(format!("{text}: refused ({why})")));
                continue;
            }
        }
        lines.push(Reply::bulk_text(text));
    }
    Reply::Array(lines)
}

/// How long a split waits for its new shard to elect a leader before moving slots to it.
const NEW_SHARD_WAIT_MS: u64 = 30_000;

/// `CLUSTER SPLITSHARD`: a new shard, founded on the voting member holding the fewest replicas
/// (lowest id first), takes the upper half of `shard`'s slots once it has a leader (placement
/// then gives it its other replicas). Replies the new shard's name and the move's id.
pub async fn split(node: &Arc<Node>, shard: GroupId) -> Reply {
    let map = node.map();
    let ranges: Vec<(u16, u16)> = map.ranges_of(shard).collect();
    let total: u32 = ranges.iter().map(|(first, last)| u32::from(last - first) + 1).sum();
    if total < 2 {
        return concord_core::Error::err(format_args!("{shard} owns too few slots to split")).into();
    }
    let mut load: BTreeMap<NodeId, usize> =
        map.members.iter().filter(|(_, m)| m.voter).map(|(id, _)| (*id, 0)).collect();
    for replica in map.shards.values().flat_map(|s| s.replicas.iter()) {
        if let Some(count) = load.get_mut(replica) {
            *count += 1;
        }
    }
    let Some(founder) = load.iter().min_by_key(|(id, count)| (**count, **id)).map(|(id, _)| *id) else {
        return concord_core::Error::err("no voting member to found a shard on").into();
    };
    let new = match meta(node, ClusterChange::AddShard { founder }).await.and_then(integer) {
        Ok(id) => GroupId(id as u32),
        Err(why) => return concord_core::Error::err(why).into(),
    };
    let waited = std::time::Instant::now();
    while node.map().shards.get(&new).is_none_or(|s| s.leader.is_none()) {
        if waited.elapsed() > Duration::from_millis(NEW_SHARD_WAIT_MS) {
            return concord_core::Error::err(format_args!("{new} was created but elected no leader in time")).into();
        }
        tokio::time::sleep(Duration::from_millis(MOVE_POLL_MS / 2)).await;
    }
    // The upper half, by slot count.
    let mut keep = total / 2;
    let mut moving = Vec::new();
    for (first, last) in ranges {
        let count = u32::from(last - first) + 1;
        if keep >= count {
            keep -= count;
            continue;
        }
        moving.push((first + keep as u16, last));
        keep = 0;
    }
    match meta(node, ClusterChange::MoveSlots { ranges: moving, target: new }).await {
        Ok(id) => Reply::Array(vec![Reply::bulk_text(new.to_string()), id]),
        Err(why) => concord_core::Error::err(why).into(),
    }
}
