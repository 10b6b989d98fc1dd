//! ZUNION numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE SUM | MIN | MAX] [WITHSCORES]

use super::combine::{Combine, Op};
use super::score::members_reply;
use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "zunion",
    arity: -3,
    flags: &["readonly", "movablekeys"],
    first_key: 0,
    last_key: 0,
    key_step: 0,
    key_specs: &[],
    acl_categories: &["@read", "@sortedset", "@slow"],
    tips: &[],
    group: "sorted-set",
    since: "6.2.0",
    complexity: "O(N)+O(M*log(M)) with N being the sum of the sizes of the input sorted sets, and M being the number of elements in the resulting sorted set.",
    summary: "Add multiple sorted sets",
    deprecated: None,
    movable_keys: Some(key_positions),
    subcommands: &[],
};

/// Where the keys are: after the count at position 1.
fn key_positions(argv: &[Bytes]) -> Vec<usize> {
    crate::command::keys_after_count(argv, 1, 0)
}

pub struct ZUnion(Combine);

impl Command for ZUnion {
    type Output = (Vec<(Bytes, f64)>, bool);

    fn parse(args: &mut Args) -> Result<Self> {
        Combine::parse(args, "zunion", Op::Union, false, false).map(ZUnion)
    }

    fn reply((members, with_scores): (Vec<(Bytes, f64)>, bool)) -> Reply {
        members_reply(members, with_scores)
    }
}

impl ReadCommand for ZUnion {
    fn read(&self, keyspace: &Keyspace, ctx: &mut ReadCtx) -> Result<(Vec<(Bytes, f64)>, bool)> {
        Ok((self.0.compute(keyspace.db(ctx.db), ctx.now_ms)?, self.0.with_scores))
    }
}

#[cfg(test)]
mod tests {
    use crate::commands::zset::testing::*;

    #[test]
    fn unions_with_weights_and_aggregates() {
        both(|ks, _| {
            run(ks, &["zadd", "a{t}", "1", "a", "2", "b", "3", "c"]);
            run(ks, &["zadd", "b{t}", "1", "b", "2", "c", "3", "d"]);
            let union = |ks: &mut Keyspace, extra: &[&str]| {
                let mut words = vec!["zunion", "2", "a{t}", "b{t}"];
                words.extend_from_slice(extra);
                words.push("WITHSCORES");
                run(ks, &words)
            };
            assert_eq!(union(ks, &[]), scored(&[("a", 1.0), ("b", 3.0), ("d", 3.0), ("c", 5.0)]));
            assert_eq!(union(ks, &["WEIGHTS", "2", "3"]), scored(&[("a", 2.0), ("b", 7.0), ("d", 9.0), ("c", 12.0)]));
            assert_eq!(union(ks, &["AGGREGATE", "MIN"]), scored(&[("a", 1.0), ("b", 1.0), ("c", 2.0), ("d", 3.0)]));
            assert_eq!(union(ks, &["AGGREGATE", "max"]), scored(&[("a", 1.0), ("b", 2.0), ("c", 3.0), ("d", 3.0)]));
            assert_eq!(run(ks, &["zunion", "2", "a{t}", "nokey"]), bulks(&["a", "b", "c"]));
            assert_eq!(run(ks, &["zunion", "1", "nokey"]), bulks(&[]));
        });
    }

    #[test]
    fn infinities_and_nan_weights() {
        let ks = &mut Keyspace::new();
        run(ks, &["zadd", "a", "+inf", "x", "-inf", "y"]);
        run(ks, &["zadd", "b", "-inf", "x", "+inf", "y"]);
        assert_eq!(run(ks, &["zunion", "2", "a", "b", "WITHSCORES"]), scored(&[("x", 0.0), ("y", 0.0)]));
        assert_eq!(run(ks, &["zunion", "1", "a", "WEIGHTS", "0", "WITHSCORES"]), scored(&[("x", 0.0), ("y", 0.0)]));
        assert_eq!(
            run(ks, &["zunion", "2", "a", "b", "WEIGHTS", "nan", "1"]),
            error("ERR weight value is not a float")
        );
    }

    #[test]
    fn errors_in_redis_order() {
        let ks = &mut Keyspace::new();
        run(ks, &["set", "s", "v"]);
        run(ks, &["zadd", "z", "1", "a"]);
        assert_eq!(run(ks, &["zunion", "0", "z"]), error("ERR at least 1 input key is needed for 'zunion' command"));
        assert_eq!(run(ks, &["zunion", "x", "z"]), error("ERR value is not an integer or out of range"));
        assert_eq!(run(ks, &["zunion", "2", "z"]), error("ERR syntax error"));
        assert_eq!(run(ks, &["zunion", "1", "z", "WEIGHTS", "1", "2"]), error("ERR syntax error"));
        assert_eq!(run(ks, &["zunion", "1", "z", "AGGREGATE", "avg"]), error("ERR syntax error"));
        // A wrong type is reported before a bad option, as Redis looks the keys up first.
        assert_eq!(run(ks, &["zunion", "2", "z", "s", "WEIGHTS", "x", "y"]), error(WRONGTYPE));
        assert_eq!(run(ks, &["zunion", "1", "z", "WEIGHTS", "x"]), error("ERR weight value is not a float"));
    }

    #[test]
    fn sets_count_with_score_one() {
        use crate::keyspace::{SetValue, TableHasher, Value};
        let ks = &mut Keyspace::new();
        let mut set = SetValue::new();
        for member in ["a", "b", "c", "1"] {
            set.insert(member.as_bytes(), &crate::keyspace::Encodings::default(), TableHasher::default());
        }
        ks.db_mut(0).insert(b"set", Value::Set(set), None, 1);
        run(ks, &["zadd", "z", "1", "b", "2", "c", "3", "d"]);
        assert_eq!(
            run(ks, &["zunion", "2", "set", "z", "WEIGHTS", "2", "3", "WITHSCORES"]),
            scored(&[("1", 2.0), ("a", 2.0), ("b", 5.0), ("c", 8.0), ("d", 9.0)])
        );
        assert_eq!(run(ks, &["zinter", "2", "set", "z", "WITHSCORES"]), scored(&[("b", 2.0), ("c", 3.0)]));
        assert_eq!(run(ks, &["zdiff", "2", "set", "z", "WITHSCORES"]), scored(&[("1", 1.0), ("a", 1.0)]));
    }
}
