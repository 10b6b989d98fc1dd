//! SPOP key [count]

use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "spop",
    arity: -2,
    flags: &["write", "fast"],
    first_key: 1,
    last_key: 1,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["RW", "access", "delete"], begin_index: 1, last_key: 0, key_step: 1 }],
    acl_categories: &["@write", "@set", "@fast"],
    tips: &["nondeterministic_output"],
    group: "set",
    since: "1.0.0",
    complexity: "Without the count argument O(1), otherwise O(N) where N is the value of the passed count.",
    summary: "Remove and return one or multiple random members from a set",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

/// How many times the members left must outnumber the members popped for SPOP to pop them one
/// by one; otherwise it draws the members to keep instead (Redis's `SPOP_MOVE_STRATEGY_MUL`).
const POP_ONE_BY_ONE_FACTOR: usize = 5;

pub struct SPop {
    key: Bytes,
    /// `None`: one member, replied as a bulk string.
    count: Option<usize>,
}

pub enum Popped {
    One(Option<Bytes>),
    Many(Vec<Bytes>),
}

impl Command for SPop {
    type Output = Popped;

    fn parse(args: &mut Args) -> Result<Self> {
        let key = args.next_arg()?;
        let count = match args.remaining() {
            0 => None,
            1 => {
                let count = parse_i64(&args.next_arg()?).filter(|count| *count >= 0);
                Some(count.ok_or_else(|| Error::err("value is out of range, must be positive"))? as usize)
            }
            _ => return Err(Error::SYNTAX),
        };
        Ok(SPop { key, count })
    }

    fn reply(popped: Popped) -> Reply {
        match popped {
            Popped::One(member) => Reply::optional_bulk(member),
            Popped::Many(members) => Reply::Set(members.into_iter().map(Reply::Bulk).collect()),
        }
    }
}

impl WriteCommand for SPop {
    fn write(&self, keyspace: &mut Keyspace, ctx: &WriteCtx) -> Result<Popped> {
        let (db, encodings) = keyspace.db_and_encodings(ctx.db);
        let hasher = db.hasher();
        let Some((set, version)) = value_mut::<SetValue>(db, &self.key, ctx.now_ms)? else {
            return Ok(self.count.map_or(Popped::One(None), |_| Popped::Many(Vec::new())));
        };
        let mut rng = ctx.rng();
        let popped = match self.count {
            None => Popped::One(set.pop_random(&mut rng)),
            Some(0) => return Ok(Popped::Many(Vec::new())),
            Some(count) if count >= set.len() => {
                // The whole set, as SUNION of it would reply.
                let all = SetValue::from_members(set.iter(), encodings, hasher);
                *set = SetValue::new();
                Popped::Many(all.iter().map(|member| member.to_bytes()).collect())
            }
            Some(count) if (set.len() - count) * POP_ONE_BY_ONE_FACTOR > count => {
                Popped::Many((0..count).filter_map(|_| set.pop_random(&mut rng)).collect())
            }
            Some(count) => {
                // Most of the set goes: draw the members that stay into a new set.
                let mut kept = SetValue::new();
                for _ in count..set.len() {
                    let member = set.pop_random(&mut rng).expect("members are left");
                    kept.insert(&member, encodings, hasher);
                }
                let popped = set.iter().map(|member| member.to_bytes()).collect();
                *set = kept;
                Popped::Many(popped)
            }
        };
        *version = ctx.index;
        let emptied = remove_if_void::<SetValue>(db, &self.key);
        keyspace.notify(EventClass::SET, "spop", ctx.db, &self.key);
        if emptied {
            keyspace.notify(EventClass::GENERIC, "del", ctx.db, &self.key);
        }
        Ok(popped)
    }
}

#[cfg(test)]
mod tests {
    use crate::commands::set::testing::*;

    fn range(count: usize) -> Vec<String> {
        let mut items: Vec<String> = (1..=count).map(|i| i.to_string()).collect();
        items.sort();
        items
    }

    fn fill(ks: &mut Keyspace, key: &str, count: usize) {
        let items = range(count);
        sadd(ks, key, &items.iter().map(String::as_str).collect::<Vec<_>>());
    }

