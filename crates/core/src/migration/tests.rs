//! The move protocol between two state machines, with client writes interleaved at random
//! between its steps: whatever the interleaving, the target ends with exactly the source's
//! keys of the moving slots, the source refuses them once fenced, and snapshots keep the
//! progress of both sides.

use super::*;
use crate::limits::MOVE_BATCH_KEYS_MAX;
use crate::request::{Batch, Request};
use crate::rng::Rng;
use crate::state_machine::StateMachine;

/// Later than every entry's time: what is compared is what a client would read.
const NOW: TimeMs = 1_000_000;

struct Shard {
    machine: StateMachine,
    index: u64,
}

impl Shard {
    fn new(ranges: Vec<(u16, u16)>) -> Shard {
        let mut shard = Shard { machine: StateMachine::new(), index: 0 };
        shard.apply(Request::Migrate(MigrateStep::Own { ranges, epoch: 1 }));
        shard
    }

    fn apply(&mut self, request: Request) -> Reply {
        self.index += 1;
        let batch = Batch { time_ms: 1_000 + self.index, requests: vec![request] };
        self.machine.apply(self.index, &batch).replies.pop().unwrap()
    }

    fn command(&mut self, args: &[&str]) -> Reply {
        let argv = args.iter().map(|a| Bytes::copy_from_slice(a.as_bytes())).collect();
        self.apply(Request::Command { db: 0, argv })
    }

    fn step(&mut self, step: MigrateStep) -> Reply {
        let reply = self.apply(Request::Migrate(step));
        assert!(!matches!(reply, Reply::Error(_)), "{reply:?}");
        reply
    }

    /// The keys of `ranges` and their values, as GET (strings) or LRANGE (lists) see them.
    fn contents(&self, ranges: &SlotRanges, now_ms: TimeMs) -> Vec<(Bytes, String)> {
        let db = self.machine.keyspace().db(0);
        let mut keys: Vec<(Bytes, String)> = db
            .entries()
            .filter(|e| ranges.contains(key_slot(e.key())))
            .filter(|e| !e.is_expired(now_ms))
            .map(|e| (e.key().to_bytes(), describe(&e.value)))
            .collect();
        keys.sort();
        keys
    }

    /// Snapshots and restores the machine, as a new replica would start from it.
    fn reload(&mut self) {
        self.machine = StateMachine::restore(&self.machine.snapshot()).unwrap();
    }
}

fn describe(value: &crate::keyspace::Value) -> String {
    match ValueImage::of(value) {
        ValueImage::Str(blob) => format!("string {blob:?}"),
        ValueImage::List(elements) => format!("list {elements:?}"),
        _ => unreachable!("the test writes strings and lists"),
    }
}

/// Keys spread over the moving slots and others.
fn key(rng: &mut Rng) -> String {
    format!("k{}", rng.below(400))
}

fn random_write(rng: &mut Rng, shard: &mut Shard) {
    let key = key(rng);
    let value = rng.below(1_000).to_string();
    let _ = match rng.below(6) {
        0 | 1 => shard.command(&["SET", &key, &value]),
        2 => shard.command(&["DEL", &key]),
        3 => shard.command(&["RPUSH", &format!("l{key}"), &value]),
        4 => shard.command(&["LPOP", &format!("l{key}")]),
        _ => shard.command(&["PEXPIRE", &key, "1"]),
    };
}

