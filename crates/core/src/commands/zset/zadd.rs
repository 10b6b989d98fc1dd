//! ZADD key [NX | XX] [GT | LT] [CH] [INCR] score member [score member ...]

use super::score::{next_score, score_reply};
use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "zadd",
    arity: -4,
    flags: &["write", "denyoom", "fast"],
    first_key: 1,
    last_key: 1,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["RW", "update"], begin_index: 1, last_key: 0, key_step: 1 }],
    acl_categories: &["@write", "@sortedset", "@fast"],
    tips: &[],
    group: "sorted-set",
    since: "1.2.0",
    complexity: "O(log(N)) for each item added, where N is the number of elements in the sorted set.",
    summary: "Add one or more members to a sorted set, or update its score if it already exists",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

/// ZADD's options (GEOADD takes NX, XX and CH).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AddFlags {
    pub nx: bool,
    pub xx: bool,
    pub gt: bool,
    pub lt: bool,
    pub ch: bool,
    pub incr: bool,
}

pub struct ZAdd {
    pub key: Bytes,
    pub flags: AddFlags,
    /// Scores and members, in argument order.
    pub pairs: Vec<(f64, Bytes)>,
}

/// What ZADD did: how many members it added (and, with CH, changed), or with INCR the new
/// score (`None` when the options kept it from changing anything).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Added {
    Count(usize),
    Score(Option<f64>),
}

impl ZAdd {
    /// `zaddGenericCommand`'s rules, with `incr` already set for ZINCRBY.
    pub fn parse_with(args: &mut Args, mut flags: AddFlags) -> Result<ZAdd> {
        let key = args.next_arg()?;
        while let Some(option) = args.peek() {
            let flag = match () {
                _ if is(option, "NX") => &mut flags.nx,
                _ if is(option, "XX") => &mut flags.xx,
                _ if is(option, "CH") => &mut flags.ch,
                _ if is(option, "INCR") => &mut flags.incr,
                _ if is(option, "GT") => &mut flags.gt,
                _ if is(option, "LT") => &mut flags.lt,
                _ => break,
            };
            *flag = true;
            args.next_arg()?;
        }
        let elements = args.remaining();
        if elements == 0 || !elements.is_multiple_of(2) {
            return Err(Error::SYNTAX);
        }
        if flags.nx && flags.xx {
            return Err(Error::err("XX and NX options at the same time are not compatible"));
        }
        if ((flags.gt || flags.lt) && flags.nx) || (flags.gt && flags.lt) {
            return Err(Error::err("GT, LT, and/or NX options at the same time are not compatible"));
        }
        if flags.incr && elements > 2 {
            return Err(Error::err("INCR option supports a single increment-element pair"));
        }
        let mut pairs = Vec::with_capacity(elements / 2);
        while !args.is_empty() {
            let score = next_score(args, Error::NOT_FLOAT)?;
            pairs.push((score, args.next_arg()?));
        }
        Ok(ZAdd { key, flags, pairs })
    }

    /// Adds or updates every pair (`zsetAdd`), creating the key unless XX is given.
    pub fn apply(&self, keyspace: &mut Keyspace, ctx: &WriteCtx) -> Result<Added> {
        let flags = self.flags;
        let (db, encodings) = keyspace.db_and_encodings(ctx.db);
        let hasher = db.hasher();
        if value_at::<ZSetValue>(db, &self.key, ctx.now_ms)?.is_none() {
            if flags.xx {
                return Ok(if flags.incr { Added::Score(None) } else { Added::Count(0) });
            }
            db.insert(&self.key, Value::ZSet(Default::default()), None, ctx.index);
        }
        let (zset, version) = value_mut::<ZSetValue>(db, &self.key, ctx.now_ms)?.expect("present");
        let (mut added, mut updated, mut last) = (0, 0, None);
        let mut outcome = Ok(());
        for (score, member) in &self.pairs {
            let mut score = *score;
            match zset.score(member) {
                Some(_) if flags.nx => continue,
                Some(current) => {
                    if flags.incr {
                        score += current;
                        if score.is_nan() {
                            outcome = Err(Error::err("resulting score is not a number (NaN)"));
                            break;
                        }
                    }
                    if (flags.lt && score >= current) || (flags.gt && score <= current) {
                        continue;
                    }
                    if score != current {
                        zset.insert(member, score, encodings, hasher);
                        updated += 1;
                    }
                }
                None if flags.xx => continue,
                None => {
                    zset.insert(member, score, encodings, hasher);
                    added += 1;
                }
            }
            last = Some(score);
        }
        if added + updated > 0 {
            *version = ctx.index;
        }
        remove_if_void::<ZSetValue>(db, &self.key);
        if added + updated > 0 {
            keyspace.notify(EventClass::ZSET, if flags.incr { "zincr" } else { "zadd" }, ctx.db, &self.key);
        }
        outcome?;
        Ok(match (flags.incr, flags.ch) {
            (true, _) => Added::Score(last),
            (false, true) => Added::Count(added + updated),
            (false, false) => Added::Count(added),
        })
    }
}

