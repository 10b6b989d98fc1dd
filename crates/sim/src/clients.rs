//! The simulated clients: workload clients that issue one operation at a time and record what
//! they saw, and the controller that watches the cluster form and, at the end, reads every key
//! and asks every replica for its state.

use crate::net::{now_us, SimNet};
use crate::plan::{derive, Plan};
use concord_check::converge::Replica;
use concord_check::history::{Call, History, Outcome, Value};
use concord_check::workload::{self, Workload};
use concord_core::rng::Rng;
use concord_core::Reply;
use concord_node::client::Client;
use concord_verify::driver::{execute, replica_state, voters};
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
/// The cluster must have formed by then.
pub const FORMATION_MAX_MS: u64 = 60_000;
/// After healing, final reads and convergence must succeed within this.
pub const SETTLE_MAX_MS: u64 = 30_000;

/// What the hosts share with the driver (all on the simulator's one thread).
pub struct Shared {
    pub plan: Plan,
    pub history: RefCell<History>,
    pub workload: RefCell<Workload>,
    /// Simulated milliseconds at which the cluster formed (the safety phase starts).
    pub formed_ms: Cell<Option<u64>>,
    /// Each key's final read's reply (GET, LRANGE or SMEMBERS, as its family asks).
    pub finals: RefCell<BTreeMap<String, Value>>,
    pub replicas: RefCell<Vec<Replica>>,
    /// Progress the cluster failed to make.
    pub liveness: RefCell<Vec<String>>,
}

impl Shared {
    pub fn new(plan: Plan) -> Shared {
        let workload = Workload::new(plan.workload.clone(), derive(plan.seed, 4));
        Shared {
            plan,
            history: RefCell::new(History::default()),
            workload: RefCell::new(workload),
            formed_ms: Cell::new(None),
            finals: RefCell::new(BTreeMap::new()),
            replicas: RefCell::new(Vec::new()),
            liveness: RefCell::new(Vec::new()),
        }
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
        shared.history.borrow_mut().push(index, call, invoked_us, completed_us, outcome);
        sleep_ms(rng.below(20)).await;
    }
    Ok(())
}

/// The controller: waits for the cluster to form, then, after the workload, reads every key
/// and compares the replicas.
pub async fn controller(shared: Rc<Shared>) -> turmoil::Result {
    let plan = shared.plan.clone();
    loop {
        if let Some(mut client) = connect(0).await {
            if let Ok(reply) = client.call(&["CLUSTER", "MEMBERS"]).await {
                if voters(&reply) == plan.nodes {
                    break;
                }
            }
        }
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
    Ok(())
}

/// Liveness: once the faults are healed, a write on a fresh connection (to each node in turn)
/// must succeed before the liveness phase ends. Fresh connections, because a workload client
/// may still wait out a request whose stream a partition stalled.
async fn probe_after_healing(shared: &Shared) {
    let heal_ms = shared.heal_ms().expect("formed");
    let stop_ms = shared.stop_ms().expect("formed");
    while elapsed_ms() < heal_ms {
        sleep_ms(50).await;
    }
    for attempt in 0u64.. {
        let node = attempt as usize % shared.plan.nodes;
        let key = format!("probe:{attempt}");
        let timeout = Duration::from_millis(PROBE_TIMEOUT_MS);
        if let Ok(mut client) = Client::connect_on(&SimNet, &address(node), timeout).await {
            if let Ok(Reply::Status(_)) = client.call(&["SET", &key, "1"]).await {
                return;
            }
        }
        if elapsed_ms() > stop_ms {
            let liveness_ms = shared.plan.liveness_ms;
            shared.liveness.borrow_mut().push(format!("no write succeeded in the {liveness_ms} ms after healing"));
            return;
        }
        sleep_ms(100).await;
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

/// Asks every node for its applied index and state digest until all agree (or time runs out).
async fn compare_replicas(shared: &Shared, deadline_ms: u64) {
    loop {
        let mut replicas = Vec::new();
        for node in 0..shared.plan.nodes {
            let state = match connect(node).await {
                Some(mut client) => replica_state(&mut client).await,
                None => None,
            };
            replicas.push(Replica { node: Plan::node_name(node), state });
        }
        let settled = concord_check::converge::check(&replicas).is_empty();
        *shared.replicas.borrow_mut() = replicas;
        if settled || elapsed_ms() > deadline_ms {
            return;
        }
        sleep_ms(200).await;
    }
}
