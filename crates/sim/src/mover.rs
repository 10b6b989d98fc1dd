//! The slot mover: while faults are injected, and only when the plan has two shards or more, it
//! asks a node picked at random, at random times, to move a random run of slots that one shard
//! owns (as that node's map shows it, `DEBUG SHARDS`) to another shard (`CLUSTER MIGRATESLOTS`),
//! and now and then to give up one move or all (`CLUSTER CANCELSLOTMIGRATIONS`). Every request
//! and its reply goes to the run's log of slot moves, for the transcript.
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
/// Out of 100 requests, how many give moves up rather than begin one.
const CANCEL_PERCENT: u64 = 20;
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
        let cancel = rng.below(100) < CANCEL_PERCENT;
        let via = Plan::node_name(node);
        let Some(mut client) = connect(node, REQUEST_TIMEOUT_MS).await else {
            shared.note_move(format!("via {via}: cannot connect"));
            continue;
        };
        let argv = if cancel {
            pick_cancel(&mut rng, &mut client).await
        } else {
            let Some(views) = shards(&mut client).await else {
                shared.note_move(format!("via {via}: DEBUG SHARDS gave no map"));
                continue;
            };
            match pick_move(&mut rng, &views) {
                Some(argv) => argv,
                None => continue,
            }
        };
        shared.note_move(format!("via {via}: {}", argv.join(" ")));
        let reply = client.call(&argv).await;
        let (asked, begun, cancels) = shared.move_counts.get();
        shared.move_counts.set(match (cancel, &reply) {
            (true, _) => (asked, begun, cancels + 1),
            (false, Ok(Reply::Integer(_))) => (asked + 1, begun + 1, cancels),
            (false, _) => (asked + 1, begun, cancels),
        });
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
