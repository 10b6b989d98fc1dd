//! SRANDMEMBER key [count]

use crate::commands::prelude::*;
use crate::keyspace::set::Member;

pub const SPEC: CommandSpec = CommandSpec {
    name: "srandmember",
    arity: -2,
    flags: &["readonly"],
    first_key: 1,
    last_key: 1,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["RO", "access"], begin_index: 1, last_key: 0, key_step: 1 }],
    acl_categories: &["@read", "@set", "@slow"],
    tips: &["nondeterministic_output"],
    group: "set",
    since: "1.0.0",
    complexity: "Without the count argument O(1), otherwise O(N) where N is the absolute value of the passed count.",
    summary: "Get one or multiple random members from a set",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

/// When a count of distinct members is at least this share of the set, SRANDMEMBER picks among
/// all of them; below it, it draws members and drops repeats (Redis's
/// `SRANDMEMBER_SUB_STRATEGY_MUL`).
const PICK_AMONG_ALL_FACTOR: usize = 3;

pub struct SRandMember {
    key: Bytes,
    /// `None`: one member, replied as a bulk string. Negative: members may repeat.
    count: Option<i64>,
}

pub enum Picked {
    One(Option<Bytes>),
    Many(Vec<Bytes>),
}

impl Command for SRandMember {
    type Output = Picked;

    fn parse(args: &mut Args) -> Result<Self> {
        let key = args.next_arg()?;
        let count = match args.remaining() {
            0 => None,
            1 => match args.next_i64()? {
                i64::MIN => {
                    return Err(Error::err(
                        "value is out of range, value must between -9223372036854775807 and 9223372036854775807",
                    ))
                }
                count => Some(count),
            },
            _ => return Err(Error::SYNTAX),
        };
        Ok(SRandMember { key, count })
    }

    fn reply(picked: Picked) -> Reply {
        match picked {
            Picked::One(member) => Reply::optional_bulk(member),
            Picked::Many(members) => Reply::bulks(members),
        }
    }
}

/// `count` members of `set` drawn at random, as Redis's `srandmemberWithCountCommand` draws
/// them: a negative count (or 1) draws independently, a count of at least the size takes the
/// whole set, one close to the size picks among all members, and a small one draws members
/// until it has enough distinct ones (without going through the whole set).
pub fn random_members<'a>(set: &'a SetValue, count: i64, rng: &mut crate::rng::Rng) -> Vec<Member<'a>> {
    let len = set.len();
    if count < 0 || count == 1 {
        let draws = (count.unsigned_abs() as usize).min(RANDOM_PICKS_MAX);
        return (0..draws).filter_map(|_| set.random(rng)).collect();
    }
    let count = count as usize;
    if count >= len {
        return set.iter().collect();
    }
    if count * PICK_AMONG_ALL_FACTOR > len {
        let all: Vec<Member> = set.iter().collect();
        return random_positions(len, count as i64, rng).into_iter().map(|at| all[at]).collect();
    }
    let mut seen = std::collections::BTreeSet::new();
    let mut picked = Vec::with_capacity(count);
    while picked.len() < count {
        let member = set.random(rng).expect("the set is not empty");
        if seen.insert(member) {
            picked.push(member);
        }
    }
    picked
}

