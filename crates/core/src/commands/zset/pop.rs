//! Popping the lowest or highest members: ZPOPMIN, ZPOPMAX and ZMPOP, and what the blocking
//! BZPOPMIN, BZPOPMAX and BZMPOP call to serve a waiting client once one of its keys has
//! members ([`pop_first`]), with the replies they share.

use super::score::{owned, score_reply};
use crate::commands::prelude::*;

/// What a pop from several keys gave: the key and its members with their scores, in pop
/// order; `None` when no key existed.
pub type Popped = Option<(Bytes, Vec<(Bytes, f64)>)>;

/// Which end of the order to pop from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    Min,
    Max,
}

impl End {
    /// `MIN` or `MAX`, in any case.
    pub fn parse(word: &[u8]) -> Option<End> {
        if is(word, "MIN") {
            Some(End::Min)
        } else if is(word, "MAX") {
            Some(End::Max)
        } else {
            None
        }
    }
}

/// Removes up to `count` members from `end` of the sorted set at `key` and returns them in
/// pop order (lowest first for `Min`, highest first for `Max`); the key goes when emptied.
/// Nothing when the key is missing; WRONGTYPE if it holds something else. O(log N) per
/// member.
pub fn pop(keyspace: &mut Keyspace, ctx: &WriteCtx, key: &[u8], end: End, count: usize) -> Result<Vec<(Bytes, f64)>> {
    let db = keyspace.db_mut(ctx.db);
    let Some((zset, version)) = value_mut::<ZSetValue>(db, key, ctx.now_ms)? else {
        return Ok(Vec::new());
    };
    let len = zset.len();
    let taken = count.min(len);
    let popped = match end {
        End::Min => owned(zset.iter_from(0).take(taken)),
        End::Max => owned(zset.iter_back_from(len.saturating_sub(1)).take(taken)),
    };
    match end {
        End::Min => zset.remove_ranks(0, taken),
        End::Max => zset.remove_ranks(len - taken, len),
    };
    if taken > 0 {
        *version = ctx.index;
    }
    let emptied = remove_if_void::<ZSetValue>(db, key);
    if taken > 0 {
        let event = match end {
            End::Min => "zpopmin",
            End::Max => "zpopmax",
        };
        keyspace.notify(EventClass::ZSET, event, ctx.db, key);
    }
    if emptied {
        keyspace.notify(EventClass::GENERIC, "del", ctx.db, key);
    }
    Ok(popped)
}

/// Pops up to `count` members from `end` of the first of `keys` that exists (sorted sets
/// are never empty): that key and what it gave, or `None` when none of them exists.
/// WRONGTYPE if the first existing key holds another type (later keys are not looked at),
/// as Redis's `genericZpopCommand`. ZMPOP calls it; so can BZPOPMIN, BZPOPMAX (`count` 1)
/// and BZMPOP to serve a waiter when one of its keys gets members.
pub fn pop_first(keyspace: &mut Keyspace, ctx: &WriteCtx, keys: &[Bytes], end: End, count: usize) -> Result<Popped> {
    for key in keys {
        if keyspace.db(ctx.db).get(key, ctx.now_ms).is_some() {
            return Ok(Some((key.clone(), pop(keyspace, ctx, key, end, count)?)));
        }
    }
    Ok(None)
}

/// ZPOPMIN/ZPOPMAX's reply: one flat member-score list without a count; with one, pairs
/// (flat in RESP2, nested in RESP3).
pub fn pop_reply(popped: Vec<(Bytes, f64)>, nested: bool) -> Reply {
    if nested {
        super::score::members_reply(popped, true)
    } else {
        Reply::Array(popped.into_iter().flat_map(|(member, score)| [Reply::Bulk(member), score_reply(score)]).collect())
    }
}

/// ZMPOP/BZMPOP's reply: the key and its member-score pairs (nested in both protocols), or
/// a nil array when nothing was popped.
pub fn mpop_reply(popped: Popped) -> Reply {
    match popped {
        None => Reply::NilArray,
        Some((key, pairs)) => Reply::Array(vec![
            Reply::Bulk(key),
            Reply::Array(
                pairs
                    .into_iter()
                    .map(|(member, score)| Reply::Array(vec![Reply::Bulk(member), score_reply(score)]))
                    .collect(),
            ),
        ]),
    }
}

