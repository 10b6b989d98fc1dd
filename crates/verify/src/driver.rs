//! What a verifying client does on the wire, in the simulator and against real processes alike.

use concord_check::history::{Call, Command};
use concord_core::Reply;
use concord_node::client::Client;
pub use concord_node::node::SlotKeys;

/// Sends a call; its reply (EXEC's for a transaction), or why none came.
pub async fn execute(client: &mut Client, call: &Call) -> Result<Reply, String> {
    match call {
        Call::One(command) => client.call(&command.argv()).await.map_err(|e| e.to_string()),
        Call::Multi(commands) => {
            let mut pipeline = vec![vec!["MULTI".to_string()]];
            pipeline.extend(commands.iter().map(Command::argv));
            pipeline.push(vec!["EXEC".to_string()]);
            let mut replies = client.pipeline(&pipeline).await.map_err(|e| e.to_string())?;
            replies.pop().ok_or_else(|| "no reply to EXEC".to_string())
        }
    }
}

/// The number of voters in a CLUSTER MEMBERS reply.
pub fn voters(reply: &Reply) -> usize {
    match reply {
        Reply::Bulk(text) => usize::from(&text[..] == b"voter"),
        Reply::Array(items) => items.iter().map(voters).sum(),
        Reply::Map(pairs) => pairs.iter().map(|(_, value)| voters(value)).sum(),
        _ => 0,
    }
}

/// Asks a node for a group's applied log index and the digest of its state there (DEBUG
/// REPLICA <group>; 0 is the metadata group).
pub async fn replica_state(client: &mut Client, group: u32) -> Option<(u64, String)> {
    match client.call(&["DEBUG".to_string(), "REPLICA".to_string(), group.to_string()]).await {
        Ok(Reply::Array(items)) => match &items[..] {
            [Reply::Integer(index), Reply::Status(digest)] => {
                Some((*index as u64, String::from_utf8_lossy(digest).into_owned()))
            }
            _ => None,
        },
        _ => None,
    }
}

/// Asks a node what its replica of a shard holds (DEBUG SLOTKEYS <group>): each slot with keys
/// and how many, and the moves the shard still takes part in.
pub async fn slot_keys(client: &mut Client, group: u32) -> Option<SlotKeys> {
    let reply = client.call(&["DEBUG".to_string(), "SLOTKEYS".to_string(), group.to_string()]).await.ok()?;
    slot_keys_of(&reply)
}

/// Parses a DEBUG SLOTKEYS reply.
pub fn slot_keys_of(reply: &Reply) -> Option<SlotKeys> {
    let Reply::Array(parts) = reply else { return None };
    let [Reply::Array(counts), Reply::Array(moves)] = &parts[..] else { return None };
    let counts = counts
        .chunks(2)
        .map(|pair| match pair {
            [Reply::Integer(slot), Reply::Integer(keys)] => {
                Some((u16::try_from(*slot).ok()?, u64::try_from(*keys).ok()?))
            }
            _ => None,
        })
        .collect::<Option<Vec<_>>>()?;
    let moves = moves
        .iter()
        .map(|one| match one {
            Reply::Bulk(text) => Some(String::from_utf8_lossy(text).into_owned()),
            _ => None,
        })
        .collect::<Option<Vec<_>>>()?;
    Some(SlotKeys { slots: counts, moves })
}

/// One data shard as a node's cluster map shows it (DEBUG SHARDS).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShardView {
    /// Its Raft group (what DEBUG REPLICA takes).
    pub group: u32,
    /// Slot ranges, first and last slot inclusive.
    pub ranges: Vec<(u16, u16)>,
    /// Ids (CLUSTER MYID) of the nodes hosting a replica.
    pub hosts: Vec<String>,
    /// Id of its leader, as that node knows it.
    pub leader: Option<String>,
}

/// Parses a DEBUG SHARDS reply.
pub fn shard_views(reply: &Reply) -> Option<Vec<ShardView>> {
    let text = |reply: &Reply| match reply {
        Reply::Bulk(bytes) => Some(String::from_utf8_lossy(bytes).into_owned()),
        _ => None,
    };
    let Reply::Array(shards) = reply else { return None };
    shards
        .iter()
        .map(|shard| {
            let Reply::Array(fields) = shard else { return None };
            let [Reply::Integer(group), Reply::Array(slots), Reply::Array(hosts), leader] = &fields[..] else {
                return None;
            };
            let slots: Option<Vec<u16>> = slots
                .iter()
                .map(|slot| match slot {
                    Reply::Integer(slot) => u16::try_from(*slot).ok(),
                    _ => None,
                })
                .collect();
            let ranges = slots?.chunks(2).map(|pair| (pair[0], *pair.last().expect("a chunk"))).collect();
            Some(ShardView {
                group: u32::try_from(*group).ok()?,
                ranges,
                hosts: hosts.iter().map(text).collect::<Option<_>>()?,
                leader: text(leader),
            })
        })
        .collect()
}

