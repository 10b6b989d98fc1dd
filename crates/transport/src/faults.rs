//! Fault injection: links to chosen peers can be cut, outgoing, incoming, or both, to test
//! partitions (including one-way and bridge partitions) without touching the network.

use concord_core::types::NodeId;
use parking_lot::RwLock;
use std::collections::BTreeSet;

#[derive(Debug, Default)]
pub struct Faults {
    /// Peers this node sends nothing to.
    outgoing: RwLock<BTreeSet<NodeId>>,
    /// Peers whose messages this node ignores.
    incoming: RwLock<BTreeSet<NodeId>>,
}

impl Faults {
    pub fn block_outgoing(&self, peer: NodeId) {
        self.outgoing.write().insert(peer);
    }

    pub fn block_incoming(&self, peer: NodeId) {
        self.incoming.write().insert(peer);
    }

    /// Cuts the link both ways.
    pub fn block(&self, peer: NodeId) {
        self.block_outgoing(peer);
        self.block_incoming(peer);
    }

    pub fn unblock(&self, peer: NodeId) {
        self.outgoing.write().remove(&peer);
        self.incoming.write().remove(&peer);
    }

    pub fn heal(&self) {
        self.outgoing.write().clear();
        self.incoming.write().clear();
    }

    pub fn sends_to(&self, peer: NodeId) -> bool {
        !self.outgoing.read().contains(&peer)
    }

    pub fn hears_from(&self, peer: NodeId) -> bool {
        !self.incoming.read().contains(&peer)
    }

    /// A line per blocked peer, for CLUSTER FAULTS.
    pub fn describe(&self) -> Vec<String> {
        let outgoing = self.outgoing.read();
        let incoming = self.incoming.read();
        let peers: BTreeSet<&NodeId> = outgoing.iter().chain(incoming.iter()).collect();
        peers
            .into_iter()
            .map(|peer| {
                let direction = match (outgoing.contains(peer), incoming.contains(peer)) {
                    (true, true) => "both",
                    (true, false) => "outgoing",
                    _ => "incoming",
                };
                format!("{peer} {direction}")
            })
            .collect()
    }
}
