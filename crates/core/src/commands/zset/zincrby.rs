//! ZINCRBY key increment member

use super::score::next_score;
use super::zadd::{added_reply, AddFlags, Added, ZAdd};
use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "zincrby",
    arity: 4,
    flags: &["write", "denyoom", "fast"],
    first_key: 1,
    last_key: 1,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["RW", "access", "update"], begin_index: 1, last_key: 0, key_step: 1 }],
    acl_categories: &["@write", "@sortedset", "@fast"],
    tips: &[],
    group: "sorted-set",
    since: "1.2.0",
    complexity: "O(log(N)) where N is the number of elements in the sorted set.",
    summary: "Increment the score of a member in a sorted set",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct ZIncrBy(ZAdd);

impl Command for ZIncrBy {
    type Output = Added;

    fn parse(args: &mut Args) -> Result<Self> {
        let key = args.next_arg()?;
        let increment = next_score(args, Error::NOT_FLOAT)?;
        let member = args.next_arg()?;
        Ok(ZIncrBy(ZAdd {
            key,
            flags: AddFlags { incr: true, ..AddFlags::default() },
            pairs: vec![(increment, member)],
        }))
    }

    fn reply(added: Added) -> Reply {
        added_reply(added)
    }
}

impl WriteCommand for ZIncrBy {
    fn write(&self, keyspace: &mut Keyspace, ctx: &WriteCtx) -> Result<Added> {
        self.0.apply(keyspace, ctx)
    }
}

#[cfg(test)]
mod tests {
    use crate::commands::zset::testing::*;

    #[test]
    fn increments_and_creates() {
        both(|ks, _| {
            assert_eq!(run(ks, &["zincrby", "z", "1", "foo"]), double(1.0));
            assert_eq!(run(ks, &["zincrby", "z", "-5", "foo"]), double(-4.0));
            assert_eq!(run(ks, &["zincrby", "z", "0.1", "bar"]), double(0.1));
            assert_eq!(run(ks, &["zincrby", "z", "abc", "bar"]), error("ERR value is not a valid float"));
            assert_eq!(
                run(ks, &["zincrby", "z", "1", "a", "b"]),
                error("ERR wrong number of arguments for 'zincrby' command")
            );
            run(ks, &["zadd", "z", "+inf", "inf"]);
            assert_eq!(run(ks, &["zincrby", "z", "-inf", "inf"]), error("ERR resulting score is not a number (NaN)"));
        });
    }
}
