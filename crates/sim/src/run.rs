//! One simulated run: build the world from the seed, run the phases, check the history.

use crate::clients::{self, Shared, CLIENT_PORT};
use crate::nemesis::{Nemesis, Phase, LATENCY_MAX_MS, LATENCY_MIN_MS};
use crate::net::{SimClock, SimNet};
use crate::plan::{derive, Options, Plan};
use concord_check::converge::Replica;
use concord_check::history::{Command, History};
use concord_check::pubsub::{Coverage, PubSubHistory};
use concord_check::workload::{family, Family};
use concord_check::{check_all, Verdict};
use concord_node::config::{Routing, Settings};
use concord_node::{Env, ServerConfig};
use concord_storage::{SimDisk, SimFs};
use std::cell::Cell;
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant, UNIX_EPOCH};

/// The simulated clock starts here (2026-01-01), whatever the real date.
pub const EPOCH_SECS: u64 = 1_767_225_600;
pub const NODE_PORT: u16 = 16379;
/// A run that has not finished by then is stuck.
const SIMULATION_MAX_SECS: u64 = 600;

pub struct Run {
    pub plan: Plan,
    pub history: History,
    pub pubsub: PubSubHistory,
    pub pubsub_coverage: Coverage,
    /// The nemesis's log: what fault happened when.
    pub faults: Vec<String>,
    /// The slot mover's log: each request and its reply, and when the moves ended.
    pub moves: Vec<String>,
    /// Slot moves, cancellations, splits and merges asked for, and how many began.
    pub move_counts: crate::mover::MoveCounts,
    pub verdict: Verdict,
    /// What each replica of each group reported at the end.
    pub replicas: Vec<Replica>,
    /// Progress the cluster failed to make, and errors that stopped the simulation.
    pub liveness: Vec<String>,
    pub simulated: Duration,
    pub wall: Duration,
}

impl Run {
    pub fn passed(&self) -> bool {
        self.verdict.passed() && self.liveness.is_empty()
    }

    /// Everything the run produced, as text: the same seed gives the same bytes.
    pub fn transcript(&self) -> String {
        let mut text = String::new();
        text.push_str(&format!("{:#?}\n", self.plan));
        for line in &self.faults {
            text.push_str(line);
            text.push('\n');
        }
        for line in &self.moves {
            text.push_str("slot moves: ");
            text.push_str(line);
            text.push('\n');
        }
        text.push_str(&self.history.to_string());
        text.push_str(&self.pubsub.to_string());
        for replica in &self.replicas {
            let state = match &replica.state {
                Some((index, digest)) => format!("applied {index}, digest {digest}"),
                None => "no answer".into(),
            };
            text.push_str(&format!("group {} on {}: {state}\n", replica.group, replica.node));
        }
        text.push_str(&self.verdict.describe(&self.history));
        for line in &self.liveness {
            text.push_str(line);
            text.push('\n');
        }
        text
    }

    /// A one-line summary.
    pub fn summary(&self) -> String {
        let (done, failed, unknown) = concord_check::verdict::tally(&self.history);
        // How many calls went to the collection families, so a sweep shows they ran.
        let on = |wanted: Family| {
            let on_family = |command: &Command| family(command.key()) == Some(wanted);
            self.history.ops.iter().filter(|op| op.call.commands().iter().any(on_family)).count()
        };
        let crate::mover::MoveCounts { asked, begun, cancels, splits, merges } = self.move_counts;
        let moves = match self.plan.moves_slots() {
            true => format!(
                "{begun} of {asked} slot moves begun, {cancels} cancels, {} of {} splits, {} of {} merges, ",
                splits.1, splits.0, merges.1, merges.0
            ),
            false => String::new(),
        };
        let removal = match self.plan.removal {
            Some(removal) => format!("{} removed and back empty, ", Plan::node_name(removal.node)),
            None => String::new(),
        };
        format!(
            "seed {}: {} nodes, {} shards of {} replicas, {} clients, {} ops ({done} ok, {failed} failed, {unknown} unknown; {} list, {} rset, {} strm), {} publishes, {} messages in {} sessions ({} due), {} faults, {}{}{:.1} s simulated in {:.1} s: {}",
            self.plan.seed,
            self.plan.nodes,
            self.plan.shards,
            self.plan.replication_factor,
            self.plan.clients,
            self.history.ops.len(),
            on(Family::List),
            on(Family::RedisSet),
            on(Family::Stream),
            self.pubsub.publishes.len(),
            self.pubsub_coverage.delivered,
            self.pubsub.sessions.len(),
            self.pubsub_coverage.required,
            self.faults.len(),
            moves,
            removal,
            self.simulated.as_secs_f64(),
            self.wall.as_secs_f64(),
            if self.passed() { "ok" } else { "FAILED" }
        )
    }
}

fn node_config(plan: &Plan, index: usize) -> ServerConfig {
    let mut config = ServerConfig::from_settings(Settings::default()).expect("default settings are valid");
    config.bind = "0.0.0.0".into();
    config.port = CLIENT_PORT;
    config.node_port = NODE_PORT;
    config.announce_host = Plan::node_name(index);
    config.bootstrap = index == 0;
    config.join = (index > 0).then(|| format!("{}:{CLIENT_PORT}", Plan::node_name(0)));
    config.routing = Routing::Proxy;
    config.shards = plan.shards;
    config.replication_factor = plan.replication_factor as u8;
    config.data_dir = PathBuf::from("/data");
    config.heartbeat_interval_ms = plan.heartbeat_interval_ms;
    config.election_timeout_min_ms = plan.election_timeout_min_ms;
    config.election_timeout_max_ms = plan.election_timeout_max_ms;
    config.snapshot_after_entries = plan.snapshot_after_entries;
    config.log_entries_kept = plan.log_entries_kept;
    if let Some(grace) = plan.replace_dead_after_ms {
        config.replace_dead_after_ms = grace;
    }
    config
}

