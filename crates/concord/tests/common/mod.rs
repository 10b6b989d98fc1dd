//! Running the real `concord` binary in tests: start a node on a free loopback port with its
//! own data directory, talk to it, kill it, restart it.

#![allow(dead_code)]

pub mod cluster;
pub mod ledger;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const BINARY: &str = env!("CARGO_BIN_EXE_concord");

/// A `concord server` child process.
pub struct Server {
    pub child: Child,
    pub address: SocketAddr,
    pub data_dir: PathBuf,
    /// The flags it was started with, for restarts.
    extra: Vec<String>,
    /// Keeps a temporary data directory alive for the test's duration.
    _temp: Option<tempfile::TempDir>,
}

impl Server {
    /// Starts a node on a fresh temporary data directory.
    pub fn start() -> Server {
        Self::start_with(&[])
    }

    pub fn start_with(extra: &[&str]) -> Server {
        let temp = tempfile::tempdir().expect("temp dir");
        let (child, address) = spawn(temp.path(), extra).expect("server starts");
        let extra = extra.iter().map(|arg| arg.to_string()).collect();
        Server { child, address, data_dir: temp.path().to_path_buf(), extra, _temp: Some(temp) }
    }

    /// Starts a node on an existing data directory (which the caller keeps alive).
    pub fn start_in(data_dir: &Path, extra: &[&str]) -> Result<Server, String> {
        let (child, address) = spawn(data_dir, extra)?;
        let extra = extra.iter().map(|arg| arg.to_string()).collect();
        Ok(Server { child, address, data_dir: data_dir.to_path_buf(), extra, _temp: None })
    }

    pub fn url(&self) -> String {
        format!("redis://{}/", self.address)
    }

    pub fn client(&self) -> redis::Client {
        redis::Client::open(self.url()).expect("client")
    }

    pub fn connect(&self) -> redis::Connection {
        self.client().get_connection().expect("connection")
    }

    pub fn connect_resp3(&self) -> redis::Connection {
        redis::Client::open(format!("{}?protocol=resp3", self.url()))
            .expect("client")
            .get_connection()
            .expect("connection")
    }

    /// A raw TCP connection, for protocol-level tests.
    pub fn raw(&self) -> TcpStream {
        let stream = TcpStream::connect(self.address).expect("connect");
        stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        stream
    }

    /// kill -9.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, then the exit status.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        // SAFETY: sending a signal to our own child process.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        self.child.wait().expect("wait")
    }

    /// Restarts on the same data directory after the process has exited.
    pub fn restart(&mut self) {
        let extra: Vec<&str> = self.extra.iter().map(String::as_str).collect();
        let (child, address) = spawn(&self.data_dir, &extra).expect("restart");
        self.child = child;
        self.address = address;
    }
}

/// Spawns `concord server` on `data_dir` and waits for its ready line; the error holds what it
/// printed if it exits instead.
pub fn spawn(data_dir: &Path, extra: &[&str]) -> Result<(Child, SocketAddr), String> {
    let ports: &[&str] = if extra.contains(&"--port") { &[] } else { &["--port", "0"] };
    let mut child = Command::new(BINARY)
        .arg("server")
        .args(ports)
        .arg("--data-dir")
        .arg(data_dir)
        .args(extra)
        .env("CONCORD_LOG_LEVEL", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn concord");
    let stdout = child.stdout.take().expect("stdout");
    let mut stderr = child.stderr.take().expect("stderr");
    // Drained continuously so a chatty node never blocks on a full pipe.
    let errors = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let mut lines = BufReader::new(stdout).lines();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        match lines.next() {
            Some(Ok(line)) => {
                if let Some(address) = line.split("serving clients on ").nth(1) {
                    let address = address.trim().parse().expect("address");
                    // Keep draining stdout so the child never blocks on a full pipe.
                    std::thread::spawn(move || for _ in lines {});
                    return Ok((child, address));
                }
            }
            _ => {
                let _ = child.wait();
                return Err(errors.join().unwrap_or_default());
            }
        }
        assert!(Instant::now() < deadline, "server did not become ready");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Sends raw bytes and reads whatever comes back until the server closes or `wait` passes.
pub fn exchange(stream: &mut TcpStream, bytes: &[u8], wait: Duration) -> Vec<u8> {
    stream.write_all(bytes).unwrap();
    stream.set_read_timeout(Some(wait)).unwrap();
    let mut received = Vec::new();
    let mut buffer = [0u8; 65536];
    loop {
        match stream.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => received.extend_from_slice(&buffer[..n]),
            Err(_) => break,
        }
    }
    received
}

/// A minimal RESP client for exact-byte checks: sends a command, returns one whole reply as
/// the text the server sent.
pub struct Raw {
    stream: TcpStream,
    buffer: Vec<u8>,
}

impl Raw {
    pub fn new(server: &Server) -> Raw {
        Raw { stream: server.raw(), buffer: Vec::new() }
    }

    /// A raw connection to any address (a cluster member).
    pub fn connect(address: SocketAddr) -> Raw {
        let stream = TcpStream::connect(address).expect("connect");
        stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        Raw { stream, buffer: Vec::new() }
    }

    pub fn send(&mut self, args: &[&str]) {
        let mut bytes = format!("*{}\r\n", args.len()).into_bytes();
        for arg in args {
            bytes.extend(format!("${}\r\n", arg.len()).into_bytes());
            bytes.extend(arg.as_bytes());
            bytes.extend(b"\r\n");
        }
        self.stream.write_all(&bytes).unwrap();
    }

    /// Sends a command and returns its reply.
    pub fn call(&mut self, args: &[&str]) -> String {
        self.send(args);
        self.reply()
    }

    /// Reads one whole reply.
    pub fn reply(&mut self) -> String {
        loop {
            if let Some(end) = reply_end(&self.buffer, 0) {
                let reply: Vec<u8> = self.buffer.drain(..end).collect();
                return String::from_utf8_lossy(&reply).into_owned();
            }
            let mut chunk = [0u8; 65536];
            let n = self.stream.read(&mut chunk).expect("reply");
            assert!(n > 0, "connection closed before a whole reply");
            self.buffer.extend_from_slice(&chunk[..n]);
        }
    }

    pub fn stream(&mut self) -> &mut TcpStream {
        &mut self.stream
    }
}

/// Where the reply starting at `at` ends, if it is complete.
fn reply_end(bytes: &[u8], at: usize) -> Option<usize> {
    let line_end = at + bytes[at..].windows(2).position(|w| w == b"\r\n")?;
    let header = std::str::from_utf8(&bytes[at + 1..line_end]).ok()?;
    let next = line_end + 2;
    let count = || header.parse::<i64>().ok();
    match bytes[at] {
        b'+' | b'-' | b':' | b'_' | b'#' | b',' | b'(' => Some(next),
        b'$' | b'=' | b'!' => match count()? {
            -1 => Some(next),
            length => (bytes.len() >= next + length as usize + 2).then_some(next + length as usize + 2),
        },
        b'*' | b'~' | b'>' | b'%' | b'|' => {
            let items = count()?;
            let items = if matches!(bytes[at], b'%' | b'|') { items * 2 } else { items };
            let mut position = next;
            for _ in 0..items.max(0) {
                position = reply_end(bytes, position)?;
            }
            Some(position)
        }
        _ => panic!("not a RESP reply: {:?}", String::from_utf8_lossy(&bytes[at..])),
    }
}
