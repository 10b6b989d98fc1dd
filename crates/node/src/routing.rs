//! Routing: which shard a command belongs to, and what to do when it spans several.
//!
//! A key's slot is the CRC16 of the key (or of its `{hash tag}`), the cluster map says which
//! shard owns the slot, and that shard's leader serves it (see `Node::route`). Everything here
//! is a pure decision over the map and the command's arguments, so it is tested without a
//! cluster:
//!
//! - a command whose keys all live in one shard goes to that shard (in redirect mode, as in
//!   Redis Cluster, its keys must share one slot);
//! - in proxy mode, `MGET`, `EXISTS`, `DEL`, `UNLINK` and `TOUCH` over several shards are
//!   split into one command per shard and their replies merged in the keys' order;
//! - keyless commands that see the whole keyspace (`DBSIZE`, `KEYS`, `SCAN`, `RANDOMKEY`,
//!   `FLUSHALL`, `FLUSHDB`, `SWAPDB`) run on every shard in proxy mode and on the shards this
//!   node leads in redirect mode (per node, as Redis Cluster does); `SCAN`'s cursor carries
//!   the shard it is in;
//! - anything else whose keys span shards (`MSET`, `RENAME`, a transaction...) is refused with
//!   `-CROSSSLOT`, since it would have to be atomic across groups.

use crate::config::Routing;
use crate::node::Node;
use bytes::Bytes;
use concord_core::cluster_map::ClusterMap;
use concord_core::commands::{self, KeyspaceOp};
use concord_core::request::Request;
use concord_core::rng::Rng;
use concord_core::slot::key_slot;
use concord_core::types::{DbIndex, GroupId};
use concord_core::{Error, Reply};
use std::sync::Arc;

/// Redis Cluster's refusal of a command whose keys are in different slots.
pub fn cross_slot() -> Reply {
    Error::new("CROSSSLOT Keys in request don't hash to the same slot").into()
}

/// Where a command goes.
#[derive(Clone, Debug, PartialEq)]
pub enum Plan {
    /// One shard; `slot` names it in a `-MOVED` reply.
    Shard { shard: GroupId, slot: u16 },
    /// One command per shard, replies merged.
    Split { parts: Vec<Part>, merge: Merge },
    /// The same command on each of these shards (a keyless command over the keyspace).
    Each { shards: Vec<GroupId>, merge: Merge },
    /// `SCAN`, continued on the shard its cursor names (none: a cursor that is not a number,
    /// for the first shard to refuse).
    Scan { shards: Vec<GroupId>, ordinal: usize, cursor: Option<u64> },
    /// Refused before it ran.
    Refused(Reply),
}

/// One shard's share of a split command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Part {
    pub shard: GroupId,
    pub argv: Vec<Bytes>,
    /// For each key given to this part, its position among the command's keys.
    pub positions: Vec<usize>,
}

/// How split replies come together.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Merge {
    /// Arrays put back in the keys' order (MGET).
    ByPosition,
    /// Integers added up (DEL, EXISTS, DBSIZE...).
    Sum,
    /// Arrays concatenated (KEYS).
    Concat,
    /// `OK` from every shard (FLUSHALL).
    AllOk,
    /// The first non-nil reply, shards asked in a random order (RANDOMKEY).
    FirstNonNil,
    /// Every shard's reply is the same (SCRIPT LOAD's SHA1): the first one.
    Same,
}

/// Commands split per shard in proxy mode, and how their replies merge. Each takes only keys
/// after its name.
fn splittable(name: &str) -> Option<Merge> {
    match name {
        "mget" => Some(Merge::ByPosition),
        "exists" | "del" | "unlink" | "touch" => Some(Merge::Sum),
        _ => None,
    }
}

/// Keyless commands over the whole keyspace, and how their replies merge.
fn whole_keyspace(name: &str) -> Option<Merge> {
    match name {
        "dbsize" => Some(Merge::Sum),
        "keys" => Some(Merge::Concat),
        "flushall" | "flushdb" | "swapdb" => Some(Merge::AllOk),
        "randomkey" => Some(Merge::FirstNonNil),
        "scan" => Some(Merge::Concat),
        _ => None,
    }
}

