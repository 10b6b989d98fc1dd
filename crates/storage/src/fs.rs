//! The file operations storage needs, and nothing more, so a simulated disk can stand in for
//! the real one and lose unsynced writes or tear the last one on a crash.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A file opened for appending.
pub trait AppendFile: Send {
    fn append(&mut self, bytes: &[u8]) -> io::Result<()>;
    /// Makes every appended byte durable (fdatasync).
    fn sync(&mut self) -> io::Result<()>;
    /// A handle that makes every byte appended so far durable, usable while others append:
    /// so that an fsync in one thread covers the appends other threads made meanwhile.
    fn syncer(&self) -> Arc<dyn Syncer>;
}

/// Makes a file's appended bytes durable (fdatasync), from any thread.
pub trait Syncer: Send + Sync {
    fn sync(&self) -> io::Result<()>;
}

impl Syncer for File {
    fn sync(&self) -> io::Result<()> {
        self.sync_data()
    }
}

pub trait Fs: Send + Sync + 'static {
    fn create_dir_all(&self, path: &Path) -> io::Result<()>;
    /// The names of the entries of a directory, sorted.
    fn list(&self, dir: &Path) -> io::Result<Vec<String>>;
    fn read(&self, path: &Path) -> io::Result<Vec<u8>>;
    /// Reads `length` bytes at `offset` (fewer only at the end of the file).
    fn read_at(&self, path: &Path, offset: u64, length: usize) -> io::Result<Vec<u8>> {
        let bytes = self.read(path)?;
        let start = (offset as usize).min(bytes.len());
        Ok(bytes[start..(start + length).min(bytes.len())].to_vec())
    }
    /// The length of a file in bytes.
    fn file_len(&self, path: &Path) -> io::Result<u64> {
        Ok(self.read(path)?.len() as u64)
    }
    /// Opens `path` for appending, creating it empty if missing.
    fn open_append(&self, path: &Path) -> io::Result<Box<dyn AppendFile>>;
    /// Opens a log file for appending, like [`Fs::open_append`], but the file may be extended
    /// with zeroes ahead of its data: whoever reads it back must take a tail of zeroes for
    /// free space. (A simulated disk need not do it.)
    fn open_log(&self, path: &Path) -> io::Result<Box<dyn AppendFile>> {
        self.open_append(path)
    }
    /// Cuts a file to `length` bytes and makes that durable.
    fn truncate(&self, path: &Path, length: u64) -> io::Result<()>;
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()>;
    fn remove(&self, path: &Path) -> io::Result<()>;
    /// Makes a directory's entries (creations, renames, removals) durable.
    fn sync_dir(&self, dir: &Path) -> io::Result<()>;
}

/// Writes `bytes` to `path` so that after a crash the file holds either its old content or all
/// of `bytes`: temp file, fsync, rename, directory fsync.
pub fn write_atomic(fs: &dyn Fs, path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path.parent().ok_or_else(|| io::Error::other("path has no directory"))?;
    let temp = temp_path(path);
    let _ = fs.remove(&temp);
    let mut file = fs.open_append(&temp)?;
    file.append(bytes)?;
    file.sync()?;
    drop(file);
    fs.rename(&temp, path)?;
    fs.sync_dir(dir)
}

pub fn temp_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".tmp");
    path.with_file_name(name)
}

/// The real file system.
#[derive(Clone, Copy, Debug, Default)]
pub struct StdFs;

impl StdFs {
    pub fn shared() -> Arc<dyn Fs> {
        Arc::new(StdFs)
    }
}

struct StdFile(Arc<File>);

impl AppendFile for StdFile {
    fn append(&mut self, bytes: &[u8]) -> io::Result<()> {
        (&*self.0).write_all(bytes)
    }

    fn sync(&mut self) -> io::Result<()> {
        self.0.sync_data()
    }

    fn syncer(&self) -> Arc<dyn Syncer> {
        self.0.clone()
    }
}

