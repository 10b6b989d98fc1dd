//! The script cache: the bodies EVAL and SCRIPT LOAD were given, by their SHA1. Replicated
//! state like the data (every replica applies the same loads and flushes), kept in snapshots,
//! and bounded in count and bytes.

use crate::limits::{SCRIPTS_BYTES_MAX, SCRIPTS_MAX};
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Scripts {
    /// Body by lower-case hex SHA1.
    bodies: BTreeMap<String, Bytes>,
    bytes: usize,
}

impl Scripts {
    pub fn get(&self, sha: &str) -> Option<&Bytes> {
        self.bodies.get(sha)
    }

    pub fn contains(&self, sha: &str) -> bool {
        self.bodies.contains_key(sha)
    }

    /// Keeps `body` under `sha`; false when the cache is full (it is then not kept).
    pub fn insert(&mut self, sha: String, body: Bytes) -> bool {
        if self.bodies.contains_key(&sha) {
            return true;
        }
        let cost = sha.len() + body.len();
        if self.bodies.len() >= SCRIPTS_MAX || self.bytes + cost > SCRIPTS_BYTES_MAX {
            return false;
        }
        self.bytes += cost;
        self.bodies.insert(sha, body);
        true
    }

    pub fn clear(&mut self) {
        *self = Scripts::default();
    }

    pub fn len(&self) -> usize {
        self.bodies.len()
    }

    pub fn is_empty(&self) -> bool {
        self.bodies.is_empty()
    }

    /// Bytes of bodies and names kept (INFO's `used_memory_scripts_eval`).
    pub fn bytes(&self) -> usize {
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cache_is_bounded_in_count() {
        let mut scripts = Scripts::default();
        for n in 0..SCRIPTS_MAX {
            assert!(scripts.insert(format!("{n:040}"), Bytes::from_static(b"return 1")));
        }
        assert!(!scripts.insert("x".repeat(40), Bytes::from_static(b"return 2")));
        assert!(scripts.insert(format!("{:040}", 0), Bytes::from_static(b"return 1")), "already there");
        assert_eq!(scripts.len(), SCRIPTS_MAX);
        scripts.clear();
        assert!(scripts.is_empty() && scripts.bytes() == 0);
    }
}
