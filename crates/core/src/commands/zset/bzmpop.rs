//! BZMPOP timeout numkeys key [key ...] MIN|MAX [COUNT count]: ZMPOP, or a wait for one of
//! the keys to get members.

use super::pop::{mpop_reply, pop, pop_first, MPop};
use crate::command::{other_type_is_not_ready, BlockingCommand};
use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "bzmpop",
    arity: -5,
    flags: &["write", "blocking", "movablekeys"],
    first_key: 0,
    last_key: 0,
    key_step: 0,
    key_specs: &[],
    acl_categories: &["@write", "@sortedset", "@slow", "@blocking"],
    tips: &[],
    group: "sorted-set",
    since: "7.0.0",
    complexity: "O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements in the sorted set, and M being the number of elements popped.",
    summary: "Remove and return members with scores in a sorted set or block until one is available",
    deprecated: None,
    movable_keys: Some(key_positions),
    subcommands: &[],
};

/// Where the keys are: after the count at position 2.
fn key_positions(argv: &[Bytes]) -> Vec<usize> {
    crate::command::keys_after_count(argv, 2, 0)
}

pub struct BZMPop {
    pop: MPop,
    timeout_ms: Option<u64>,
}

impl Command for BZMPop {
    type Output = Reply;

    fn parse(args: &mut Args) -> Result<Self> {
        let timeout_ms = parse_block_timeout(&args.next_arg()?)?;
        Ok(BZMPop { pop: MPop::parse(args)?, timeout_ms })
    }

    fn reply(reply: Reply) -> Reply {
        reply
    }
}

impl BlockingCommand for BZMPop {
    fn keys(&self) -> &[Bytes] {
        &self.pop.keys
    }

    fn timeout_ms(&self) -> Option<u64> {
        self.timeout_ms
    }

    fn try_serve(&self, keyspace: &mut Keyspace, ctx: &WriteCtx, ready: Option<&[u8]>) -> Result<Option<Reply>> {
        let (end, count) = (self.pop.end, self.pop.count);
        let popped = match ready {
            Some(key) => {
                let popped = other_type_is_not_ready(pop(keyspace, ctx, key, end, count).map(Some))?;
                popped.filter(|popped| !popped.is_empty()).map(|popped| (Bytes::copy_from_slice(key), popped))
            }
            None => pop_first(keyspace, ctx, &self.pop.keys, end, count)?,
        };
        Ok(popped.map(|popped| mpop_reply(Some(popped))))
    }

    fn timeout_reply(&self) -> Reply {
        Reply::NilArray
    }
}

blocking_write!(BZMPop);
