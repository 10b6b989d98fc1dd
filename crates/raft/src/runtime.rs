//! The consensus runtime: where openraft's tasks, the proposers and the read barriers run.
//! Either a thread of its own, so that elections, heartbeats and commits never wait in line
//! behind client I/O (`--consensus-thread`), or the caller's runtime: the client threads by
//! default (fewer wake-ups between threads), the simulator's one thread in a simulation.

use std::thread::JoinHandle;
use tokio::runtime::Handle;
use tokio::sync::oneshot;

pub struct ConsensusRuntime {
    handle: Handle,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl ConsensusRuntime {
    pub fn start() -> std::io::Result<ConsensusRuntime> {
        let (handle_sender, handle_receiver) = std::sync::mpsc::channel();
        let (stop, stopped) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new().name("concord-raft".into()).spawn(move || {
            let runtime =
                tokio::runtime::Builder::new_current_thread().enable_all().build().expect("consensus runtime");
            handle_sender.send(runtime.handle().clone()).expect("handle receiver waits");
            runtime.block_on(async {
                let _ = stopped.await;
            });
        })?;
        let handle = handle_receiver.recv().map_err(|_| std::io::Error::other("consensus runtime failed to start"))?;
        Ok(ConsensusRuntime { handle, stop: Some(stop), thread: Some(thread) })
    }

    /// Consensus on the caller's runtime, with no thread of its own.
    pub fn current() -> ConsensusRuntime {
        ConsensusRuntime { handle: Handle::current(), stop: None, thread: None }
    }

    pub fn handle(&self) -> &Handle {
        &self.handle
    }
}

impl Drop for ConsensusRuntime {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
