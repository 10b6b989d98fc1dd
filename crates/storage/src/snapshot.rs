//! Snapshot files: one group's state machine image plus opaque metadata, written atomically,
//! streamed both ways (an image is never held whole in memory), and checked on load.
//!
//! Layout (format 2): `CNCDSNAP`, format version, `u32` metadata length, metadata, the body,
//! then `u32 crc32c` of metadata and body. Format 1 (the checksum before the body) is still
//! read. Files are named by the log index they cover, so the newest sorts last.

use crate::fs::{temp_path, AppendFile, Fs};
use concord_core::types::GroupId;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

const MAGIC: &[u8; 8] = b"CNCDSNAP";
pub const SNAPSHOT_FILE_VERSION: u8 = 2;
/// Bytes gathered before each write to, and read at once from, a snapshot file.
const CHUNK_BYTES: usize = 1024 * 1024;

pub struct SnapshotStore {
    fs: Arc<dyn Fs>,
    dir: PathBuf,
}

/// A snapshot read back from disk, whole (tests, and a follower being sent one).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredSnapshot {
    pub index: u64,
    pub meta: Vec<u8>,
    pub data: Vec<u8>,
}

/// The newest snapshot of a group, opened: its index and metadata, and its body to stream.
pub struct SnapshotFile {
    pub index: u64,
    pub meta: Vec<u8>,
    pub body: SnapshotBody,
}

/// A snapshot's body as a `Read`; it fails with `InvalidData` at the end when the checksum
/// does not match, so whoever restores from it must finish reading before trusting it.
pub struct SnapshotBody {
    fs: Arc<dyn Fs>,
    path: PathBuf,
    position: u64,
    end: u64,
    expected_crc: u32,
    crc: u32,
    buffer: Vec<u8>,
    consumed: usize,
}

impl Read for SnapshotBody {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.consumed == self.buffer.len() {
            if self.position >= self.end {
                if self.crc != self.expected_crc {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!("snapshot {} is damaged: checksum mismatch", self.path.display()),
                    ));
                }
                return Ok(0);
            }
            let length = CHUNK_BYTES.min((self.end - self.position) as usize);
            self.buffer = self.fs.read_at(&self.path, self.position, length)?;
            if self.buffer.len() != length {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!("snapshot {} is damaged: truncated", self.path.display()),
                ));
            }
            self.crc = crc32c::crc32c_append(self.crc, &self.buffer);
            self.position += length as u64;
            self.consumed = 0;
        }
        let count = out.len().min(self.buffer.len() - self.consumed);
        out[..count].copy_from_slice(&self.buffer[self.consumed..self.consumed + count]);
        self.consumed += count;
        Ok(count)
    }
}

/// Streams a body into a snapshot file in chunks, keeping the checksum.
struct BodyWriter {
    file: Box<dyn AppendFile>,
    buffer: Vec<u8>,
    crc: u32,
}

impl Write for BodyWriter {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.buffer.extend_from_slice(bytes);
        if self.buffer.len() >= CHUNK_BYTES {
            self.flush()?;
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.crc = crc32c::crc32c_append(self.crc, &self.buffer);
        self.file.append(&self.buffer)?;
        self.buffer.clear();
        Ok(())
    }
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

    /// Writes a snapshot covering the log up to `index` whose body `write_body` streams, then
    /// removes older ones. After a crash the directory holds the old snapshot or the new one,
    /// whole: temp file, fsync, rename, directory fsync.
    pub fn save_with(
        &self,
        group: GroupId,
        index: u64,
        meta: &[u8],
        write_body: impl FnOnce(&mut dyn Write) -> io::Result<()>,
    ) -> io::Result<()> {
        let dir = self.group_dir(group);
        self.fs.create_dir_all(&dir)?;
        let path = self.path(group, index);
        let temp = temp_path(&path);
        let _ = self.fs.remove(&temp);
        let mut header = Vec::with_capacity(meta.len() + 16);
        header.extend_from_slice(MAGIC);
        header.push(SNAPSHOT_FILE_VERSION);
        header.extend_from_slice(&(meta.len() as u32).to_le_bytes());
        header.extend_from_slice(meta);
        let mut file = self.fs.open_append(&temp)?;
        file.append(&header)?;
        let mut body = BodyWriter { file, buffer: Vec::with_capacity(CHUNK_BYTES), crc: crc32c::crc32c(meta) };
        write_body(&mut body)?;
        body.flush()?;
        let BodyWriter { mut file, crc, .. } = body;
        file.append(&crc.to_le_bytes())?;
        file.sync()?;
        drop(file);
        self.fs.rename(&temp, &path)?;
        self.fs.sync_dir(&dir)?;
        for (older, path) in self.list(group)? {
            if older < index {
                self.fs.remove(&path)?;
            }
        }
        self.fs.sync_dir(&dir)
    }

    /// Writes a snapshot whose body is `data`.
    pub fn save(&self, group: GroupId, index: u64, meta: &[u8], data: &[u8]) -> io::Result<()> {
        self.save_with(group, index, meta, |out| out.write_all(data))
    }

