//! Streams: no acknowledged entry lost, none from nowhere, ids strictly increasing, and a
//! consumer group that delivers each entry once.
//!
//! The workload never trims or deletes, so an entry, once added, stays in the stream for
//! good, with the id its XADD returned and the one field it wrote (`tok`, its token). Of
//! each stream key:
//! - every acknowledged XADD's token is in the final stream with the id the XADD returned,
//!   and in every XRANGE begun after the XADD returned; every token seen anywhere (an XRANGE,
//!   a group read, the final stream) was carried by an XADD that was not refused, under one id
//!   only, and is still in the final stream;
//! - ids strictly increase in real-time order: an XADD begun after an acknowledged XADD
//!   returned got a greater id (for an XADD whose outcome is unknown, the id the stream shows
//!   its token under); every view (XRANGE, a group read, the final stream) is sorted by id,
//!   with no id twice;
//! - the group's `>` reads: no entry is delivered to two acknowledged reads; a read begun
//!   after an acknowledged read returned delivers only ids above every id that read delivered
//!   (the group's last-delivered id never goes back, across failover too); at the end the
//!   group exists, its last-delivered id is at least every delivered id, no id an acknowledged
//!   XACK named after an acknowledged read had delivered it is pending, and every pending id is
//!   an entry of the stream.
//!
//! Operations whose outcome is unknown may have taken effect, once, at any time after they
//! began: an unknown XADD's token may or may not be in the stream; an unknown read may have
//! delivered entries no acknowledged read shows (so entries never delivered prove nothing);
//! an unknown XACK may have removed entries from the pending list.
//!
//! Each check is a pass over the key's operations, with sorting and bisection where order
//! in time matters; only the XRANGE completeness check weighs each view against the XADDs
//! acknowledged before it, and rotating keys keep both short.

use crate::history::{Command, History, Operation, Outcome, Value, STREAM_FIELD};
use crate::workload::{family, Family, STREAM_GROUP};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// A stream entry id: milliseconds, then a sequence number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EntryId {
    pub ms: u64,
    pub seq: u64,
}

impl EntryId {
    pub fn parse(text: &str) -> Option<EntryId> {
        let (ms, seq) = text.split_once('-')?;
        Some(EntryId { ms: ms.parse().ok()?, seq: seq.parse().ok()? })
    }
}

impl fmt::Display for EntryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.ms, self.seq)
    }
}

/// One entry as a reply shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub id: EntryId,
    pub fields: Vec<String>,
}

impl Entry {
    /// The token of an entry the workload wrote (None: other fields).
    fn token(&self) -> Option<&str> {
        match &self.fields[..] {
            [field, token] if field == STREAM_FIELD => Some(token),
            _ => None,
        }
    }
}

/// The entries of an XRANGE reply (or of XINFO's `entries`): `[[id, [field, value, ..]], ..]`.
pub fn entries(reply: &Value) -> Option<Vec<Entry>> {
    let Value::Array(items) = reply else { return None };
    items
        .iter()
        .map(|item| match item {
            Value::Array(pair) => match &pair[..] {
                [Value::Bytes(id), fields] => {
                    let fields = fields.strings()?.into_iter().map(str::to_string).collect();
                    Some(Entry { id: EntryId::parse(id)?, fields })
                }
                _ => None,
            },
            _ => None,
        })
        .collect()
}

/// What an XREADGROUP of one key delivered: nothing (a nil reply), or `[[key, entries]]`.
/// None for a reply no such read gives (an error among them).
pub fn delivered(reply: &Value) -> Option<Vec<Entry>> {
    match reply {
        Value::Nil => Some(Vec::new()),
        Value::Array(streams) => match &streams[..] {
            [Value::Array(stream)] => match &stream[..] {
                [Value::Bytes(_), found] => entries(found),
                _ => None,
            },
            _ => None,
        },
        _ => None,
    }
}

/// The value of `name` in a flat key, value, key, value array (RESP2's rendering of a map).
fn field<'a>(pairs: &'a [Value], name: &str) -> Option<&'a Value> {
    pairs.chunks(2).find(|pair| matches!(&pair[0], Value::Bytes(key) if key == name)).map(|pair| pair.get(1))?
}

/// The workload's group as the final read shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
struct FinalGroup {
    last_delivered: EntryId,
    pending: Vec<EntryId>,
}

/// The stream after healing, from XINFO STREAM key FULL COUNT 0.
#[derive(Clone, Debug, PartialEq, Eq)]
struct FinalStream {
    entries: Vec<Entry>,
    group: Option<FinalGroup>,
}

