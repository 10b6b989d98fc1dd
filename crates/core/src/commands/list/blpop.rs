//! BLPOP key [key ...] timeout (and BRPOP, its mirror)
//!
//! Takes the first element of the first non-empty list among the keys, or waits for one (see
//! `crate::blocking`): when a push makes one of its keys ready, the longest-waiting client on
//! that key gets the element.

use super::{pop, pop_first, End};
use crate::command::{other_type_is_not_ready, BlockingCommand};
use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "blpop",
    arity: -3,
    flags: &["write", "noscript", "blocking"],
    first_key: 1,
    last_key: -2,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["RW", "access", "delete"], begin_index: 1, last_key: -2, key_step: 1 }],
    acl_categories: &["@write", "@list", "@slow", "@blocking"],
    tips: &[],
    group: "list",
    since: "2.0.0",
    complexity: "O(N) where N is the number of provided keys.",
    summary: "Remove and get the first element in a list, or block until one is available",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

/// BLPOP and BRPOP: the keys, the end to pop from and how long to wait.
pub struct BlockingPop {
    keys: Vec<Bytes>,
    end: End,
    timeout_ms: Option<u64>,
}

impl BlockingPop {
    pub fn parse_in(args: &mut Args, end: End) -> Result<BlockingPop> {
        let mut keys = args.rest();
        let timeout = keys.pop().ok_or(Error::SYNTAX)?;
        Ok(BlockingPop { keys, end, timeout_ms: parse_block_timeout(&timeout)? })
    }
}

impl BlockingCommand for BlockingPop {
    fn keys(&self) -> &[Bytes] {
        &self.keys
    }

    fn timeout_ms(&self) -> Option<u64> {
        self.timeout_ms
    }

    fn try_serve(&self, keyspace: &mut Keyspace, ctx: &WriteCtx, ready: Option<&[u8]>) -> Result<Option<Reply>> {
        Ok(match ready {
            Some(key) => other_type_is_not_ready(pop(keyspace, ctx, key, self.end, 1))?
                .map(|elements| super::Popped { key: Bytes::copy_from_slice(key), elements }.pair_reply()),
            None => pop_first(keyspace, ctx, &self.keys, self.end, 1)?.map(super::Popped::pair_reply),
        })
    }

    fn timeout_reply(&self) -> Reply {
        Reply::NilArray
    }
}

/// A blocking pop command at one end (BLPOP, BRPOP).
macro_rules! blocking_pop_command {
    ($name:ident, $end:expr) => {
        pub struct $name(pub super::blpop::BlockingPop);

        impl Command for $name {
            type Output = Reply;

            fn parse(args: &mut Args) -> Result<Self> {
                super::blpop::BlockingPop::parse_in(args, $end).map($name)
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
pub(crate) use blocking_pop_command;

blocking_pop_command!(BLPop, End::Left);

#[cfg(test)]
mod tests {
    use crate::commands::testing::*;
    use crate::keyspace::Keyspace;
    use crate::reply::Reply;

    #[test]
    fn pops_at_once_or_answers_as_a_timeout_outside_a_wait() {
        let mut ks = Keyspace::new();
        write(&mut ks, 1, &["rpush", "b", "x", "y"]);
        assert_eq!(write(&mut ks, 1, &["blpop", "a", "b", "0"]), Reply::Array(vec![bulk("b"), bulk("x")]));
        assert_eq!(write(&mut ks, 1, &["brpop", "a", "b", "0"]), Reply::Array(vec![bulk("b"), bulk("y")]));
        assert_eq!(write(&mut ks, 1, &["exists", "b"]), Reply::Integer(0), "emptied lists go");
        assert_eq!(write(&mut ks, 1, &["blpop", "a", "b", "0.5"]), Reply::NilArray);
        write(&mut ks, 1, &["set", "s", "v"]);
        assert_eq!(
            write(&mut ks, 1, &["blpop", "s", "1"]),
            error("WRONGTYPE Operation against a key holding the wrong kind of value")
        );
    }

    #[test]
    fn timeouts_follow_redis_rules() {
        let mut ks = Keyspace::new();
        assert_eq!(write(&mut ks, 1, &["blpop", "a", "-1"]), error("ERR timeout is negative"));
        assert_eq!(write(&mut ks, 1, &["blpop", "a", "x"]), error("ERR timeout is not a float or out of range"));
        assert_eq!(write(&mut ks, 1, &["blpop", "a", "1e300"]), error("ERR timeout is out of range"));
        assert_eq!(write(&mut ks, 1, &["blpop", "a"]), error("ERR wrong number of arguments for 'blpop' command"));
    }
}