#[test]
fn the_target_ends_with_exactly_the_sources_keys_whatever_the_interleaving() {
    for seed in 0..40 {
        let mut rng = Rng::new(seed);
        let moving = SlotRanges::new(vec![(0, 8191)]).unwrap();
        let mut source = Shard::new(vec![(0, 16383)]);
        let mut target = Shard::new(vec![]);
        for _ in 0..600 {
            random_write(&mut rng, &mut source);
        }
        let ranges = moving.ranges().to_vec();
        let (migration, attempt) = (7, 1);
        assert_eq!(target.step(MigrateStep::Prepare { migration, attempt, ranges: ranges.clone() }), Reply::Integer(0));
        source.step(MigrateStep::Track { migration, attempt, ranges: ranges.clone() });
        let mut fenced = false;
        let mut exports = 0;
        loop {
            // Clients keep writing until the fence; afterwards the source refuses them.
            for _ in 0..rng.below(30) {
                random_write(&mut rng, &mut source);
            }
            if rng.below(10) == 0 {
                source.reload();
                target.reload();
            }
            let Reply::Bulk(batch) = source.step(MigrateStep::Export { migration, attempt }) else { panic!() };
            exports += 1;
            let progress = progress_of(&batch).unwrap();
            // Empty batches are not numbered: the driver need not import them.
            if progress.keys > 0 || rng.below(2) == 0 {
                target.step(MigrateStep::Import { attempt, batch: batch.clone() });
                assert_eq!(target.step(MigrateStep::Import { attempt, batch }), Reply::Integer(0), "a copy is ignored");
            }
            if progress.complete {
                break;
            }
            if !fenced && (progress.round >= 2 || exports > 40) {
                source.step(MigrateStep::Fence { migration, attempt, epoch: 2 });
                fenced = true;
            }
        }
        assert_eq!(target.contents(&moving, NOW), source.contents(&moving, NOW), "seed {seed}");
        assert_eq!(target.command(&["KEYS", "*"]), Reply::Array(vec![]), "copies are not listed");
        assert_eq!(target.command(&["RANDOMKEY"]), Reply::Nil);
        assert_eq!(target.command(&["DBSIZE"]), Reply::Integer(0), "nor counted");
        for shard in [&mut source, &mut target] {
            let Reply::Error(text) = shard.command(&["FLUSHALL"]) else { panic!("flushed during a move") };
            assert!(text.starts_with(b"TRYAGAIN"), "{text:?}");
        }
        assert!(!source.contents(&moving, NOW).is_empty());
        // The moving slots' keys are refused by the fenced source and by the target, which
        // does not own them yet; the source's other keys are served.
        let moving_key = (0..).map(|n| format!("k{n}")).find(|k| moving.contains(key_slot(k.as_bytes()))).unwrap();
        let kept_key = (0..).map(|n| format!("k{n}")).find(|k| !moving.contains(key_slot(k.as_bytes()))).unwrap();
        for shard in [&mut source, &mut target] {
            let Reply::Error(text) = shard.command(&["SET", &moving_key, "late"]) else { panic!("served") };
            assert!(text.starts_with(b"TRYAGAIN"), "{text:?}");
        }
        assert_eq!(source.command(&["SET", &kept_key, "v"]), Reply::OK);
        // The hand-over: the target owns the slots, the source drops its keys of them.
        target.step(MigrateStep::Own { ranges: ranges.clone(), epoch: 3 });
        assert_eq!(target.command(&["SET", &moving_key, "late"]), Reply::OK);
        let finish = MigrateStep::Finish { migration, ranges: ranges.clone(), drop_keys: true };
        while source.step(finish.clone()) != Reply::Integer(0) {}
        assert!(source.contents(&moving, NOW).is_empty());
        assert!(source.machine.keyspace().moves().is_idle(), "the source forgot the move");
        let kept = SlotRanges::new(vec![(8192, 16383)]).unwrap();
        assert!(!source.contents(&kept, NOW).is_empty(), "the source keeps its other keys");
    }
}

