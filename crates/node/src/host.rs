//! What a client session asks of the node: the core's [`Host`] port, per connection.

use crate::clients::Client;
use crate::node::Node;
use bytes::Bytes;
use concord_core::args::is;
use concord_core::session::{Host, Session};
use concord_core::{Error, Reply};
use std::sync::Arc;

pub struct ConnectionHost {
    pub node: Arc<Node>,
    pub client: Arc<Client>,
}

impl Host for ConnectionHost {
    fn out_of_memory(&self) -> bool {
        self.node.out_of_memory()
    }

    fn now_ms(&self) -> u64 {
        self.node.clock.now_ms()
    }

    fn serves_pubsub(&self) -> Result<(), Error> {
        crate::pubsub::serves_pubsub(&self.node)
    }

    fn serves_shard_channel(&self, channel: &[u8]) -> Result<(), Error> {
        crate::pubsub::serves_shard_channel(&self.node, channel)
    }

    fn now_us(&self) -> u64 {
        self.node.clock.now_us()
    }

    fn databases(&self) -> u32 {
        self.node.config.databases
    }

    fn info(&self, sections: &[Bytes]) -> String {
        crate::info::report(&self.node, sections)
    }

    fn config_get(&self, patterns: &[Bytes]) -> Vec<(String, String)> {
        // The collection encodings are replicated: their values come from the applied state.
        // Every shard has the same encodings (CONFIG SET changes them all); ask the first here.
        let encodings = match self.node.data_groups().first() {
            Some(group) => group.read(|applied| *applied.data().keyspace().encodings()),
            None => concord_core::keyspace::Encodings::default(),
        };
        let mut found = self.node.params.get(patterns);
        for (name, value) in &mut found {
            if let Some(current) = encodings.get(name) {
                *value = current.to_string();
            }
        }
        found
    }

    fn config_set(&self, pairs: &[(Bytes, Bytes)]) -> Result<(), Error> {
        self.node.params.set(pairs)
    }

    fn config_resetstat(&self) {
        use std::sync::atomic::Ordering::Relaxed;
        let stats = &self.node.stats;
        for counter in
            [&stats.commands_processed, &stats.error_replies, &stats.net_input_bytes, &stats.net_output_bytes]
        {
            counter.store(0, Relaxed);
        }
        stats.error_codes.lock().clear();
        stats.commands.reset();
    }

    fn client_list(&self, ids: Option<&[u64]>) -> String {
        self.node.clients.list(ids)
    }

    fn client_update(&self, session: &Session) {
        self.client.view.lock().update(session);
    }

    fn client_kill(&self, id: u64) -> bool {
        self.node.clients.kill(id)
    }

    fn shutdown(&self) {
        tracing::info!("SHUTDOWN requested by a client");
        self.node.shutdown_requested.send_replace(true);
    }

    fn debug(&self, args: &[Bytes]) -> Reply {
        let Some(sub) = args.first() else {
            return Error::wrong_arity("debug").into();
        };
        if is(sub, "DIGEST") {
            Reply::Status(Bytes::from(self.node.digest()))
        } else if is(sub, "SHARDS") {
            crate::cluster::debug_shards(&self.node)
        } else if is(sub, "REPLICA") {
            let group = match args.get(1) {
                None => None,
                Some(id) => match std::str::from_utf8(id).ok().and_then(|id| id.parse::<u32>().ok()) {
                    Some(id) => Some(concord_core::types::GroupId(id)),
                    None => return Error::err("invalid group id").into(),
                },
            };
            match self.node.replica_state(group) {
                Some((index, digest)) => {
                    Reply::Array(vec![Reply::Integer(index as i64), Reply::Status(Bytes::from(digest))])
                }
                None => Error::err("this node hosts no such group").into(),
            }
        } else if is(sub, "SLOTKEYS") {
            let group = match args.get(1).and_then(|id| std::str::from_utf8(id).ok()?.parse::<u32>().ok()) {
                Some(id) => concord_core::types::GroupId(id),
                None => return Error::err("invalid group id").into(),
            };
            match self.node.slot_keys(group) {
                Some(held) => Reply::Array(vec![
                    Reply::Array(
                        held.slots
                            .into_iter()
                            .flat_map(|(slot, count)| [Reply::Integer(i64::from(slot)), Reply::Integer(count as i64)])
                            .collect(),
                    ),
                    Reply::Array(held.moves.into_iter().map(Reply::bulk_text).collect()),
                ]),
                None => Error::err("this node hosts no such shard").into(),
            }
        } else if is(sub, "LOG") {
            if let Some(message) = args.get(1) {
                tracing::info!(message = %String::from_utf8_lossy(message), "DEBUG LOG");
            }
            Reply::OK
        } else if is(sub, "HELP") {
            Reply::Array(
                [
                    "DEBUG <subcommand> [<arg> ...]. Subcommands are:",
                    "DIGEST",
                    "    Digest of the replicated state of the shards hosted here.",
                    "REPLICA [<group>]",
                    "    The log index applied here and the digest of the state there, for a group",
                    "    (0 is the metadata group) or, by default, the first shard hosted here.",
                    "SHARDS",
                    "    Each shard of the cluster map: id, slot ranges, the ids of the nodes hosting it, its leader's id.",
                    "SLOTKEYS <group>",
                    "    For a shard hosted here: each slot holding keys (every database, expired keys and",
                    "    copies a move has not dropped too) and their count, as [slot, count, ...]; then the",
                    "    moves the shard takes part in.",
                    "LOG <message>",
                ]
                .iter()
                .map(|line| Reply::status(line))
                .collect(),
            )
        } else {
            Error::err(format_args!("DEBUG subcommand '{}' is not supported by Concord", String::from_utf8_lossy(sub)))
                .into()
        }
    }

    fn pubsub_channels(&self, sharded: bool, pattern: Option<&[u8]>) -> Vec<Bytes> {
        self.node.broker.channels(sharded, pattern)
    }

    fn pubsub_numsub(&self, sharded: bool, channels: &[Bytes]) -> Vec<i64> {
        self.node.broker.numsub(sharded, channels)
    }

    fn pubsub_numpat(&self) -> i64 {
        self.node.broker.numpat()
    }
}