/// Keyless commands on state every shard keeps a copy of (the script cache): they go to
/// every shard in either routing mode, so that a script loaded through any node runs on any
/// shard.
fn every_shard(name: &str) -> Option<Merge> {
    match name {
        "script" | "function" => Some(Merge::Same),
        _ => None,
    }
}

/// The bits of a sharded `SCAN` cursor below the shard's ordinal.
const SCAN_CURSOR_BITS: u32 = 56;

/// A cluster-wide SCAN cursor: the shard's ordinal (among the shards scanned) in the top
/// eight bits, and the shard's own cursor below them. Shards' cursors are positions in a
/// 64-bit hash space, so the lowest eight bits are dropped: resuming a little before where a
/// shard stopped can only repeat a few keys, which SCAN allows, and never skips one.
pub fn scan_cursor(ordinal: usize, shard_cursor: u64) -> u64 {
    ((ordinal as u64) << SCAN_CURSOR_BITS) | (shard_cursor >> (64 - SCAN_CURSOR_BITS))
}

/// The shard ordinal and shard cursor a cluster-wide cursor resumes from.
pub fn parse_scan_cursor(cursor: u64) -> (usize, u64) {
    ((cursor >> SCAN_CURSOR_BITS) as usize, (cursor & ((1 << SCAN_CURSOR_BITS) - 1)) << (64 - SCAN_CURSOR_BITS))
}

/// Decides where `argv` goes. `led` lists the shards this node leads (for keyless commands in
/// redirect mode).
pub fn plan(map: &ClusterMap, routing: Routing, argv: &[Bytes], led: impl FnOnce() -> Vec<GroupId>) -> Plan {
    let Some(entry) = argv.first().and_then(|name| commands::lookup(name)) else {
        return first_shard(map);
    };
    let name = entry.spec.name;
    let mut keys = entry.spec.keys(argv).peekable();
    let Some(first) = keys.peek().copied() else {
        if map.shards.len() <= 1 {
            return first_shard(map);
        }
        if let Some(merge) = every_shard(name) {
            return Plan::Each { shards: map.shards.keys().copied().collect(), merge };
        }
        return match whole_keyspace(name) {
            Some(merge) => {
                let shards: Vec<GroupId> = match routing {
                    Routing::Proxy => map.shards.keys().copied().collect(),
                    Routing::Redirect => led(),
                };
                if name == "scan" {
                    let cursor = argv.get(1).and_then(|c| std::str::from_utf8(c).ok()?.parse::<u64>().ok());
                    let (ordinal, cursor) = match cursor.map(parse_scan_cursor) {
                        Some((ordinal, cursor)) => (ordinal, Some(cursor)),
                        None => (0, None),
                    };
                    Plan::Scan { shards, ordinal, cursor }
                } else {
                    Plan::Each { shards, merge }
                }
            }
            None => first_shard(map),
        };
    };
    let first_slot = key_slot(first);
    let Some(first_shard) = map.shard_of(first_slot) else {
        return Plan::Shard { shard: GroupId::FIRST_SHARD, slot: 0 };
    };
    let mut same_slot = true;
    let mut same_shard = true;
    for key in keys {
        let slot = key_slot(key);
        same_slot &= slot == first_slot;
        same_shard &= map.shard_of(slot) == Some(first_shard);
    }
    match routing {
        Routing::Redirect if !same_slot => Plan::Refused(cross_slot()),
        _ if same_shard => Plan::Shard { shard: first_shard, slot: first_slot },
        Routing::Proxy => match splittable(name) {
            Some(merge) => Plan::Split { parts: split(map, argv), merge },
            None => Plan::Refused(cross_slot()),
        },
        Routing::Redirect => Plan::Refused(cross_slot()),
    }
}

/// For keyless commands and an unbootstrapped map: the shard that owns slot 0.
fn first_shard(map: &ClusterMap) -> Plan {
    Plan::Shard { shard: map.shard_of(0).unwrap_or(GroupId::FIRST_SHARD), slot: 0 }
}