/// Runs the simulation for `seed`.
pub fn run(seed: u64, options: &Options) -> Run {
    let started = Instant::now();
    let plan = Plan::new(seed, options);
    let mut sim = turmoil::Builder::new()
        .rng_seed(derive(seed, 2))
        .epoch(UNIX_EPOCH + Duration::from_secs(EPOCH_SECS))
        .simulation_duration(Duration::from_secs(SIMULATION_MAX_SECS))
        .tick_duration(Duration::from_millis(1))
        .min_message_latency(Duration::from_millis(LATENCY_MIN_MS))
        .max_message_latency(Duration::from_millis(LATENCY_MAX_MS))
        .build();
    let disks: Vec<Arc<SimDisk>> = (0..plan.nodes).map(|_| SimDisk::new()).collect();
    for (index, disk) in disks.iter().enumerate() {
        let config = node_config(&plan, index);
        let disk = disk.clone();
        let incarnations = Rc::new(Cell::new(0u64));
        let (seed, defects) = (derive(seed, 10 + index as u64), plan.defects);
        sim.host(Plan::node_name(index), move || {
            incarnations.set(incarnations.get() + 1);
            let env = Env {
                net: Arc::new(SimNet),
                fs: Arc::new(SimFs(disk.clone())),
                clock: Arc::new(SimClock),
                seed: derive(seed, incarnations.get()),
                simulated: true,
                defects,
            };
            let config = config.clone();
            let disk = disk.clone();
            async move {
                crate::trace::register_host(&config.announce_host);
                match concord_node::run(config, env, std::future::pending()).await {
                    // The power failed under the node (at start, say, while it recovered its
                    // log): the machine is down, not the simulation; the nemesis restarts it.
                    Err(_) if disk.powered_off() => std::future::pending().await,
                    result => Ok(result?),
                }
            }
        });
    }
    let shared = Rc::new(Shared::new(plan.clone()));
    let mut others = Vec::new();
    for index in 0..plan.clients {
        let name = Plan::client_name(index);
        sim.client(name.as_str(), clients::workload_client(index, shared.clone()));
        others.push(name);
    }
    for index in 0..plan.pubsub.publishers {
        let name = Plan::publisher_name(index);
        sim.client(name.as_str(), crate::pubsub::publisher(index, shared.clone()));
        others.push(name);
    }
    for index in 0..plan.pubsub.subscribers {
        let name = Plan::subscriber_name(index);
        sim.client(name.as_str(), crate::pubsub::subscriber(index, shared.clone()));
        others.push(name);
    }
    sim.client("control", clients::controller(shared.clone()));
    others.push("control".into());
    sim.client("watch", clients::leader_watch(shared.clone()));
    others.push("watch".into());
    if plan.moves_slots() {
        sim.client("mover", crate::mover::slot_mover(shared.clone()));
        others.push("mover".into());
    }
    if plan.removal.is_some() {
        sim.client("operator", crate::operator::operator(shared.clone()));
        others.push("operator".into());
    }
    let mut nemesis = Nemesis::new(&plan, disks, others);
    let mut liveness = Vec::new();
    loop {
        let now_ms = sim.elapsed().as_millis() as u64;
        let phase = match shared.heal_ms() {
            None => Phase::Forming,
            Some(heal) if now_ms < heal => Phase::Safety,
            Some(_) => Phase::Liveness,
        };
        if let Some(node) = shared.wipe.take() {
            nemesis.wipe(&mut sim, node, now_ms);
        }
        nemesis.act(&mut sim, now_ms, phase, &shared.leaders.borrow());
        match sim.step() {
            Ok(true) => break,
            Ok(false) => {}
            Err(error) => {
                liveness.push(format!("the simulation stopped at {now_ms} ms: {error}"));
                break;
            }
        }
    }
    let simulated = sim.elapsed();
    drop(sim);
    let shared = Rc::try_unwrap(shared).ok().expect("the simulation is over");
    let history = shared.history.into_inner();
    liveness.extend(shared.liveness.into_inner());
    let replicas = shared.replicas.into_inner();
    let mut verdict = check_all(&history, &shared.finals.into_inner(), &replicas);
    let pubsub = shared.pubsub.into_inner();
    let (problems, pubsub_coverage) =
        concord_check::pubsub::check_with_coverage(&pubsub, &nemesis.faults(EPOCH_SECS * 1_000_000));
    verdict.pubsub = problems;
    if let Some((owners, holdings)) = shared.placement.into_inner() {
        verdict.placement = concord_check::placement::check(&owners, &holdings);
    }
    let moves = shared.moves.into_inner();
    let move_counts = shared.move_counts.get();
    Run {
        plan,
        history,
        pubsub,
        pubsub_coverage,
        faults: nemesis.log,
        moves,
        move_counts,
        verdict,
        replicas,
        liveness,
        simulated,
        wall: started.elapsed(),
    }
}
