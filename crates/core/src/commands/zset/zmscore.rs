//! ZMSCORE key member [member ...]

use super::score::score_reply;
use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "zmscore",
    arity: -3,
    flags: &["readonly", "fast"],
    first_key: 1,
    last_key: 1,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["RO", "access"], begin_index: 1, last_key: 0, key_step: 1 }],
    acl_categories: &["@read", "@sortedset", "@fast"],
    tips: &[],
    group: "sorted-set",
    since: "6.2.0",
    complexity: "O(N) where N is the number of members being requested.",
    summary: "Get the score associated with the given members in a sorted set",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct ZMScore {
    key: Bytes,
    members: Vec<Bytes>,
}

impl Command for ZMScore {
    type Output = Vec<Option<f64>>;

    fn parse(args: &mut Args) -> Result<Self> {
        Ok(ZMScore { key: args.next_arg()?, members: args.rest() })
    }

    fn reply(scores: Vec<Option<f64>>) -> Reply {
        Reply::Array(scores.into_iter().map(|score| score.map_or(Reply::Nil, score_reply)).collect())
    }
}

impl ReadCommand for ZMScore {
    fn read(&self, keyspace: &Keyspace, ctx: &mut ReadCtx) -> Result<Vec<Option<f64>>> {
        let zset = value_at::<ZSetValue>(keyspace.db(ctx.db), &self.key, ctx.now_ms)?;
        Ok(self.members.iter().map(|member| zset.and_then(|zset| zset.score(member))).collect())
    }
}

#[cfg(test)]
mod tests {
    use crate::commands::zset::testing::*;

    #[test]
    fn scores_of_many() {
        both(|ks, _| {
            run(ks, &["zadd", "z", "10", "x", "20", "y"]);
            assert_eq!(
                run(ks, &["zmscore", "z", "x", "nope", "y"]),
                Reply::Array(vec![double(10.0), Reply::Nil, double(20.0)])
            );
            assert_eq!(run(ks, &["zmscore", "nokey", "x"]), Reply::Array(vec![Reply::Nil]));
            assert_eq!(run(ks, &["zmscore", "z"]), error("ERR wrong number of arguments for 'zmscore' command"));
        });
    }
}