/// Splits a command that takes only keys into one command per shard, in shard order.
fn split(map: &ClusterMap, argv: &[Bytes]) -> Vec<Part> {
    let mut parts: Vec<Part> = Vec::new();
    for (position, key) in argv[1..].iter().enumerate() {
        let shard = map.shard_of(key_slot(key)).unwrap_or(GroupId::FIRST_SHARD);
        let part = match parts.iter_mut().position(|part| part.shard == shard) {
            Some(at) => &mut parts[at],
            None => {
                parts.push(Part { shard, argv: vec![argv[0].clone()], positions: Vec::new() });
                parts.last_mut().expect("just pushed")
            }
        };
        part.argv.push(key.clone());
        part.positions.push(position);
    }
    parts.sort_by_key(|part| part.shard);
    parts
}

/// The one shard every key of a transaction (its commands and watched keys) lives in, or
/// `-CROSSSLOT` (in redirect mode the keys must share a slot). None when it has no keys.
pub fn transaction_shard<'a>(
    map: &ClusterMap,
    routing: Routing,
    keys: impl Iterator<Item = &'a Bytes>,
) -> Result<Option<(GroupId, u16)>, Reply> {
    let mut found: Option<(GroupId, u16)> = None;
    for key in keys {
        let slot = key_slot(key);
        let shard = map.shard_of(slot).unwrap_or(GroupId::FIRST_SHARD);
        match found {
            None => found = Some((shard, slot)),
            Some((first_shard, first_slot)) => {
                let apart = match routing {
                    Routing::Redirect => slot != first_slot,
                    Routing::Proxy => shard != first_shard,
                };
                if apart {
                    return Err(cross_slot());
                }
            }
        }
    }
    Ok(found)
}

/// The keys of a command (name first).
pub fn command_keys(argv: &[Bytes]) -> impl Iterator<Item = &Bytes> {
    let entry = argv.first().and_then(|name| commands::lookup(name));
    entry.into_iter().flat_map(move |entry| entry.spec.keys(argv))
}

/// Merges the replies of a split or fanned-out command. `parts` gives each reply's key
/// positions for [`Merge::ByPosition`] (empty otherwise).
pub fn merge(merge: Merge, replies: Vec<Reply>, parts: &[Vec<usize>]) -> Reply {
    if let Some(error) = replies.iter().find(|reply| reply.is_error()) {
        return error.clone();
    }
    match merge {
        Merge::Sum => {
            Reply::Integer(replies.iter().map(|reply| if let Reply::Integer(n) = reply { *n } else { 0 }).sum())
        }
        Merge::AllOk => Reply::OK,
        Merge::Concat => Reply::Array(
            replies
                .into_iter()
                .flat_map(|reply| if let Reply::Array(items) = reply { items } else { Vec::new() })
                .collect(),
        ),
        Merge::FirstNonNil => replies.into_iter().find(|reply| !matches!(reply, Reply::Nil)).unwrap_or(Reply::Nil),
        Merge::Same => replies.into_iter().next().unwrap_or(Reply::Nil),
        Merge::ByPosition => {
            let total = parts.iter().map(Vec::len).sum();
            let mut merged = vec![Reply::Nil; total];
            for (reply, positions) in replies.into_iter().zip(parts) {
                let Reply::Array(items) = reply else {
                    return Error::err("malformed reply from a shard").into();
                };
                for (item, position) in items.into_iter().zip(positions) {
                    merged[*position] = item;
                }
            }
            Reply::Array(merged)
        }
    }
}

/// The reply to one step of a cluster-wide SCAN: the shard's page under a cluster cursor
/// that moves to the next shard once this one is done.
pub fn scan_step(shards: usize, ordinal: usize, reply: Reply) -> Reply {
    let Reply::Array(mut parts) = reply else { return reply };
    if parts.len() != 2 {
        return Reply::Array(parts);
    }
    let cursor = match &parts[0] {
        Reply::Bulk(text) => std::str::from_utf8(text).ok().and_then(|text| text.parse::<u64>().ok()),
        _ => None,
    };
    let Some(cursor) = cursor else { return Reply::Array(parts) };
    let next = match cursor {
        0 if ordinal + 1 >= shards => 0,
        0 => scan_cursor(ordinal + 1, 0),
        cursor => scan_cursor(ordinal, cursor),
    };
    parts[0] = Reply::bulk_text(next.to_string());
    Reply::Array(parts)
}