/// ZADD's and ZINCRBY's reply.
pub fn added_reply(added: Added) -> Reply {
    match added {
        Added::Count(count) => Reply::Integer(count as i64),
        Added::Score(score) => score.map_or(Reply::Nil, score_reply),
    }
}

impl Command for ZAdd {
    type Output = Added;

    fn parse(args: &mut Args) -> Result<Self> {
        ZAdd::parse_with(args, AddFlags::default())
    }

    fn reply(added: Added) -> Reply {
        added_reply(added)
    }
}

impl WriteCommand for ZAdd {
    fn write(&self, keyspace: &mut Keyspace, ctx: &WriteCtx) -> Result<Added> {
        self.apply(keyspace, ctx)
    }
}

#[cfg(test)]
mod tests {
    use crate::commands::zset::testing::*;

    #[test]
    fn adds_updates_and_converts() {
        both(|ks, form| {
            assert_eq!(run(ks, &["zadd", "z", "10", "x", "20", "y", "30", "z"]), int(3));
            assert_eq!(encoding(ks, "z"), bulk(form));
            assert_eq!(run(ks, &["zadd", "z", "1", "y"]), int(0));
            assert_eq!(run(ks, &["zrange", "z", "0", "-1"]), bulks(&["y", "x", "z"]));
            assert_eq!(run(ks, &["zadd", "z", "CH", "1", "y", "2", "x", "3", "new"]), int(2));
            assert_eq!(run(ks, &["zcard", "z"]), int(4));
        });
        let ks = &mut Keyspace::new();
        for i in 0..128 {
            run(ks, &["zadd", "big", &i.to_string(), &format!("m{i}")]);
        }
        assert_eq!(encoding(ks, "big"), bulk("listpack"));
        run(ks, &["zadd", "big", "0", "one-more"]);
        assert_eq!(encoding(ks, "big"), bulk("skiplist"));
        run(ks, &["zadd", "long", "0", &"x".repeat(65)]);
        assert_eq!(encoding(ks, "long"), bulk("skiplist"));
        assert_eq!(run(ks, &["zrank", "big", "one-more"]), int(1));
    }

