//! ZSCORE key member

use super::score::score_reply;
use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "zscore",
    arity: 3,
    flags: &["readonly", "fast"],
    first_key: 1,
    last_key: 1,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["RO", "access"], begin_index: 1, last_key: 0, key_step: 1 }],
    acl_categories: &["@read", "@sortedset", "@fast"],
    tips: &[],
    group: "sorted-set",
    since: "1.2.0",
    complexity: "O(1)",
    summary: "Get the score associated with the given member in a sorted set",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct ZScore {
    key: Bytes,
    member: Bytes,
}

impl Command for ZScore {
    type Output = Option<f64>;

    fn parse(args: &mut Args) -> Result<Self> {
        Ok(ZScore { key: args.next_arg()?, member: args.next_arg()? })
    }

    fn reply(score: Option<f64>) -> Reply {
        score.map_or(Reply::Nil, score_reply)
    }
}

impl ReadCommand for ZScore {
    fn read(&self, keyspace: &Keyspace, ctx: &mut ReadCtx) -> Result<Option<f64>> {
        let zset = value_at::<ZSetValue>(keyspace.db(ctx.db), &self.key, ctx.now_ms)?;
        Ok(zset.and_then(|zset| zset.score(&self.member)))
    }
}

#[cfg(test)]
mod tests {
    use crate::commands::zset::testing::*;

    #[test]
    fn scores() {
        both(|ks, _| {
            run(ks, &["zadd", "z", "1.5", "a", "-inf", "b", "1.7976931348623157e308", "max"]);
            assert_eq!(run(ks, &["zscore", "z", "a"]), double(1.5));
            assert_eq!(run(ks, &["zscore", "z", "b"]), double(f64::NEG_INFINITY));
            assert_eq!(run(ks, &["zscore", "z", "max"]), double(f64::MAX));
            assert_eq!(run(ks, &["zscore", "z", "nope"]), Reply::Nil);
            assert_eq!(run(ks, &["zscore", "nokey", "a"]), Reply::Nil);
        });
    }
}
