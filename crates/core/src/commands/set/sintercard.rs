//! SINTERCARD numkeys key [key ...] [LIMIT limit]
//!
//! Its keys are found by a key count (a `keynum` key spec in Redis), which Concord's key specs
//! cannot express: like Redis it reports no fixed key positions (`movablekeys`), and
//! [`key_positions`] finds them.

use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "sintercard",
    arity: -3,
    flags: &["readonly", "movablekeys"],
    first_key: 0,
    last_key: 0,
    key_step: 0,
    key_specs: &[/* ['RO', 'access'] index {'index': 1} keynum {'keynumidx': 0, 'firstkey': 1, 'keystep': 1} */],
    acl_categories: &["@read", "@set", "@slow"],
    tips: &[],
    group: "set",
    since: "7.0.0",
    complexity: "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.",
    summary: "Intersect multiple sets and return the cardinality of the result",
    deprecated: None,
    movable_keys: Some(key_positions),
    subcommands: &[],
};

/// The positions of SINTERCARD's keys in `argv` (the name first): the `numkeys` arguments after
/// the count (Redis's `keynum` key spec), as far as `argv` goes.
pub fn key_positions(argv: &[Bytes]) -> Vec<usize> {
    let count = argv.get(1).and_then(|count| parse_i64(count)).filter(|count| *count > 0).unwrap_or(0);
    (2..argv.len()).take(count.min(argv.len() as i64) as usize).collect()
}

pub struct SInterCard {
    keys: Vec<Bytes>,
    /// 0: no limit.
    limit: usize,
}

impl Command for SInterCard {
    type Output = usize;

    fn parse(args: &mut Args) -> Result<Self> {
        let numkeys = parse_i64(&args.next_arg()?).filter(|count| *count >= 1);
        let numkeys = numkeys.ok_or_else(|| Error::err("numkeys should be greater than 0"))? as u64;
        if numkeys > args.remaining() as u64 {
            return Err(Error::err("Number of keys can't be greater than number of args"));
        }
        let keys = (0..numkeys).map(|_| args.next_arg()).collect::<Result<Vec<Bytes>>>()?;
        let mut limit = 0;
        while let Some(option) = args.peek().cloned() {
            args.next_arg()?;
            if !is(&option, "LIMIT") || args.is_empty() {
                return Err(Error::SYNTAX);
            }
            let value = parse_i64(&args.next_arg()?).filter(|limit| *limit >= 0);
            limit = value.ok_or_else(|| Error::err("LIMIT can't be negative"))? as usize;
        }
        Ok(SInterCard { keys, limit })
    }

    fn reply(count: usize) -> Reply {
        Reply::Integer(count as i64)
    }
}

impl ReadCommand for SInterCard {
    fn read(&self, keyspace: &Keyspace, ctx: &mut ReadCtx) -> Result<usize> {
        let sets = values_at::<SetValue>(keyspace.db(ctx.db), &self.keys, ctx.now_ms)?;
        let limit = if self.limit == 0 { usize::MAX } else { self.limit };
        Ok(SetValue::intersection(&sets).take(limit).count())
    }
}

#[cfg(test)]
mod tests {
    use crate::commands::set::testing::*;

    #[test]
    fn counts_up_to_the_limit() {
        let ks = &mut Keyspace::new();
        sadd(ks, "a", &["1", "2", "3", "4", "x"]);
        sadd(ks, "b", &["2", "3", "4", "x", "y"]);
        assert_eq!(read(ks, T, &["sintercard", "2", "a", "b"]), int(4));
        assert_eq!(read(ks, T, &["sintercard", "2", "a", "b", "LIMIT", "0"]), int(4));
        assert_eq!(read(ks, T, &["sintercard", "2", "a", "b", "limit", "3"]), int(3));
        assert_eq!(read(ks, T, &["sintercard", "2", "a", "b", "LIMIT", "9", "LIMIT", "1"]), int(1));
        assert_eq!(read(ks, T, &["sintercard", "1", "missing", "LIMIT", "10"]), int(0));
        assert_eq!(read(ks, T, &["sintercard", "2", "a", "missing"]), int(0));
    }

    #[test]
    fn keys_follow_the_count() {
        assert_eq!(super::key_positions(&argv(&["sintercard", "2", "a", "b", "LIMIT", "1"])), [2, 3]);
        assert_eq!(super::key_positions(&argv(&["sintercard", "3", "a"])), [2]);
        assert!(super::key_positions(&argv(&["sintercard", "x", "a"])).is_empty());
    }

    #[test]
    fn argument_errors() {
        let ks = &mut Keyspace::new();
        let cases: [(&[&str], &str); 10] = [
            (&["sintercard", "1"], "ERR wrong number of arguments for 'sintercard' command"),
            (&["sintercard", "0", "a"], "ERR numkeys should be greater than 0"),
            (&["sintercard", "a", "a"], "ERR numkeys should be greater than 0"),
            (&["sintercard", "2", "a"], "ERR Number of keys can't be greater than number of args"),
            (&["sintercard", "3", "a", "b"], "ERR Number of keys can't be greater than number of args"),
            (&["sintercard", "1", "a", "b"], "ERR syntax error"),
            (&["sintercard", "1", "a", "LIMIT"], "ERR syntax error"),
            (&["sintercard", "1", "a", "LIMIT", "-1"], "ERR LIMIT can't be negative"),
            (&["sintercard", "1", "a", "LIMIT", "a"], "ERR LIMIT can't be negative"),
            (&["sintercard", "1", "a", "LIMIT", "1", "x"], "ERR syntax error"),
        ];
        for (words, expected) in cases {
            assert_eq!(read(ks, T, words), error(expected), "{words:?}");
        }
        write(ks, T, &["set", "str", "x"]);
        sadd(ks, "s", &["a"]);
        assert_eq!(read(ks, T, &["sintercard", "1", "str"]), error(WRONGTYPE));
        assert_eq!(read(ks, T, &["sintercard", "2", "s", "str"]), error(WRONGTYPE));
        assert_eq!(read(ks, T, &["sintercard", "2", "str", "noset"]), error(WRONGTYPE));
    }
}
