//! The slot mover: while faults are injected, and only when the plan has two shards or more, it
//! asks a node picked at random, at random times, to move a random run of slots that one shard
//! owns (as that node's map shows it, `DEBUG SHARDS`) to another shard (`CLUSTER MIGRATESLOTS`),
//! now and then to give up one move or all (`CLUSTER CANCELSLOTMIGRATIONS`), to split a shard
//! (`CLUSTER SPLITSHARD`: a new Raft group founded on some node takes half its slots) or to merge
//! one into another (`CLUSTER MERGESHARDS`: the emptied shard stays, a target for later moves).
//! Every request and its reply goes to the run's log of slot moves, for the transcript.
//!
//! A node's map may lag behind the metadata group's, so some requests are refused (the slots
//! moved on, or are moving already): refusals are part of the schedule. After healing, the
//! controller waits for every move to end ([`moves_ended`]) before it probes the shards.

use crate::clients::{elapsed_ms, Shared, CLIENT_PORT};
use crate::net::SimNet;
use crate::plan::{derive, Plan};
use concord_core::rng::Rng;
use concord_core::Reply;
use concord_node::client::Client;
use concord_verify::driver::{shards, ShardView};
use std::rc::Rc;
use std::time::Duration;

/// How long a mover's request may take: a move is begun or cancelled through the metadata
/// group's leader, which a partition may keep out of reach.
const REQUEST_TIMEOUT_MS: u64 = 5_000;
/// How often the controller asks whether the moves have ended, after healing.
const MOVES_POLL_MS: u64 = 200;
/// Out of 100 requests, how many give moves up, split a shard and merge two; the rest move
/// slots.
const CANCEL_PERCENT: u64 = 20;
const SPLIT_PERCENT: u64 = 6;
const MERGE_PERCENT: u64 = 4;
/// No split once the map has this many shards, so that a run's groups stay few enough to
/// simulate quickly.
const SHARDS_SPLIT_MAX: usize = 6;
/// The widest run of slots a "small" move takes.
const SMALL_MOVE_SLOTS_MAX: u64 = 16;

async fn sleep_ms(ms: u64) {
    tokio::time::sleep(Duration::from_millis(ms)).await;
}

async fn connect(node: usize, timeout_ms: u64) -> Option<Client> {
    let address = format!("{}:{CLIENT_PORT}", Plan::node_name(node));
    Client::connect_on(&SimNet, &address, Duration::from_millis(timeout_ms)).await.ok()
}

/// A reply on one line, for the log: maps as `{key: value}`, arrays as `[a, b]`.
pub fn one_line(reply: &Reply) -> String {
    match reply {
        Reply::Status(text) | Reply::Bulk(text) | Reply::Verbatim(text) => String::from_utf8_lossy(text).into_owned(),
        Reply::Error(text) => format!("(error) {}", String::from_utf8_lossy(text)),
        Reply::Integer(value) => value.to_string(),
        Reply::Nil | Reply::NilArray | Reply::Blocked => "(nil)".into(),
        Reply::Double(value) | Reply::HumanDouble(value) => value.to_string(),
        Reply::Boolean(value) => value.to_string(),
        Reply::Array(items) | Reply::Set(items) | Reply::Push(items) => {
            format!("[{}]", items.iter().map(one_line).collect::<Vec<_>>().join(", "))
        }
        Reply::Map(pairs) | Reply::Pairs(pairs) | Reply::Keyed(pairs) => {
            let pairs: Vec<String> = pairs.iter().map(|(k, v)| format!("{}: {}", one_line(k), one_line(v))).collect();
            format!("{{{}}}", pairs.join(", "))
        }
    }
}

/// The ids of the moves in a `CLUSTER GETSLOTMIGRATIONS` reply (each move a map, or, in
/// RESP2, a flat array of field and value).
pub fn move_ids(reply: &Reply) -> Option<Vec<u64>> {
    let Reply::Array(moves) = reply else { return None };
    moves
        .iter()
        .map(|one| {
            let pairs: Vec<(&Reply, &Reply)> = match one {
                Reply::Map(pairs) => pairs.iter().map(|(k, v)| (k, v)).collect(),
                Reply::Array(flat) => flat.chunks(2).filter_map(|pair| Some((pair.first()?, pair.get(1)?))).collect(),
                _ => return None,
            };
            pairs.into_iter().find_map(|(key, value)| match (key, value) {
                (Reply::Bulk(key), Reply::Integer(id)) if &key[..] == b"id" => u64::try_from(*id).ok(),
                _ => None,
            })
        })
        .collect()
}

