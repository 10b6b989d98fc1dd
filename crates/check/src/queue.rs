//! Lists as queues: every token a push carried is taken by at most one pop, an acknowledged one
//! is taken or still in the final list, nothing appears that no push carried, and tokens come
//! out in the order their pushes put them in.
//!
//! The order is what Redis guarantees and no more. Elements only join and leave a list at its
//! ends, so two elements keep their relative place while both are there. A push that began
//! after an acknowledged push had returned took effect after it: an RPUSH lands to the right
//! of what that earlier push put in, an LPUSH to the left; within one push, RPUSH a b puts a
//! left of b, LPUSH a b puts b left of a. Where x must be left of y:
//! - every view that holds both (an LRANGE, a pop with a count, read from its end) shows x
//!   first;
//! - a pop from the left that took y found x gone, if x was there before it (pushed with y,
//!   or by a push acknowledged before y's push or the pop began), so no later view or pop
//!   sees x; and a pop from the right that took x found y gone, on the same terms.
//!
//! Pops whose outcome is unknown may have taken anything, at any time: an acknowledged token
//! missing from every acknowledged pop and from the final list is lost only when there are
//! more such tokens than those pops could have taken (LPOP key 3 takes up to three).

use crate::history::{Command, End, History, Operation, Outcome, Value};
use crate::workload::{family, Family};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// Where a token was seen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Sighting {
    /// Taken by, or shown by, this operation.
    Op(usize),
    /// In the final list, read after healing.
    Final,
}

impl fmt::Display for Sighting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Sighting::Op(id) => write!(f, "#{id}"),
            Sighting::Final => write!(f, "the final list"),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    /// Acknowledged pushes whose tokens no acknowledged pop took and the final list lacks,
    /// more of them than the pops with unknown outcomes could have taken.
    Lost { key: String, missing: Vec<(usize, String)>, unknown_pops: u64 },
    /// A token no push carried.
    Phantom { key: String, token: String, seen: Sighting },
    /// A token whose push was refused.
    FailedLanded { key: String, op: usize, token: String, seen: Sighting },
    /// A token taken twice, taken and still in the final list, or twice in one view.
    Duplicated { key: String, token: String, seen: Vec<Sighting> },
    /// `first` must be left of `second`, but `seen` shows them the other way round.
    OutOfOrder { key: String, first: String, second: String, seen: Sighting },
    /// `popped` was taken from its end while `nearer`, nearer that end, was still there: `seen`
    /// saw `nearer` after the pop returned.
    PoppedAhead { key: String, popped: String, pop: usize, nearer: String, seen: Sighting },
    /// A token seen in the list after a pop had taken it.
    Resurrected { key: String, token: String, pop: usize, seen: Sighting },
    /// A reply no list command gives.
    Malformed { key: String, op: usize, reply: String },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Lost { key, missing, unknown_pops } => {
                let tokens: Vec<String> = missing.iter().map(|(op, token)| format!("{token:?} (#{op})")).collect();
                write!(
                    f,
                    "lost push: {key} lost {} acknowledged elements, which no pop returned and the final list lacks, \
                     but pops with unknown outcomes could take only {unknown_pops}: {}",
                    missing.len(),
                    tokens.join(", ")
                )
            }
            Problem::Phantom { key, token, seen } => {
                write!(f, "phantom element: {key}: {seen} holds {token:?}, which nobody pushed")
            }
            Problem::FailedLanded { key, op, token, seen } => {
                write!(f, "refused push landed: {key}: {seen} holds {token:?} from operation #{op}, which was refused")
            }
            Problem::Duplicated { key, token, seen } => {
                let places: Vec<String> = seen.iter().map(Sighting::to_string).collect();
                write!(f, "duplicated element: {key}: {token:?} taken or held more than once: {}", places.join(", "))
            }
            Problem::OutOfOrder { key, first, second, seen } => write!(
                f,
                "elements out of order: {key}: {seen} shows {second:?} before {first:?}, pushed the other way round"
            ),
            Problem::PoppedAhead { key, popped, pop, nearer, seen } => write!(
                f,
                "popped out of order: {key}: #{pop} took {popped:?} while {nearer:?}, nearer that end, was still \
                 there ({seen} saw it later)"
            ),
            Problem::Resurrected { key, token, pop, seen } => {
                write!(f, "popped element came back: {key}: #{pop} took {token:?}, {seen} saw it later")
            }
            Problem::Malformed { key, op, reply } => write!(f, "malformed reply: {key}: #{op} answered {reply}"),
        }
    }
}

