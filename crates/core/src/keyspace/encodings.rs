//! [`Encodings`]: when a collection leaves its compact form — Redis's `*-max-listpack-*` and
//! `set-max-intset-entries` settings.
//!
//! They decide the representation, and the representation decides what a random pick
//! (`SPOP`, `HRANDFIELD`) draws, so they are part of the replicated state: `CONFIG SET` of one
//! of them goes through the log, and every replica switches at the same entry.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Encodings {
    pub hash_max_listpack_entries: u64,
    pub hash_max_listpack_value: u64,
    pub set_max_intset_entries: u64,
    pub zset_max_listpack_entries: u64,
    pub zset_max_listpack_value: u64,
    /// Positive: elements per list node; -1 to -5: 4, 8, 16, 32 or 64 KiB per node.
    pub list_max_listpack_size: i64,
    /// Entries per stream node (0: no limit); approximate trims remove whole nodes.
    pub stream_node_max_entries: u64,
    /// Bytes per stream node (0: only the absolute limit).
    pub stream_node_max_bytes: u64,
}

/// Redis 7.0's defaults.
pub const DEFAULT: Encodings = Encodings {
    hash_max_listpack_entries: 512,
    hash_max_listpack_value: 64,
    set_max_intset_entries: 512,
    zset_max_listpack_entries: 128,
    zset_max_listpack_value: 64,
    list_max_listpack_size: -2,
    stream_node_max_entries: 100,
    stream_node_max_bytes: 4096,
};

impl Default for Encodings {
    fn default() -> Encodings {
        DEFAULT
    }
}

/// The names `CONFIG` knows them by (the `ziplist` spellings are aliases), in `Encodings`
/// field order.
pub const NAMES: [(&str, &str); 8] = [
    ("hash-max-listpack-entries", "hash-max-ziplist-entries"),
    ("hash-max-listpack-value", "hash-max-ziplist-value"),
    ("set-max-intset-entries", "set-max-intset-entries"),
    ("zset-max-listpack-entries", "zset-max-ziplist-entries"),
    ("zset-max-listpack-value", "zset-max-ziplist-value"),
    ("list-max-listpack-size", "list-max-ziplist-size"),
    ("stream-node-max-entries", "stream-node-max-entries"),
    ("stream-node-max-bytes", "stream-node-max-bytes"),
];

/// Largest list node in bytes, whatever the setting (Redis's `SIZE_SAFETY_LIMIT`).
pub const LIST_NODE_BYTES_MAX: usize = 64 * 1024;

impl Encodings {
    /// The canonical name of a setting given by either of its names, in any case.
    pub fn canonical_name(name: &str) -> Option<&'static str> {
        NAMES.iter().find(|(a, b)| a.eq_ignore_ascii_case(name) || b.eq_ignore_ascii_case(name)).map(|(a, _)| *a)
    }

    pub fn get(&self, name: &str) -> Option<i64> {
        Some(match Encodings::canonical_name(name)? {
            "hash-max-listpack-entries" => self.hash_max_listpack_entries as i64,
            "hash-max-listpack-value" => self.hash_max_listpack_value as i64,
            "set-max-intset-entries" => self.set_max_intset_entries as i64,
            "zset-max-listpack-entries" => self.zset_max_listpack_entries as i64,
            "zset-max-listpack-value" => self.zset_max_listpack_value as i64,
            "stream-node-max-entries" => self.stream_node_max_entries as i64,
            "stream-node-max-bytes" => self.stream_node_max_bytes as i64,
            _ => self.list_max_listpack_size,
        })
    }

    /// Sets one; `Err` with the reason when the name or value is not valid.
    pub fn set(&mut self, name: &str, value: i64) -> Result<(), String> {
        let canonical = Encodings::canonical_name(name).ok_or_else(|| format!("unknown setting '{name}'"))?;
        let unsigned = || u64::try_from(value).map_err(|_| "argument must be a non-negative number".to_string());
        match canonical {
            "hash-max-listpack-entries" => self.hash_max_listpack_entries = unsigned()?,
            "hash-max-listpack-value" => self.hash_max_listpack_value = unsigned()?,
            "set-max-intset-entries" => self.set_max_intset_entries = unsigned()?,
            "zset-max-listpack-entries" => self.zset_max_listpack_entries = unsigned()?,
            "zset-max-listpack-value" => self.zset_max_listpack_value = unsigned()?,
            "stream-node-max-entries" => self.stream_node_max_entries = unsigned()?,
            "stream-node-max-bytes" => self.stream_node_max_bytes = unsigned()?,
            _ => {
                if !(i64::from(i32::MIN)..=i64::from(i32::MAX)).contains(&value) {
                    return Err("argument must be between -2147483648 and 2147483647".into());
                }
                self.list_max_listpack_size = value;
            }
        }
        Ok(())
    }

    /// The nodes stream entries are packed into.
    pub fn stream_node_limits(&self) -> super::stream::NodeLimits {
        super::stream::NodeLimits { entries_max: self.stream_node_max_entries, bytes_max: self.stream_node_max_bytes }
    }

    /// A list node is full past this many elements or this many encoded bytes.
    pub fn list_node_limits(&self) -> (usize, usize) {
        match self.list_max_listpack_size {
            size if size > 0 => ((size as usize).min(LIST_NODE_BYTES_MAX), LIST_NODE_BYTES_MAX),
            size => {
                let kib = match size {
                    -1 => 4,
                    -2 | 0 => 8,
                    -3 => 16,
                    -4 => 32,
                    _ => 64,
                };
                (usize::MAX, kib * 1024)
            }
        }
    }
}