/// A `CLUSTER MIGRATESLOTS` request for a run of one shard's slots, to another shard, as
/// `views` shows them; `None` when no shard owns slots (never, as the map stands) or there is
/// no other shard.
fn pick_move(rng: &mut Rng, views: &[ShardView]) -> Option<Vec<String>> {
    let sources: Vec<&ShardView> = views.iter().filter(|view| !view.ranges.is_empty()).collect();
    if sources.is_empty() || views.len() < 2 {
        return None;
    }
    let source = sources[rng.below(sources.len() as u64) as usize];
    let (first, last) = source.ranges[rng.below(source.ranges.len() as u64) as usize];
    let span = u64::from(last - first) + 1;
    // Whole runs empty a shard now and then; small ones often hold no key at all; the rest
    // carry a share of the workload's keys.
    let width = match rng.below(4) {
        0 => span,
        1 => 1 + rng.below(span.min(SMALL_MOVE_SLOTS_MAX)),
        _ => 1 + rng.below(span.div_ceil(2)),
    };
    let start = u64::from(first) + rng.below(span - width + 1);
    let targets: Vec<u32> = views.iter().map(|view| view.group).filter(|group| *group != source.group).collect();
    let target = targets[rng.below(targets.len() as u64) as usize];
    let end = start + width - 1;
    Some(
        ["CLUSTER", "MIGRATESLOTS", "SLOTSRANGE", &start.to_string(), &end.to_string(), "SHARD", &format!("g{target}")]
            .map(String::from)
            .to_vec(),
    )
}

/// A `CLUSTER SPLITSHARD` request for a shard that owns two slots or more, while the map has
/// fewer than [`SHARDS_SPLIT_MAX`] shards.
fn pick_split(rng: &mut Rng, views: &[ShardView]) -> Option<Vec<String>> {
    let slots = |view: &ShardView| view.ranges.iter().map(|&(first, last)| u32::from(last - first) + 1).sum::<u32>();
    let splittable: Vec<&ShardView> = views.iter().filter(|view| slots(view) >= 2).collect();
    if splittable.is_empty() || views.len() >= SHARDS_SPLIT_MAX {
        return None;
    }
    let shard = splittable[rng.below(splittable.len() as u64) as usize];
    Some(vec!["CLUSTER".into(), "SPLITSHARD".into(), format!("g{}", shard.group)])
}

/// A `CLUSTER MERGESHARDS` request: every slot of a shard that owns some, to another shard.
fn pick_merge(rng: &mut Rng, views: &[ShardView]) -> Option<Vec<String>> {
    let sources: Vec<&ShardView> = views.iter().filter(|view| !view.ranges.is_empty()).collect();
    if sources.is_empty() || views.len() < 2 {
        return None;
    }
    let source = sources[rng.below(sources.len() as u64) as usize];
    let targets: Vec<u32> = views.iter().map(|view| view.group).filter(|group| *group != source.group).collect();
    let target = targets[rng.below(targets.len() as u64) as usize];
    Some(vec!["CLUSTER".into(), "MERGESHARDS".into(), format!("g{}", source.group), format!("g{target}")])
}

/// What the mover asks for next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ask {
    Move,
    Cancel,
    Split,
    Merge,
}

/// What the mover asked for and got, for the run's summary.
#[derive(Clone, Copy, Debug, Default)]
pub struct MoveCounts {
    /// Moves asked for (`MIGRATESLOTS`), and how many of them began.
    pub asked: u64,
    pub begun: u64,
    pub cancels: u64,
    /// Splits and merges asked for, and how many of them began their move.
    pub splits: (u64, u64),
    pub merges: (u64, u64),
}

impl MoveCounts {
    fn count(&mut self, ask: Ask, reply: &Result<Reply, std::io::Error>) {
        let begun = match reply {
            Ok(Reply::Integer(_)) => 1,
            // A split answers its new shard's name and its move's id.
            Ok(Reply::Array(items)) => u64::from(matches!(items.get(1), Some(Reply::Integer(_)))),
            _ => 0,
        };
        let tally = |(asked, begun_before): (u64, u64)| (asked + 1, begun_before + begun);
        match ask {
            Ask::Move => (self.asked, self.begun) = tally((self.asked, self.begun)),
            Ask::Cancel => self.cancels += 1,
            Ask::Split => self.splits = tally(self.splits),
            Ask::Merge => self.merges = tally(self.merges),
        }
    }
}

