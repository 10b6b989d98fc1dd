//! Logs that say when and where: each line starts with the simulated time and the host whose
//! runtime emitted it (`RUST_LOG=info cargo run -p concord-sim -- --seed N`).

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::time::FormatTime;

thread_local! {
    /// Which host each tokio runtime belongs to (every host has its own; a restart makes a new one).
    static HOSTS: RefCell<BTreeMap<String, String>> = const { RefCell::new(BTreeMap::new()) };
}

/// Records that the calling runtime is `host`'s.
pub fn register_host(host: &str) {
    if let Ok(handle) = tokio::runtime::Handle::try_current() {
        HOSTS.with(|hosts| hosts.borrow_mut().insert(handle.id().to_string(), host.to_string()));
    }
}

fn current_host() -> String {
    let Ok(handle) = tokio::runtime::Handle::try_current() else { return "-".into() };
    HOSTS.with(|hosts| hosts.borrow().get(&handle.id().to_string()).cloned()).unwrap_or_else(|| "?".into())
}

/// Prints the simulated time and the host in place of the wall-clock time.
pub struct SimTime;

impl FormatTime for SimTime {
    fn format_time(&self, w: &mut Writer<'_>) -> fmt::Result {
        match turmoil::sim_elapsed() {
            Some(elapsed) => write!(w, "{:>7} ms {:<4}", elapsed.as_millis(), current_host()),
            None => write!(w, "      - ms -   "),
        }
    }
}

/// Installs the subscriber (once per process) when `RUST_LOG` is set.
pub fn init() {
    if std::env::var_os("RUST_LOG").is_some() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_timer(SimTime)
            .with_ansi(false)
            .try_init();
    }
}
