//! The operator: in plans with a [`Removal`], it takes a node out of the cluster on purpose while
//! faults are injected, as `docs/OPERATIONS.md` says: `CLUSTER FORGET <id>` through another node
//! (asked again until it answers `OK`: its replicas must first move away, which faults may hold
//! up), then the node is stopped and its data deleted (by the nemesis, between two steps), and
//! it starts again empty, joining as a new member under a new id, which the operator records
//! for the final checks. Every request and its reply goes to the run's log of slot moves.

use crate::clients::{elapsed_ms, Shared, CLIENT_PORT, SETTLE_MAX_MS};
use crate::net::SimNet;
use crate::plan::{derive, Plan, Removal};
use concord_core::rng::Rng;
use concord_core::Reply;
use concord_node::client::Client;
use std::rc::Rc;
use std::time::Duration;

/// How long one FORGET may take before it is asked again (the node drains for up to two
/// minutes, longer than a run, before it answers `-TRYAGAIN`).
const FORGET_TIMEOUT_MS: u64 = 10_000;
/// Pause between two tries, and between two looks at the restarted node.
const RETRY_MS: u64 = 500;

async fn sleep_ms(ms: u64) {
    tokio::time::sleep(Duration::from_millis(ms)).await;
}

async fn call(node: usize, argv: &[&str], timeout_ms: u64) -> Result<Reply, String> {
    let address = format!("{}:{CLIENT_PORT}", Plan::node_name(node));
    let ask = async {
        let mut client = Client::connect_on(&SimNet, &address, Duration::from_millis(timeout_ms))
            .await
            .map_err(|e| e.to_string())?;
        client.call(argv).await.map_err(|e| e.to_string())
    };
    tokio::time::timeout(Duration::from_millis(timeout_ms), ask).await.unwrap_or_else(|_| Err("timed out".into()))
}

/// The operator host: from formation until the removed node is back as a new member.
pub async fn operator(shared: Rc<Shared>) -> turmoil::Result {
    let Some(Removal { node, after_ms }) = shared.plan.removal else { return Ok(()) };
    let mut rng = Rng::new(derive(shared.plan.seed, 7));
    while shared.formed_ms.get().is_none() {
        sleep_ms(50).await;
    }
    sleep_ms(after_ms).await;
    let name = Plan::node_name(node);
    let old_id = shared.ids.borrow()[node].clone();
    let give_up_ms = shared.stop_ms().expect("formed") + SETTLE_MAX_MS;
    loop {
        let others: Vec<usize> = (0..shared.plan.nodes).filter(|other| *other != node).collect();
        let via = others[rng.below(others.len() as u64) as usize];
        let via_name = Plan::node_name(via);
        shared.note_move(format!("operator via {via_name}: CLUSTER FORGET {old_id} ({name})"));
        let reply = call(via, &["CLUSTER", "FORGET", &old_id], FORGET_TIMEOUT_MS).await;
        let done = reply.as_ref().is_ok_and(|reply| !reply.is_error());
        let said = match &reply {
            Ok(reply) => crate::mover::one_line(reply),
            Err(error) => format!("unknown: {error}"),
        };
        shared.note_move(format!("operator via {via_name}: -> {said}"));
        if done {
            break;
        }
        if elapsed_ms() > give_up_ms {
            shared.liveness.borrow_mut().push(format!("the operator could not remove {name}: {said}"));
            return Ok(());
        }
        sleep_ms(RETRY_MS).await;
    }
    shared.wipe.set(Some(node));
    // The node starts again empty, under a new id, and joins through the first node.
    loop {
        sleep_ms(RETRY_MS).await;
        if let Ok(Reply::Bulk(id)) = call(node, &["CLUSTER", "MYID"], RETRY_MS * 4).await {
            let id = String::from_utf8_lossy(&id).into_owned();
            if id != old_id {
                shared.note_move(format!("operator: {name} is back empty as {id}"));
                shared.ids.borrow_mut()[node] = id;
                return Ok(());
            }
        }
        if elapsed_ms() > give_up_ms {
            shared.liveness.borrow_mut().push(format!("{name} did not come back after its removal"));
            return Ok(());
        }
    }
}