/// A `CLUSTER CANCELSLOTMIGRATIONS` request: one of the moves the node knows of, or all.
async fn pick_cancel(rng: &mut Rng, client: &mut Client) -> Vec<String> {
    let known = client.call(&["CLUSTER", "GETSLOTMIGRATIONS"]).await.ok().and_then(|reply| move_ids(&reply));
    let mut argv = vec!["CLUSTER".to_string(), "CANCELSLOTMIGRATIONS".to_string()];
    match known.filter(|ids| !ids.is_empty()) {
        Some(ids) if rng.below(2) == 0 => argv.push(ids[rng.below(ids.len() as u64) as usize].to_string()),
        _ => argv.push("ALL".to_string()),
    }
    argv
}

/// The mover host: from formation until healing.
pub async fn slot_mover(shared: Rc<Shared>) -> turmoil::Result {
    let mut rng = Rng::new(derive(shared.plan.seed, 5));
    while shared.formed_ms.get().is_none() {
        sleep_ms(50).await;
    }
    let heal_ms = shared.heal_ms().expect("formed");
    let (low, high) = shared.plan.move_gap_ms;
    loop {
        sleep_ms(low + rng.below(high - low + 1)).await;
        if elapsed_ms() >= heal_ms {
            break;
        }
        let node = rng.below(shared.plan.nodes as u64) as usize;
        let ask = match rng.below(100) {
            draw if draw < CANCEL_PERCENT => Ask::Cancel,
            draw if draw < CANCEL_PERCENT + SPLIT_PERCENT => Ask::Split,
            draw if draw < CANCEL_PERCENT + SPLIT_PERCENT + MERGE_PERCENT => Ask::Merge,
            _ => Ask::Move,
        };
        let via = Plan::node_name(node);
        let Some(mut client) = connect(node, REQUEST_TIMEOUT_MS).await else {
            shared.note_move(format!("via {via}: cannot connect"));
            continue;
        };
        let argv = if ask == Ask::Cancel {
            pick_cancel(&mut rng, &mut client).await
        } else {
            let Some(views) = shards(&mut client).await else {
                shared.note_move(format!("via {via}: DEBUG SHARDS gave no map"));
                continue;
            };
            let pick = match ask {
                Ask::Split => pick_split,
                Ask::Merge => pick_merge,
                _ => pick_move,
            };
            match pick(&mut rng, &views) {
                Some(argv) => argv,
                None => continue,
            }
        };
        shared.note_move(format!("via {via}: {}", argv.join(" ")));
        let reply = client.call(&argv).await;
        let mut counts = shared.move_counts.get();
        counts.count(ask, &reply);
        shared.move_counts.set(counts);
        let reply = match reply {
            Ok(reply) => one_line(&reply),
            Err(error) => format!("unknown: {error}"),
        };
        shared.note_move(format!("via {via}: -> {reply}"));
    }
    Ok(())
}

