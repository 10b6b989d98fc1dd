//! The simulated clients: workload clients that issue one operation at a time and record what
//! they saw, the controller that watches the cluster form and, at the end, reads every key and
//! asks every replica of every group for its state, and the watcher that keeps track of the
//! shards' leaders for the nemesis.

use crate::net::{now_us, SimNet};
use crate::plan::{derive, Plan};
use concord_check::converge::Replica;
use concord_check::history::{Call, History, Outcome, Value};
use concord_check::placement::{Holding, Owner};
use concord_check::pubsub::PubSubHistory;
use concord_check::workload::{self, Workload};
use concord_core::rng::Rng;
use concord_core::Reply;
use concord_node::client::Client;
use concord_verify::driver::{execute, replica_state, replicas_to_ask, shard_of, shards, slot_keys, voters, ShardView};
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::Duration;

pub const CLIENT_PORT: u16 = 6379;
/// How long a client waits for a reply before it counts the outcome as unknown: longer than
/// a node takes to give a definite answer while leadership settles.
const OPERATION_TIMEOUT_MS: u64 = 12_000;
/// How long a liveness probe waits for its write.
const PROBE_TIMEOUT_MS: u64 = 2_000;
/// How often the watcher asks a node who leads the shards, and how long it waits for the
/// answer (a node cut off or paused must not hold it up).
const WATCH_INTERVAL_MS: u64 = 250;
const WATCH_TIMEOUT_MS: u64 = 300;
/// The cluster must have formed by then.
pub const FORMATION_MAX_MS: u64 = 60_000;
/// After healing, final reads and convergence must succeed within this.
pub const SETTLE_MAX_MS: u64 = 30_000;

/// What the hosts share with the driver (all on the simulator's one thread).
pub struct Shared {
    pub plan: Plan,
    pub history: RefCell<History>,
    /// What the Pub/Sub clients saw (see [`crate::pubsub`]).
    pub pubsub: RefCell<PubSubHistory>,
    pub workload: RefCell<Workload>,
    /// Simulated milliseconds at which the cluster formed (the safety phase starts).
    pub formed_ms: Cell<Option<u64>>,
    /// Each node's id (CLUSTER MYID), by index, and the shards as the map showed them once
    /// the cluster formed.
    pub ids: RefCell<Vec<String>>,
    pub shards: RefCell<Vec<ShardView>>,
    /// The node leading each shard (group), as a node last told the watcher.
    pub leaders: RefCell<BTreeMap<u32, usize>>,
    /// Each key's final read's reply (GET, LRANGE, SMEMBERS or XINFO STREAM FULL, as its
    /// family asks).
    pub finals: RefCell<BTreeMap<String, Value>>,
    pub replicas: RefCell<Vec<Replica>>,
    /// Progress the cluster failed to make.
    pub liveness: RefCell<Vec<String>>,
    /// The slot mover's requests and replies, and when the moves ended (see [`crate::mover`]).
    pub moves: RefCell<Vec<String>>,
    /// Moves, cancellations, splits and merges asked for, and how many began.
    pub move_counts: Cell<crate::mover::MoveCounts>,
    /// The final map and what each shard's replicas held then, once no move was in progress
    /// (`None` if the moves never ended), for [`concord_check::placement`].
    pub placement: RefCell<Option<(Vec<Owner>, Vec<Holding>)>>,
    /// A node the operator removed, for the nemesis to stop and wipe (see [`crate::operator`]).
    pub wipe: Cell<Option<usize>>,
}

impl Shared {
    pub fn new(plan: Plan) -> Shared {
        let workload = Workload::new(plan.workload.clone(), derive(plan.seed, 4));
        Shared {
            plan,
            history: RefCell::new(History::default()),
            pubsub: RefCell::new(PubSubHistory::default()),
            workload: RefCell::new(workload),
            formed_ms: Cell::new(None),
            ids: RefCell::new(Vec::new()),
            shards: RefCell::new(Vec::new()),
            leaders: RefCell::new(BTreeMap::new()),
            finals: RefCell::new(BTreeMap::new()),
            replicas: RefCell::new(Vec::new()),
            liveness: RefCell::new(Vec::new()),
            moves: RefCell::new(Vec::new()),
            move_counts: Cell::new(crate::mover::MoveCounts::default()),
            placement: RefCell::new(None),
            wipe: Cell::new(None),
        }
    }

    /// Adds a line to the log of slot moves, stamped with the simulated time.
    pub fn note_move(&self, what: String) {
        let now_ms = elapsed_ms();
        tracing::info!("mover at {now_ms} ms: {what}");
        self.moves.borrow_mut().push(format!("{now_ms:>7} ms  {what}"));
    }