#[test]
fn steps_of_an_older_attempt_or_a_stale_map_are_refused() {
    let ranges = vec![(0, 99)];
    let mut source = Shard::new(vec![(0, 16383)]);
    let mut target = Shard::new(vec![(100, 16383)]);
    // More keys of slots 0-99 than one batch holds.
    let tag = (0..).map(|n| format!("t{n}")).find(|t| key_slot(t.as_bytes()) < 100).unwrap();
    for n in 0..MOVE_BATCH_KEYS_MAX + 10 {
        source.command(&["SET", &format!("{{{tag}}}{n}"), "x"]);
    }
    target.step(MigrateStep::Prepare { migration: 1, attempt: 2, ranges: ranges.clone() });
    source.step(MigrateStep::Track { migration: 1, attempt: 2, ranges: ranges.clone() });
    let Reply::Bulk(batch) = source.step(MigrateStep::Export { migration: 1, attempt: 2 }) else { panic!() };
    let old = target.apply(Request::Migrate(MigrateStep::Prepare { migration: 1, attempt: 1, ranges: ranges.clone() }));
    assert!(matches!(old, Reply::Error(_)), "an older attempt cannot restart the import");
    let wrong = target.apply(Request::Migrate(MigrateStep::Import { attempt: 1, batch: batch.clone() }));
    assert!(matches!(wrong, Reply::Error(_)), "nor import");
    let old = source.apply(Request::Migrate(MigrateStep::Export { migration: 1, attempt: 1 }));
    assert!(matches!(old, Reply::Error(_)), "nor export");
    // A lost batch leaves a gap the target refuses to skip.
    let Reply::Bulk(next) = source.step(MigrateStep::Export { migration: 1, attempt: 2 }) else { panic!() };
    let gap = target.apply(Request::Migrate(MigrateStep::Import { attempt: 2, batch: next }));
    assert!(matches!(gap, Reply::Error(_)), "{gap:?}");
    // A shard never prepares to import slots it owns, and a fence older than the map that
    // gave the slots back is refused.
    let owned =
        target.apply(Request::Migrate(MigrateStep::Prepare { migration: 2, attempt: 1, ranges: vec![(100, 200)] }));
    assert!(matches!(owned, Reply::Error(_)));
    source.step(MigrateStep::Fence { migration: 1, attempt: 2, epoch: 5 });
    assert_eq!(source.step(MigrateStep::Own { ranges: vec![(0, 16383)], epoch: 4 }), Reply::Integer(0), "stale");
    assert!(!source.machine.keyspace().owns_slot(0));
    assert_eq!(source.step(MigrateStep::Own { ranges: vec![(0, 16383)], epoch: 6 }), Reply::Integer(1));
    let stale = source.apply(Request::Migrate(MigrateStep::Fence { migration: 1, attempt: 2, epoch: 5 }));
    assert!(matches!(stale, Reply::Error(_)), "{stale:?}");
    assert!(source.machine.keyspace().owns_slot(0));
    // The kept side of a finished move loses nothing.
    target.step(MigrateStep::Finish { migration: 1, ranges: ranges.clone(), drop_keys: false });
    assert!(target.machine.keyspace().moves().is_idle());
}