    /// The newest snapshot of `group`, opened for streaming, if any. A damaged newest snapshot
    /// is an error naming the file: the log before it may already be compacted away, so it
    /// cannot be skipped.
    pub fn open_latest(&self, group: GroupId) -> io::Result<Option<SnapshotFile>> {
        let Some((index, path)) = self.list(group)?.pop() else {
            return Ok(None);
        };
        let damaged = |reason: &str| {
            io::Error::new(io::ErrorKind::InvalidData, format!("snapshot {} is damaged: {reason}", path.display()))
        };
        let length = self.fs.file_len(&path)?;
        let head = self.fs.read_at(&path, 0, 13)?;
        if head.len() < 13 || &head[..8] != MAGIC {
            return Err(damaged("not a snapshot file"));
        }
        let version = head[8];
        if version != 1 && version != SNAPSHOT_FILE_VERSION {
            return Err(damaged(&format!("format {version} is not supported by this build")));
        }
        let meta_len = u32::from_le_bytes(head[9..13].try_into().expect("4 bytes")) as u64;
        if length < 13 + meta_len + 4 {
            return Err(damaged("truncated"));
        }
        let meta = self.fs.read_at(&path, 13, meta_len as usize)?;
        let (start, end, expected_crc) = if version == 1 {
            let crc = self.fs.read_at(&path, 13 + meta_len, 4)?;
            (17 + meta_len, length, u32::from_le_bytes(crc[..].try_into().map_err(|_| damaged("truncated"))?))
        } else {
            let crc = self.fs.read_at(&path, length - 4, 4)?;
            (13 + meta_len, length - 4, u32::from_le_bytes(crc[..].try_into().map_err(|_| damaged("truncated"))?))
        };
        let crc = crc32c::crc32c(&meta);
        let body = SnapshotBody {
            fs: self.fs.clone(),
            path: path.clone(),
            position: start,
            end,
            expected_crc,
            crc,
            buffer: Vec::new(),
            consumed: 0,
        };
        Ok(Some(SnapshotFile { index, meta, body }))
    }

    /// The newest snapshot of `group`, read whole and checked.
    pub fn load_latest(&self, group: GroupId) -> io::Result<Option<StoredSnapshot>> {
        let Some(SnapshotFile { index, meta, mut body }) = self.open_latest(group)? else {
            return Ok(None);
        };
        let mut data = Vec::new();
        body.read_to_end(&mut data)?;
        Ok(Some(StoredSnapshot { index, meta, data }))
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
    fn bodies_stream_in_and_out() {
        let dir = tempfile::tempdir().unwrap();
        let store = SnapshotStore::new(StdFs::shared(), dir.path());
        let body: Vec<u8> = (0..3 * CHUNK_BYTES + 17).map(|i| (i % 251) as u8).collect();
        store
            .save_with(GroupId(2), 7, b"meta", |out| {
                for piece in body.chunks(1000) {
                    out.write_all(piece)?;
                }
                Ok(())
            })
            .unwrap();
        let mut file = store.open_latest(GroupId(2)).unwrap().unwrap();
        assert_eq!((file.index, &file.meta[..]), (7, &b"meta"[..]));
        let mut read = Vec::new();
        file.body.read_to_end(&mut read).unwrap();
        assert_eq!(read, body);
    }

    #[test]
    fn format_one_files_are_still_read() {
        let dir = tempfile::tempdir().unwrap();
        let store = SnapshotStore::new(StdFs::shared(), dir.path());
        let (meta, data) = (&b"old meta"[..], &b"old data"[..]);
        let mut bytes = MAGIC.to_vec();
        bytes.push(1);
        bytes.extend_from_slice(&(meta.len() as u32).to_le_bytes());
        bytes.extend_from_slice(meta);
        bytes.extend_from_slice(&crc32c::crc32c_append(crc32c::crc32c(meta), data).to_le_bytes());
        bytes.extend_from_slice(data);
        std::fs::create_dir_all(dir.path().join("group-1")).unwrap();
        std::fs::write(dir.path().join("group-1/snapshot-00000000000000000003.snap"), bytes).unwrap();
        let latest = store.load_latest(GroupId(1)).unwrap().unwrap();
        assert_eq!((latest.index, &latest.meta[..], &latest.data[..]), (3, meta, data));
    }

    #[test]
    fn damage_is_reported_with_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let store = SnapshotStore::new(StdFs::shared(), dir.path());
        store.save(GroupId(1), 5, b"m", b"some data").unwrap();
        let path = dir.path().join("group-1/snapshot-00000000000000000005.snap");
        let mut bytes = std::fs::read(&path).unwrap();
        let body_byte = bytes.len() - 6;
        bytes[body_byte] ^= 1;
        std::fs::write(&path, bytes).unwrap();
        let error = store.load_latest(GroupId(1)).unwrap_err().to_string();
        assert!(error.contains("checksum mismatch") && error.contains("snapshot-00000000000000000005.snap"), "{error}");
    }
}