impl ReadCommand for SRandMember {
    fn read(&self, keyspace: &Keyspace, ctx: &mut ReadCtx) -> Result<Picked> {
        let set = value_at::<SetValue>(keyspace.db(ctx.db), &self.key, ctx.now_ms)?;
        let Some(count) = self.count else {
            return Ok(Picked::One(set.and_then(|set| set.random(ctx.rng)).map(|member| member.to_bytes())));
        };
        let members = set.map_or_else(Vec::new, |set| random_members(set, count, ctx.rng));
        Ok(Picked::Many(members.into_iter().map(|member| member.to_bytes()).collect()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::set::testing::*;
    use crate::keyspace::TableHasher;
    use crate::rng::Rng;
    use std::collections::BTreeMap;

    #[test]
    fn replies_and_errors() {
        let ks = &mut Keyspace::new();
        sadd(ks, "s", &["a", "b", "c"]);
        assert!(matches!(read(ks, T, &["srandmember", "s"]), Reply::Bulk(_)));
        assert_eq!(read(ks, T, &["srandmember", "missing"]), Reply::Nil);
        assert_eq!(read(ks, T, &["srandmember", "s", "0"]), Reply::Array(vec![]));
        assert_eq!(read(ks, T, &["srandmember", "missing", "100"]), Reply::Array(vec![]));
        assert_eq!(texts(read(ks, T, &["srandmember", "s", "100"])), strings(&["a", "b", "c"]));
        assert_eq!(texts(read(ks, T, &["srandmember", "s", "-100"])).len(), 100);
        assert_eq!(
            read(ks, T, &["srandmember", "s", "-9223372036854775808"]),
            error("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
        );
        assert_eq!(read(ks, T, &["srandmember", "s", "x"]), error("ERR value is not an integer or out of range"));
        assert_eq!(read(ks, T, &["srandmember", "s", "1", "2"]), error("ERR syntax error"));
        write(ks, T, &["set", "str", "x"]);
        assert_eq!(read(ks, T, &["srandmember", "str"]), error(WRONGTYPE));
        assert_eq!(read(ks, T, &["srandmember", "str", "0"]), error(WRONGTYPE));
    }

    fn set_of(members: &[String], encodings: &Encodings) -> SetValue {
        let mut set = SetValue::new();
        for member in members {
            set.insert(member.as_bytes(), encodings, TableHasher::new((1, 2)));
        }
        set
    }

    /// Draws `count` members many times and checks every member came about as often (a
    /// chi-square statistic far below what a skewed pick gives).
    fn check_uniform(set: &SetValue, count: i64, rounds: usize) {
        let mut rng = Rng::new(7);
        let mut seen: BTreeMap<Vec<u8>, usize> = BTreeMap::new();
        let mut total = 0;
        for _ in 0..rounds {
            let picked = random_members(set, count, &mut rng);
            if count > 0 {
                let mut distinct = picked.clone();
                distinct.sort();
                distinct.dedup();
                assert_eq!(distinct.len(), picked.len(), "distinct members");
                assert_eq!(picked.len(), (count as usize).min(set.len()));
            } else {
                assert_eq!(picked.len(), count.unsigned_abs() as usize);
            }
            for member in picked {
                assert!(set.contains_member(member));
                *seen.entry(member.as_bytes().to_vec()).or_default() += 1;
                total += 1;
            }
        }
        assert_eq!(seen.len(), set.len(), "every member drawn");
        let expected = total as f64 / set.len() as f64;
        let chi_square: f64 = seen.values().map(|&n| (n as f64 - expected).powi(2) / expected).sum();
        // 10 members, 9 degrees of freedom: 40 is a one in 100000 chance (the Redis suite's bound).
        assert!(chi_square < 40.0, "chi-square {chi_square} for count {count}: {seen:?}");
    }

    #[test]
    fn picks_are_uniform_for_every_strategy() {
        let names: Vec<String> = ["1", "5", "10", "50", "125", "MARY", "PATRICIA", "LINDA", "BARBARA", "ELIZABETH"]
            .iter()
            .map(|name| name.to_string())
            .collect();
        let ints: Vec<String> = (0..10).map(|i| i.to_string()).collect();
        for members in [names, ints] {
            let set = set_of(&members, &Encodings::default());
            check_uniform(&set, -1000, 1);
            check_uniform(&set, 1, 1000);
            check_uniform(&set, 8, 125);
            check_uniform(&set, 2, 500);
        }
    }

    #[test]
    fn small_counts_from_a_large_set_draw_without_listing_it() {
        let members: Vec<String> = (0..30).map(|i| format!("m:{i}")).collect();
        let set = set_of(&members, &Encodings::default());
        check_uniform(&set, 10, 1000);
        let large: Vec<String> = (0..100_000).map(|i| format!("m:{i}")).collect();
        let set = set_of(&large, &Encodings::default());
        let mut rng = Rng::new(3);
        let picked = random_members(&set, 5, &mut rng);
        assert_eq!(picked.len(), 5);
        assert_eq!(picked, random_members(&set, 5, &mut Rng::new(3)), "a function of the generator");
    }
}
