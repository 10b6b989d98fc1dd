//! A simulated disk for the deterministic simulator: files in memory, with the durability
//! rules of a real disk and a crash that enforces them.
//!
//! What a crash keeps, and what it may lose:
//! - file bytes: everything up to the last `sync` survives; of the bytes appended after it, a
//!   random prefix survives (none, all, or a torn part of the last write);
//! - directory entries (create, rename, remove): an operation survives once its directory was
//!   synced; of the operations not yet synced, a random prefix (in the order they happened)
//!   survives, as a journaling file system may have committed some of them on its own;
//! - `truncate` and `create_dir_all` are durable when they return, as the [`Fs`] trait says.
//!
//! Files opened before a crash refuse every later write, as the process that held them is gone.
//!
//! Two kinds of crash: a process crash ([`SimDisk::process_crash`], kill -9) loses nothing
//! written, as the operating system still holds it; a machine crash ([`SimDisk::crash`], power
//! loss) loses what was not durable. [`SimDisk::arm_power_loss`] cuts the power at an exact
//! point: after a given number of further writes, every write fails with an I/O error until
//! the machine crash that follows.

use crate::fs::{AppendFile, Fs, Syncer};
use concord_core::rng::Rng;
use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

type Inode = u64;

#[derive(Clone, Debug)]
enum DirOp {
    Create(PathBuf, Inode),
    Rename(PathBuf, PathBuf),
    Remove(PathBuf),
}

impl DirOp {
    fn touches(&self, dir: &Path) -> bool {
        let within = |path: &PathBuf| path.parent() == Some(dir);
        match self {
            DirOp::Create(path, _) | DirOp::Remove(path) => within(path),
            DirOp::Rename(from, to) => within(from) || within(to),
        }
    }

    fn apply(&self, names: &mut BTreeMap<PathBuf, Inode>) {
        match self {
            DirOp::Create(path, inode) => {
                names.insert(path.clone(), *inode);
            }
            DirOp::Rename(from, to) => {
                if let Some(inode) = names.remove(from) {
                    names.insert(to.clone(), inode);
                }
            }
            DirOp::Remove(path) => {
                names.remove(path);
            }
        }
    }
}

#[derive(Default)]
struct File {
    data: Vec<u8>,
    /// Bytes that are durable: `data[..synced]`.
    synced: usize,
}

#[derive(Default)]
struct Disk {
    /// Bumped by every crash; files opened before it refuse writes.
    generation: u64,
    dirs: BTreeSet<PathBuf>,
    /// The names as a running process sees them.
    names: BTreeMap<PathBuf, Inode>,
    /// The names a crash falls back to, before replaying a prefix of `journal`.
    durable_names: BTreeMap<PathBuf, Inode>,
    /// Directory operations not yet made durable, in order.
    journal: Vec<DirOp>,
    files: BTreeMap<Inode, File>,
    next_inode: Inode,
    /// Writes left before the power goes, when armed.
    power_loss_in: Option<u64>,
    powered_off: bool,
    /// Counters, for reports and tests.
    crashes: u64,
    torn_writes: u64,
}

impl Disk {
    /// Counts a write against an armed power loss; fails once the power is gone.
    fn write_allowed(&mut self) -> io::Result<()> {
        if let Some(left) = self.power_loss_in {
            if left == 0 {
                self.power_loss_in = None;
                self.powered_off = true;
            } else {
                self.power_loss_in = Some(left - 1);
            }
        }
        if self.powered_off {
            return Err(io::Error::other("simulated power loss: the disk takes no more writes"));
        }
        Ok(())
    }
}

/// A simulated disk; clone the `Arc` to share it between a host's incarnations.
#[derive(Default)]
pub struct SimDisk {
    disk: Mutex<Disk>,
}

fn not_found(path: &Path) -> io::Error {
    io::Error::new(io::ErrorKind::NotFound, format!("{}: no such file or directory", path.display()))
}

impl SimDisk {
    pub fn new() -> Arc<SimDisk> {
        Arc::new(SimDisk::default())
    }