/// Asks a node for the shards of its cluster map.
pub async fn shards(client: &mut Client) -> Option<Vec<ShardView>> {
    shard_views(&client.call(&["DEBUG", "SHARDS"]).await.ok()?)
}

/// The shard (group) owning `key`'s slot.
pub fn shard_of(shards: &[ShardView], key: &str) -> Option<u32> {
    let slot = concord_core::slot::key_slot(key.as_bytes());
    shards
        .iter()
        .find(|shard| shard.ranges.iter().any(|(first, last)| (*first..=*last).contains(&slot)))
        .map(|s| s.group)
}

/// A replica to ask for its state: a group on a node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplicaOf {
    pub group: u32,
    /// The node's index among the verifier's nodes, or its id when it is none of them.
    pub node: Result<usize, String>,
}

/// The replicas whose states must agree, group by group: the metadata group on every node
/// (every node follows it), each shard on the nodes its map places it on. `ids` are the
/// nodes' ids (CLUSTER MYID) by index.
pub fn replicas_to_ask(shards: &[ShardView], ids: &[String]) -> Vec<ReplicaOf> {
    let mut replicas: Vec<ReplicaOf> = (0..ids.len()).map(|node| ReplicaOf { group: 0, node: Ok(node) }).collect();
    for shard in shards {
        for host in &shard.hosts {
            let node = ids.iter().position(|id| id == host).ok_or_else(|| host.clone());
            replicas.push(ReplicaOf { group: shard.group, node });
        }
    }
    replicas
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn voters_are_counted_in_either_protocol() {
        let member =
            |role: &'static str| vec![Reply::bulk("id"), Reply::bulk("1"), Reply::bulk("role"), Reply::bulk(role)];
        let resp2 = Reply::Array(vec![
            Reply::Array(member("voter")),
            Reply::Array(member("learner")),
            Reply::Array(member("voter")),
        ]);
        assert_eq!(voters(&resp2), 2);
        let resp3 = Reply::Array(vec![Reply::Map(vec![(Reply::bulk("role"), Reply::bulk("voter"))])]);
        assert_eq!(voters(&resp3), 1);
    }

    #[test]
    fn slot_keys_are_read_from_debug_slotkeys() {
        let int = Reply::Integer;
        let reply = Reply::Array(vec![
            Reply::Array(vec![int(12), int(3), int(16383), int(1)]),
            Reply::Array(vec![Reply::bulk("incoming 2/1")]),
        ]);
        let held = SlotKeys { slots: vec![(12, 3), (16383, 1)], moves: vec!["incoming 2/1".to_string()] };
        assert_eq!(slot_keys_of(&reply), Some(held));
        let odd = Reply::Array(vec![Reply::Array(vec![int(12)]), Reply::Array(Vec::new())]);
        assert_eq!(slot_keys_of(&odd), None, "a slot without its count");
        assert_eq!(slot_keys_of(&Reply::Error("ERR this node hosts no such shard".into())), None);
    }

    #[test]
    fn shards_are_read_from_debug_shards() {
        let int = Reply::Integer;
        let shard = |group: i64, slots: Vec<i64>, leader: Reply| {
            Reply::Array(vec![
                int(group),
                Reply::Array(slots.into_iter().map(int).collect()),
                Reply::Array(vec![Reply::bulk("11"), Reply::bulk("22")]),
                leader,
            ])
        };
        let reply =
            Reply::Array(vec![shard(1, vec![0, 8191], Reply::bulk("22")), shard(2, vec![8192, 16383], Reply::Nil)]);
        let views = shard_views(&reply).expect("a DEBUG SHARDS reply");
        assert_eq!(
            views[0],
            ShardView {
                group: 1,
                ranges: vec![(0, 8191)],
                hosts: vec!["11".into(), "22".into()],
                leader: Some("22".into())
            }
        );
        assert_eq!(views[1].leader, None);
        // "foo" hashes to slot 12182, "bar" to 5061.
        assert_eq!(shard_of(&views, "foo"), Some(2));
        assert_eq!(shard_of(&views, "bar"), Some(1));
        assert_eq!(shard_views(&Reply::Integer(3)), None);
        let ids = ["22".to_string(), "11".to_string(), "33".to_string()];
        let ask = replicas_to_ask(&views[..1], &ids);
        let groups_and_nodes: Vec<(u32, Result<usize, String>)> = ask.into_iter().map(|r| (r.group, r.node)).collect();
        assert_eq!(groups_and_nodes, [(0, Ok(0)), (0, Ok(1)), (0, Ok(2)), (1, Ok(1)), (1, Ok(0))]);
        let stranger = replicas_to_ask(&views[..1], &ids[..1]);
        assert!(stranger.contains(&ReplicaOf { group: 1, node: Err("11".to_string()) }), "{stranger:?}");
    }
}
