//! Recovery from damaged storage, graceful shutdown, and snapshots across restarts.

mod common;

use common::{spawn, Server};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

fn segments(data_dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(data_dir.join("log")).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    files
}

/// Where a log segment's data ends: the node writes zeroes ahead of it.
fn data_end(bytes: &[u8]) -> usize {
    bytes.iter().rposition(|&byte| byte != 0).map_or(0, |last| last + 1)
}

fn fill(server: &Server, keys: usize) {
    let mut con = server.connect();
    for i in 0..keys {
        let _: () = redis::cmd("SET").arg(format!("key:{i}")).arg(format!("value:{i}")).query(&mut con).unwrap();
    }
}

fn check(server: &Server, keys: usize) {
    let mut con = server.connect();
    for i in 0..keys {
        let value: Option<String> = redis::cmd("GET").arg(format!("key:{i}")).query(&mut con).unwrap();
        assert_eq!(value.as_deref(), Some(format!("value:{i}").as_str()), "key:{i}");
    }
}

#[test]
fn sigterm_exits_cleanly_and_keeps_data() {
    let mut server = Server::start();
    fill(&server, 50);
    let _idle_client = server.connect();
    let status = server.terminate();
    assert!(status.success(), "exit status {status:?}");
    server.restart();
    check(&server, 50);
}

#[test]
fn shutdown_stops_the_node_cleanly_and_keeps_data() {
    let mut server = Server::start();
    fill(&server, 50);
    let mut con = server.connect();
    // Refused inside a transaction, which it then aborts, as Redis.
    let _: () = redis::cmd("MULTI").query(&mut con).unwrap();
    let refused = redis::cmd("SHUTDOWN").query::<()>(&mut con).unwrap_err();
    assert!(refused.to_string().contains("Command not allowed inside a transaction"), "{refused}");
    let aborted = redis::cmd("EXEC").query::<()>(&mut con).unwrap_err();
    assert!(aborted.to_string().to_uppercase().contains("EXECABORT"), "{aborted}");
    let abort = redis::cmd("SHUTDOWN").arg("ABORT").query::<()>(&mut con).unwrap_err();
    assert!(abort.to_string().contains("No shutdown in progress"), "{abort}");
    // Success closes the connection with no reply, and the process exits cleanly.
    let closed = redis::cmd("SHUTDOWN").arg("NOSAVE").query::<redis::Value>(&mut con);
    assert!(closed.is_err_and(|error| error.is_connection_dropped() || error.is_io_error()));
    let status = server.child.wait().expect("wait");
    assert!(status.success(), "exit status {status:?}");
    server.restart();
    check(&server, 50);
}

#[test]
fn a_torn_tail_is_cut_off_and_the_node_starts() {
    let mut server = Server::start();
    fill(&server, 100);
    server.kill();
    let last = segments(&server.data_dir).pop().unwrap();
    let intact = data_end(&std::fs::read(&last).unwrap());
    // A record header announcing 200 bytes, followed by only 14, over the zeroes written ahead
    // of the data: a write torn by a crash.
    let mut torn = 200u32.to_le_bytes().to_vec();
    torn.extend([7u8; 14]);
    std::fs::OpenOptions::new().write(true).open(&last).unwrap().write_all_at(&torn, intact as u64).unwrap();
    server.restart();
    check(&server, 100);
    // The node cut the torn bytes off; whatever it wrote since starts where they were.
    let bytes = std::fs::read(&last).unwrap();
    assert!(bytes.get(intact..intact + torn.len()) != Some(&torn[..]), "the torn record was not cut off");
}

#[test]
fn a_corrupt_record_before_the_tail_stops_the_node_with_file_and_offset() {
    let mut server = Server::start();
    fill(&server, 100);
    server.kill();
    let last = segments(&server.data_dir).pop().unwrap();
    let mut bytes = std::fs::read(&last).unwrap();
    let middle = data_end(&bytes) / 2;
    bytes[middle] ^= 0x5a;
    std::fs::write(&last, &bytes).unwrap();
    let error = match spawn(&server.data_dir, &[]) {
        Ok((mut child, _)) => {
            // Do not leave the wrongly started node running behind the failed test.
            let _ = child.kill();
            let _ = child.wait();
            panic!("a corrupt log must not be served");
        }
        Err(error) => error,
    };
    assert!(error.contains("corrupt log record in"), "{error}");
    assert!(error.contains(&last.display().to_string()), "{error}");
    assert!(error.contains("at offset"), "{error}");
}

#[test]
fn snapshots_compact_the_log_and_restore_on_restart() {
    let mut server = Server::start_with(&["--snapshot-after-entries", "100"]);
    fill(&server, 600);
    let mut con = server.connect();
    let mut snapshot_index = 0;
    for _ in 0..100 {
        let info: String = redis::cmd("INFO").arg("persistence").query(&mut con).unwrap();
        snapshot_index =
            info.lines().find_map(|l| l.strip_prefix("raft_snapshot_index:")).unwrap().trim().parse::<u64>().unwrap();
        if snapshot_index > 0 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(snapshot_index > 0, "no snapshot was taken");
    assert!(server.data_dir.join("snapshots/group-1").read_dir().unwrap().count() >= 1);
    server.kill();
    server.restart();
    check(&server, 600);
}
