//! The data directory: held by one process at a time, and home of the node's identity.
//!
//! Layout: `LOCK` (held with `flock` while the node runs), `node.id` (the node's 128-bit id in
//! hex), `log/` (the segmented log), `snapshots/` (per-group snapshot files).

use concord_core::rng::Rng;
use concord_core::types::NodeId;
use concord_storage::fs::write_atomic;
use concord_storage::Fs;
use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub struct DataDir {
    pub path: PathBuf,
    fs: Arc<dyn Fs>,
    /// Kept open: the lock lasts as long as the file stays open.
    _lock: Option<File>,
}

impl DataDir {
    /// Creates the directory if needed and locks it against a second node.
    pub fn open(fs: Arc<dyn Fs>, path: &Path) -> io::Result<DataDir> {
        fs.create_dir_all(path)?;
        let lock = OpenOptions::new().create(true).truncate(false).write(true).open(path.join("LOCK"))?;
        // SAFETY: flock on a file descriptor we own; it has no memory-safety preconditions.
        let locked = unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if locked != 0 {
            return Err(io::Error::new(
                io::ErrorKind::WouldBlock,
                format!("data directory {} is in use by another Concord process", path.display()),
            ));
        }
        Ok(DataDir { path: path.to_path_buf(), fs, _lock: Some(lock) })
    }

    /// A directory on a simulated disk, which only one simulated node ever uses.
    pub fn open_unlocked(fs: Arc<dyn Fs>, path: &Path) -> io::Result<DataDir> {
        fs.create_dir_all(path)?;
        Ok(DataDir { path: path.to_path_buf(), fs, _lock: None })
    }

    pub fn log_dir(&self) -> PathBuf {
        self.path.join("log")
    }

    pub fn snapshot_dir(&self) -> PathBuf {
        self.path.join("snapshots")
    }

    /// The node's id: read from `node.id`, or drawn from `rng` and saved on first start.
    pub fn node_id(&self, rng: &mut Rng) -> io::Result<NodeId> {
        let file = self.path.join("node.id");
        match self.fs.read(&file) {
            Ok(bytes) => String::from_utf8_lossy(&bytes).trim().parse().map_err(|e| {
                io::Error::new(io::ErrorKind::InvalidData, format!("{} does not hold a node id: {e}", file.display()))
            }),
            Err(error) if error.kind() == io::ErrorKind::NotFound => {
                let id = NodeId((u128::from(rng.next_u64()) << 64) | u128::from(rng.next_u64()));
                write_atomic(&*self.fs, &file, format!("{id}\n").as_bytes())?;
                Ok(id)
            }
            Err(error) => Err(error),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use concord_storage::StdFs;

    #[test]
    fn one_process_at_a_time_and_a_stable_id() {
        let dir = tempfile::tempdir().unwrap();
        let first = DataDir::open(StdFs::shared(), dir.path()).unwrap();
        let id = first.node_id(&mut Rng::new(1)).unwrap();
        assert_eq!(first.node_id(&mut Rng::new(2)).unwrap(), id);
        assert!(DataDir::open(StdFs::shared(), dir.path()).is_err());
        drop(first);
        let again = DataDir::open(StdFs::shared(), dir.path()).unwrap();
        assert_eq!(again.node_id(&mut Rng::new(3)).unwrap(), id);
        assert_ne!(
            DataDir::open(StdFs::shared(), &dir.path().join("other")).unwrap().node_id(&mut Rng::new(4)).unwrap(),
            id
        );
    }
}
