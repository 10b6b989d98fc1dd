//! ZRANK key member

use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "zrank",
    arity: 3,
    flags: &["readonly", "fast"],
    first_key: 1,
    last_key: 1,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["RO", "access"], begin_index: 1, last_key: 0, key_step: 1 }],
    acl_categories: &["@read", "@sortedset", "@fast"],
    tips: &[],
    group: "sorted-set",
    since: "2.0.0",
    complexity: "O(log(N))",
    summary: "Determine the index of a member in a sorted set",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct ZRank {
    key: Bytes,
    member: Bytes,
}

impl ZRank {
    /// The member's rank, counted from the lowest score (from the highest when `reverse`).
    /// O(log N).
    pub fn rank(&self, keyspace: &Keyspace, ctx: &ReadCtx, reverse: bool) -> Result<Option<usize>> {
        let Some(zset) = value_at::<ZSetValue>(keyspace.db(ctx.db), &self.key, ctx.now_ms)? else {
            return Ok(None);
        };
        Ok(zset.rank(&self.member).map(|rank| if reverse { zset.len() - 1 - rank } else { rank }))
    }
}

impl Command for ZRank {
    type Output = Option<usize>;

    fn parse(args: &mut Args) -> Result<Self> {
        Ok(ZRank { key: args.next_arg()?, member: args.next_arg()? })
    }

    fn reply(rank: Option<usize>) -> Reply {
        rank.map_or(Reply::Nil, |rank| Reply::Integer(rank as i64))
    }
}

impl ReadCommand for ZRank {
    fn read(&self, keyspace: &Keyspace, ctx: &mut ReadCtx) -> Result<Option<usize>> {
        self.rank(keyspace, ctx, false)
    }
}

#[cfg(test)]
mod tests {
    use crate::commands::zset::testing::*;

    #[test]
    fn ranks_both_ways() {
        both(|ks, _| {
            run(ks, &["zadd", "z", "10", "x", "20", "y", "30", "z"]);
            assert_eq!(run(ks, &["zrank", "z", "x"]), int(0));
            assert_eq!(run(ks, &["zrank", "z", "z"]), int(2));
            assert_eq!(run(ks, &["zrevrank", "z", "x"]), int(2));
            assert_eq!(run(ks, &["zrevrank", "z", "z"]), int(0));
            assert_eq!(run(ks, &["zrank", "z", "nope"]), Reply::Nil);
            assert_eq!(run(ks, &["zrevrank", "nokey", "x"]), Reply::Nil);
            run(ks, &["zrem", "z", "y"]);
            assert_eq!(run(ks, &["zrank", "z", "z"]), int(1));
        });
    }
}