    #[test]
    fn options_and_their_conflicts() {
        both(|ks, _| {
            assert_eq!(run(ks, &["zadd", "z", "XX", "1", "a"]), int(0));
            assert_eq!(run(ks, &["exists", "z"]), int(0));
            assert_eq!(run(ks, &["zadd", "z", "XX", "INCR", "1", "a"]), Reply::Nil);
            assert_eq!(run(ks, &["zadd", "z", "NX", "1", "a", "2", "b"]), int(2));
            assert_eq!(run(ks, &["zadd", "z", "NX", "9", "a", "3", "c"]), int(1));
            assert_eq!(run(ks, &["zscore", "z", "a"]), double(1.0));
            assert_eq!(run(ks, &["zadd", "z", "GT", "CH", "0", "a", "5", "b", "4", "d"]), int(2));
            assert_eq!(run(ks, &["zadd", "z", "LT", "CH", "0", "a", "9", "b"]), int(1));
            assert_eq!(run(ks, &["zadd", "z", "GT", "XX", "CH", "10", "a", "10", "nope"]), int(1));
            assert_eq!(run(ks, &["zscore", "z", "nope"]), Reply::Nil);
            assert_eq!(run(ks, &["zadd", "z", "INCR", "5", "a"]), double(15.0));
            assert_eq!(run(ks, &["zadd", "z", "INCR", "LT", "1", "a"]), Reply::Nil);
            assert_eq!(run(ks, &["zadd", "z", "INCR", "GT", "-inf", "a"]), Reply::Nil);
            assert_eq!(run(ks, &["zadd", "z", "INCR", "NX", "1", "a"]), Reply::Nil);
        });
        let ks = &mut Keyspace::new();
        let err = |ks: &mut Keyspace, words: &[&str]| match run(ks, words) {
            Reply::Error(text) => String::from_utf8(text.to_vec()).unwrap(),
            other => panic!("{other:?}"),
        };
        assert_eq!(
            err(ks, &["zadd", "z", "NX", "XX", "1", "a"]),
            "ERR XX and NX options at the same time are not compatible"
        );
        for words in [
            ["zadd", "z", "GT", "LT", "1", "a"],
            ["zadd", "z", "NX", "GT", "1", "a"],
            ["zadd", "z", "LT", "NX", "1", "a"],
        ] {
            assert_eq!(err(ks, &words), "ERR GT, LT, and/or NX options at the same time are not compatible");
        }
        assert_eq!(
            err(ks, &["zadd", "z", "INCR", "1", "a", "2", "b"]),
            "ERR INCR option supports a single increment-element pair"
        );
        assert_eq!(err(ks, &["zadd", "z", "1", "a", "2"]), "ERR syntax error");
        assert_eq!(err(ks, &["zadd", "z", "NX", "1"]), "ERR syntax error");
        assert_eq!(err(ks, &["zadd", "z", "1"]), "ERR wrong number of arguments for 'zadd' command");
        assert_eq!(err(ks, &["zadd", "z", "1", "a", "nan", "b"]), "ERR value is not a valid float");
        assert_eq!(err(ks, &["zadd", "z", "", "a"]), "ERR value is not a valid float");
        assert_eq!(run(ks, &["exists", "z"]), int(0), "nothing added on a parse error");
        run(ks, &["set", "s", "x"]);
        assert_eq!(err(ks, &["zadd", "s", "1", "a"]), WRONGTYPE);
    }

    #[test]
    fn increments_refuse_nan_and_infinities_add_up() {
        both(|ks, _| {
            run(ks, &["zadd", "z", "+inf", "x", "-inf", "y"]);
            assert_eq!(
                run(ks, &["zadd", "z", "INCR", "-inf", "x"]),
                error("ERR resulting score is not a number (NaN)")
            );
            assert_eq!(run(ks, &["zscore", "z", "x"]), double(f64::INFINITY));
            assert_eq!(run(ks, &["zadd", "z", "INCR", "1", "x"]), double(f64::INFINITY));
            assert_eq!(run(ks, &["zadd", "z", "nan", "x"]), error("ERR value is not a valid float"));
        });
    }

    #[test]
    fn negative_zero_stays_only_in_the_large_form() {
        both(|ks, form| {
            run(ks, &["zadd", "z", "-0", "a"]);
            let expected: f64 = if form == "listpack" { 0.0 } else { -0.0 };
            let Reply::Double(score) = run(ks, &["zscore", "z", "a"]) else { panic!() };
            assert_eq!(score.is_sign_negative(), expected.is_sign_negative(), "{form}");
        });
    }

    #[test]
    fn a_write_that_changes_nothing_keeps_the_version() {
        let ks = &mut Keyspace::new();
        write(ks, 1, &["zadd", "z", "1", "a"]);
        let version = |ks: &Keyspace| ks.db(0).get(b"z", 0).unwrap().version;
        assert_eq!(version(ks), 1);
        write(ks, 2, &["zadd", "z", "NX", "5", "a"]);
        write(ks, 3, &["zadd", "z", "1", "a"]);
        assert_eq!(version(ks), 1);
        write(ks, 4, &["zadd", "z", "2", "a"]);
        assert_eq!(version(ks), 4);
    }
}
