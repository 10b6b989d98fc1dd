//! Unions, intersections and differences of sorted sets (and plain sets, whose members count
//! with score 1): ZUNION, ZINTER, ZDIFF, their *STORE forms and ZINTERCARD, following
//! `zunionInterDiffGenericCommand` — its argument rules, the order in which it reports
//! errors, and the order in which it adds weighted scores.

use super::score::parse_score;
use crate::commands::prelude::*;
use crate::keyspace::SetValue;
use std::collections::BTreeMap;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Union,
    Inter,
    Diff,
}

/// How the scores of a member found in several inputs combine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Aggregate {
    Sum,
    Min,
    Max,
}

impl Aggregate {
    /// `zunionInterAggregate`: a sum of +inf and -inf is 0.
    fn apply(self, target: &mut f64, value: f64) {
        match self {
            Aggregate::Sum => {
                *target += value;
                if target.is_nan() {
                    *target = 0.0;
                }
            }
            Aggregate::Min => *target = if value < *target { value } else { *target },
            Aggregate::Max => *target = if value > *target { value } else { *target },
        }
    }
}

/// A parsed request, from `numkeys` on.
#[derive(Clone, Debug, PartialEq)]
pub struct Combine {
    pub op: Op,
    pub keys: Vec<Bytes>,
    weights: Vec<f64>,
    aggregate: Aggregate,
    pub with_scores: bool,
    /// ZINTERCARD's LIMIT (0: none).
    limit: u64,
    /// A bad option after the keys: Redis reports it only once every key was found to hold
    /// a set or a sorted set (or nothing).
    options_error: Option<Error>,
}

/// An input: a sorted set, a set (score 1 for every member), or nothing.
enum Source<'a> {
    Missing,
    ZSet(&'a ZSetValue),
    Set(&'a SetValue),
}

impl Source<'_> {
    fn len(&self) -> usize {
        match self {
            Source::Missing => 0,
            Source::ZSet(zset) => zset.len(),
            Source::Set(set) => set.len(),
        }
    }

    /// Calls `visit` with every member and score until it returns false.
    fn each(&self, mut visit: impl FnMut(&[u8], f64) -> bool) {
        match self {
            Source::Missing => {}
            Source::ZSet(zset) => {
                for (member, score) in zset.iter() {
                    if !visit(member, score) {
                        return;
                    }
                }
            }
            Source::Set(set) => {
                for member in set.iter() {
                    if !visit(&member.as_bytes(), 1.0) {
                        return;
                    }
                }
            }
        }
    }

    fn score(&self, member: &[u8]) -> Option<f64> {
        match self {
            Source::Missing => None,
            Source::ZSet(zset) => zset.score(member),
            Source::Set(set) => set.contains(member).then_some(1.0),
        }
    }
}

/// `weight * score`, with NaN (0 times an infinity) as 0.
fn weighted(weight: f64, score: f64) -> f64 {
    let value = weight * score;
    if value.is_nan() {
        0.0
    } else {
        value
    }
}

impl Combine {
    /// Parses `numkeys key [key ...]` and the options. `command` names the command in the
    /// error for no keys; `store`: a destination came first (no WITHSCORES); `cardinality`:
    /// ZINTERCARD (LIMIT, and no WEIGHTS, AGGREGATE or WITHSCORES).
    pub fn parse(args: &mut Args, command: &str, op: Op, store: bool, cardinality: bool) -> Result<Combine> {
        let numkeys = args.next_i64()?;
        if numkeys < 1 {
            return Err(Error::err(format_args!("at least 1 input key is needed for '{command}' command")));
        }
        if numkeys as u64 > args.remaining() as u64 {
            return Err(Error::SYNTAX);
        }
        let keys = (0..numkeys).map(|_| args.next_arg()).collect::<Result<Vec<_>>>()?;
        let mut combine = Combine {
            op,
            weights: vec![1.0; keys.len()],
            keys,
            aggregate: Aggregate::Sum,
            with_scores: false,
            limit: 0,
            options_error: None,
        };
        combine.options_error = combine.parse_options(args, store, cardinality).err();
        Ok(combine)
    }

    fn parse_options(&mut self, args: &mut Args, store: bool, cardinality: bool) -> Result<()> {
        let weighted = self.op != Op::Diff && !cardinality;
        while let Some(option) = args.peek().cloned() {
            args.next_arg()?;
            if weighted && args.remaining() >= self.keys.len() && is(&option, "WEIGHTS") {
                for weight in &mut self.weights {
                    *weight = parse_score(&args.next_arg()?).ok_or(Error::err("weight value is not a float"))?;
                }
            } else if weighted && !args.is_empty() && is(&option, "AGGREGATE") {
                let name = args.next_arg()?;
                self.aggregate = match () {
                    _ if is(&name, "SUM") => Aggregate::Sum,
                    _ if is(&name, "MIN") => Aggregate::Min,
                    _ if is(&name, "MAX") => Aggregate::Max,
                    _ => return Err(Error::SYNTAX),
                };
            } else if !store && !cardinality && is(&option, "WITHSCORES") {
                self.with_scores = true;
            } else if cardinality && !args.is_empty() && is(&option, "LIMIT") {
                self.limit = match crate::args::parse_i64(&args.next_arg()?) {
                    Some(limit) if limit >= 0 => limit as u64,
                    _ => return Err(Error::err("LIMIT can't be negative")),
                };
            } else {
                return Err(Error::SYNTAX);
            }
        }
        Ok(())
    }