fn final_stream(reply: &Value) -> Option<FinalStream> {
    match reply {
        // No XGROUP CREATE .. MKSTREAM and no XADD took effect.
        Value::Error(text) if text == "ERR no such key" => Some(FinalStream { entries: Vec::new(), group: None }),
        Value::Array(pairs) => {
            let entries = entries(field(pairs, "entries")?)?;
            let Value::Array(groups) = field(pairs, "groups")? else { return None };
            let mut ours = None;
            for group in groups {
                let Value::Array(group) = group else { return None };
                if !matches!(field(group, "name")?, Value::Bytes(name) if name == STREAM_GROUP) {
                    continue;
                }
                let Value::Bytes(last) = field(group, "last-delivered-id")? else { return None };
                let Value::Array(pending) = field(group, "pending")? else { return None };
                let pending = pending
                    .iter()
                    .map(|item| match item {
                        Value::Array(details) => match details.first() {
                            Some(Value::Bytes(id)) => EntryId::parse(id),
                            _ => None,
                        },
                        _ => None,
                    })
                    .collect::<Option<Vec<_>>>()?;
                ours = Some(FinalGroup { last_delivered: EntryId::parse(last)?, pending });
            }
            Some(FinalStream { entries, group: ours })
        }
        _ => None,
    }
}

/// Where an entry was seen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Sighting {
    /// Shown by this operation (an XRANGE) or delivered to it (an XREADGROUP).
    Op(usize),
    /// In the final stream, read after healing.
    Final,
}

impl fmt::Display for Sighting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Sighting::Op(id) => write!(f, "#{id}"),
            Sighting::Final => write!(f, "the final stream"),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    /// An acknowledged XADD's token (`witness`: the XADD), or a token some view showed
    /// (`witness`: that view), missing from the final stream.
    Lost { key: String, token: String, witness: usize },
    /// An XRANGE begun after `xadd` returned does not show its token.
    MissingFromView { key: String, token: String, xadd: usize, view: usize },
    /// A token no XADD carried.
    Phantom { key: String, token: String, seen: Sighting },
    /// A token whose XADD was refused.
    RefusedLanded { key: String, token: String, xadd: usize, seen: Sighting },
    /// An entry whose fields are not the one `tok` field the workload writes.
    WrongFields { key: String, id: EntryId, fields: Vec<String>, seen: Sighting },
    /// A token under an id other than the one its XADD returned, or than another view showed.
    WrongId { key: String, token: String, expected: EntryId, found: EntryId, seen: Sighting },
    /// One id holding two different tokens.
    IdReused { key: String, id: EntryId, tokens: (String, String), seen: Sighting },
    /// A view whose ids do not strictly increase.
    Unsorted { key: String, before: EntryId, after: EntryId, seen: Sighting },
    /// `later` began after `earlier` returned, yet got an id no greater.
    IdsBackwards { key: String, earlier: usize, earlier_id: EntryId, later: usize, later_id: EntryId },
    /// One entry delivered by `>` to two acknowledged reads.
    DeliveredTwice { key: String, id: EntryId, reads: (usize, usize) },
    /// `later` began after `earlier` returned, yet delivered an id no greater than one
    /// `earlier` delivered: the group's last-delivered id went back.
    DeliveryWentBack { key: String, earlier: usize, earlier_id: EntryId, later: usize, later_id: EntryId },
    /// Acknowledged reads delivered entries, but the final stream has no group.
    GroupLost { key: String, read: usize },
    /// The final last-delivered id is below an id an acknowledged read delivered.
    GroupBehind { key: String, last_delivered: EntryId, delivered: EntryId, read: usize },
    /// An id an acknowledged XACK named is still pending at the end.
    AckedStillPending { key: String, id: EntryId, xack: usize },
    /// A pending id that is not an entry of the final stream.
    PendingNotInStream { key: String, id: EntryId },
    /// A reply no stream command gives.
    Malformed { key: String, op: usize, reply: String },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Lost { key, token, witness } => {
                write!(f, "lost stream entry: {key}: {token:?} (acknowledged or seen by #{witness}) is not in the final stream")
            }
            Problem::MissingFromView { key, token, xadd, view } => write!(
                f,
                "lost stream entry: {key}: #{view} began after #{xadd} added {token:?} and returned, but does not show it"
            ),
            Problem::Phantom { key, token, seen } => {
                write!(f, "phantom stream entry: {key}: {seen} holds {token:?}, which no XADD carried")
            }
            Problem::RefusedLanded { key, token, xadd, seen } => {
                write!(f, "refused XADD landed: {key}: {seen} holds {token:?} from #{xadd}, which was refused")
            }
            Problem::WrongFields { key, id, fields, seen } => {
                write!(f, "stream entry changed: {key}: {seen} shows {id} with fields {fields:?}")
            }
            Problem::WrongId { key, token, expected, found, seen } => {
                write!(f, "stream entry moved: {key}: {seen} shows {token:?} as {found}, not {expected}")
            }
            Problem::IdReused { key, id, tokens, seen } => {
                write!(f, "stream id reused: {key}: {seen} shows {id} holding {:?}, elsewhere {:?}", tokens.1, tokens.0)
            }
            Problem::Unsorted { key, before, after, seen } => {
                write!(f, "stream ids out of order: {key}: {seen} shows {after} after {before}")
            }
            Problem::IdsBackwards { key, earlier, earlier_id, later, later_id } => write!(
                f,
                "stream ids went backwards: {key}: #{later} began after #{earlier} returned {earlier_id}, yet got {later_id}"
            ),
            Problem::DeliveredTwice { key, id, reads } => {
                write!(f, "entry delivered twice: {key}: {id} delivered by `>` to #{} and #{}", reads.0, reads.1)
            }
            Problem::DeliveryWentBack { key, earlier, earlier_id, later, later_id } => write!(
                f,
                "group went back: {key}: #{later} began after #{earlier} had delivered {earlier_id}, yet delivered {later_id}"
            ),
            Problem::GroupLost { key, read } => {
                write!(f, "group lost: {key}: #{read} read in group {STREAM_GROUP}, which the final stream lacks")
            }
            Problem::GroupBehind { key, last_delivered, delivered, read } => write!(
                f,
                "group went back: {key}: the final last-delivered id {last_delivered} is below {delivered}, delivered to #{read}"
            ),
            Problem::AckedStillPending { key, id, xack } => {
                write!(f, "acknowledged entry pending: {key}: #{xack} acknowledged {id}, still pending at the end")
            }
            Problem::PendingNotInStream { key, id } => {
                write!(f, "pending entry not in the stream: {key}: {id} is pending but not an entry")
            }
            Problem::Malformed { key, op, reply } => write!(f, "malformed reply: {key}: #{op} answered {reply}"),
        }
    }
}