/// ZMPOP's arguments from `numkeys` on (`numkeys key [key ...] MIN|MAX [COUNT count]`),
/// which BZMPOP takes after its timeout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MPop {
    pub keys: Vec<Bytes>,
    pub end: End,
    pub count: usize,
}

impl MPop {
    /// `zmpopGenericCommand`'s rules and errors.
    pub fn parse(args: &mut Args) -> Result<MPop> {
        let numkeys = match crate::args::parse_i64(&args.next_arg()?) {
            Some(numkeys) if numkeys >= 1 => numkeys as u64,
            _ => return Err(Error::err("numkeys should be greater than 0")),
        };
        if numkeys >= args.remaining() as u64 {
            return Err(Error::SYNTAX);
        }
        let keys = (0..numkeys).map(|_| args.next_arg()).collect::<Result<Vec<_>>>()?;
        let end = End::parse(&args.next_arg()?).ok_or(Error::SYNTAX)?;
        let mut count = None;
        while let Some(option) = args.peek().cloned() {
            args.next_arg()?;
            if count.is_none() && is(&option, "COUNT") && !args.is_empty() {
                count = Some(match crate::args::parse_i64(&args.next_arg()?) {
                    Some(count) if count >= 1 => count as usize,
                    _ => return Err(Error::err("count should be greater than 0")),
                });
            } else {
                return Err(Error::SYNTAX);
            }
        }
        Ok(MPop { keys, end, count: count.unwrap_or(1) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::zset::testing::*;

    fn ctx(index: u64) -> WriteCtx {
        WriteCtx { db: 0, now_ms: 1_000, index, random_seed: 0, from_script: false }
    }

    fn keys(names: &[&str]) -> Vec<Bytes> {
        names.iter().map(|name| Bytes::copy_from_slice(name.as_bytes())).collect()
    }

    #[test]
    fn a_waiter_is_served_from_the_first_existing_key() {
        both(|ks, _| {
            run(ks, &["zadd", "b", "1", "x", "2", "y"]);
            let popped = pop_first(ks, &ctx(7), &keys(&["a", "b"]), End::Max, 1).unwrap();
            assert_eq!(popped, Some((Bytes::from_static(b"b"), vec![(Bytes::from_static(b"y"), 2.0)])));
            assert_eq!(ks.db(0).get(b"b", 0).unwrap().version, 7, "WATCH sees the pop");
            let popped = pop_first(ks, &ctx(8), &keys(&["b"]), End::Min, 5).unwrap();
            assert_eq!(popped, Some((Bytes::from_static(b"b"), vec![(Bytes::from_static(b"x"), 1.0)])));
            assert!(ks.db(0).get(b"b", 0).is_none(), "an emptied key goes");
            assert_eq!(pop_first(ks, &ctx(9), &keys(&["a", "b"]), End::Min, 1).unwrap(), None);
            run(ks, &["set", "a", "v"]);
            assert_eq!(pop_first(ks, &ctx(10), &keys(&["a", "b"]), End::Min, 1), Err(Error::WRONG_TYPE));
        });
    }

    #[test]
    fn replies_for_each_shape() {
        let popped = vec![(Bytes::from_static(b"m"), 1.5)];
        assert_eq!(pop_reply(popped.clone(), false), Reply::Array(vec![bulk("m"), double(1.5)]));
        assert_eq!(pop_reply(popped.clone(), true), scored(&[("m", 1.5)]));
        assert_eq!(
            mpop_reply(Some((Bytes::from_static(b"k"), popped))),
            Reply::Array(vec![bulk("k"), Reply::Array(vec![Reply::Array(vec![bulk("m"), double(1.5)])])])
        );
        assert_eq!(mpop_reply(None), Reply::NilArray);
        assert_eq!(End::parse(b"max"), Some(End::Max));
        assert_eq!(End::parse(b"mid"), None);
    }
}
