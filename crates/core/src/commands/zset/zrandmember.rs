//! ZRANDMEMBER key [count [WITHSCORES]]

use super::score::{members_reply, owned};
use crate::commands::prelude::*;
use crate::rng::Rng;
use std::collections::BTreeSet;

pub const SPEC: CommandSpec = CommandSpec {
    name: "zrandmember",
    arity: -2,
    flags: &["readonly"],
    first_key: 1,
    last_key: 1,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["RO", "access"], begin_index: 1, last_key: 0, key_step: 1 }],
    acl_categories: &["@read", "@sortedset", "@slow"],
    tips: &["nondeterministic_output"],
    group: "sorted-set",
    since: "6.2.0",
    complexity: "O(N) where N is the number of elements returned",
    summary: "Get one or multiple random elements from a sorted set",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct ZRandMember {
    key: Bytes,
    /// `None`: one member, replied as a bulk string. Negative: may repeat.
    count: Option<i64>,
    with_scores: bool,
}

pub enum Picked {
    One(Option<Bytes>),
    Many(Vec<(Bytes, f64)>, bool),
}

/// Random members as Redis's `zrandmemberWithCountCommand` chooses them: a negative count
/// draws independently (repeats allowed), a count of at least the size takes everything (in
/// order), a count above a third of the size shuffles positions, and a smaller one draws
/// until it has enough distinct members. Every choice is uniform and comes from `rng`.
fn pick<'a>(zset: &'a ZSetValue, count: i64, rng: &mut Rng) -> Vec<(&'a [u8], f64)> {
    let len = zset.len();
    // A pack is walked once; the tree finds a rank in O(log N).
    let packed: Option<Vec<(&[u8], f64)>> = zset.is_compact().then(|| zset.iter().collect());
    let at = |rank: usize| match &packed {
        Some(all) => all[rank],
        None => zset.at_rank(rank).expect("rank in range"),
    };
    if count < 0 {
        let wanted = (count.unsigned_abs() as usize).min(RANDOM_PICKS_MAX);
        return (0..wanted).map(|_| at(rng.below(len as u64) as usize)).collect();
    }
    let count = count as usize;
    if count >= len {
        return zset.iter().collect();
    }
    if count * 3 > len {
        return random_positions(len, count as i64, rng).into_iter().map(at).collect();
    }
    let mut chosen = BTreeSet::new();
    let mut picked = Vec::with_capacity(count);
    while picked.len() < count {
        let rank = rng.below(len as u64) as usize;
        if chosen.insert(rank) {
            picked.push(at(rank));
        }
    }
    picked
}

impl Command for ZRandMember {
    type Output = Picked;

    fn parse(args: &mut Args) -> Result<Self> {
        let key = args.next_arg()?;
        let count = match args.is_empty() {
            true => None,
            false => match args.next_i64()? {
                i64::MIN => {
                    return Err(Error::err(
                        "value is out of range, value must between -9223372036854775807 and 9223372036854775807",
                    ))
                }
                count => Some(count),
            },
        };
        let with_scores = match args.peek() {
            Some(option) if is(option, "WITHSCORES") => {
                args.next_arg()?;
                true
            }
            Some(_) => return Err(Error::SYNTAX),
            None => false,
        };
        args.finish()?;
        // Redis bounds the count so that count * 2 cannot overflow.
        if with_scores && count.is_some_and(|count| !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&count)) {
            return Err(Error::err("value is out of range"));
        }
        Ok(ZRandMember { key, count, with_scores })
    }

    fn reply(picked: Picked) -> Reply {
        match picked {
            Picked::One(member) => Reply::optional_bulk(member),
            Picked::Many(members, with_scores) => members_reply(members, with_scores),
        }
    }
}

impl ReadCommand for ZRandMember {
    fn read(&self, keyspace: &Keyspace, ctx: &mut ReadCtx) -> Result<Picked> {
        let zset = value_at::<ZSetValue>(keyspace.db(ctx.db), &self.key, ctx.now_ms)?;
        let Some(count) = self.count else {
            return Ok(Picked::One(zset.and_then(|zset| zset.random(ctx.rng)).map(|(member, _)| bytes_of(member))));
        };
        let members = zset.map(|zset| owned(pick(zset, count, ctx.rng))).unwrap_or_default();
        Ok(Picked::Many(members, self.with_scores))
    }
}

#[cfg(test)]
mod tests {
    use crate::commands::zset::testing::*;

