//! Ranges of a sorted set — by rank, by score or by member — as the ZRANGE family reads
//! them (`zrangeGenericCommand`), and finding them without walking the set: a range is the
//! ascending ranks `from..to`, found in O(log N) ([`ZSetValue::count_while`]), and its
//! members are read from there in O(1) each ([`ZSetValue::iter_from`],
//! [`ZSetValue::iter_back_from`]).

use super::score::{LexRange, ScoreRange};
use crate::commands::prelude::*;

/// Which members a range selects.
#[derive(Clone, Debug, PartialEq)]
pub enum Range {
    /// Ranks `start..=stop`, negative ones counted from the end (from the highest score when
    /// reversed).
    Rank {
        start: i64,
        stop: i64,
    },
    Score(ScoreRange),
    Lex(LexRange),
}

/// `LIMIT offset count` (score and lexical ranges): skip `offset` members, then take `count`
/// (all of them when negative). A negative offset selects nothing, as in Redis.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limit {
    pub offset: i64,
    pub count: i64,
}

impl Limit {
    pub const ALL: Limit = Limit { offset: 0, count: -1 };
}

impl Range {
    /// The ascending ranks `from..to` of the members in the range. O(log N).
    pub fn ranks(&self, zset: &ZSetValue, reverse: bool) -> (usize, usize) {
        let (from, to) = match self {
            Range::Rank { start, stop } => {
                let len = zset.len() as i64;
                let start = if *start < 0 { (start + len).max(0) } else { *start };
                let stop = if *stop < 0 { stop + len } else { *stop };
                if start > stop || start >= len {
                    return (0, 0);
                }
                let stop = stop.min(len - 1);
                if reverse {
                    (len - 1 - stop, len - start)
                } else {
                    (start, stop + 1)
                }
            }
            Range::Score(range) => (
                zset.count_while(|score, _| !range.above_min(score)) as i64,
                zset.count_while(|score, _| range.below_max(score)) as i64,
            ),
            Range::Lex(range) => (
                zset.count_while(|_, member| !range.above_min(member)) as i64,
                zset.count_while(|_, member| range.below_max(member)) as i64,
            ),
        };
        (from as usize, to.max(from) as usize)
    }

    /// `min` and `max` read as ranks, scores or members (`by` is not [`By::Any`]), with
    /// Redis's error for each.
    pub fn parse(by: By, min: &[u8], max: &[u8]) -> Result<Range> {
        Ok(match by {
            By::Score => Range::Score(ScoreRange::parse(min, max)?),
            By::Lex => Range::Lex(LexRange::parse(min, max)?),
            By::Rank | By::Any => Range::Rank {
                start: crate::args::parse_i64(min).ok_or(Error::NOT_INTEGER)?,
                stop: crate::args::parse_i64(max).ok_or(Error::NOT_INTEGER)?,
            },
        })
    }

    /// How many members the range holds. O(log N).
    pub fn count(&self, zset: &ZSetValue) -> usize {
        let (from, to) = self.ranks(zset, false);
        to - from
    }

    /// The members in the range with their scores, ascending (descending when `reverse`),
    /// within `limit`. O(log N + M).
    pub fn select<'a>(&self, zset: &'a ZSetValue, reverse: bool, limit: Limit) -> Vec<(&'a [u8], f64)> {
        let (from, to) = self.ranks(zset, reverse);
        let len = to - from;
        if limit.offset < 0 || limit.offset as u64 >= len as u64 {
            return Vec::new();
        }
        let skip = limit.offset as usize;
        let take = if limit.count < 0 { len - skip } else { (limit.count as u64).min((len - skip) as u64) as usize };
        if reverse {
            zset.iter_back_from(to - 1 - skip).take(take).collect()
        } else {
            zset.iter_from(from + skip).take(take).collect()
        }
    }
}