    fn lock(&self) -> MutexGuard<'_, Disk> {
        self.disk.lock().expect("simulated disk lock")
    }

    /// The crash of a process: files it held open are closed; nothing written is lost.
    pub fn process_crash(&self) {
        self.lock().generation += 1;
    }

    /// Cuts the power after `writes` more writes (file appends, syncs, directory changes).
    pub fn arm_power_loss(&self, writes: u64) {
        self.lock().power_loss_in = Some(writes);
    }

    /// Cancels an armed power loss that has not happened yet.
    pub fn disarm(&self) {
        self.lock().power_loss_in = None;
    }

    /// Whether an armed power loss has happened (the machine must now crash).
    pub fn powered_off(&self) -> bool {
        self.lock().powered_off
    }

    /// The crash of the machine: what was not durable is lost, in part or whole, as `seed`
    /// decides.
    pub fn crash(&self, seed: u64) {
        let mut rng = Rng::new(seed);
        let mut disk = self.lock();
        let disk = &mut *disk;
        disk.generation += 1;
        disk.crashes += 1;
        disk.power_loss_in = None;
        disk.powered_off = false;
        for file in disk.files.values_mut() {
            let unsynced = file.data.len() - file.synced;
            if unsynced == 0 {
                continue;
            }
            let kept = match rng.below(4) {
                0 | 1 => 0,
                2 => unsynced,
                _ => {
                    disk.torn_writes += 1;
                    rng.below(unsynced as u64 + 1) as usize
                }
            };
            file.data.truncate(file.synced + kept);
            file.synced = file.data.len();
        }
        let kept_ops = rng.below(disk.journal.len() as u64 + 1) as usize;
        for op in disk.journal.drain(..).take(kept_ops) {
            op.apply(&mut disk.durable_names);
        }
        disk.names = disk.durable_names.clone();
        let live: BTreeSet<Inode> = disk.names.values().copied().collect();
        disk.files.retain(|inode, _| live.contains(inode));
    }

    /// The operator deletes the data directory of a stopped machine: every file and directory
    /// is gone, and files opened before refuse writes.
    pub fn wipe(&self) {
        let mut disk = self.lock();
        let (generation, crashes, torn_writes) = (disk.generation + 1, disk.crashes, disk.torn_writes);
        *disk = Disk { generation, crashes, torn_writes, ..Disk::default() };
    }

    /// How many crashes tore an unsynced write (kept part of it).
    pub fn torn_writes(&self) -> u64 {
        self.lock().torn_writes
    }

    fn record(disk: &mut Disk, op: DirOp) {
        op.apply(&mut disk.names);
        disk.journal.push(op);
    }

    fn parent_exists(disk: &Disk, path: &Path) -> io::Result<()> {
        match path.parent() {
            Some(parent) if disk.dirs.contains(parent) => Ok(()),
            _ => Err(not_found(path)),
        }
    }
}

#[derive(Clone)]
struct SimFile {
    disk: Arc<SimDisk>,
    inode: Inode,
    generation: u64,
}

impl SimFile {
    fn with<R>(&self, f: impl FnOnce(&mut File) -> R) -> io::Result<R> {
        let mut disk = self.disk.lock();
        if disk.generation != self.generation {
            return Err(io::Error::other("the simulated machine crashed since this file was opened"));
        }
        disk.write_allowed()?;
        // An unlinked file still takes writes, as on a real file system.
        Ok(f(disk.files.entry(self.inode).or_default()))
    }
}

impl AppendFile for SimFile {
    fn append(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.with(|file| file.data.extend_from_slice(bytes))
    }

    fn sync(&mut self) -> io::Result<()> {
        Syncer::sync(self)
    }

    fn syncer(&self) -> Arc<dyn Syncer> {
        Arc::new(self.clone())
    }
}

impl Syncer for SimFile {
    fn sync(&self) -> io::Result<()> {
        self.with(|file| file.synced = file.data.len())
    }
}

/// The [`Fs`] a simulated node uses: its disk, shared by all its incarnations.
#[derive(Clone)]
pub struct SimFs(pub Arc<SimDisk>);

impl Fs for SimFs {
    fn create_dir_all(&self, path: &Path) -> io::Result<()> {
        let mut disk = self.0.lock();
        for ancestor in path.ancestors() {
            if !ancestor.as_os_str().is_empty() {
                disk.dirs.insert(ancestor.to_path_buf());
            }
        }
        Ok(())
    }