    use crate::rng::Rng;
    use std::collections::BTreeMap;

    fn members(reply: Reply) -> Vec<String> {
        let items = match reply {
            Reply::Array(items) => items,
            Reply::Pairs(pairs) => pairs.into_iter().map(|(member, _)| member).collect(),
            other => panic!("{other:?}"),
        };
        items
            .into_iter()
            .map(|item| match item {
                Reply::Bulk(bytes) => String::from_utf8(bytes.to_vec()).unwrap(),
                other => panic!("{other:?}"),
            })
            .collect()
    }

    #[test]
    fn picks_as_redis_does() {
        both(|ks, _| {
            for i in 0..10 {
                run(ks, &["zadd", "z", &i.to_string(), &format!("m{i}")]);
            }
            let Reply::Bulk(_) = run(ks, &["zrandmember", "z"]) else { panic!() };
            assert_eq!(run(ks, &["zrandmember", "nokey"]), Reply::Nil);
            assert_eq!(run(ks, &["zrandmember", "nokey", "5"]), bulks(&[]));
            assert_eq!(run(ks, &["zrandmember", "z", "0"]), bulks(&[]));
            assert_eq!(members(run(ks, &["zrandmember", "z", "-30"])).len(), 30);
            let all = members(run(ks, &["zrandmember", "z", "20"]));
            assert_eq!(all, (0..10).map(|i| format!("m{i}")).collect::<Vec<_>>(), "everything, in order");
            for count in [1, 2, 3, 4, 8, 9] {
                let mut picked = members(run(ks, &["zrandmember", "z", &count.to_string()]));
                picked.sort();
                picked.dedup();
                assert_eq!(picked.len(), count, "distinct");
            }
            let Reply::Pairs(pairs) = run(ks, &["zrandmember", "z", "-3", "WITHSCORES"]) else { panic!() };
            for (member, score) in pairs {
                let Reply::Bulk(member) = member else { panic!() };
                assert_eq!(run(ks, &["zscore", "z", std::str::from_utf8(&member).unwrap()]), score);
            }
        });
    }

    #[test]
    fn choices_are_uniform_and_follow_the_generator() {
        both(|ks, _| {
            for i in 0..10 {
                run(ks, &["zadd", "z", &i.to_string(), &format!("m{i}")]);
            }
            let pick = |seed: u64, words: &[&str]| {
                let command = crate::commands::parse_keyspace_command(&argv(words)).unwrap();
                let Some(crate::commands::KeyspaceOp::Read(op)) = command else { panic!() };
                op.run(
                    ks,
                    &mut crate::command::ReadCtx { db: 0, now_ms: 0, rng: &mut Rng::new(seed), from_script: false },
                )
            };
            assert_eq!(pick(7, &["zrandmember", "z", "-50"]), pick(7, &["zrandmember", "z", "-50"]));
            assert_ne!(pick(7, &["zrandmember", "z", "-50"]), pick(8, &["zrandmember", "z", "-50"]));
            for words in [&["zrandmember", "z", "-10000"][..], &["zrandmember", "z", "2"], &["zrandmember", "z", "5"]] {
                let mut counts: BTreeMap<String, usize> = BTreeMap::new();
                let mut total = 0;
                for seed in 0..(20_000 / members(pick(0, words)).len() as u64) {
                    for member in members(pick(seed, words)) {
                        *counts.entry(member).or_default() += 1;
                        total += 1;
                    }
                }
                let expected = total as f64 / 10.0;
                let chi_square: f64 = counts.values().map(|&n| (n as f64 - expected).powi(2) / expected).sum();
                assert_eq!(counts.len(), 10);
                assert!(chi_square < 40.0, "{words:?}: {chi_square}");
            }
        });
    }

    #[test]
    fn count_errors() {
        let ks = &mut Keyspace::new();
        run(ks, &["zadd", "z", "1", "a"]);
        assert_eq!(
            run(ks, &["zrandmember", "z", "-9223372036854775808"]),
            error("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
        );
        assert_eq!(
            run(ks, &["zrandmember", "z", "-9223372036854770000", "WITHSCORES"]),
            error("ERR value is out of range")
        );
        assert_eq!(run(ks, &["zrandmember", "z", "1", "WITHSCORES", "x"]), error("ERR syntax error"));
        assert_eq!(run(ks, &["zrandmember", "z", "1", "x"]), error("ERR syntax error"));
    }
}