    pub fn heal_ms(&self) -> Option<u64> {
        self.formed_ms.get().map(|formed| formed + self.plan.safety_ms)
    }

    pub fn stop_ms(&self) -> Option<u64> {
        self.heal_ms().map(|heal| heal + self.plan.liveness_ms)
    }
}

pub fn elapsed_ms() -> u64 {
    turmoil::sim_elapsed().expect("inside the simulation").as_millis() as u64
}

async fn sleep_ms(ms: u64) {
    tokio::time::sleep(Duration::from_millis(ms)).await;
}

fn address(node: usize) -> String {
    format!("{}:{CLIENT_PORT}", Plan::node_name(node))
}

async fn connect(node: usize) -> Option<Client> {
    Client::connect_on(&SimNet, &address(node), Duration::from_millis(OPERATION_TIMEOUT_MS)).await.ok()
}

/// A workload client: one connection (to a node picked at random, again after each failure),
/// one operation at a time, from formation until the end of the liveness phase.
pub async fn workload_client(index: u32, shared: Rc<Shared>) -> turmoil::Result {
    let mut rng = Rng::new(derive(shared.plan.seed, 100 + u64::from(index)));
    while shared.formed_ms.get().is_none() {
        sleep_ms(50).await;
    }
    let stop_ms = shared.stop_ms().expect("formed");
    let mut client: Option<Client> = None;
    while elapsed_ms() < stop_ms {
        let Some(connection) = client.as_mut() else {
            client = connect(rng.below(shared.plan.nodes as u64) as usize).await;
            if client.is_none() {
                sleep_ms(50 + rng.below(200)).await;
            }
            continue;
        };
        let call = {
            let mut workload = shared.workload.borrow_mut();
            workload.at(elapsed_ms() - shared.formed_ms.get().expect("formed"));
            workload.next_call(index)
        };
        let invoked_us = now_us();
        let reply = execute(connection, &call).await;
        let completed_us = now_us();
        let outcome = workload::outcome(&call, reply.as_ref().map_err(Clone::clone));
        if reply.is_err() {
            client = None;
        }
        shared.workload.borrow_mut().observe(&call, &outcome);
        shared.history.borrow_mut().push(index, call, invoked_us, completed_us, outcome);
        sleep_ms(rng.below(20)).await;
    }
    Ok(())
}

/// Whether the cluster has formed: every node votes, the map has the plan's shards, each with
/// a leader; then every node's id is known. Records the ids and the shards.
async fn formed(shared: &Shared) -> bool {
    let plan = &shared.plan;
    let Some(mut client) = connect(0).await else { return false };
    match client.call(&["CLUSTER", "MEMBERS"]).await {
        Ok(reply) if voters(&reply) == plan.nodes => {}
        _ => return false,
    }
    let Some(views) = shards(&mut client).await else { return false };
    if views.len() != plan.shards as usize || views.iter().any(|view| view.leader.is_none()) {
        return false;
    }
    let mut ids = Vec::new();
    for node in 0..plan.nodes {
        let Some(mut client) = connect(node).await else { return false };
        match client.call(&["CLUSTER", "MYID"]).await {
            Ok(Reply::Bulk(id)) => ids.push(String::from_utf8_lossy(&id).into_owned()),
            _ => return false,
        }
    }
    *shared.ids.borrow_mut() = ids;
    *shared.shards.borrow_mut() = views;
    true
}

/// The controller: waits for the cluster to form, then, after the workload, reads every key
/// and compares the replicas of each group.
pub async fn controller(shared: Rc<Shared>) -> turmoil::Result {
    while !formed(&shared).await {
        if elapsed_ms() > FORMATION_MAX_MS {
            shared.liveness.borrow_mut().push(format!("the cluster did not form within {FORMATION_MAX_MS} ms"));
            break;
        }
        sleep_ms(100).await;
    }
    shared.formed_ms.set(Some(elapsed_ms()));
    let stop_ms = shared.stop_ms().expect("formed");
    probe_after_healing(&shared).await;
    while elapsed_ms() < stop_ms + 500 {
        sleep_ms(100).await;
    }
    let deadline_ms = elapsed_ms() + SETTLE_MAX_MS;
    final_reads(&shared, deadline_ms).await;
    compare_replicas(&shared, deadline_ms).await;
    record_placement(&shared, deadline_ms).await;
    Ok(())
}