/// Where a token came from: its push, and its place among that push's arguments.
#[derive(Clone, Copy)]
struct Origin<'a> {
    push: &'a Operation,
    end: End,
    position: usize,
}

/// A view of part of a list at one time, left to right: an LRANGE, or what one pop took.
struct View<'a> {
    op: &'a Operation,
    tokens: Vec<String>,
}

/// An acknowledged pop that took something, and from which end.
struct Take<'a> {
    op: &'a Operation,
    end: End,
    tokens: Vec<String>,
}

/// Everything one list key's history says.
#[derive(Default)]
struct ListHistory<'a> {
    origins: BTreeMap<&'a str, Origin<'a>>,
    views: Vec<View<'a>>,
    takes: Vec<Take<'a>>,
    /// How many elements the pops with unknown outcomes could have taken, together.
    unknown_pops: u64,
    malformed: Vec<(usize, String)>,
}

/// What an acknowledged pop's reply says it took (None: a reply no pop gives).
fn taken(command: &Command, reply: &Value) -> Option<Vec<String>> {
    let owned = |items: Vec<&str>| items.into_iter().map(str::to_string).collect();
    match (command, reply) {
        (_, Value::Nil) => Some(Vec::new()),
        (Command::Pop { count: None, .. }, Value::Bytes(token)) => Some(vec![token.clone()]),
        (Command::Pop { count: Some(_), .. }, reply) => reply.strings().map(owned),
        // BLPOP answers the key, then the element.
        (Command::BlockingPop { .. }, reply) => match reply.strings()?[..] {
            [_, token] => Some(vec![token.to_string()]),
            _ => None,
        },
        _ => None,
    }
}

fn gather(history: &History) -> BTreeMap<&str, ListHistory<'_>> {
    let mut lists: BTreeMap<&str, ListHistory> = BTreeMap::new();
    for op in &history.ops {
        for (index, command) in op.call.commands().iter().enumerate() {
            if family(command.key()) != Some(Family::List) {
                continue;
            }
            let list = lists.entry(command.key()).or_default();
            let reply = match &op.outcome {
                Outcome::Done(replies) => Some(&replies[index]),
                Outcome::Failed(_) | Outcome::Unknown(_) => None,
            };
            match (command, reply) {
                (Command::Push { values, end, .. }, _) => {
                    for (position, token) in values.iter().enumerate() {
                        list.origins.insert(token, Origin { push: op, end: *end, position });
                    }
                }
                (Command::Pop { .. } | Command::BlockingPop { .. }, None) => {
                    if matches!(op.outcome, Outcome::Unknown(_)) {
                        list.unknown_pops += match command {
                            Command::Pop { count: Some(count), .. } => *count,
                            _ => 1,
                        };
                    }
                }
                (Command::Pop { end, .. } | Command::BlockingPop { end, .. }, Some(reply)) => {
                    match taken(command, reply) {
                        Some(tokens) => {
                            // A pop from the right takes the rightmost first: reversed, what it
                            // took reads left to right.
                            let mut view = tokens.clone();
                            if *end == End::Right {
                                view.reverse();
                            }
                            list.views.push(View { op, tokens: view });
                            list.takes.push(Take { op, end: *end, tokens });
                        }
                        None => list.malformed.push((op.id, reply.to_string())),
                    }
                }
                (Command::LRange { .. }, Some(reply)) => match reply.strings() {
                    Some(tokens) => {
                        list.views.push(View { op, tokens: tokens.into_iter().map(str::to_string).collect() })
                    }
                    None => list.malformed.push((op.id, reply.to_string())),
                },
                _ => {}
            }
        }
    }
    lists
}

/// The first of `seen` (in the order they began) that began after `after_us` and that `keep`
/// accepts.
fn first_after<'a>(seen: &[&'a Operation], after_us: u64, keep: impl Fn(&Operation) -> bool) -> Option<&'a Operation> {
    let from = seen.partition_point(|op| op.invoked_us <= after_us);
    seen[from..].iter().copied().find(|op| keep(op))
}