/// Carries out a command that spans shards (a split, a keyless command on each shard, a
/// SCAN step) and merges the replies. `write`: it goes through the shards' logs; `stale`: a
/// read may be served by this node's replicas (READONLY).
pub async fn run(
    node: Arc<Node>,
    plan: Plan,
    db: DbIndex,
    argv: Vec<Bytes>,
    write: bool,
    stale: bool,
    mut rng: Rng,
) -> Reply {
    let one = |shard: GroupId, argv: Vec<Bytes>, rng: Rng| {
        let node = node.clone();
        async move {
            if write {
                return node.write_batch(shard, vec![Request::Command { db, argv }]).await.pop().expect("one reply");
            }
            let op = match commands::parse_keyspace_command(&argv) {
                Ok(Some(KeyspaceOp::Read(op))) => op,
                Ok(_) => return Error::err("not a read").into(),
                Err(error) => return error.into(),
            };
            match node.group(shard).filter(|_| stale) {
                Some(group) => node.read_local(&group, db, &op, &argv, &mut rng.clone()),
                None => node.read(shard, db, op, argv, rng).await,
            }
        }
    };
    match plan {
        Plan::Shard { shard, .. } => one(shard, argv, rng).await,
        Plan::Refused(reply) => reply,
        Plan::Split { parts, merge: how } => {
            let replies = futures::future::join_all(
                parts.iter().map(|part| one(part.shard, part.argv.clone(), Rng::new(rng.next_u64()))),
            )
            .await;
            let positions: Vec<Vec<usize>> = parts.into_iter().map(|part| part.positions).collect();
            merge(how, replies, &positions)
        }
        Plan::Each { mut shards, merge: how } => {
            if how == Merge::FirstNonNil {
                // RANDOMKEY: a random shard first, then the others in turn until one has a key.
                if !shards.is_empty() {
                    let start = rng.below(shards.len() as u64) as usize;
                    shards.rotate_left(start);
                }
                for shard in shards {
                    let reply = one(shard, argv.clone(), Rng::new(rng.next_u64())).await;
                    if !matches!(reply, Reply::Nil) {
                        return reply;
                    }
                }
                return Reply::Nil;
            }
            let replies = futures::future::join_all(
                shards.iter().map(|shard| one(*shard, argv.clone(), Rng::new(rng.next_u64()))),
            )
            .await;
            merge(how, replies, &[])
        }
        Plan::Scan { shards, ordinal, cursor } => match (shards.get(ordinal), cursor) {
            (Some(first), None) => one(*first, argv, rng).await,
            (Some(shard), Some(cursor)) => {
                let reply = one(*shard, scan_argv(&argv, cursor), rng).await;
                scan_step(shards.len(), ordinal, reply)
            }
            (None, _) => Reply::Array(vec![Reply::bulk("0"), Reply::Array(Vec::new())]),
        },
    }
}

/// SCAN's arguments for one shard: the same options, that shard's cursor.
pub fn scan_argv(argv: &[Bytes], shard_cursor: u64) -> Vec<Bytes> {
    let mut argv = argv.to_vec();
    if argv.len() > 1 {
        argv[1] = Bytes::from(shard_cursor.to_string());
    }
    argv
}

#[cfg(test)]
mod tests {
    use super::*;
    use concord_core::cluster_map::{Addresses, ClusterChange};
    use concord_core::types::NodeId;

    fn argv(words: &[&str]) -> Vec<Bytes> {
        words.iter().map(|w| Bytes::copy_from_slice(w.as_bytes())).collect()
    }

    fn map(shards: u32) -> ClusterMap {
        let mut map = ClusterMap::default();
        let addresses = Addresses { node: "n:1".into(), client: "c:1".into() };
        map.apply(&ClusterChange::Bootstrap { node: NodeId(1), addresses, shards, replication_factor: 3 });
        map
    }

    /// A key that lands in `shard`.
    fn key_in(map: &ClusterMap, shard: u32) -> String {
        (0..)
            .map(|i| format!("k{i}"))
            .find(|key| map.shard_of(key_slot(key.as_bytes())) == Some(GroupId(shard)))
            .unwrap()
    }