/// The map as some node shows it now, asking the nodes in turn from `node` on (the map seen
/// at formation if none answers).
async fn current_map(shared: &Shared, node: &mut usize) -> Vec<ShardView> {
    for _ in 0..shared.plan.nodes {
        if let Some(mut client) = connect(*node).await {
            if let Some(views) = shards(&mut client).await {
                return views;
            }
        }
        *node = (*node + 1) % shared.plan.nodes;
    }
    shared.shards.borrow().clone()
}

/// Logs the final map beside the slot moves, and how many slots it gives another shard than
/// the map at formation did: whether the moves moved anything.
fn note_final_map(shared: &Shared, views: &[ShardView]) {
    let owner = |views: &[ShardView], slot: u16| {
        views
            .iter()
            .find(|view| view.ranges.iter().any(|&(first, last)| (first..=last).contains(&slot)))
            .map(|v| v.group)
    };
    let formed = shared.shards.borrow();
    let moved = (0..concord_core::limits::SLOTS).filter(|&slot| owner(views, slot) != owner(&formed, slot)).count();
    let shards: Vec<String> = views
        .iter()
        .map(|view| {
            let ranges: Vec<String> = view.ranges.iter().map(|(first, last)| format!("{first}-{last}")).collect();
            format!("shard {} {}", view.group, if ranges.is_empty() { "none".into() } else { ranges.join(" ") })
        })
        .collect();
    shared.note_move(format!("final map: {}; {moved} slots changed shards", shards.join("; ")));
}

/// Once no move is in progress (after the final reads and convergence), the final map and
/// what every replica of every shard holds: each must hold keys of its own slots only.
async fn record_placement(shared: &Shared, deadline_ms: u64) {
    if let Err(last) = crate::mover::moves_ended(shared, deadline_ms).await {
        shared.liveness.borrow_mut().push(format!("slot moves were in progress at the end of the run: {last}"));
        return;
    }
    let mut node = 0;
    loop {
        // Read again each round: a node the operator removed comes back under a new id.
        let ids = shared.ids.borrow().clone();
        let views = current_map(shared, &mut node).await;
        let mut holdings = Vec::new();
        for asked in replicas_to_ask(&views, &ids).into_iter().filter(|asked| asked.group != 0) {
            let (name, held) = match asked.node {
                Ok(index) => {
                    let held = match connect(index).await {
                        Some(mut client) => slot_keys(&mut client, asked.group).await,
                        None => None,
                    };
                    (Plan::node_name(index), held)
                }
                Err(id) => (format!("node {id}"), None),
            };
            let (slots, moves) = match held {
                Some(held) => (Some(held.slots), held.moves),
                None => (None, Vec::new()),
            };
            holdings.push(Holding { group: asked.group, node: name, slots, moves });
        }
        let answered = holdings.iter().all(|holding| holding.slots.is_some());
        if answered || elapsed_ms() > deadline_ms {
            if shared.plan.moves_slots() {
                note_final_map(shared, &views);
            }
            let owners = views.into_iter().map(|view| Owner { group: view.group, ranges: view.ranges }).collect();
            *shared.placement.borrow_mut() = Some((owners, holdings));
            return;
        }
        sleep_ms(200).await;
    }
}

/// The watcher: while faults are injected, asks the nodes in turn who leads each shard, so
/// that the nemesis can aim at leaders.
pub async fn leader_watch(shared: Rc<Shared>) -> turmoil::Result {
    while shared.formed_ms.get().is_none() {
        sleep_ms(50).await;
    }
    let heal_ms = shared.heal_ms().expect("formed");
    let timeout = Duration::from_millis(WATCH_TIMEOUT_MS);
    for turn in 0usize.. {
        if elapsed_ms() >= heal_ms {
            break;
        }
        let node = turn % shared.plan.nodes;
        if let Ok(mut client) = Client::connect_on(&SimNet, &address(node), timeout).await {
            if let Some(views) = shards(&mut client).await {
                let ids = shared.ids.borrow();
                let leaders = views.iter().filter_map(|view| {
                    let leader = view.leader.as_ref()?;
                    Some((view.group, ids.iter().position(|id| id == leader)?))
                });
                *shared.leaders.borrow_mut() = leaders.collect();
            }
        }
        sleep_ms(WATCH_INTERVAL_MS).await;
    }
    Ok(())
}

/// A key of `shard` (which owns some slot) for liveness probes (keys hash to slots; the first
/// that lands there).
fn probe_key(shards: &[ShardView], shard: u32, attempt: u64) -> String {
    (0u64..)
        .map(|n| format!("probe:{attempt}:{n}"))
        .find(|key| shard_of(shards, key) == Some(shard))
        .expect("the shard owns slots")
}

