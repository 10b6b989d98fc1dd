//! `concord admin`: cluster administration through any node, over RESP.

use clap::{Args, Subcommand};
use concord_core::Reply;
use concord_node::client::{render, Client};
use std::time::Duration;

#[derive(Args, Debug)]
pub struct AdminArgs {
    /// A node's client address.
    #[arg(long, default_value = "127.0.0.1:6379", env = "CONCORD_ADMIN_NODE", value_name = "HOST:PORT")]
    node: String,
    #[command(subcommand)]
    action: Action,
}

#[derive(Subcommand, Debug)]
enum Action {
    /// List the members: roles, addresses, replication progress.
    Members,
    /// Add a node as a non-voting learner (a read replica).
    AddLearner { id: String, node_addr: String, client_addr: String },
    /// Add a node as a voter: a learner first, promoted once it caught up.
    AddVoter { id: String, node_addr: String, client_addr: String },
    /// Make a learner a voter.
    Promote { id: String },
    /// Make a voter a learner.
    Demote { id: String },
    /// Remove a node from the cluster.
    Remove { id: String },
    /// Move slots to another shard while both serve clients (`CLUSTER MIGRATESLOTS`).
    MoveSlots {
        /// Slot ranges, as `first-last` or one slot, e.g. `0-2730 5000`.
        #[arg(required = true, num_args = 1..)]
        slots: Vec<String>,
        /// The shard to move them to, as `CLUSTER SHARDS` names it (`g2`).
        #[arg(long = "to", value_name = "SHARD")]
        to: String,
    },
    /// The slot moves in progress (`CLUSTER GETSLOTMIGRATIONS`).
    Moves,
    /// Give up a slot move not yet handed over, or every one (`CLUSTER CANCELSLOTMIGRATIONS`).
    CancelMove { id: Option<String> },
    /// Show the plan that spreads replicas and slots evenly, and carry it out
    /// (`CLUSTER REBALANCE`).
    Rebalance {
        /// Only show the plan.
        #[arg(long)]
        dry_run: bool,
    },
    /// Split a shard: a new shard takes half its slots (`CLUSTER SPLITSHARD`).
    SplitShard { shard: String },
    /// Merge a shard into another: all its slots move there (`CLUSTER MERGESHARDS`).
    MergeShards { shard: String, into: String },
    /// Cut this node's links to a peer (both ways, or one), restore them, or list them.
    Fault {
        #[arg(value_parser = ["block", "block-outgoing", "block-incoming", "unblock", "heal", "list"])]
        action: String,
        peer: Option<String>,
    },
    /// Send any command and print the reply.
    Raw { words: Vec<String> },
}

pub fn run(args: AdminArgs) -> Result<(), String> {
    let words: Vec<String> = match args.action {
        Action::Members => vec!["CLUSTER".into(), "MEMBERS".into()],
        Action::AddLearner { id, node_addr, client_addr } => {
            vec!["CLUSTER".into(), "JOIN".into(), id, node_addr, client_addr, "LEARNER".into()]
        }
        Action::AddVoter { id, node_addr, client_addr } => {
            vec!["CLUSTER".into(), "JOIN".into(), id, node_addr, client_addr]
        }
        Action::Promote { id } => vec!["CLUSTER".into(), "PROMOTE".into(), id],
        Action::Demote { id } => vec!["CLUSTER".into(), "DEMOTE".into(), id],
        Action::Remove { id } => vec!["CLUSTER".into(), "FORGET".into(), id],
        Action::MoveSlots { slots, to } => {
            let mut words = vec!["CLUSTER".into(), "MIGRATESLOTS".into(), "SLOTSRANGE".into()];
            for range in slots {
                let (first, last) = range.split_once('-').unwrap_or((&range, &range));
                words.extend([first.to_string(), last.to_string()]);
            }
            words.extend(["SHARD".into(), to]);
            words
        }
        Action::Moves => vec!["CLUSTER".into(), "GETSLOTMIGRATIONS".into()],
        Action::SplitShard { shard } => vec!["CLUSTER".into(), "SPLITSHARD".into(), shard],
        Action::MergeShards { shard, into } => vec!["CLUSTER".into(), "MERGESHARDS".into(), shard, into],
        Action::Rebalance { dry_run } => {
            let mut words = vec!["CLUSTER".into(), "REBALANCE".into()];
            if dry_run {
                words.push("DRYRUN".into());
            }
            words
        }
        Action::CancelMove { id } => {
            vec!["CLUSTER".into(), "CANCELSLOTMIGRATIONS".into(), id.unwrap_or_else(|| "ALL".into())]
        }
        Action::Fault { action, peer } => {
            let mut words = vec!["CLUSTER".into(), "FAULT".into(), action];
            words.extend(peer);
            words
        }
        Action::Raw { words } => words,
    };
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())?;
    let reply = runtime.block_on(async {
        let mut client =
            Client::connect(&args.node, Duration::from_secs(180)).await.map_err(|e| format!("{}: {e}", args.node))?;
        client.call(&words).await.map_err(|e| format!("{}: {e}", args.node))
    })?;
    println!("{}", render(&reply));
    match reply {
        Reply::Error(_) => Err("the node refused".into()),
        _ => Ok(()),
    }
}
