//! `concord verify` in CI: a short run against a real local cluster, with every fault kind
//! this machine allows (real network partitions need root and nft; scripts/setup.sh installs
//! nft when run as root).

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
}