/// Liveness: once the faults are healed, every slot move must end, then a write to each shard
/// that owns slots, on a fresh connection (to each node in turn), must succeed, all before the
/// liveness phase ends. Fresh connections, because a workload client may still wait out a
/// request whose stream a partition stalled.
async fn probe_after_healing(shared: &Shared) {
    let heal_ms = shared.heal_ms().expect("formed");
    let stop_ms = shared.stop_ms().expect("formed");
    let liveness_ms = shared.plan.liveness_ms;
    while elapsed_ms() < heal_ms {
        sleep_ms(50).await;
    }
    if shared.plan.moves_slots() {
        match crate::mover::moves_ended(shared, stop_ms).await {
            Ok(()) => shared.note_move("after healing: no move in progress on any node".into()),
            Err(last) => {
                shared.note_move(format!("after healing: moves still in progress: {last}"));
                shared
                    .liveness
                    .borrow_mut()
                    .push(format!("slot moves still in progress {liveness_ms} ms after healing: {last}"));
            }
        }
    }
    // The map as it stands now: moves have given slots to other shards, and some shard may
    // own none. Without moves, the map formation saw.
    let shards = match shared.plan.moves_slots() {
        true => current_map(shared, &mut 0).await,
        false => shared.shards.borrow().clone(),
    };
    let mut attempt = 0u64;
    for shard in shards.iter().filter(|view| !view.ranges.is_empty()).map(|view| view.group) {
        loop {
            let node = attempt as usize % shared.plan.nodes;
            let key = probe_key(&shards, shard, attempt);
            attempt += 1;
            let timeout = Duration::from_millis(PROBE_TIMEOUT_MS);
            if let Ok(mut client) = Client::connect_on(&SimNet, &address(node), timeout).await {
                if let Ok(Reply::Status(_)) = client.call(&["SET", &key, "1"]).await {
                    break;
                }
            }
            if elapsed_ms() > stop_ms {
                shared
                    .liveness
                    .borrow_mut()
                    .push(format!("no write to shard {shard} succeeded in the {liveness_ms} ms after healing"));
                return;
            }
            sleep_ms(100).await;
        }
    }
}

/// Reads every key through the leader, retrying refusals, and records the reads in the history.
async fn final_reads(shared: &Shared, deadline_ms: u64) {
    let keys = shared.workload.borrow().keys();
    let reader = shared.plan.clients;
    let mut node = 0;
    for key in keys {
        loop {
            let call = Call::One(workload::final_read(&key));
            let invoked_us = now_us();
            let reply = match connect(node).await {
                Some(mut client) => execute(&mut client, &call).await,
                None => Err("cannot connect".into()),
            };
            let outcome = workload::outcome(&call, reply.as_ref().map_err(Clone::clone));
            let completed_us = now_us();
            if let Outcome::Done(values) = &outcome {
                shared.finals.borrow_mut().insert(key.clone(), values[0].clone());
                shared.history.borrow_mut().push(reader, call, invoked_us, completed_us, outcome);
                break;
            }
            if elapsed_ms() > deadline_ms {
                shared.liveness.borrow_mut().push(format!("the final read of {key} did not succeed ({outcome})"));
                return;
            }
            node = (node + 1) % shared.plan.nodes;
            sleep_ms(100).await;
        }
    }
}

/// Asks every replica of every group (the metadata group on every node, each shard on the
/// nodes its map places it on) for its applied index and state digest, until each group's
/// replicas agree (or time runs out).
async fn compare_replicas(shared: &Shared, deadline_ms: u64) {
    let mut node = 0;
    loop {
        // Read again each round: a node the operator removed comes back under a new id.
        let ids = shared.ids.borrow().clone();
        let views = current_map(shared, &mut node).await;
        let mut replicas = Vec::new();
        for asked in replicas_to_ask(&views, &ids) {
            let (name, state) = match asked.node {
                Ok(index) => {
                    let state = match connect(index).await {
                        Some(mut client) => replica_state(&mut client, asked.group).await,
                        None => None,
                    };
                    (Plan::node_name(index), state)
                }
                Err(id) => (format!("node {id}"), None),
            };
            replicas.push(Replica { group: asked.group, node: name, state });
        }
        let settled = concord_check::converge::check(&replicas).is_empty();
        *shared.replicas.borrow_mut() = replicas;
        if settled || elapsed_ms() > deadline_ms {
            return;
        }
        sleep_ms(200).await;
    }
}