/// Whether `x` must be left of `y` while both are in the list (see the module's comment).
fn precedes(x: &Origin, y: &Origin) -> bool {
    if x.push.id == y.push.id {
        return match x.end {
            End::Right => x.position < y.position,
            End::Left => x.position > y.position,
        };
    }
    let acknowledged = |origin: &Origin| matches!(origin.push.outcome, Outcome::Done(_));
    let before = |a: &Origin, b: &Origin| acknowledged(a) && a.push.completed_us < b.push.invoked_us;
    (before(x, y) && y.end == End::Right) || (before(y, x) && x.end == End::Left)
}

/// Whether `token` was in the list before `pop` took `popped` (unless something had taken it
/// already): pushed with `popped`, or by a push known to come before it or before `pop`.
fn there_before(token: &Origin, popped: &Origin, pop: &Operation) -> bool {
    let acknowledged = matches!(token.push.outcome, Outcome::Done(_));
    token.push.id == popped.push.id
        || (acknowledged && token.push.completed_us < popped.push.invoked_us)
        || (acknowledged && token.push.completed_us < pop.invoked_us)
}

/// Checks every list key of the history, with the final lists read after healing (`finals`:
/// LRANGE's reply per key; a key without one is judged on everything but what is left).
pub fn check(history: &History, finals: &BTreeMap<String, Value>) -> Vec<Problem> {
    let mut problems = Vec::new();
    for (key, list) in gather(history) {
        let key_name = || key.to_string();
        for (op, reply) in &list.malformed {
            problems.push(Problem::Malformed { key: key_name(), op: *op, reply: reply.clone() });
        }
        let last: Option<Vec<String>> =
            finals.get(key).map(|value| value.strings().unwrap_or_default().into_iter().map(str::to_string).collect());
        let views = list.views.iter().map(|view| (Sighting::Op(view.op.id), &view.tokens[..]));
        let all_views: Vec<(Sighting, &[String])> =
            views.chain(last.iter().map(|tokens| (Sighting::Final, &tokens[..]))).collect();
        // Provenance: every token seen was pushed, by a push not refused.
        let mut judged: BTreeSet<&str> = BTreeSet::new();
        for (seen, token) in all_views.iter().flat_map(|(seen, tokens)| tokens.iter().map(move |t| (*seen, t))) {
            if !judged.insert(token) {
                continue;
            }
            match list.origins.get(token.as_str()) {
                None => problems.push(Problem::Phantom { key: key_name(), token: token.clone(), seen }),
                Some(origin) if matches!(origin.push.outcome, Outcome::Failed(_)) => problems
                    .push(Problem::FailedLanded { key: key_name(), op: origin.push.id, token: token.clone(), seen }),
                Some(_) => {}
            }
        }
        // Never twice in one view (a push applied twice), whatever the view.
        for (seen, tokens) in &all_views {
            let mut once: BTreeSet<&str> = BTreeSet::new();
            for token in tokens.iter().filter(|token| !once.insert(token)) {
                problems.push(Problem::Duplicated { key: key_name(), token: token.clone(), seen: vec![*seen] });
            }
        }
        // Each token taken once at most, or left in the final list, never both.
        let mut holders: BTreeMap<&str, BTreeSet<Sighting>> = BTreeMap::new();
        for take in &list.takes {
            for token in &take.tokens {
                holders.entry(token).or_default().insert(Sighting::Op(take.op.id));
            }
        }
        for token in last.iter().flatten() {
            holders.entry(token).or_default().insert(Sighting::Final);
        }
        for (token, seen) in holders.iter().filter(|(_, seen)| seen.len() > 1) {
            let seen = seen.iter().copied().collect();
            problems.push(Problem::Duplicated { key: key_name(), token: token.to_string(), seen });
        }
        // Acknowledged pushes: taken, left, or taken by some pop whose outcome is unknown.
        if last.is_some() {
            let missing: Vec<(usize, String)> = list
                .origins
                .iter()
                .filter(|(token, origin)| {
                    matches!(origin.push.outcome, Outcome::Done(_)) && !holders.contains_key(*token)
                })
                .map(|(token, origin)| (origin.push.id, token.to_string()))
                .collect();
            if missing.len() as u64 > list.unknown_pops {
                problems.push(Problem::Lost { key: key_name(), missing, unknown_pops: list.unknown_pops });
            }
        }
        problems.extend(order_problems(key, &list));
    }
    problems
}