    #[test]
    fn keys_go_to_the_shard_that_owns_their_slot() {
        let map = map(3);
        assert_eq!(key_slot(b"foo"), 12182);
        let nothing = Vec::new;
        assert_eq!(
            plan(&map, Routing::Proxy, &argv(&["GET", "foo"]), nothing),
            Plan::Shard { shard: GroupId(3), slot: 12182 }
        );
        // Hash tags keep related keys together, in either mode.
        let together = argv(&["MSET", "{user1000}.a", "1", "{user1000}.b", "2"]);
        let slot = key_slot(b"user1000");
        let expected = Plan::Shard { shard: map.shard_of(slot).unwrap(), slot };
        assert_eq!(plan(&map, Routing::Proxy, &together, nothing), expected);
        assert_eq!(plan(&map, Routing::Redirect, &together, nothing), expected);
        // One shard for every keyless command on a one-shard cluster.
        let single = self::map(1);
        assert_eq!(
            plan(&single, Routing::Proxy, &argv(&["DBSIZE"]), nothing),
            Plan::Shard { shard: GroupId(1), slot: 0 }
        );
    }

    #[test]
    fn atomic_commands_across_shards_are_refused_and_independent_ones_split() {
        let map = map(3);
        let (a, b, c) = (key_in(&map, 1), key_in(&map, 2), key_in(&map, 3));
        let nothing = Vec::new;
        let mset = argv(&["MSET", &a, "1", &b, "2"]);
        assert_eq!(plan(&map, Routing::Proxy, &mset, nothing), Plan::Refused(cross_slot()));
        assert_eq!(plan(&map, Routing::Proxy, &argv(&["RENAME", &a, &b]), nothing), Plan::Refused(cross_slot()));
        let mget = argv(&["MGET", &c, &a, &b, &a]);
        let Plan::Split { parts, merge: Merge::ByPosition } = plan(&map, Routing::Proxy, &mget, nothing) else {
            panic!()
        };
        assert_eq!(parts.len(), 3);
        assert_eq!(parts[0], Part { shard: GroupId(1), argv: argv(&["MGET", &a, &a]), positions: vec![1, 3] });
        assert_eq!(parts[2], Part { shard: GroupId(3), argv: argv(&["MGET", &c]), positions: vec![0] });
        // Redirect mode follows Redis Cluster: different slots are refused, even in one shard.
        assert_eq!(plan(&map, Routing::Redirect, &mget, nothing), Plan::Refused(cross_slot()));
        let other_in_1 = (0..)
            .map(|i| format!("x{i}"))
            .find(|k| {
                map.shard_of(key_slot(k.as_bytes())) == Some(GroupId(1))
                    && key_slot(k.as_bytes()) != key_slot(a.as_bytes())
            })
            .unwrap();
        let same_shard = argv(&["DEL", &a, &other_in_1]);
        assert!(matches!(plan(&map, Routing::Proxy, &same_shard, nothing), Plan::Shard { shard: GroupId(1), .. }));
        assert_eq!(plan(&map, Routing::Redirect, &same_shard, nothing), Plan::Refused(cross_slot()));
    }

    #[test]
    fn split_replies_merge_in_the_keys_order() {
        let replies = vec![
            Reply::Array(vec![Reply::bulk("a"), Reply::bulk("a")]),
            Reply::Array(vec![Reply::Nil]),
            Reply::Array(vec![Reply::bulk("c")]),
        ];
        let merged = merge(Merge::ByPosition, replies, &[vec![1, 3], vec![2], vec![0]]);
        assert_eq!(merged, Reply::Array(vec![Reply::bulk("c"), Reply::bulk("a"), Reply::Nil, Reply::bulk("a")]));
        assert_eq!(
            merge(Merge::Sum, vec![Reply::Integer(2), Reply::Integer(0), Reply::Integer(1)], &[]),
            Reply::Integer(3)
        );
        let failed = merge(Merge::Sum, vec![Reply::Integer(2), Reply::Error("TRYAGAIN later".into())], &[]);
        assert_eq!(failed, Reply::Error("TRYAGAIN later".into()), "a shard's failure is the command's");
        let keys =
            merge(Merge::Concat, vec![Reply::Array(vec![Reply::bulk("x")]), Reply::Array(vec![Reply::bulk("y")])], &[]);
        assert_eq!(keys, Reply::Array(vec![Reply::bulk("x"), Reply::bulk("y")]));
        assert_eq!(
            merge(Merge::FirstNonNil, vec![Reply::Nil, Reply::bulk("k"), Reply::bulk("j")], &[]),
            Reply::bulk("k")
        );
        assert_eq!(merge(Merge::AllOk, vec![Reply::OK, Reply::OK], &[]), Reply::OK);
    }