/// An XADD and what is known of its outcome.
struct Append<'a> {
    op: &'a Operation,
    token: &'a str,
    /// The id it returned (acknowledged XADDs only).
    returned: Option<EntryId>,
}

impl Append<'_> {
    fn acknowledged(&self) -> bool {
        self.returned.is_some()
    }

    /// Certainly not applied: refused, or answered with an error.
    fn refused(&self) -> bool {
        match &self.op.outcome {
            Outcome::Failed(_) => true,
            Outcome::Done(_) => self.returned.is_none(),
            Outcome::Unknown(_) => false,
        }
    }
}

/// A view of the stream: an XRANGE, or what one acknowledged `>` read delivered.
struct View<'a> {
    op: &'a Operation,
    entries: Vec<Entry>,
}

/// Everything one stream key's history says.
#[derive(Default)]
struct StreamHistory<'a> {
    appends: Vec<Append<'a>>,
    ranges: Vec<View<'a>>,
    deliveries: Vec<View<'a>>,
    /// Ids each acknowledged XACK named.
    acks: Vec<(&'a Operation, Vec<EntryId>)>,
    malformed: Vec<(usize, String)>,
}

fn gather(history: &History) -> BTreeMap<&str, StreamHistory<'_>> {
    let mut streams: BTreeMap<&str, StreamHistory> = BTreeMap::new();
    for op in &history.ops {
        for (index, command) in op.call.commands().iter().enumerate() {
            if family(command.key()) != Some(Family::Stream) {
                continue;
            }
            let stream = streams.entry(command.key()).or_default();
            let reply = match &op.outcome {
                Outcome::Done(replies) => Some(&replies[index]),
                Outcome::Failed(_) | Outcome::Unknown(_) => None,
            };
            let malformed = || stream_malformed(op, reply);
            match (command, reply) {
                (Command::XAdd { token, .. }, reply) => {
                    let returned = match reply {
                        Some(Value::Bytes(id)) => match EntryId::parse(id) {
                            Some(id) => Some(id),
                            None => {
                                stream.malformed.push(malformed());
                                continue;
                            }
                        },
                        _ => None,
                    };
                    stream.appends.push(Append { op, token, returned });
                }
                (Command::XReadGroup { .. }, Some(reply)) => match reply {
                    // NOGROUP (read before the group was made): nothing delivered.
                    Value::Error(text) if text.starts_with("NOGROUP") => {}
                    reply => match delivered(reply) {
                        Some(entries) => stream.deliveries.push(View { op, entries }),
                        None => stream.malformed.push(malformed()),
                    },
                },
                (Command::XRange { .. }, Some(reply)) => match entries(reply) {
                    Some(entries) => stream.ranges.push(View { op, entries }),
                    None => stream.malformed.push(malformed()),
                },
                (Command::XAck { ids, .. }, Some(reply)) => match reply {
                    Value::Int(_) => match ids.iter().map(|id| EntryId::parse(id)).collect::<Option<Vec<_>>>() {
                        Some(ids) => stream.acks.push((op, ids)),
                        None => stream.malformed.push(malformed()),
                    },
                    Value::Error(text) if text.starts_with("NOGROUP") => {}
                    _ => stream.malformed.push(malformed()),
                },
                (Command::XGroupCreate { .. }, Some(reply)) => match reply {
                    Value::Ok => {}
                    Value::Error(text) if text.starts_with("BUSYGROUP") => {}
                    _ => stream.malformed.push(malformed()),
                },
                _ => {}
            }
        }
    }
    streams
}