/// A driver that lost the metadata group's leadership may still have a step of its attempt in
/// flight (a paused node's messages are delivered when it wakes, a write whose outcome was
/// unknown is sent again) after the new leader's driver carried the move to its end. Such a
/// step must not begin the move again on either shard: a stale Prepare and Track would leave a
/// journal growing on the source and, once the stale driver's exports arrive, copies of the
/// source's keys on a target that will never own them.
#[test]
fn steps_of_a_move_either_shard_finished_are_refused() {
    let ranges = vec![(0, 99)];
    let moving = SlotRanges::new(ranges.clone()).unwrap();
    let key = (0..).map(|n| format!("k{n}")).find(|k| moving.contains(key_slot(k.as_bytes()))).unwrap();
    for handed_over in [false, true] {
        let mut source = Shard::new(vec![(0, 16383)]);
        let mut target = Shard::new(vec![]);
        source.command(&["SET", &key, "v"]);
        // Attempt 2 copies everything and the move ends: given up, or handed over.
        target.step(MigrateStep::Prepare { migration: 1, attempt: 2, ranges: ranges.clone() });
        source.step(MigrateStep::Track { migration: 1, attempt: 2, ranges: ranges.clone() });
        source.step(MigrateStep::Fence { migration: 1, attempt: 2, epoch: 2 });
        loop {
            let Reply::Bulk(batch) = source.step(MigrateStep::Export { migration: 1, attempt: 2 }) else { panic!() };
            target.step(MigrateStep::Import { attempt: 2, batch: batch.clone() });
            if progress_of(&batch).unwrap().complete {
                break;
            }
        }
        let (left, kept) = if handed_over {
            target.step(MigrateStep::Own { ranges: ranges.clone(), epoch: 3 });
            (&mut source, &mut target)
        } else {
            source.step(MigrateStep::Own { ranges: vec![(0, 16383)], epoch: 3 });
            (&mut target, &mut source)
        };
        let drop = MigrateStep::Finish { migration: 1, ranges: ranges.clone(), drop_keys: true };
        while left.step(drop.clone()) != Reply::Integer(0) {}
        kept.step(MigrateStep::Finish { migration: 1, ranges: ranges.clone(), drop_keys: false });
        // Attempt 1's steps arrive late.
        let stale_prepare = MigrateStep::Prepare { migration: 1, attempt: 1, ranges: ranges.clone() };
        let stale_track = MigrateStep::Track { migration: 1, attempt: 1, ranges: ranges.clone() };
        let prepared = target.apply(Request::Migrate(stale_prepare));
        let tracked = source.apply(Request::Migrate(stale_track));
        assert!(matches!(prepared, Reply::Error(_)), "handed over {handed_over}: {prepared:?}");
        assert!(matches!(tracked, Reply::Error(_)), "handed over {handed_over}: {tracked:?}");
        let exported = source.apply(Request::Migrate(MigrateStep::Export { migration: 1, attempt: 1 }));
        assert!(matches!(exported, Reply::Error(_)), "{exported:?}");
        for shard in [&mut source, &mut target] {
            assert!(shard.machine.keyspace().moves().is_idle(), "handed over {handed_over}");
            // Across a snapshot too, as a replica restarting from one would refuse them.
            shard.reload();
            let again = MigrateStep::Track { migration: 1, attempt: 3, ranges: ranges.clone() };
            assert!(matches!(shard.apply(Request::Migrate(again)), Reply::Error(_)));
        }
        let holder = if handed_over { &target } else { &source };
        let other = if handed_over { &source } else { &target };
        assert_eq!(holder.contents(&moving, NOW).len(), 1);
        assert!(other.contents(&moving, NOW).is_empty(), "handed over {handed_over}: a copy was left");
        // A later move of the same slots (a higher id) goes ahead.
        let (next_source, next_target) = if handed_over { (target, source) } else { (source, target) };
        let (mut next_source, mut next_target) = (next_source, next_target);
        next_target.step(MigrateStep::Prepare { migration: 2, attempt: 1, ranges: ranges.clone() });
        next_source.step(MigrateStep::Track { migration: 2, attempt: 1, ranges: ranges.clone() });
    }
}

/// After the fence no client changes the source's moving keys, but its expiry sweep still
/// removes those whose time passed. A key changed after the copy that carried it, then removed
/// that way before the last round's scan reached it, is neither scanned nor in the tombstones
/// taken at the fence: the target must not keep the older copy (seed 225 read a register with
/// no expiry on the target that had expired on the source).
#[test]
fn a_key_that_expires_on_the_fenced_source_is_removed_from_the_target() {
    let ranges = vec![(0, 16383)];
    let moving = SlotRanges::new(ranges.clone()).unwrap();
    let mut source = Shard::new(ranges.clone());
    let mut target = Shard::new(vec![]);
    source.command(&["SET", "k", "old"]);
    target.step(MigrateStep::Prepare { migration: 1, attempt: 1, ranges: ranges.clone() });
    source.step(MigrateStep::Track { migration: 1, attempt: 1, ranges: ranges.clone() });
    let copy = |source: &mut Shard, target: &mut Shard| {
        let Reply::Bulk(batch) = source.step(MigrateStep::Export { migration: 1, attempt: 1 }) else { panic!() };
        target.step(MigrateStep::Import { attempt: 1, batch: batch.clone() });
        progress_of(&batch).unwrap()
    };
    assert!(copy(&mut source, &mut target).round_ended, "the first round carried k = old");
    source.command(&["SET", "k", "new", "PX", "5"]);
    source.step(MigrateStep::Fence { migration: 1, attempt: 1, epoch: 2 });
    for _ in 0..10 {
        source.apply(Request::Tick);
    }
    let swept = source.apply(Request::Expire { db: 0, keys: vec![Bytes::from_static(b"k")] });
    assert_eq!(swept, Reply::Integer(1), "k's time passed on the source");
    while !copy(&mut source, &mut target).complete {}
    assert_eq!(source.contents(&moving, NOW), []);
    assert_eq!(target.contents(&moving, NOW), [], "the target kept a copy the source no longer has");
}