/// The order checks of the module's comment, over the views and pops of the history (the
/// final read is among them, as the LRANGE it was).
///
/// Histories of a minute hold thousands of views of long lists: the pairs of a view are
/// judged by their origins, looked up once per view, and each pop is judged against the first
/// sighting after it of each token, found by bisection, rather than against every sighting.
fn order_problems(key: &str, list: &ListHistory) -> Vec<Problem> {
    let mut problems = Vec::new();
    for view in &list.views {
        let origins: Vec<Option<&Origin>> = view.tokens.iter().map(|token| list.origins.get(token.as_str())).collect();
        for (i, earlier) in origins.iter().enumerate() {
            for (j, later) in origins.iter().enumerate().skip(i + 1) {
                if let (Some(earlier), Some(later)) = (earlier, later) {
                    if precedes(later, earlier) {
                        problems.push(Problem::OutOfOrder {
                            key: key.to_string(),
                            first: view.tokens[j].clone(),
                            second: view.tokens[i].clone(),
                            seen: Sighting::Op(view.op.id),
                        });
                    }
                }
            }
        }
    }
    // Every sighting of each token in the list (a view that holds it, a pop that takes it), in
    // the order the operations that saw it began.
    let takes: BTreeSet<usize> = list.takes.iter().map(|take| take.op.id).collect();
    let mut sightings: BTreeMap<&str, Vec<&Operation>> = BTreeMap::new();
    for view in &list.views {
        for token in &view.tokens {
            sightings.entry(token.as_str()).or_default().push(view.op);
        }
    }
    for seen in sightings.values_mut() {
        seen.sort_by_key(|op| (op.invoked_us, op.id));
    }
    for take in &list.takes {
        for popped in &take.tokens {
            // Taken twice is reported as a duplicate already.
            let not_a_take = |op: &Operation| !takes.contains(&op.id);
            if let Some(op) =
                sightings.get(popped.as_str()).and_then(|seen| first_after(seen, take.op.completed_us, not_a_take))
            {
                problems.push(Problem::Resurrected {
                    key: key.to_string(),
                    token: popped.clone(),
                    pop: take.op.id,
                    seen: Sighting::Op(op.id),
                });
            }
            let Some(popped_origin) = list.origins.get(popped.as_str()) else { continue };
            for (&token, seen) in sightings.iter().filter(|(token, _)| **token != popped.as_str()) {
                let Some(token_origin) = list.origins.get(token) else { continue };
                let ahead = match take.end {
                    End::Left => precedes(token_origin, popped_origin),
                    End::Right => precedes(popped_origin, token_origin),
                };
                // Only if `token` was there before the pop: an LPUSH after it lands left of
                // what is left, and after the pop is no order at all.
                if !ahead || !there_before(token_origin, popped_origin, take.op) {
                    continue;
                }
                if let Some(op) = first_after(seen, take.op.completed_us, |_| true) {
                    problems.push(Problem::PoppedAhead {
                        key: key.to_string(),
                        popped: popped.clone(),
                        pop: take.op.id,
                        nearer: token.to_string(),
                        seen: Sighting::Op(op.id),
                    });
                }
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::Call;

    const KEY: &str = "g0:list:0";

    /// A history on one list key, with times in ms and each operation's outcome.
    struct Builder {
        history: History,
    }

    fn done(value: Value) -> Outcome {
        Outcome::Done(vec![value])
    }

    fn bytes(text: &str) -> Value {
        Value::Bytes(text.into())
    }

    fn array(tokens: &[&str]) -> Value {
        Value::Array(tokens.iter().map(|t| bytes(t)).collect())
    }

    impl Builder {
        fn new() -> Builder {
            Builder { history: History::default() }
        }

        fn op(&mut self, client: u32, command: Command, at_ms: u64, outcome: Outcome) -> usize {
            self.history.push(client, Call::One(command), at_ms * 1000, (at_ms + 5) * 1000, outcome)
        }

        fn push(&mut self, client: u32, end: End, values: &[&str], at_ms: u64, outcome: Outcome) -> usize {
            let values = values.iter().map(|v| v.to_string()).collect();
            self.op(client, Command::Push { key: KEY.into(), end, values }, at_ms, outcome)
        }

        fn pop(&mut self, end: End, count: Option<u64>, at_ms: u64, outcome: Outcome) -> usize {
            self.op(9, Command::Pop { key: KEY.into(), end, count }, at_ms, outcome)
        }

        fn lrange(&mut self, tokens: &[&str], at_ms: u64) -> usize {
            self.op(8, Command::LRange { key: KEY.into() }, at_ms, done(array(tokens)))
        }

        /// The final read, recorded as the simulator records it; the problems found.
        fn finish(mut self, tokens: &[&str], at_ms: u64) -> Vec<Problem> {
            self.lrange(tokens, at_ms);
            let finals = [(KEY.to_string(), array(tokens))].into_iter().collect();
            check(&self.history, &finals)
        }
    }

    fn ok(length: i64) -> Outcome {
        done(Value::Int(length))
    }

    #[test]
    fn a_clean_queue_passes() {
        let mut h = Builder::new();
        h.push(1, End::Right, &["a", "b"], 0, ok(2));
        h.push(2, End::Left, &["c"], 10, ok(3));
        h.lrange(&["c", "a", "b"], 20);
        h.pop(End::Left, Some(2), 30, done(array(&["c", "a"])));
        h.op(3, Command::BlockingPop { key: KEY.into(), end: End::Right, timeout_ms: 100 }, 40, done(Value::Nil));
        h.push(1, End::Right, &["d"], 50, ok(2));
        // An unknown pop may have taken "b": the final list may lack it.
        h.pop(End::Left, None, 60, Outcome::Unknown("timeout".into()));
        h.push(2, End::Right, &["e"], 70, Outcome::Unknown("timeout".into()));
        let problems = h.finish(&["d"], 100);
        assert!(problems.is_empty(), "{problems:?}");
    }

    #[test]
    fn an_element_popped_twice_or_popped_and_left_is_caught() {
        let mut h = Builder::new();
        h.push(1, End::Right, &["a", "b"], 0, ok(2));
        let first = h.pop(End::Left, None, 10, done(bytes("a")));
        let blocking = Command::BlockingPop { key: KEY.into(), end: End::Left, timeout_ms: 100 };
        let second = h.op(2, blocking, 20, done(array(&[KEY, "a"])));
        let third = h.pop(End::Right, Some(1), 30, done(array(&["b"])));
        let problems = h.finish(&["b"], 100);
        let duplicated =
            |token: &str, seen: Vec<Sighting>| Problem::Duplicated { key: KEY.into(), token: token.into(), seen };
        assert!(problems.contains(&duplicated("a", vec![Sighting::Op(first), Sighting::Op(second)])), "{problems:?}");
        assert!(problems.contains(&duplicated("b", vec![Sighting::Op(third), Sighting::Final])), "{problems:?}");
    }

    #[test]
    fn a_lost_push_is_caught_unless_an_unknown_pop_may_have_taken_it() {
        let lost = |unknown_pops: &[Option<u64>]| {
            let mut h = Builder::new();
            let a = h.push(1, End::Right, &["a", "b", "c"], 0, ok(3));
            for (n, count) in unknown_pops.iter().enumerate() {
                h.pop(End::Left, *count, 10 + n as u64, Outcome::Unknown("connection lost".into()));
            }
            (a, h.finish(&["c"], 100))
        };
        let (a, problems) = lost(&[]);
        let missing = vec![(a, "a".to_string()), (a, "b".to_string())];
        assert_eq!(problems, vec![Problem::Lost { key: KEY.into(), missing, unknown_pops: 0 }]);
        assert!(matches!(&lost(&[None]).1[..], [Problem::Lost { unknown_pops: 1, .. }]), "one pop takes one");
        assert!(lost(&[None, None]).1.is_empty());
        assert!(lost(&[Some(2)]).1.is_empty(), "LPOP key 2 may take both");
    }

    #[test]
    fn elements_nobody_pushed_or_from_refused_pushes_are_caught() {
        let mut h = Builder::new();
        let refused = h.push(1, End::Right, &["a"], 0, Outcome::Failed("TRYAGAIN".into()));
        let pop = h.pop(End::Left, None, 10, done(bytes("a")));
        h.lrange(&["z"], 20);
        let problems = h.finish(&[], 100);
        assert!(problems.contains(&Problem::FailedLanded {
            key: KEY.into(),
            op: refused,
            token: "a".into(),
            seen: Sighting::Op(pop)
        }));
        assert!(problems.iter().any(|p| matches!(p, Problem::Phantom { token, .. } if token == "z")));
        assert_eq!(problems.len(), 2, "{problems:?}");
    }

    #[test]
    fn one_producers_order_must_hold() {
        // Client 1 pushes a, then b, to the right: a must come out of the left first.
        let history = |pop_reply: Value, left: &[&str]| {
            let mut h = Builder::new();
            h.push(1, End::Right, &["a"], 0, ok(1));
            h.push(1, End::Right, &["b"], 10, ok(2));
            h.pop(End::Left, None, 20, done(pop_reply));
            h.finish(left, 100)
        };
        assert!(history(bytes("a"), &["b"]).is_empty());
        let problems = history(bytes("b"), &["a"]);
        assert!(
            problems
                .iter()
                .any(|p| matches!(p, Problem::PoppedAhead { popped, nearer, .. } if popped == "b" && nearer == "a")),
            "{problems:?}"
        );
        // The final list shows them the other way round.
        let mut h = Builder::new();
        h.push(1, End::Right, &["a"], 0, ok(1));
        h.push(1, End::Right, &["b", "c"], 10, ok(3));
        let problems = h.finish(&["c", "b", "a"], 100);
        assert!(
            problems
                .iter()
                .any(|p| matches!(p, Problem::OutOfOrder { first, second, .. } if first == "a" && second == "b")),
            "{problems:?}"
        );
        assert!(
            problems
                .iter()
                .any(|p| matches!(p, Problem::OutOfOrder { first, second, .. } if first == "b" && second == "c")),
            "within one push: {problems:?}"
        );
        // A pop with a count returns from its end inward.
        let mut h = Builder::new();
        h.push(1, End::Right, &["a", "b"], 0, ok(2));
        h.pop(End::Right, Some(2), 10, done(array(&["a", "b"])));
        assert!(matches!(&h.finish(&[], 100)[..], [Problem::OutOfOrder { .. }]));
    }

    #[test]
    fn order_binds_only_elements_that_were_there_together() {
        // y is taken from the left; x is pushed to the left afterwards and stays: no order
        // was broken, though x lands left of where y was.
        let mut h = Builder::new();
        h.push(1, End::Right, &["y"], 0, ok(1));
        h.pop(End::Left, None, 10, done(bytes("y")));
        h.push(2, End::Left, &["x"], 20, ok(1));
        let problems = h.finish(&["x"], 100);
        assert!(problems.is_empty(), "{problems:?}");
        // Concurrent pushes (the second began before the first returned) may land either way.
        let mut h = Builder::new();
        h.history.push(
            1,
            Call::One(Command::Push { key: KEY.into(), end: End::Right, values: vec!["a".into()] }),
            0,
            20_000,
            ok(1),
        );
        h.push(2, End::Right, &["b"], 10, ok(2));
        assert!(h.finish(&["b", "a"], 100).is_empty());
    }

    #[test]
    fn a_popped_element_must_not_come_back() {
        let mut h = Builder::new();
        h.push(1, End::Right, &["a", "b"], 0, ok(2));
        let pop = h.pop(End::Left, None, 10, done(bytes("a")));
        let seen = h.lrange(&["a", "b"], 20);
        let problems = h.finish(&["b"], 100);
        assert!(
            problems.contains(&Problem::Resurrected {
                key: KEY.into(),
                token: "a".into(),
                pop,
                seen: Sighting::Op(seen)
            }),
            "{problems:?}"
        );
    }
}