fn stream_malformed(op: &Operation, reply: Option<&Value>) -> (usize, String) {
    (op.id, reply.map_or_else(String::new, Value::to_string))
}

/// Checks every stream key of the history, with the final streams read after healing
/// (`finals`: XINFO STREAM FULL's reply per key; a key without one is judged on everything
/// but what is left).
pub fn check(history: &History, finals: &BTreeMap<String, Value>) -> Vec<Problem> {
    let mut problems = Vec::new();
    for (key, stream) in gather(history) {
        let mut report = StreamCheck { key, problems: &mut problems };
        for (op, reply) in &stream.malformed {
            report.push(|key| Problem::Malformed { key, op: *op, reply: reply.clone() });
        }
        let last = match finals.get(key).map(|reply| (reply, final_stream(reply))) {
            Some((_, Some(last))) => Some(last),
            Some((reply, None)) => {
                let op = history.ops.iter().rev().find(|op| op.call.commands().iter().any(|c| c.key() == key));
                let op = op.map_or(0, |op| op.id);
                report.push(|key| Problem::Malformed { key, op, reply: reply.to_string() });
                None
            }
            None => None,
        };
        report.entries(&stream, last.as_ref());
        report.appends_in_order(&stream, last.as_ref());
        report.group(&stream, last.as_ref());
    }
    problems
}

struct StreamCheck<'p> {
    key: &'p str,
    problems: &'p mut Vec<Problem>,
}