/// How a command of the ZRANGE family names its range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum By {
    /// ZRANGE, ZRANGESTORE: ranks unless BYSCORE or BYLEX says otherwise.
    Any,
    Rank,
    Score,
    Lex,
}

/// A parsed ZRANGE-family request: `<key> <min> <max>` and the options that follow.
#[derive(Clone, Debug, PartialEq)]
pub struct RangeQuery {
    pub key: Bytes,
    pub range: Range,
    pub reverse: bool,
    pub limit: Limit,
    pub with_scores: bool,
}

impl RangeQuery {
    /// `zrangeGenericCommand`'s rules: `by` is fixed by the older commands (which then refuse
    /// BYSCORE and BYLEX), and so is `reverse` (`Some`: REV is refused); a `store` takes no
    /// WITHSCORES.
    pub fn parse(args: &mut Args, store: bool, by: By, reverse: Option<bool>) -> Result<RangeQuery> {
        let key = args.next_arg()?;
        let (mut min, mut max) = (args.next_arg()?, args.next_arg()?);
        let (mut by, mut rev, mut limit, mut with_scores) = (by, reverse, Limit::ALL, false);
        while let Some(option) = args.peek().cloned() {
            args.next_arg()?;
            if !store && is(&option, "WITHSCORES") {
                with_scores = true;
            } else if is(&option, "LIMIT") && args.remaining() >= 2 {
                limit = Limit { offset: args.next_i64()?, count: args.next_i64()? };
            } else if rev.is_none() && is(&option, "REV") {
                rev = Some(true);
            } else if by == By::Any && is(&option, "BYLEX") {
                by = By::Lex;
            } else if by == By::Any && is(&option, "BYSCORE") {
                by = By::Score;
            } else {
                return Err(Error::SYNTAX);
            }
        }
        let reverse = rev.unwrap_or(false);
        let by = if by == By::Any { By::Rank } else { by };
        // Redis checks the count only: `LIMIT <offset> -1` passes with ranks.
        if limit.count != -1 && by == By::Rank {
            return Err(Error::err(
                "syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX",
            ));
        }
        if with_scores && by == By::Lex {
            return Err(Error::err("syntax error, WITHSCORES not supported in combination with BYLEX"));
        }
        if reverse && by != By::Rank {
            std::mem::swap(&mut min, &mut max);
        }
        Ok(RangeQuery { key, range: Range::parse(by, &min, &max)?, reverse, limit, with_scores })
    }

    /// The members selected, in reply order. A LIMIT that got past the parser with a rank
    /// range (`LIMIT <offset> -1`) is ignored, as Redis ignores it.
    pub fn select<'a>(&self, zset: &'a ZSetValue) -> Vec<(&'a [u8], f64)> {
        let limit = if matches!(self.range, Range::Rank { .. }) { Limit::ALL } else { self.limit };
        self.range.select(zset, self.reverse, limit)
    }

    /// The members selected from the sorted set at the key (none if missing; WRONGTYPE).
    pub fn read(&self, db: &Db, now_ms: TimeMs) -> Result<Vec<(Bytes, f64)>> {
        let zset = value_at::<ZSetValue>(db, &self.key, now_ms)?;
        Ok(zset.map(|zset| super::score::owned(self.select(zset))).unwrap_or_default())
    }
}

/// `<key> <min> <max>`: what ZCOUNT, ZLEXCOUNT and the ZREMRANGEBY commands take.
#[derive(Clone, Debug, PartialEq)]
pub struct KeyRange {
    pub key: Bytes,
    pub range: Range,
}

impl KeyRange {
    pub fn parse(args: &mut Args, by: By) -> Result<KeyRange> {
        let (key, min, max) = (args.next_arg()?, args.next_arg()?, args.next_arg()?);
        Ok(KeyRange { key, range: Range::parse(by, &min, &max)? })
    }

