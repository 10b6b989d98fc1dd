//! ZMPOP numkeys key [key ...] MIN | MAX [COUNT count]

use super::pop::{mpop_reply, pop_first, MPop, Popped};
use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "zmpop",
    arity: -4,
    flags: &["write", "movablekeys"],
    first_key: 0,
    last_key: 0,
    key_step: 0,
    key_specs: &[],
    acl_categories: &["@write", "@sortedset", "@slow"],
    tips: &[],
    group: "sorted-set",
    since: "7.0.0",
    complexity: "O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements in the sorted set, and M being the number of elements popped.",
    summary: "Remove and return members with scores in a sorted set",
    deprecated: None,
    movable_keys: Some(key_positions),
    subcommands: &[],
};

/// Where the keys are: after the count at position 1.
fn key_positions(argv: &[Bytes]) -> Vec<usize> {
    crate::command::keys_after_count(argv, 1, 0)
}

pub struct ZMPop(MPop);

impl Command for ZMPop {
    type Output = Popped;

    fn parse(args: &mut Args) -> Result<Self> {
        MPop::parse(args).map(ZMPop)
    }

    fn reply(popped: Popped) -> Reply {
        mpop_reply(popped)
    }
}

impl WriteCommand for ZMPop {
    fn write(&self, keyspace: &mut Keyspace, ctx: &WriteCtx) -> Result<Popped> {
        pop_first(keyspace, ctx, &self.0.keys, self.0.end, self.0.count)
    }
}

#[cfg(test)]
mod tests {
    use crate::commands::zset::testing::*;

    #[test]
    fn pops_from_the_first_existing_key() {
        both(|ks, _| {
            run(ks, &["zadd", "b", "1", "x", "2", "y", "3", "z"]);
            let reply = |key: &str, pairs: &[(&str, f64)]| {
                Reply::Array(vec![
                    bulk(key),
                    Reply::Array(pairs.iter().map(|(m, s)| Reply::Array(vec![bulk(m), double(*s)])).collect()),
                ])
            };
            assert_eq!(run(ks, &["zmpop", "2", "a", "b", "MIN"]), reply("b", &[("x", 1.0)]));
            assert_eq!(run(ks, &["zmpop", "2", "a", "b", "MAX", "COUNT", "10"]), reply("b", &[("z", 3.0), ("y", 2.0)]));
            assert_eq!(run(ks, &["exists", "b"]), int(0));
            assert_eq!(run(ks, &["zmpop", "2", "a", "b", "MIN"]), Reply::NilArray);
            run(ks, &["set", "a", "v"]);
            run(ks, &["zadd", "b", "1", "x"]);
            assert_eq!(run(ks, &["zmpop", "2", "a", "b", "MIN"]), error(WRONGTYPE));
            assert_eq!(run(ks, &["zmpop", "2", "b", "a", "min"]), reply("b", &[("x", 1.0)]));
        });
    }

    #[test]
    fn argument_errors() {
        let ks = &mut Keyspace::new();
        for (words, text) in [
            (&["zmpop", "0", "k", "MIN"][..], "ERR numkeys should be greater than 0"),
            (&["zmpop", "x", "k", "MIN"], "ERR numkeys should be greater than 0"),
            (&["zmpop", "1", "k", "MIN", "COUNT", "0"], "ERR count should be greater than 0"),
            (&["zmpop", "1", "k", "MIN", "COUNT", "x"], "ERR count should be greater than 0"),
            (&["zmpop", "1", "k", "FOO"], "ERR syntax error"),
            (&["zmpop", "2", "k", "MIN"], "ERR syntax error"),
            (&["zmpop", "1", "k", "MIN", "COUNT", "1", "COUNT", "1"], "ERR syntax error"),
            (&["zmpop", "1", "k", "MIN", "COUNT"], "ERR syntax error"),
        ] {
            assert_eq!(run(ks, words), error(text), "{words:?}");
        }
    }
}