    /// The inputs with their weights, WRONGTYPE for one that is neither a set nor a sorted
    /// set, then any option error, in Redis's order. Unions and intersections take the
    /// smallest first, as Redis does (which decides the order in which scores add up).
    fn sources<'a>(&self, db: &'a Db, now_ms: TimeMs) -> Result<Vec<(Source<'a>, f64)>> {
        let mut sources = Vec::with_capacity(self.keys.len());
        for (key, weight) in self.keys.iter().zip(&self.weights) {
            let source = match db.get(key, now_ms).map(|entry| &entry.value) {
                None => Source::Missing,
                Some(Value::ZSet(zset)) => Source::ZSet(zset),
                Some(Value::Set(set)) => Source::Set(set),
                Some(_) => return Err(Error::WRONG_TYPE),
            };
            sources.push((source, *weight));
        }
        if let Some(error) = &self.options_error {
            return Err(error.clone());
        }
        if self.op != Op::Diff {
            sources.sort_by_key(|(source, _)| source.len());
        }
        Ok(sources)
    }

    /// The result, in Redis's order (by score, then member).
    pub fn compute(&self, db: &Db, now_ms: TimeMs) -> Result<Vec<(Bytes, f64)>> {
        let sources = self.sources(db, now_ms)?;
        let mut result = Vec::new();
        match self.op {
            Op::Union => {
                let mut scores: BTreeMap<Bytes, f64> = BTreeMap::new();
                for (source, weight) in &sources {
                    source.each(|member, score| {
                        let score = weighted(*weight, score);
                        match scores.get_mut(member) {
                            Some(total) => self.aggregate.apply(total, score),
                            None => {
                                scores.insert(bytes_of(member), score);
                            }
                        }
                        true
                    });
                }
                result.extend(scores);
            }
            Op::Inter => self.intersect(&sources, |member, score| {
                result.push((bytes_of(member), score));
                true
            }),
            Op::Diff => {
                let (first, others) = sources.split_first().expect("at least one key");
                first.0.each(|member, score| {
                    if others.iter().all(|(other, _)| other.score(member).is_none()) {
                        result.push((bytes_of(member), score));
                    }
                    true
                });
            }
        }
        super::store::sort(&mut result);
        Ok(result)
    }

    /// ZINTERCARD: how many members every input holds, counting up to the LIMIT.
    pub fn cardinality(&self, db: &Db, now_ms: TimeMs) -> Result<u64> {
        let sources = self.sources(db, now_ms)?;
        let mut count = 0;
        self.intersect(&sources, |_, _| {
            count += 1;
            self.limit == 0 || count < self.limit
        });
        Ok(count)
    }

    /// Calls `found` with each member of every input and its combined score, walking the
    /// smallest input, until `found` returns false.
    fn intersect(&self, sources: &[(Source<'_>, f64)], mut found: impl FnMut(&[u8], f64) -> bool) {
        let (first, others) = sources.split_first().expect("at least one key");
        first.0.each(|member, score| {
            let mut total = weighted(first.1, score);
            for (other, weight) in others {
                match other.score(member) {
                    Some(value) => self.aggregate.apply(&mut total, value * weight),
                    None => return true,
                }
            }
            found(member, total)
        });
    }
}

/// `<destination>` and the rest: what ZUNIONSTORE, ZINTERSTORE and ZDIFFSTORE take.
#[derive(Clone, Debug, PartialEq)]
pub struct CombineStore {
    destination: Bytes,
    combine: Combine,
}

impl CombineStore {
    pub fn parse(args: &mut Args, command: &str, op: Op) -> Result<CombineStore> {
        let destination = args.next_arg()?;
        Ok(CombineStore { destination, combine: Combine::parse(args, command, op, true, false)? })
    }

    /// Computes the result and stores it at the destination (deleted when it is empty);
    /// returns its cardinality.
    pub fn apply(&self, keyspace: &mut Keyspace, ctx: &WriteCtx) -> Result<usize> {
        let members = self.combine.compute(keyspace.db(ctx.db), ctx.now_ms)?;
        let event = match self.combine.op {
            Op::Union => "zunionstore",
            Op::Inter => "zinterstore",
            Op::Diff => "zdiffstore",
        };
        Ok(super::store::store(keyspace, ctx, &self.destination, &members, event))
    }
}