    /// How many members of the sorted set at the key the range holds. O(log N).
    pub fn count(&self, db: &Db, now_ms: TimeMs) -> Result<usize> {
        Ok(value_at::<ZSetValue>(db, &self.key, now_ms)?.map_or(0, |zset| self.range.count(zset)))
    }

    /// Removes the range's members from the sorted set at the key (which goes when emptied);
    /// returns how many went. O(log N) to find them, O(log N) to remove each.
    pub fn remove(&self, keyspace: &mut Keyspace, ctx: &WriteCtx, event: &'static str) -> Result<usize> {
        let db = keyspace.db_mut(ctx.db);
        let Some((zset, version)) = value_mut::<ZSetValue>(db, &self.key, ctx.now_ms)? else {
            return Ok(0);
        };
        let (from, to) = self.range.ranks(zset, false);
        let removed = zset.remove_ranks(from, to);
        if removed > 0 {
            *version = ctx.index;
        }
        let emptied = remove_if_void::<ZSetValue>(db, &self.key);
        if removed > 0 {
            keyspace.notify(EventClass::ZSET, event, ctx.db, &self.key);
            if emptied {
                keyspace.notify(EventClass::GENERIC, "del", ctx.db, &self.key);
            }
        }
        Ok(removed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keyspace::TableHasher;

    fn zsets() -> [ZSetValue; 2] {
        let hasher = TableHasher::new((1, 2));
        let mut packed = ZSetValue::new();
        let mut sorted = ZSetValue::new();
        let tree = Encodings { zset_max_listpack_entries: 0, ..Encodings::default() };
        for i in 0..20 {
            let member = format!("m{i:02}");
            packed.insert(member.as_bytes(), f64::from(i / 2), &Encodings::default(), hasher);
            sorted.insert(member.as_bytes(), f64::from(i / 2), &tree, hasher);
        }
        assert!(packed.is_compact() && !sorted.is_compact());
        [packed, sorted]
    }

    fn names(pairs: Vec<(&[u8], f64)>) -> Vec<String> {
        pairs.into_iter().map(|(member, _)| String::from_utf8(member.to_vec()).unwrap()).collect()
    }

    #[test]
    fn ranks_scores_and_members_select_alike_in_both_forms() {
        for zset in zsets() {
            let rank = |start, stop, reverse| names(Range::Rank { start, stop }.select(&zset, reverse, Limit::ALL));
            assert_eq!(rank(0, 1, false), ["m00", "m01"]);
            assert_eq!(rank(-2, -1, false), ["m18", "m19"]);
            assert_eq!(rank(0, 1, true), ["m19", "m18"]);
            assert_eq!(rank(18, 100, true), ["m01", "m00"]);
            assert!(rank(5, 4, false).is_empty() && rank(20, 30, false).is_empty() && rank(-100, -50, true).is_empty());
            let score = |min: &str, max: &str, reverse, limit| {
                names(
                    Range::Score(ScoreRange::parse(min.as_bytes(), max.as_bytes()).unwrap())
                        .select(&zset, reverse, limit),
                )
            };
            assert_eq!(score("(1", "2", false, Limit::ALL), ["m04", "m05"]);
            assert_eq!(score("1", "(2", true, Limit::ALL), ["m03", "m02"]);
            assert_eq!(score("-inf", "+inf", false, Limit { offset: 3, count: 2 }), ["m03", "m04"]);
            assert_eq!(score("-inf", "+inf", true, Limit { offset: 1, count: 1 }), ["m18"]);
            assert!(score("0", "9", false, Limit { offset: -1, count: 5 }).is_empty());
            assert!(score("0", "9", false, Limit { offset: 0, count: 0 }).is_empty());
            assert!(score("3", "2", false, Limit::ALL).is_empty());
            assert!(score("(2", "(2", false, Limit::ALL).is_empty());
            let lex = Range::Lex(LexRange::parse(b"[m17", b"+").unwrap());
            assert_eq!(lex.count(&zset), 3);
        }
    }
}
