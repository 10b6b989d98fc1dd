//! `concord-sim`: runs simulated clusters, one seed at a time.
//!
//! `cargo run --release -p concord-sim -- --seeds 100` runs seeds 0..100; `--list 3,7` runs
//! those; `--seed N` runs one and prints its transcript; every failure prints the command that
//! replays it.
//!
//! Each seed of `--seeds` runs in a process of its own, as `--seed` would: some state of the
//! libraries underneath (tokio's task ids, which decide the order tasks are dropped in when a
//! simulated host crashes) lives for the whole process, so a seed replays exactly only in a
//! fresh process.

use clap::Parser;
use concord_node::env::Defects;
use concord_sim::{run, Options};
use std::process::{Command, ExitCode};
use std::time::Instant;

#[derive(Parser, Debug)]
#[command(name = "concord-sim", about = "Deterministic simulation of a Concord cluster under faults")]
struct Args {
    /// Run this one seed and print its transcript (plan, faults, history, verdict).
    #[arg(long, conflicts_with = "seeds")]
    seed: Option<u64>,
    /// Run this many seeds, starting at --first.
    #[arg(long, default_value_t = 10)]
    seeds: u64,
    /// The first seed of --seeds.
    #[arg(long, default_value_t = 0)]
    first: u64,
    /// Run exactly these seeds (comma-separated), as --seeds would, instead of a range.
    #[arg(long, value_delimiter = ',', conflicts_with_all = ["seed", "first"])]
    list: Vec<u64>,
    /// Cluster size (3 or 5); the seed decides when omitted.
    #[arg(long)]
    nodes: Option<usize>,
    /// Data shards (1 to 4); the seed decides when omitted.
    #[arg(long)]
    shards: Option<u32>,
    /// Length of the fault phase in simulated milliseconds; the seed decides when omitted.
    #[arg(long)]
    safety_ms: Option<u64>,
    /// Break Concord on purpose, to see the checkers catch it: `follower-reads` answers reads
    /// from any replica as if they were linearizable; `pubsub-local-only` delivers messages on
    /// the publishing node only; `pubsub-twice` delivers relayed messages twice;
    /// `move-leftovers` ends slot moves without dropping the keys left behind.
    #[arg(long)]
    defect: Option<String>,
    /// Seeds run at once (each in its own process); the number of cores by default.
    #[arg(long)]
    jobs: Option<usize>,
    /// With --seed: print the summary and any findings instead of the whole transcript.
    #[arg(long)]
    brief: bool,
}

impl Args {
    /// The options that shape a run, as flags to pass on.
    fn run_flags(&self) -> Vec<String> {
        let mut flags = Vec::new();
        if let Some(nodes) = self.nodes {
            flags.extend(["--nodes".to_string(), nodes.to_string()]);
        }
        if let Some(shards) = self.shards {
            flags.extend(["--shards".to_string(), shards.to_string()]);
        }
        if let Some(ms) = self.safety_ms {
            flags.extend(["--safety-ms".to_string(), ms.to_string()]);
        }
        if let Some(defect) = &self.defect {
            flags.extend(["--defect".to_string(), defect.clone()]);
        }
        flags
    }
}

fn replay_command(seed: u64, args: &Args) -> String {
    let mut command = format!("cargo run --release -p concord-sim -- --seed {seed}");
    for flag in args.run_flags() {
        command.push(' ');
        command.push_str(&flag);
    }
    command
}

/// Runs one seed in a child process; its output, and whether it passed.
fn run_child(seed: u64, args: &Args) -> (String, bool) {
    let exe = std::env::current_exe().expect("the running executable");
    match Command::new(exe).arg("--seed").arg(seed.to_string()).arg("--brief").args(args.run_flags()).output() {
        Ok(output) => {
            let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
            text.push_str(&String::from_utf8_lossy(&output.stderr));
            (text, output.status.success())
        }
        Err(error) => (format!("seed {seed}: cannot start a child process: {error}\n"), false),
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    concord_sim::trace::init();
    let defects = match args.defect.as_deref() {
        None => Defects::default(),
        Some("follower-reads") => Defects { follower_reads: true, ..Defects::default() },
        Some("pubsub-local-only") => Defects { pubsub_local_only: true, ..Defects::default() },
        Some("pubsub-twice") => Defects { pubsub_twice: true, ..Defects::default() },
        Some("move-leftovers") => Defects { move_leftovers: true, ..Defects::default() },
        Some(other) => {
            eprintln!(
                "unknown defect {other:?} (known: follower-reads, pubsub-local-only, pubsub-twice, move-leftovers)"
            );
            return ExitCode::from(2);
        }
    };
    if args.shards.is_some_and(|shards| !(1..=concord_core::limits::SHARDS_MAX as u32).contains(&shards)) {
        eprintln!("--shards must be between 1 and {}", concord_core::limits::SHARDS_MAX);
        return ExitCode::from(2);
    }
    let options = Options { nodes: args.nodes, shards: args.shards, safety_ms: args.safety_ms, defects };
    if let Some(seed) = args.seed {
        let result = run(seed, &options);
        if args.brief {
            println!("{}", result.summary());
            if !result.passed() {
                print!("{}", result.verdict.describe(&result.history));
                for line in &result.liveness {
                    println!("{line}");
                }
            }
        } else {
            print!("{}", result.transcript());
            println!("{}", result.summary());
        }
        if !result.passed() {
            println!("replay: {}", replay_command(seed, &args));
            return ExitCode::FAILURE;
        }
        return ExitCode::SUCCESS;
    }
    let started = Instant::now();
    let jobs = args.jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())).max(1);
    let seeds: Vec<u64> =
        if args.list.is_empty() { (args.first..args.first + args.seeds).collect() } else { args.list.clone() };
    // Workers take the next seed until none are left; results print as they come.
    let next = std::sync::atomic::AtomicUsize::new(0);
    let failed = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            scope.spawn(|| loop {
                let index = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(&seed) = seeds.get(index) else { break };
                let (output, passed) = run_child(seed, &args);
                print!("{output}");
                if !passed {
                    failed.lock().expect("failed seeds").push(seed);
                }
            });
        }
    });
    let mut failed = failed.into_inner().expect("failed seeds");
    failed.sort_unstable();
    println!(
        "{} seeds in {:.1} s: {} failed{}",
        seeds.len(),
        started.elapsed().as_secs_f64(),
        failed.len(),
        if failed.is_empty() { String::new() } else { format!(" ({failed:?})") }
    );
    if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