impl StreamCheck<'_> {
    fn push(&mut self, problem: impl FnOnce(String) -> Problem) {
        self.problems.push(problem(self.key.to_string()));
    }

    /// Provenance, ids and completeness of every entry seen.
    fn entries(&mut self, stream: &StreamHistory, last: Option<&FinalStream>) {
        let by_token: BTreeMap<&str, &Append> = stream.appends.iter().map(|append| (append.token, append)).collect();
        let views =
            stream.ranges.iter().chain(&stream.deliveries).map(|view| (Sighting::Op(view.op.id), &view.entries));
        let views: Vec<(Sighting, &Vec<Entry>)> =
            views.chain(last.map(|last| (Sighting::Final, &last.entries))).collect();
        // The id each token is known under (its XADD's reply, else where it was first seen),
        // and the token each id holds.
        let mut token_ids: BTreeMap<&str, EntryId> =
            stream.appends.iter().filter_map(|append| Some((append.token, append.returned?))).collect();
        let mut id_tokens: BTreeMap<EntryId, &str> = BTreeMap::new();
        for (seen, entries) in &views {
            let seen = *seen;
            for pair in entries.windows(2) {
                if pair[0].id >= pair[1].id {
                    let (before, after) = (pair[0].id, pair[1].id);
                    self.push(|key| Problem::Unsorted { key, before, after, seen });
                }
            }
            for entry in entries.iter() {
                let id = entry.id;
                let Some(token) = entry.token() else {
                    let fields = entry.fields.clone();
                    self.push(|key| Problem::WrongFields { key, id, fields, seen });
                    continue;
                };
                match by_token.get(token) {
                    None => self.push(|key| Problem::Phantom { key, token: token.into(), seen }),
                    Some(append) if append.refused() => {
                        let xadd = append.op.id;
                        self.push(|key| Problem::RefusedLanded { key, token: token.into(), xadd, seen });
                    }
                    Some(_) => {}
                }
                match token_ids.get(token) {
                    Some(&expected) if expected != id => {
                        self.push(|key| Problem::WrongId { key, token: token.into(), expected, found: id, seen })
                    }
                    Some(_) => {}
                    None => {
                        token_ids.insert(token, id);
                    }
                }
                match id_tokens.get(&id) {
                    Some(&first) if first != token => {
                        let tokens = (first.to_string(), token.to_string());
                        self.push(|key| Problem::IdReused { key, id, tokens, seen });
                    }
                    Some(_) => {}
                    None => {
                        id_tokens.insert(id, token);
                    }
                }
            }
        }
        // Nothing added leaves: what was acknowledged or seen is in the final stream...
        if let Some(last) = last {
            let kept: BTreeSet<&str> = last.entries.iter().filter_map(Entry::token).collect();
            let acknowledged = stream.appends.iter().filter(|append| append.acknowledged());
            let mut witnesses: BTreeMap<&str, usize> =
                acknowledged.map(|append| (append.token, append.op.id)).collect();
            for view in stream.ranges.iter().chain(&stream.deliveries) {
                for token in view.entries.iter().filter_map(Entry::token) {
                    witnesses.entry(token).or_insert(view.op.id);
                }
            }
            for (token, witness) in witnesses.into_iter().filter(|(token, _)| !kept.contains(token)) {
                self.push(|key| Problem::Lost { key, token: token.into(), witness });
            }
        }
        // ...and in every XRANGE begun after its XADD returned.
        let mut acknowledged: Vec<&Append> = stream.appends.iter().filter(|append| append.acknowledged()).collect();
        acknowledged.sort_by_key(|append| append.op.completed_us);
        for view in &stream.ranges {
            let shown: BTreeSet<&str> = view.entries.iter().filter_map(Entry::token).collect();
            let before = acknowledged.partition_point(|append| append.op.completed_us < view.op.invoked_us);
            for append in acknowledged[..before].iter().filter(|append| !shown.contains(append.token)) {
                let (token, xadd, view) = (append.token.to_string(), append.op.id, view.op.id);
                self.push(|key| Problem::MissingFromView { key, token, xadd, view });
            }
        }
    }

    /// An XADD begun after an acknowledged XADD returned got a greater id.
    fn appends_in_order(&mut self, stream: &StreamHistory, last: Option<&FinalStream>) {
        let shown: BTreeMap<&str, EntryId> = last
            .map(|last| last.entries.iter().filter_map(|entry| Some((entry.token()?, entry.id))).collect())
            .unwrap_or_default();
        let known = |append: &Append| append.returned.or_else(|| shown.get(append.token).copied());
        let mut acknowledged: Vec<(u64, EntryId, usize)> = stream
            .appends
            .iter()
            .filter_map(|append| Some((append.op.completed_us, append.returned?, append.op.id)))
            .collect();
        acknowledged.sort();
        let highest = running_max(acknowledged.iter().map(|(_, id, op)| (*id, *op)));
        for append in &stream.appends {
            let Some(later_id) = known(append) else { continue };
            let before = acknowledged.partition_point(|(completed_us, _, _)| *completed_us < append.op.invoked_us);
            if before == 0 {
                continue;
            }
            let (earlier_id, earlier) = highest[before - 1];
            if earlier_id >= later_id {
                let later = append.op.id;
                self.push(|key| Problem::IdsBackwards { key, earlier, earlier_id, later, later_id });
            }
        }
    }

    /// The group's deliveries, acknowledgements and final state.
    fn group(&mut self, stream: &StreamHistory, last: Option<&FinalStream>) {
        let mut delivered_to: BTreeMap<EntryId, &Operation> = BTreeMap::new();
        for view in &stream.deliveries {
            for entry in &view.entries {
                if let Some(first) = delivered_to.get(&entry.id) {
                    let (id, reads) = (entry.id, (first.id, view.op.id));
                    self.push(|key| Problem::DeliveredTwice { key, id, reads });
                } else {
                    delivered_to.insert(entry.id, view.op);
                }
            }
        }
        // A read begun after another returned delivers only what lies beyond it.
        let mut reads: Vec<(u64, EntryId, usize)> = stream
            .deliveries
            .iter()
            .filter_map(|view| Some((view.op.completed_us, view.entries.iter().map(|e| e.id).max()?, view.op.id)))
            .collect();
        reads.sort();
        let highest = running_max(reads.iter().map(|(_, id, op)| (*id, *op)));
        for view in &stream.deliveries {
            let Some(later_id) = view.entries.iter().map(|entry| entry.id).min() else { continue };
            let before = reads.partition_point(|(completed_us, _, _)| *completed_us < view.op.invoked_us);
            if before == 0 {
                continue;
            }
            let (earlier_id, earlier) = highest[before - 1];
            if earlier_id >= later_id {
                let later = view.op.id;
                self.push(|key| Problem::DeliveryWentBack { key, earlier, earlier_id, later, later_id });
            }
        }
        let Some(last) = last else { return };
        let Some(group) = &last.group else {
            if let Some((_, read)) = delivered_to.iter().next() {
                let read = read.id;
                self.push(|key| Problem::GroupLost { key, read });
            }
            return;
        };
        if let Some((&delivered, read)) = delivered_to.iter().next_back() {
            if group.last_delivered < delivered {
                let (last_delivered, read) = (group.last_delivered, read.id);
                self.push(|key| Problem::GroupBehind { key, last_delivered, delivered, read });
            }
        }
        // Only ids delivered before the XACK began: an entry acknowledged before a read took it
        // is pending after that read, as in Redis.
        let pending: BTreeSet<EntryId> = group.pending.iter().copied().collect();
        for (xack, ids) in &stream.acks {
            let delivered_before =
                |id: &EntryId| delivered_to.get(id).is_some_and(|read| read.completed_us < xack.invoked_us);
            for &id in ids.iter().filter(|id| pending.contains(id) && delivered_before(id)) {
                let xack = xack.id;
                self.push(|key| Problem::AckedStillPending { key, id, xack });
            }
        }
        let ids: BTreeSet<EntryId> = last.entries.iter().map(|entry| entry.id).collect();
        for &id in pending.iter().filter(|id| !ids.contains(id)) {
            self.push(|key| Problem::PendingNotInStream { key, id });
        }
    }
}

