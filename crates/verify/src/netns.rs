//! Real network partitions: each node in a network namespace of its own, the namespaces joined
//! by a bridge in the verifier's namespace, and nft rules inside a namespace that drop what one
//! node sends to another. Needs root and the `ip` and `nft` tools.
//!
//! Addresses are 10.231.0.1.. for the nodes and 10.231.0.254 for the bridge, where the
//! verifier's clients live; rules only ever match node addresses, so clients always get through.

use std::process::Command;

const BRIDGE: &str = "cv-br";
const TABLE: &str = "concord_verify";

/// Namespaces for `nodes` nodes, removed again when dropped.
pub struct Netns {
    nodes: usize,
}

fn namespace(node: usize) -> String {
    format!("cv-n{node}")
}

fn run(program: &str, args: &[&str]) -> Result<(), String> {
    let output = Command::new(program).args(args).output().map_err(|e| format!("{program}: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!("{program} {}: {}", args.join(" "), String::from_utf8_lossy(&output.stderr).trim()))
    }
}

/// Runs `nft` inside a node's namespace.
fn nft(node: usize, args: &[&str]) -> Result<(), String> {
    let ns = namespace(node);
    let mut full = vec!["netns", "exec", &ns, "nft"];
    full.extend_from_slice(args);
    run("ip", &full)
}

impl Netns {
    /// Why namespaces cannot be used here, if they cannot.
    pub fn unavailable() -> Option<String> {
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            return Some("network namespaces need root".into());
        }
        for tool in ["ip", "nft"] {
            if Command::new(tool).arg("-V").output().is_err() {
                return Some(format!("network namespaces need the `{tool}` tool (scripts/setup.sh installs it)"));
            }
        }
        None
    }

    /// The address node `node` serves on inside its namespace.
    pub fn host(node: usize) -> String {
        format!("10.231.0.{}", node + 1)
    }

    pub fn create(nodes: usize) -> Result<Netns, String> {
        assert!(nodes < 250, "one /24 holds the nodes and the bridge");
        Netns::remove_all(nodes.max(16));
        let netns = Netns { nodes };
        run("ip", &["link", "add", BRIDGE, "type", "bridge"])?;
        run("ip", &["addr", "add", "10.231.0.254/24", "dev", BRIDGE])?;
        run("ip", &["link", "set", BRIDGE, "up"])?;
        for node in 0..nodes {
            let (ns, veth, address) = (namespace(node), format!("cv-h{node}"), format!("{}/24", Netns::host(node)));
            run("ip", &["netns", "add", &ns])?;
            run("ip", &["link", "add", &veth, "type", "veth", "peer", "name", "eth0", "netns", &ns])?;
            run("ip", &["link", "set", &veth, "master", BRIDGE, "up"])?;
            run("ip", &["-n", &ns, "addr", "add", &address, "dev", "eth0"])?;
            run("ip", &["-n", &ns, "link", "set", "eth0", "up"])?;
            run("ip", &["-n", &ns, "link", "set", "lo", "up"])?;
            nft(node, &["add", "table", "inet", TABLE])?;
            nft(node, &["add", "chain", "inet", TABLE, "output", "{ type filter hook output priority 0 ; }"])?;
        }
        Ok(netns)
    }

    /// The command prefix that runs a program inside node `node`'s namespace.
    pub fn exec_prefix(node: usize) -> Vec<String> {
        vec!["ip".into(), "netns".into(), "exec".into(), namespace(node)]
    }

    /// Drops everything node `from` sends to node `to` (one way; TCP then stalls both ways, as
    /// a real one-way cut does once acknowledgements stop).
    pub fn block(&self, from: usize, to: usize) -> Result<(), String> {
        nft(from, &["add", "rule", "inet", TABLE, "output", "ip", "daddr", &Netns::host(to), "drop"])
    }

    /// Lifts every rule.
    pub fn heal(&self) -> Result<(), String> {
        (0..self.nodes).try_for_each(|node| nft(node, &["flush", "chain", "inet", TABLE, "output"]))
    }

    fn remove_all(nodes: usize) {
        for node in 0..nodes {
            let _ = run("ip", &["netns", "del", &namespace(node)]);
        }
        let _ = run("ip", &["link", "del", BRIDGE]);
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        Netns::remove_all(self.nodes);
    }
}