/// How far a log file is extended with zeroes at a time.
pub const LOG_PREALLOCATE_BYTES: u64 = 1024 * 1024;
const ZEROES_BYTES: usize = 64 * 1024;
static ZEROES: [u8; ZEROES_BYTES] = [0; ZEROES_BYTES];
const _: () = assert!(LOG_PREALLOCATE_BYTES.is_multiple_of(ZEROES_BYTES as u64));

/// A log file written in place over zeroes written (and synced) ahead of it.
///
/// An fdatasync after an append that grows a file must also write the inode (its size); one
/// after a write into blocks already written and synced need not. Filling the file with real
/// zeroes a chunk at a time (not `fallocate`, whose unwritten extents would still need
/// converting at each sync) makes almost every sync a single data write: on ext4 in a VM that
/// is a sixth less latency and one I/O fewer per group commit.
struct PreallocatedFile {
    file: Arc<File>,
    /// Where the next append goes: the end of the data.
    position: u64,
    /// The file's length, data and zeroes.
    allocated: u64,
}

impl PreallocatedFile {
    fn extend(&mut self, needed: u64) -> io::Result<()> {
        let target = needed.div_ceil(LOG_PREALLOCATE_BYTES) * LOG_PREALLOCATE_BYTES;
        while self.allocated < target {
            let chunk = (target - self.allocated).min(ZEROES.len() as u64) as usize;
            self.file.write_all_at(&ZEROES[..chunk], self.allocated)?;
            self.allocated += chunk as u64;
        }
        // The new length becomes durable now, once, rather than with a later group commit.
        self.file.sync_data()
    }
}

impl AppendFile for PreallocatedFile {
    fn append(&mut self, bytes: &[u8]) -> io::Result<()> {
        let end = self.position + bytes.len() as u64;
        if end > self.allocated {
            self.extend(end)?;
        }
        self.file.write_all_at(bytes, self.position)?;
        self.position = end;
        Ok(())
    }

    fn sync(&mut self) -> io::Result<()> {
        self.file.sync_data()
    }

    fn syncer(&self) -> Arc<dyn Syncer> {
        self.file.clone()
    }
}

impl Fs for StdFs {
    fn create_dir_all(&self, path: &Path) -> io::Result<()> {
        std::fs::create_dir_all(path)
    }

    fn list(&self, dir: &Path) -> io::Result<Vec<String>> {
        let mut names = Vec::new();
        for entry in std::fs::read_dir(dir)? {
            if let Some(name) = entry?.file_name().to_str() {
                names.push(name.to_string());
            }
        }
        names.sort();
        Ok(names)
    }

    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        std::fs::read(path)
    }

    fn file_len(&self, path: &Path) -> io::Result<u64> {
        Ok(std::fs::metadata(path)?.len())
    }

    fn read_at(&self, path: &Path, offset: u64, length: usize) -> io::Result<Vec<u8>> {
        let file = File::open(path)?;
        let mut bytes = vec![0u8; length];
        let mut filled = 0;
        while filled < length {
            match file.read_at(&mut bytes[filled..], offset + filled as u64)? {
                0 => break,
                read => filled += read,
            }
        }
        bytes.truncate(filled);
        Ok(bytes)
    }

    fn open_append(&self, path: &Path) -> io::Result<Box<dyn AppendFile>> {
        Ok(Box::new(StdFile(Arc::new(OpenOptions::new().create(true).append(true).open(path)?))))
    }

    /// Appends after the file's current length: a log cuts its zero tail off when it opens.
    fn open_log(&self, path: &Path) -> io::Result<Box<dyn AppendFile>> {
        let file = OpenOptions::new().create(true).write(true).truncate(false).open(path)?;
        let length = file.metadata()?.len();
        Ok(Box::new(PreallocatedFile { file: Arc::new(file), position: length, allocated: length }))
    }

    fn truncate(&self, path: &Path, length: u64) -> io::Result<()> {
        let file = OpenOptions::new().write(true).open(path)?;
        file.set_len(length)?;
        file.sync_all()
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        std::fs::rename(from, to)
    }

    fn remove(&self, path: &Path) -> io::Result<()> {
        std::fs::remove_file(path)
    }

    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        File::open(dir)?.sync_all()
    }
}
