//! Serving: bind, start the node, accept clients within `maxclients`, and shut down cleanly.

use crate::config::ServerConfig;
use crate::connection;
use crate::env::Env;
use crate::node::Node;
use std::future::Future;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::sync::watch;
use tokio::task::JoinSet;

/// How long clients get to finish their in-flight commands at shutdown.
const SHUTDOWN_GRACE_MS: u64 = 10_000;

/// Runs a node until `shutdown` resolves, then stops accepting, lets in-flight commands
/// finish, flushes the log and returns.
pub async fn run(config: ServerConfig, env: Env, shutdown: impl Future<Output = ()>) -> Result<(), String> {
    let listener = env
        .net
        .bind(format!("{}:{}", config.bind, config.port))
        .await
        .map_err(|e| format!("cannot listen on {}:{}: {e}", config.bind, config.port))?;
    let address = listener.local_addr().map_err(|e| e.to_string())?;
    let simulated = env.simulated;
    let node = Node::start(config, env, address).await?;
    if !simulated {
        // Tools and tests wait for this line: the node accepts clients from now on.
        println!("Concord {} ready: node {} serving clients on {address}", env!("CARGO_PKG_VERSION"), node.id);
    }
    tracing::info!(%address, node = %node.id, "ready to accept connections");
    let sweeper = tokio::spawn(node.clone().background());
    let steward = tokio::spawn(crate::stewardship::run(node.clone()));
    let (stop, stopping) = watch::channel(false);
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    let mut shutdown_requested = node.shutdown_requested.subscribe();
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            _ = shutdown_requested.wait_for(|requested| *requested) => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            accepted = listener.accept() => {
                let mut conn = match accepted {
                    Ok(accepted) => accepted,
                    Err(error) => {
                        // Out of file descriptors and the like: back off instead of spinning.
                        tracing::warn!(%error, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                if node.clients.len() >= node.params.live.maxclients.load(Relaxed) {
                    node.clients.rejected_connections.fetch_add(1, Relaxed);
                    tokio::spawn(async move {
                        let _ = conn.writer.write_all(b"-ERR max number of clients reached\r\n").await;
                    });
                    continue;
                }
                let client = node.clients.register(conn.peer, conn.local, conn.fd);
                let (node, stopping) = (node.clone(), stopping.clone());
                connections.spawn(async move {
                    let id = client.view.lock().id;
                    connection::serve(node.clone(), (conn.reader, conn.writer), client, stopping).await;
                    node.clients.unregister(id);
                });
            }
        }
    }
    tracing::info!("shutting down: no new clients; finishing in-flight commands");
    drop(listener);
    sweeper.abort();
    steward.abort();
    stop.send_replace(true);
    let grace = tokio::time::sleep(Duration::from_millis(SHUTDOWN_GRACE_MS));
    tokio::pin!(grace);
    while !connections.is_empty() {
        tokio::select! {
            _ = connections.join_next() => {}
            _ = &mut grace => {
                tracing::warn!(remaining = connections.len(), "clients did not finish in time; closing them");
                node.clients.kill_all();
                connections.shutdown().await;
            }
        }
    }
    node.shutdown().await;
    tracing::info!("stopped cleanly");
    Ok(())
}