/// For each prefix of `items`, its greatest id and the operation that had it.
fn running_max(items: impl Iterator<Item = (EntryId, usize)>) -> Vec<(EntryId, usize)> {
    let mut highest: Option<(EntryId, usize)> = None;
    items
        .map(|item| {
            let best = match highest {
                Some(best) if best.0 >= item.0 => best,
                _ => item,
            };
            highest = Some(best);
            best
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::Call;

    const KEY: &str = "g0:strm:0";

    fn bytes(text: &str) -> Value {
        Value::Bytes(text.into())
    }

    fn entry(id: &str, token: &str) -> Value {
        Value::Array(vec![bytes(id), Value::Array(vec![bytes(STREAM_FIELD), bytes(token)])])
    }

    fn entries_of(pairs: &[(&str, &str)]) -> Value {
        Value::Array(pairs.iter().map(|(id, token)| entry(id, token)).collect())
    }

    fn done(value: Value) -> Outcome {
        Outcome::Done(vec![value])
    }

    fn id(text: &str) -> EntryId {
        EntryId::parse(text).expect("an id")
    }

    /// A history on one stream key, with times in ms.
    struct Builder {
        history: History,
    }

    impl Builder {
        fn new() -> Builder {
            let mut h = Builder { history: History::default() };
            h.op(0, Command::XGroupCreate { key: KEY.into(), group: STREAM_GROUP.into() }, 0, done(Value::Ok));
            h
        }

        fn op(&mut self, client: u32, command: Command, at_ms: u64, outcome: Outcome) -> usize {
            self.history.push(client, Call::One(command), at_ms * 1000, (at_ms + 5) * 1000, outcome)
        }

        fn xadd(&mut self, token: &str, at_ms: u64, outcome: Outcome) -> usize {
            self.op(1, Command::XAdd { key: KEY.into(), token: token.into() }, at_ms, outcome)
        }

        fn added(&mut self, token: &str, id: &str, at_ms: u64) -> usize {
            self.xadd(token, at_ms, done(bytes(id)))
        }

        fn read(&mut self, consumer: &str, delivered: &[(&str, &str)], at_ms: u64) -> usize {
            let command = Command::XReadGroup {
                key: KEY.into(),
                group: STREAM_GROUP.into(),
                consumer: consumer.into(),
                count: 3,
            };
            let reply = if delivered.is_empty() {
                Value::Nil
            } else {
                Value::Array(vec![Value::Array(vec![bytes(KEY), entries_of(delivered)])])
            };
            self.op(2, command, at_ms, done(reply))
        }

        fn ack(&mut self, ids: &[&str], at_ms: u64) -> usize {
            let ids = ids.iter().map(|id| id.to_string()).collect::<Vec<_>>();
            let count = Value::Int(ids.len() as i64);
            self.op(3, Command::XAck { key: KEY.into(), group: STREAM_GROUP.into(), ids }, at_ms, done(count))
        }

        fn range(&mut self, shown: &[(&str, &str)], at_ms: u64) -> usize {
            self.op(4, Command::XRange { key: KEY.into() }, at_ms, done(entries_of(shown)))
        }

        /// The final read as XINFO STREAM FULL answers it in RESP2, with the group's last
        /// delivered id and pending ids (no group if None); the problems found.
        fn finish(mut self, kept: &[(&str, &str)], group: Option<(&str, &[&str])>, at_ms: u64) -> Vec<Problem> {
            let groups = group.map(|(last, pending)| {
                let pending = pending
                    .iter()
                    .map(|id| Value::Array(vec![bytes(id), bytes("c0"), Value::Int(1), Value::Int(1)]))
                    .collect();
                Value::Array(vec![
                    bytes("name"),
                    bytes(STREAM_GROUP),
                    bytes("last-delivered-id"),
                    bytes(last),
                    bytes("pel-count"),
                    Value::Int(0),
                    bytes("pending"),
                    Value::Array(pending),
                    bytes("consumers"),
                    Value::Array(vec![]),
                ])
            });
            let reply = Value::Array(vec![
                bytes("length"),
                Value::Int(kept.len() as i64),
                bytes("entries"),
                entries_of(kept),
                bytes("groups"),
                Value::Array(groups.into_iter().collect()),
            ]);
            self.op(9, Command::XInfoFull { key: KEY.into() }, at_ms, done(reply.clone()));
            let finals = [(KEY.to_string(), reply)].into_iter().collect();
            check(&self.history, &finals)
        }
    }

    const TIMEOUT: fn() -> Outcome = || Outcome::Unknown("timed out".into());

    #[test]
    fn a_clean_stream_passes() {
        let mut h = Builder::new();
        h.added("a", "100-0", 10);
        h.added("b", "100-1", 20);
        h.read("c0", &[("100-0", "a")], 30);
        h.read("c1", &[("100-1", "b")], 40);
        h.read("c2", &[], 50);
        h.ack(&["100-0"], 60);
        h.xadd("u", 70, TIMEOUT());
        h.xadd("v", 80, TIMEOUT());
        h.added("c", "200-0", 90);
        h.range(&[("100-0", "a"), ("100-1", "b"), ("150-0", "u"), ("200-0", "c")], 100);
        // An unknown read may have taken c: it is delivered to nobody acknowledged.
        h.op(
            2,
            Command::XReadGroup { key: KEY.into(), group: "g".into(), consumer: "c3".into(), count: 1 },
            110,
            TIMEOUT(),
        );
        let problems = h.finish(
            &[("100-0", "a"), ("100-1", "b"), ("150-0", "u"), ("200-0", "c")],
            Some(("200-0", &["100-1", "200-0"])),
            200,
        );
        assert!(problems.is_empty(), "{problems:?}");
    }

    #[test]
    fn a_lost_acknowledged_entry_is_caught() {
        let mut h = Builder::new();
        let a = h.added("a", "100-0", 10);
        h.added("b", "100-1", 20);
        let view = h.range(&[("100-1", "b")], 30);
        let problems = h.finish(&[("100-1", "b")], Some(("0-0", &[])), 100);
        assert!(problems.contains(&Problem::Lost { key: KEY.into(), token: "a".into(), witness: a }), "{problems:?}");
        assert!(
            problems.contains(&Problem::MissingFromView { key: KEY.into(), token: "a".into(), xadd: a, view }),
            "{problems:?}"
        );
        assert_eq!(problems.len(), 2, "{problems:?}");
        // An entry only a read saw, gone at the end, is lost too.
        let mut h = Builder::new();
        h.xadd("a", 10, TIMEOUT());
        let read = h.read("c0", &[("100-0", "a")], 20);
        let problems = h.finish(&[], Some(("100-0", &[])), 100);
        assert_eq!(problems, vec![Problem::Lost { key: KEY.into(), token: "a".into(), witness: read }]);
    }

    #[test]
    fn an_entry_delivered_twice_is_caught() {
        let mut h = Builder::new();
        h.added("a", "100-0", 10);
        let first = h.read("c0", &[("100-0", "a")], 20);
        let second = h.read("c1", &[("100-0", "a")], 30);
        let problems = h.finish(&[("100-0", "a")], Some(("100-0", &["100-0"])), 100);
        assert!(
            problems.contains(&Problem::DeliveredTwice { key: KEY.into(), id: id("100-0"), reads: (first, second) }),
            "{problems:?}"
        );
        assert!(
            problems.contains(&Problem::DeliveryWentBack {
                key: KEY.into(),
                earlier: first,
                earlier_id: id("100-0"),
                later: second,
                later_id: id("100-0")
            }),
            "{problems:?}"
        );
        // The group's last-delivered id reset behind what was delivered.
        let mut h = Builder::new();
        h.added("a", "100-0", 10);
        h.added("b", "100-1", 20);
        h.read("c0", &[("100-1", "b")], 30);
        let read = h.read("c0", &[("100-0", "a")], 40);
        let problems = h.finish(&[("100-0", "a"), ("100-1", "b")], Some(("100-0", &[])), 100);
        assert!(problems.iter().any(|p| matches!(p, Problem::DeliveryWentBack { later, .. } if *later == read)));
        assert!(problems
            .iter()
            .any(|p| matches!(p, Problem::GroupBehind { delivered, .. } if *delivered == id("100-1"))));
        // One read's entries out of id order.
        let mut h = Builder::new();
        h.added("a", "100-0", 10);
        h.added("b", "100-1", 20);
        let read = h.read("c0", &[("100-1", "b"), ("100-0", "a")], 30);
        let problems = h.finish(&[("100-0", "a"), ("100-1", "b")], Some(("100-1", &[])), 100);
        assert_eq!(
            problems,
            vec![Problem::Unsorted {
                key: KEY.into(),
                before: id("100-1"),
                after: id("100-0"),
                seen: Sighting::Op(read)
            }]
        );
    }

    #[test]
    fn concurrent_reads_may_deliver_in_either_order() {
        let mut h = Builder::new();
        h.added("a", "100-0", 10);
        h.added("b", "100-1", 20);
        // The read of b began before the read of a returned.
        let command = Command::XReadGroup { key: KEY.into(), group: "g".into(), consumer: "c0".into(), count: 1 };
        let reply = Value::Array(vec![Value::Array(vec![bytes(KEY), entries_of(&[("100-0", "a")])])]);
        h.history.push(2, Call::One(command), 30_000, 50_000, done(reply));
        h.read("c1", &[("100-1", "b")], 31);
        let problems = h.finish(&[("100-0", "a"), ("100-1", "b")], Some(("100-1", &["100-0", "100-1"])), 100);
        assert!(problems.is_empty(), "{problems:?}");
    }

    #[test]
    fn ids_going_backwards_are_caught() {
        let mut h = Builder::new();
        let earlier = h.added("a", "200-0", 10);
        let later = h.added("b", "150-0", 20);
        let view = h.range(&[("200-0", "a"), ("150-0", "b")], 30);
        let problems = h.finish(&[("150-0", "b"), ("200-0", "a")], Some(("0-0", &[])), 100);
        assert!(
            problems.contains(&Problem::IdsBackwards {
                key: KEY.into(),
                earlier,
                earlier_id: id("200-0"),
                later,
                later_id: id("150-0")
            }),
            "{problems:?}"
        );
        assert!(problems.contains(&Problem::Unsorted {
            key: KEY.into(),
            before: id("200-0"),
            after: id("150-0"),
            seen: Sighting::Op(view)
        }));
        assert_eq!(problems.len(), 2, "{problems:?}");
        // An unknown XADD's id is the one the stream shows it under.
        let mut h = Builder::new();
        h.added("a", "200-0", 10);
        let later = h.xadd("b", 20, TIMEOUT());
        let problems = h.finish(&[("100-0", "b"), ("200-0", "a")], Some(("0-0", &[])), 100);
        assert!(problems.iter().any(|p| matches!(p, Problem::IdsBackwards { later: l, .. } if *l == later)));
        // An XADD the final stream shows under another id than it returned.
        let mut h = Builder::new();
        h.added("a", "100-0", 10);
        let problems = h.finish(&[("100-5", "a")], Some(("0-0", &[])), 100);
        assert!(matches!(&problems[..], [Problem::WrongId { .. }]), "{problems:?}");
    }

    #[test]
    fn phantoms_and_refused_entries_are_caught() {
        let mut h = Builder::new();
        let refused = h.xadd("r", 10, Outcome::Failed("TRYAGAIN".into()));
        h.xadd("e", 20, done(Value::Error("ERR boom".into())));
        let problems = h.finish(&[("100-0", "r"), ("100-1", "e"), ("100-2", "z")], Some(("0-0", &[])), 100);
        assert!(problems.contains(&Problem::RefusedLanded {
            key: KEY.into(),
            token: "r".into(),
            xadd: refused,
            seen: Sighting::Final
        }));
        assert!(problems.iter().any(|p| matches!(p, Problem::RefusedLanded { token, .. } if token == "e")));
        assert!(problems.contains(&Problem::Phantom { key: KEY.into(), token: "z".into(), seen: Sighting::Final }));
        assert_eq!(problems.len(), 3, "{problems:?}");
    }

    #[test]
    fn acknowledged_entries_must_not_stay_pending_and_the_group_must_stay() {
        let mut h = Builder::new();
        h.added("a", "100-0", 10);
        h.read("c0", &[("100-0", "a")], 20);
        let xack = h.ack(&["100-0"], 30);
        let kept = [("100-0", "a")];
        assert_eq!(
            h.finish(&kept, Some(("100-0", &["100-0", "300-0"])), 100),
            vec![
                Problem::AckedStillPending { key: KEY.into(), id: id("100-0"), xack },
                Problem::PendingNotInStream { key: KEY.into(), id: id("300-0") },
            ]
        );
        let mut h = Builder::new();
        h.added("a", "100-0", 10);
        let read = h.read("c0", &[("100-0", "a")], 20);
        assert_eq!(h.finish(&kept, None, 100), vec![Problem::GroupLost { key: KEY.into(), read }]);
        // Acknowledged before a read took it: pending after the read, rightly.
        let mut h = Builder::new();
        h.added("a", "100-0", 10);
        h.ack(&["100-0"], 20);
        h.read("c0", &[("100-0", "a")], 30);
        assert_eq!(h.finish(&kept, Some(("100-0", &["100-0"])), 100), vec![]);
    }

    #[test]
    fn replies_are_parsed() {
        assert_eq!(id("1767225600123-7"), EntryId { ms: 1_767_225_600_123, seq: 7 });
        assert_eq!(id("5-1").to_string(), "5-1");
        assert!(EntryId::parse("5").is_none());
        assert_eq!(delivered(&Value::Nil), Some(vec![]));
        assert!(delivered(&Value::Error("NOGROUP".into())).is_none());
        let missing = final_stream(&Value::Error("ERR no such key".into()));
        assert_eq!(missing, Some(FinalStream { entries: vec![], group: None }));
        let mut h = Builder::new();
        h.range(&[("1-0", "a")], 10);
        h.op(4, Command::XRange { key: KEY.into() }, 20, done(Value::Int(3)));
        let problems = h.finish(&[], Some(("0-0", &[])), 100);
        assert!(problems.iter().any(|p| matches!(p, Problem::Malformed { .. })), "{problems:?}");
    }
}
