//! Snapshot files: one group's state machine image plus opaque metadata, written atomically
//! and checked on load.
//!
//! Layout: `CNCDSNAP`, format version, `u32` metadata length, metadata, `u32 crc32c` of the
//! body, body. Files are named by the log index they cover, so the newest sorts last.

use crate::fs::{write_atomic, Fs};
use concord_core::types::GroupId;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

const MAGIC: &[u8; 8] = b"CNCDSNAP";
pub const SNAPSHOT_FILE_VERSION: u8 = 1;

pub struct SnapshotStore {
    fs: Arc<dyn Fs>,
    dir: PathBuf,
}

/// A snapshot read back from disk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredSnapshot {
    pub index: u64,
    pub meta: Vec<u8>,
    pub data: Vec<u8>,
}

impl SnapshotStore {
    pub fn new(fs: Arc<dyn Fs>, dir: &Path) -> SnapshotStore {
        SnapshotStore { fs, dir: dir.to_path_buf() }
    }

    fn group_dir(&self, group: GroupId) -> PathBuf {
        self.dir.join(format!("group-{}", group.0))
    }

    fn path(&self, group: GroupId, index: u64) -> PathBuf {
        self.group_dir(group).join(format!("snapshot-{index:020}.snap"))
    }

    /// Writes a snapshot covering the log up to `index`, then removes older ones.
    pub fn save(&self, group: GroupId, index: u64, meta: &[u8], data: &[u8]) -> io::Result<()> {
        let dir = self.group_dir(group);
        self.fs.create_dir_all(&dir)?;
        let mut bytes = Vec::with_capacity(data.len() + meta.len() + 32);
        bytes.extend_from_slice(MAGIC);
        bytes.push(SNAPSHOT_FILE_VERSION);
        bytes.extend_from_slice(&(meta.len() as u32).to_le_bytes());
        bytes.extend_from_slice(meta);
        bytes.extend_from_slice(&crc32c::crc32c_append(crc32c::crc32c(meta), data).to_le_bytes());
        bytes.extend_from_slice(data);
        write_atomic(&*self.fs, &self.path(group, index), &bytes)?;
        for (older, path) in self.list(group)? {
            if older < index {
                self.fs.remove(&path)?;
            }
        }
        self.fs.sync_dir(&dir)
    }

    /// The newest snapshot of `group`, if any. A damaged newest snapshot is an error naming
    /// the file: the log before it may already be compacted away, so it cannot be skipped.
    pub fn load_latest(&self, group: GroupId) -> io::Result<Option<StoredSnapshot>> {
        let Some((index, path)) = self.list(group)?.pop() else {
            return Ok(None);
        };
        let bytes = self.fs.read(&path)?;
        let damaged = |reason: &str| {
            io::Error::new(io::ErrorKind::InvalidData, format!("snapshot {} is damaged: {reason}", path.display()))
        };
        if bytes.len() < MAGIC.len() + 9 || &bytes[..8] != MAGIC {
            return Err(damaged("not a snapshot file"));
        }
        if bytes[8] != SNAPSHOT_FILE_VERSION {
            return Err(damaged(&format!("format {} is not supported by this build", bytes[8])));
        }
        let meta_len = u32::from_le_bytes(bytes[9..13].try_into().expect("4 bytes")) as usize;
        if bytes.len() < 13 + meta_len + 4 {
            return Err(damaged("truncated"));
        }
        let meta = &bytes[13..13 + meta_len];
        let checksum = u32::from_le_bytes(bytes[13 + meta_len..17 + meta_len].try_into().expect("4 bytes"));
        let data = &bytes[17 + meta_len..];
        if crc32c::crc32c_append(crc32c::crc32c(meta), data) != checksum {
            return Err(damaged("checksum mismatch"));
        }
        Ok(Some(StoredSnapshot { index, meta: meta.to_vec(), data: data.to_vec() }))
    }

    /// Snapshot files of a group, oldest first. Leftover temp files are removed.
    fn list(&self, group: GroupId) -> io::Result<Vec<(u64, PathBuf)>> {
        let dir = self.group_dir(group);
        let names = match self.fs.list(&dir) {
            Ok(names) => names,
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(error) => return Err(error),
        };
        let mut found = Vec::new();
        for name in names {
            let path = dir.join(&name);
            if name.ends_with(".tmp") {
                self.fs.remove(&path)?;
                continue;
            }
            if let Some(index) =
                name.strip_prefix("snapshot-").and_then(|n| n.strip_suffix(".snap")).and_then(|n| n.parse().ok())
            {
                found.push((index, path));
            }
        }
        found.sort();
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::StdFs;

    #[test]
    fn saves_loads_and_replaces() {
        let dir = tempfile::tempdir().unwrap();
        let store = SnapshotStore::new(StdFs::shared(), dir.path());
        let g = GroupId(1);
        assert_eq!(store.load_latest(g).unwrap(), None);
        store.save(g, 10, b"meta10", b"data10").unwrap();
        store.save(g, 20, b"meta20", b"data20").unwrap();
        let latest = store.load_latest(g).unwrap().unwrap();
        assert_eq!(
            (latest.index, latest.meta.as_slice(), latest.data.as_slice()),
            (20, &b"meta20"[..], &b"data20"[..])
        );
        assert_eq!(std::fs::read_dir(dir.path().join("group-1")).unwrap().count(), 1);
        // A crash while writing leaves only a temp file, which is ignored and cleaned up.
        std::fs::write(dir.path().join("group-1/snapshot-00000000000000000030.snap.tmp"), b"partial").unwrap();
        assert_eq!(store.load_latest(g).unwrap().unwrap().index, 20);
    }

    #[test]
    fn damage_is_reported_with_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let store = SnapshotStore::new(StdFs::shared(), dir.path());
        store.save(GroupId(1), 5, b"m", b"some data").unwrap();
        let path = dir.path().join("group-1/snapshot-00000000000000000005.snap");
        let mut bytes = std::fs::read(&path).unwrap();
        *bytes.last_mut().unwrap() ^= 1;
        std::fs::write(&path, bytes).unwrap();
        let error = store.load_latest(GroupId(1)).unwrap_err().to_string();
        assert!(error.contains("checksum mismatch") && error.contains("snapshot-00000000000000000005.snap"), "{error}");
    }
}