    #[test]
    fn keyless_commands_cover_every_shard_in_proxy_mode_and_led_ones_in_redirect_mode() {
        let map = map(3);
        let all = vec![GroupId(1), GroupId(2), GroupId(3)];
        assert_eq!(
            plan(&map, Routing::Proxy, &argv(&["DBSIZE"]), Vec::new),
            Plan::Each { shards: all.clone(), merge: Merge::Sum }
        );
        assert_eq!(
            plan(&map, Routing::Redirect, &argv(&["FLUSHALL"]), || vec![GroupId(2)]),
            Plan::Each { shards: vec![GroupId(2)], merge: Merge::AllOk }
        );
        // The script cache is on every shard, whichever routing mode.
        assert_eq!(
            plan(&map, Routing::Redirect, &argv(&["SCRIPT", "LOAD", "return 1"]), || vec![GroupId(2)]),
            Plan::Each { shards: all.clone(), merge: Merge::Same }
        );
        let scan = plan(&map, Routing::Proxy, &argv(&["SCAN", &scan_cursor(2, 1 << 40).to_string()]), Vec::new);
        assert_eq!(scan, Plan::Scan { shards: all, ordinal: 2, cursor: Some(1 << 40) });
    }

    #[test]
    fn scan_cursors_walk_shard_after_shard() {
        for (ordinal, cursor) in [(0, 0), (1, 1 << 63), (255, !0xff), (7, 12345 << 8)] {
            assert_eq!(parse_scan_cursor(scan_cursor(ordinal, cursor)), (ordinal, cursor));
        }
        // Resuming never passes the shard's own cursor (keys may repeat, never be skipped).
        let (_, resumed) = parse_scan_cursor(scan_cursor(0, 0x1234_5678_9abc_def1));
        assert!(resumed <= 0x1234_5678_9abc_def1);
        let page = |cursor: &str| Reply::Array(vec![Reply::bulk_text(cursor.to_string()), Reply::Array(vec![])]);
        let cursor_of = |reply: Reply| match reply {
            Reply::Array(parts) => match &parts[0] {
                Reply::Bulk(text) => String::from_utf8(text.to_vec()).unwrap().parse::<u64>().unwrap(),
                other => panic!("{other:?}"),
            },
            other => panic!("{other:?}"),
        };
        assert_eq!(cursor_of(scan_step(3, 0, page("0"))), scan_cursor(1, 0), "on to the next shard");
        assert_eq!(cursor_of(scan_step(3, 2, page("0"))), 0, "the last shard is done: so is the scan");
        assert_eq!(cursor_of(scan_step(3, 1, page("4096"))), scan_cursor(1, 4096));
        assert_eq!(scan_argv(&argv(&["SCAN", "99", "COUNT", "5"]), 7), argv(&["SCAN", "7", "COUNT", "5"]));
    }

    #[test]
    fn transactions_must_stay_in_one_shard() {
        let map = map(3);
        let (a, b) = (key_in(&map, 1), key_in(&map, 2));
        let keys = argv(&[&a, &b]);
        assert_eq!(transaction_shard(&map, Routing::Proxy, keys.iter()), Err(cross_slot()));
        let one = argv(&[&a, &a]);
        assert_eq!(transaction_shard(&map, Routing::Proxy, one.iter()), Ok(Some((GroupId(1), key_slot(a.as_bytes())))));
        assert_eq!(transaction_shard(&map, Routing::Proxy, std::iter::empty()), Ok(None));
        let mset = argv(&["MSET", "x", "1", "y", "2"]);
        let keys: Vec<&Bytes> = command_keys(&mset).collect();
        assert_eq!(keys, vec![&Bytes::from("x"), &Bytes::from("y")]);
    }
}