    fn list(&self, dir: &Path) -> io::Result<Vec<String>> {
        let disk = self.0.lock();
        if !disk.dirs.contains(dir) {
            return Err(not_found(dir));
        }
        let children = disk.names.keys().chain(disk.dirs.iter()).filter(|path| path.parent() == Some(dir));
        let mut names: Vec<String> =
            children.filter_map(|path| path.file_name().and_then(|n| n.to_str()).map(str::to_string)).collect();
        names.sort();
        names.dedup();
        Ok(names)
    }

    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        let disk = self.0.lock();
        let inode = disk.names.get(path).ok_or_else(|| not_found(path))?;
        Ok(disk.files.get(inode).map(|file| file.data.clone()).unwrap_or_default())
    }

    fn file_len(&self, path: &Path) -> io::Result<u64> {
        let disk = self.0.lock();
        let inode = disk.names.get(path).ok_or_else(|| not_found(path))?;
        Ok(disk.files.get(inode).map_or(0, |file| file.data.len() as u64))
    }

    fn read_at(&self, path: &Path, offset: u64, length: usize) -> io::Result<Vec<u8>> {
        let disk = self.0.lock();
        let inode = disk.names.get(path).ok_or_else(|| not_found(path))?;
        let data = disk.files.get(inode).map(|file| &file.data[..]).unwrap_or_default();
        let start = (offset as usize).min(data.len());
        Ok(data[start..(start + length).min(data.len())].to_vec())
    }

    fn open_append(&self, path: &Path) -> io::Result<Box<dyn AppendFile>> {
        let mut disk = self.0.lock();
        SimDisk::parent_exists(&disk, path)?;
        let inode = match disk.names.get(path) {
            Some(inode) => *inode,
            None => {
                disk.write_allowed()?;
                disk.next_inode += 1;
                let inode = disk.next_inode;
                disk.files.insert(inode, File::default());
                SimDisk::record(&mut disk, DirOp::Create(path.to_path_buf(), inode));
                inode
            }
        };
        let generation = disk.generation;
        Ok(Box::new(SimFile { disk: self.0.clone(), inode, generation }))
    }

    fn truncate(&self, path: &Path, length: u64) -> io::Result<()> {
        let mut disk = self.0.lock();
        let inode = *disk.names.get(path).ok_or_else(|| not_found(path))?;
        disk.write_allowed()?;
        let file = disk.files.entry(inode).or_default();
        file.data.resize(length as usize, 0);
        file.synced = file.data.len();
        Ok(())
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        let mut disk = self.0.lock();
        if !disk.names.contains_key(from) {
            return Err(not_found(from));
        }
        SimDisk::parent_exists(&disk, to)?;
        disk.write_allowed()?;
        SimDisk::record(&mut disk, DirOp::Rename(from.to_path_buf(), to.to_path_buf()));
        Ok(())
    }

    fn remove(&self, path: &Path) -> io::Result<()> {
        let mut disk = self.0.lock();
        if !disk.names.contains_key(path) {
            return Err(not_found(path));
        }
        disk.write_allowed()?;
        SimDisk::record(&mut disk, DirOp::Remove(path.to_path_buf()));
        Ok(())
    }

    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        let mut disk = self.0.lock();
        if !disk.dirs.contains(dir) {
            return Err(not_found(dir));
        }
        disk.write_allowed()?;
        let disk = &mut *disk;
        let (now, later): (Vec<DirOp>, Vec<DirOp>) = disk.journal.drain(..).partition(|op| op.touches(dir));
        for op in now {
            op.apply(&mut disk.durable_names);
        }
        disk.journal = later;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::write_atomic;

    fn fs() -> SimFs {
        let fs = SimFs(SimDisk::new());
        fs.create_dir_all(Path::new("/d")).unwrap();
        fs
    }

    #[test]
    fn synced_bytes_and_synced_names_survive_every_crash() {
        for seed in 0..200 {
            let fs = fs();
            let path = Path::new("/d/a");
            let mut file = fs.open_append(path).unwrap();
            file.append(b"hello").unwrap();
            file.sync().unwrap();
            fs.sync_dir(Path::new("/d")).unwrap();
            file.append(b" world").unwrap();
            fs.0.crash(seed);
            let data = fs.read(path).unwrap();
            assert!(data.starts_with(b"hello") && b"hello world".starts_with(&data), "seed {seed}: {data:?}");
            assert!(file.append(b"!").is_err(), "a file from before the crash takes no writes");
        }
    }

    #[test]
    fn a_wiped_disk_holds_nothing_and_old_files_take_no_writes() {
        let fs = fs();
        let path = Path::new("/d/a");
        let mut file = fs.open_append(path).unwrap();
        file.append(b"kept").unwrap();
        file.sync().unwrap();
        fs.sync_dir(Path::new("/d")).unwrap();
        fs.0.wipe();
        assert!(fs.read(path).is_err(), "the file is gone");
        assert!(fs.open_append(path).is_err(), "so is its directory");
        assert!(file.append(b"!").is_err(), "a file from before the wipe takes no writes");
        fs.create_dir_all(Path::new("/d")).unwrap();
        assert!(fs.open_append(path).is_ok(), "the disk takes new files");
    }

    #[test]
    fn unsynced_writes_are_dropped_or_torn() {
        let mut outcomes = BTreeSet::new();
        for seed in 0..200 {
            let fs = fs();
            let path = Path::new("/d/a");
            fs.open_append(path).unwrap();
            fs.sync_dir(Path::new("/d")).unwrap();
            fs.open_append(path).unwrap().append(b"0123456789").unwrap();
            fs.0.crash(seed);
            outcomes.insert(fs.read(path).unwrap().len());
        }
        assert!(outcomes.contains(&0) && outcomes.contains(&10), "{outcomes:?}");
        assert!(outcomes.iter().any(|&n| n > 0 && n < 10), "some crash tears the write: {outcomes:?}");
    }

    #[test]
    fn a_file_in_an_unsynced_directory_may_vanish() {
        let mut vanished = 0;
        for seed in 0..100 {
            let fs = fs();
            let mut file = fs.open_append(Path::new("/d/new")).unwrap();
            file.append(b"x").unwrap();
            file.sync().unwrap();
            fs.0.crash(seed);
            vanished += usize::from(fs.read(Path::new("/d/new")).is_err());
        }
        assert!(vanished > 0 && vanished < 100, "{vanished}");
    }

    #[test]
    fn atomic_writes_leave_old_or_new_content() {
        for seed in 0..200 {
            let fs = fs();
            let path = Path::new("/d/f");
            write_atomic(&fs, path, b"old").unwrap();
            write_atomic(&fs, path, b"new content").unwrap();
            fs.0.crash(seed);
            assert_eq!(fs.read(path).unwrap(), b"new content", "seed {seed}: a completed write is durable");
        }
        for seed in 0..200 {
            // Cut short after the rename, before the directory sync.
            let fs = fs();
            let path = Path::new("/d/f");
            write_atomic(&fs, path, b"old").unwrap();
            let temp = crate::fs::temp_path(path);
            let mut file = fs.open_append(&temp).unwrap();
            file.append(b"new content").unwrap();
            file.sync().unwrap();
            fs.rename(&temp, path).unwrap();
            fs.0.crash(seed);
            let data = fs.read(path).unwrap();
            assert!(data == b"old" || data == b"new content", "seed {seed}: {data:?}");
        }
    }

    #[test]
    fn power_loss_fails_writes_until_the_crash_and_a_process_crash_loses_nothing() {
        let fs = fs();
        let mut file = fs.open_append(Path::new("/d/a")).unwrap();
        file.append(b"ab").unwrap();
        fs.0.process_crash();
        assert!(file.append(b"x").is_err(), "the dead process's file is closed");
        assert_eq!(fs.read(Path::new("/d/a")).unwrap(), b"ab", "the page cache survives kill -9");
        let mut file = fs.open_append(Path::new("/d/a")).unwrap();
        fs.0.arm_power_loss(1);
        file.append(b"c").unwrap();
        assert!(!fs.0.powered_off());
        assert!(file.sync().is_err());
        assert!(fs.0.powered_off());
        assert!(fs.sync_dir(Path::new("/d")).is_err());
        fs.0.crash(3);
        assert!(!fs.0.powered_off());
        assert!(fs.open_append(Path::new("/d/b")).is_ok(), "power is back after the crash");
    }

    #[test]
    fn listing_is_sorted_and_includes_directories() {
        let fs = fs();
        fs.create_dir_all(Path::new("/d/sub")).unwrap();
        fs.open_append(Path::new("/d/b")).unwrap();
        fs.open_append(Path::new("/d/a")).unwrap();
        assert_eq!(fs.list(Path::new("/d")).unwrap(), vec!["a", "b", "sub"]);
        assert!(fs.list(Path::new("/missing")).is_err());
    }
}