/// After healing: waits, until `deadline_ms`, for a round in which every node answers that no
/// move is in progress (a node's map may lag, so one node's word is not enough). `Err` says
/// what the last answers showed.
pub async fn moves_ended(shared: &Shared, deadline_ms: u64) -> Result<(), String> {
    let nodes = shared.plan.nodes;
    loop {
        let mut last = Vec::new();
        for node in 0..nodes {
            let reply = match connect(node, MOVES_POLL_MS * 5).await {
                Some(mut client) => client.call(&["CLUSTER", "GETSLOTMIGRATIONS"]).await.ok(),
                None => None,
            };
            let ended = reply.as_ref().and_then(move_ids).is_some_and(|ids| ids.is_empty());
            if !ended {
                let seen = reply.as_ref().map_or_else(|| "no answer".to_string(), one_line);
                last.push(format!("{}: {seen}", Plan::node_name(node)));
            }
        }
        if last.is_empty() {
            return Ok(());
        }
        if elapsed_ms() > deadline_ms {
            return Err(last.join("; "));
        }
        sleep_ms(MOVES_POLL_MS).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(group: u32, ranges: Vec<(u16, u16)>) -> ShardView {
        ShardView { group, ranges, hosts: Vec::new(), leader: None }
    }

    #[test]
    fn a_move_takes_a_run_of_one_shards_slots_to_another() {
        let views = [view(1, vec![(0, 99), (5000, 5460)]), view(2, vec![(100, 4999)]), view(3, Vec::new())];
        let mut rng = Rng::new(7);
        let mut widths = std::collections::BTreeSet::new();
        for _ in 0..500 {
            let argv = pick_move(&mut rng, &views).expect("a move");
            assert_eq!(argv[..3], ["CLUSTER", "MIGRATESLOTS", "SLOTSRANGE"]);
            assert_eq!(argv[5], "SHARD");
            let (start, end): (u16, u16) = (argv[3].parse().unwrap(), argv[4].parse().unwrap());
            let target: u32 = argv[6].strip_prefix('g').unwrap().parse().unwrap();
            let source = views.iter().find(|v| v.ranges.iter().any(|&(a, b)| a <= start && end <= b));
            let source = source.unwrap_or_else(|| panic!("{start}-{end} is not inside one shard's run"));
            assert_ne!(source.group, target, "{argv:?}");
            widths.insert(end - start + 1);
        }
        // Whole runs, single slots and widths between.
        assert!(widths.contains(&100) && widths.contains(&4900) && widths.contains(&1), "{widths:?}");
        assert!(widths.len() > 50, "{widths:?}");
        assert_eq!(pick_move(&mut rng, &views[..1]), None, "one shard: nowhere to move to");
    }

    #[test]
    fn splits_take_a_shard_with_slots_to_spare_and_merges_empty_one_into_another() {
        let views = [view(1, vec![(0, 0)]), view(2, vec![(1, 16383)]), view(3, Vec::new())];
        let mut rng = Rng::new(11);
        for _ in 0..100 {
            assert_eq!(pick_split(&mut rng, &views).unwrap(), ["CLUSTER", "SPLITSHARD", "g2"], "one slot cannot split");
            let merge = pick_merge(&mut rng, &views).unwrap();
            assert_eq!(merge[..2], ["CLUSTER", "MERGESHARDS"]);
            assert!(merge[2] == "g1" || merge[2] == "g2", "{merge:?}: g3 owns nothing to merge");
            assert_ne!(merge[2], merge[3], "{merge:?}");
        }
        let many: Vec<ShardView> =
            (1..=SHARDS_SPLIT_MAX as u32).map(|g| view(g, vec![(g as u16 * 10, g as u16 * 10 + 5)])).collect();
        assert_eq!(pick_split(&mut rng, &many), None, "the map holds as many shards as a run may have");
        assert_eq!(pick_merge(&mut rng, &views[..1]), None, "one shard: nothing to merge into");
    }

    #[test]
    fn a_split_counts_as_begun_when_its_move_id_comes_back() {
        let mut counts = MoveCounts::default();
        counts.count(Ask::Split, &Ok(Reply::Array(vec![Reply::bulk_text("g4"), Reply::Integer(7)])));
        counts.count(Ask::Split, &Ok(Reply::Error("ERR g1 owns too few slots to split".into())));
        counts.count(Ask::Merge, &Ok(Reply::Integer(8)));
        counts.count(Ask::Move, &Err(std::io::Error::other("lost")));
        counts.count(Ask::Cancel, &Ok(Reply::Integer(0)));
        assert_eq!(
            (counts.splits, counts.merges, counts.asked, counts.begun, counts.cancels),
            ((2, 1), (1, 1), 1, 0, 1)
        );
    }

    #[test]
    fn move_ids_are_read_in_either_protocol() {
        let field = |name: &str, value: Reply| (Reply::bulk_text(name.to_string()), value);
        let resp3 = Reply::Array(vec![
            Reply::Map(vec![field("id", Reply::Integer(3)), field("state", Reply::bulk_text("copying"))]),
            Reply::Map(vec![field("id", Reply::Integer(5))]),
        ]);
        assert_eq!(move_ids(&resp3), Some(vec![3, 5]));
        let resp2 = Reply::Array(vec![Reply::Array(vec![Reply::bulk_text("id"), Reply::Integer(9)])]);
        assert_eq!(move_ids(&resp2), Some(vec![9]));
        assert_eq!(move_ids(&Reply::Array(Vec::new())), Some(Vec::new()));
        assert_eq!(move_ids(&Reply::Error("ERR no".into())), None);
        assert_eq!(one_line(&resp3), "[{id: 3, state: copying}, {id: 5}]");
    }
}
