//! One seed, one history: the same seed replays byte for byte.
//!
//! Each run is a fresh process, as a replay is: tokio numbers its tasks for the whole process,
//! and that numbering decides the order a crashed host's tasks are dropped in.

use std::process::Command;

fn transcript(seed: u64) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_concord-sim"))
        .args(["--seed", &seed.to_string(), "--safety-ms", "8000"])
        .output()
        .expect("run concord-sim");
    let text = String::from_utf8(output.stdout).expect("a transcript is text");
    // The closing summary says how long the run took on this machine: the one line that may
    // differ.
    let (transcript, summary) = text.trim_end().rsplit_once('\n').expect("a transcript, then a summary");
    assert!(summary.starts_with(&format!("seed {seed}: ")), "{summary}");
    transcript.to_string()
}

#[test]
fn the_same_seed_gives_the_same_transcript() {
    let first = transcript(5);
    let second = transcript(5);
    if first != second {
        let dir = std::env::temp_dir();
        std::fs::write(dir.join("concord-sim-first.txt"), &first).unwrap();
        std::fs::write(dir.join("concord-sim-second.txt"), &second).unwrap();
        panic!("seed 5 ran differently twice; transcripts in {}", dir.display());
    }
    assert!(first.lines().count() > 100, "the run did something: {first}");
    assert_ne!(first, transcript(6), "another seed, another run");
}
