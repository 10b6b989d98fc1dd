//! BZPOPMIN key [key ...] timeout (and BZPOPMAX, its mirror)
//!
//! ZPOPMIN of one member from the first non-empty sorted set among the keys, or a wait for
//! one (see `crate::blocking`).

use super::pop::{pop, pop_first, End};
use super::score::score_reply;
use crate::command::{other_type_is_not_ready, BlockingCommand};
use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "bzpopmin",
    arity: -3,
    flags: &["write", "noscript", "fast", "blocking"],
    first_key: 1,
    last_key: -2,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["RW", "access", "delete"], begin_index: 1, last_key: -2, key_step: 1 }],
    acl_categories: &["@write", "@sortedset", "@fast", "@blocking"],
    tips: &[],
    group: "sorted-set",
    since: "5.0.0",
    complexity: "O(log(N)) with N being the number of elements in the sorted set.",
    summary: "Remove and return the member with the lowest score from one or more sorted sets, or block until one is available",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

/// BZPOPMIN and BZPOPMAX: the keys, the end and how long to wait.
pub struct BlockingZPop {
    keys: Vec<Bytes>,
    end: End,
    timeout_ms: Option<u64>,
}

/// `[key, member, score]`, as both protocols reply to BZPOPMIN.
fn reply(key: Bytes, popped: Vec<(Bytes, f64)>) -> Option<Reply> {
    let (member, score) = popped.into_iter().next()?;
    Some(Reply::Array(vec![Reply::Bulk(key), Reply::Bulk(member), score_reply(score)]))
}

impl BlockingZPop {
    pub fn parse_in(args: &mut Args, end: End) -> Result<BlockingZPop> {
        let mut keys = args.rest();
        let timeout = keys.pop().ok_or(Error::SYNTAX)?;
        Ok(BlockingZPop { keys, end, timeout_ms: parse_block_timeout(&timeout)? })
    }
}

impl BlockingCommand for BlockingZPop {
    fn keys(&self) -> &[Bytes] {
        &self.keys
    }

    fn timeout_ms(&self) -> Option<u64> {
        self.timeout_ms
    }

    fn try_serve(&self, keyspace: &mut Keyspace, ctx: &WriteCtx, ready: Option<&[u8]>) -> Result<Option<Reply>> {
        Ok(match ready {
            Some(key) => other_type_is_not_ready(pop(keyspace, ctx, key, self.end, 1).map(Some))?
                .and_then(|popped| reply(Bytes::copy_from_slice(key), popped)),
            None => pop_first(keyspace, ctx, &self.keys, self.end, 1)?.and_then(|(key, popped)| reply(key, popped)),
        })
    }

    fn timeout_reply(&self) -> Reply {
        Reply::NilArray
    }
}

/// A blocking pop command at one end (BZPOPMIN, BZPOPMAX).
macro_rules! blocking_zpop_command {
    ($name:ident, $end:expr) => {
        pub struct $name(pub super::bzpopmin::BlockingZPop);

        impl Command for $name {
            type Output = Reply;

            fn parse(args: &mut Args) -> Result<Self> {
                super::bzpopmin::BlockingZPop::parse_in(args, $end).map($name)
            }

            fn reply(reply: Reply) -> Reply {
                reply
            }
        }

        impl crate::command::BlockingCommand for $name {
            fn keys(&self) -> &[Bytes] {
                self.0.keys()
            }
            fn timeout_ms(&self) -> Option<u64> {
                self.0.timeout_ms()
            }
            fn try_serve(
                &self,
                keyspace: &mut Keyspace,
                ctx: &WriteCtx,
                ready: Option<&[u8]>,
            ) -> Result<Option<Reply>> {
                self.0.try_serve(keyspace, ctx, ready)
            }
            fn timeout_reply(&self) -> Reply {
                self.0.timeout_reply()
            }
        }

        blocking_write!($name);
    };
}
pub(crate) use blocking_zpop_command;

blocking_zpop_command!(BZPopMin, End::Min);

#[cfg(test)]
mod tests {
    use crate::commands::testing::*;
    use crate::keyspace::Keyspace;
    use crate::reply::Reply;

    #[test]
    fn pops_at_once_or_answers_as_a_timeout_outside_a_wait() {
        let mut ks = Keyspace::new();
        write(&mut ks, 1, &["zadd", "z", "1", "a", "2", "b"]);
        assert_eq!(
            write(&mut ks, 1, &["bzpopmin", "none", "z", "0"]),
            Reply::Array(vec![bulk("z"), bulk("a"), Reply::Double(1.0)])
        );
        assert_eq!(
            write(&mut ks, 1, &["bzpopmax", "z", "0"]),
            Reply::Array(vec![bulk("z"), bulk("b"), Reply::Double(2.0)])
        );
        assert_eq!(write(&mut ks, 1, &["bzpopmin", "z", "0.1"]), Reply::NilArray);
        assert_eq!(
            write(&mut ks, 1, &["bzmpop", "0", "1", "z", "MIN"]),
            Reply::NilArray,
            "nothing left, and in a log entry outside a wait it never blocks"
        );
    }
}