    #[test]
    fn pops_one_member() {
        let ks = &mut Keyspace::new();
        sadd(ks, "s", &["a", "b", "c"]);
        let mut popped = Vec::new();
        for _ in 0..3 {
            let Reply::Bulk(member) = write(ks, T, &["spop", "s"]) else { panic!() };
            popped.push(String::from_utf8(member.to_vec()).unwrap());
        }
        popped.sort();
        assert_eq!(popped, ["a", "b", "c"]);
        assert_eq!(read(ks, T, &["exists", "s"]), int(0));
        assert_eq!(write(ks, T, &["spop", "s"]), Reply::Nil);
        write(ks, T, &["set", "str", "x"]);
        assert_eq!(write(ks, T, &["spop", "str"]), error(WRONGTYPE));
    }

    #[test]
    fn counts_and_their_errors() {
        let ks = &mut Keyspace::new();
        fill(ks, "s", 5);
        assert_eq!(write(ks, T, &["spop", "s", "0"]), Reply::Set(vec![]));
        assert_eq!(write(ks, T, &["spop", "missing", "3"]), Reply::Set(vec![]));
        for bad in ["-1", "x", "1.5"] {
            assert_eq!(write(ks, T, &["spop", "s", bad]), error("ERR value is out of range, must be positive"));
        }
        assert_eq!(write(ks, T, &["spop", "s", "1", "2"]), error("ERR syntax error"));
        write(ks, T, &["set", "str", "x"]);
        assert_eq!(write(ks, T, &["spop", "str", "0"]), error(WRONGTYPE));
        assert_eq!(write(ks, T, &["spop", "missing", "-1"]), error("ERR value is out of range, must be positive"));
        let all = write(ks, T, &["spop", "s", "30"]);
        assert!(matches!(all, Reply::Set(_)));
        assert_eq!(texts(all), range(5));
        assert_eq!(read(ks, T, &["exists", "s"]), int(0));
    }

    #[test]
    fn every_strategy_pops_distinct_members_once() {
        // Few popped (one by one), most popped (the rest drawn to stay), all popped.
        for (size, count) in [(20, 2), (20, 18), (20, 19), (20, 20), (600, 3), (600, 590)] {
            let ks = &mut Keyspace::new();
            fill(ks, "s", size);
            let popped = texts(write(ks, T, &["spop", "s", &count.to_string()]));
            assert_eq!(popped.len(), count);
            assert_eq!(read(ks, T, &["scard", "s"]), int((size - count) as i64));
            let mut union = popped;
            union.extend(members(ks, "s"));
            union.sort();
            assert_eq!(union, range(size), "{size} {count}");
        }
    }

    #[test]
    fn the_members_that_stay_form_a_new_set() {
        // As in Redis: when most of the set goes, the members kept are a new set, an intset if
        // they allow it.
        let ks = &mut Keyspace::new();
        ks.encodings_mut().set_max_intset_entries = 5;
        fill(ks, "s", 10);
        assert_eq!(encoding(ks, "s"), bulk("hashtable"));
        write(ks, T, &["spop", "s", "9"]);
        assert_eq!(encoding(ks, "s"), bulk("intset"));
        fill(ks, "t", 10);
        write(ks, T, &["spop", "t", "8"]);
        assert_eq!(encoding(ks, "t"), bulk("hashtable"));
    }

    #[test]
    fn pops_are_a_function_of_the_seed() {
        let ks = &mut Keyspace::new();
        fill(ks, "s", 100);
        let mut replica = ks.clone();
        assert_eq!(write(ks, T, &["spop", "s", "10"]), write(&mut replica, T, &["spop", "s", "10"]));
        assert_eq!(write(ks, T, &["spop", "s"]), write(&mut replica, T, &["spop", "s"]));
        assert_eq!(ks, &replica);
        let mut other = ks.clone();
        assert_ne!(write(ks, T, &["spop", "s", "10"]), write(&mut other, T + 1, &["spop", "s", "10"]));
        assert_eq!(ks.db(0).get(b"s", T).unwrap().version, T);
    }
}
