//! `concord verify` in CI: a short run against a real local cluster of three nodes and three
//! shards (the default), with every fault kind this machine allows (real network partitions
//! need root and nft; scripts/setup.sh installs nft when run as root).

use concord_verify::netns::Netns;
use std::process::Command;

#[test]
fn a_short_verify_run_passes_under_faults() {
    let dir = tempfile::tempdir().unwrap();
    let mut faults = "kill,pause,partition".to_string();
    match Netns::unavailable() {
        None => faults.push_str(",netns"),
        Some(why) => eprintln!("without netns faults: {why}"),
    }
    let output = Command::new(env!("CARGO_BIN_EXE_concord"))
        .args(["verify", "--duration", "20", "--clients", "6", "--faults", &faults, "--seed", "7"])
        .args(["--quiet-ms", "300,1000", "--hold-ms", "300,1500"])
        .arg("--dir")
        .arg(dir.path().join("cluster"))
        .output()
        .unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "{text}");
    assert!(text.contains("violations: 0; lost writes: 0") && text.trim_end().ends_with("PASSED"), "{text}");
    let faults: usize = text
        .lines()
        .find_map(|line| line.strip_prefix("faults (")?.split(')').next()?.parse().ok())
        .expect("the report counts faults");
    assert!(faults >= 5, "a fault every second or two: {text}");
    let ok: usize = text
        .lines()
        .find_map(|line| line.split(" operations: ").nth(1)?.split(' ').next()?.parse().ok())
        .expect("the report counts operations");
    assert!(ok > 1_000, "the clients got work done: {text}");
    // The keys spread over the three shards, and each shard served writes and reads.
    assert!(text.contains("3 nodes, 3 shards"), "{text}");
    let per_shard: Vec<usize> = text
        .lines()
        .find_map(|line| line.strip_prefix("operations per shard: "))
        .expect("the report counts operations per shard")
        .split(", ")
        .filter_map(|shard| shard.split(" (").nth(1)?.split(' ').next()?.parse().ok())
        .collect();
    assert!(per_shard.len() == 3 && per_shard.iter().all(|&ok| ok > 100), "{text}");
}
