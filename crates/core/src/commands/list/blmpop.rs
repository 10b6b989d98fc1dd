//! BLMPOP timeout numkeys key [key ...] LEFT|RIGHT [COUNT count]: LMPOP, or a wait for one of
//! the keys to get elements.

use super::lmpop::LMPop;
use super::{pop, pop_first, Popped};
use crate::command::{other_type_is_not_ready, BlockingCommand};
use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "blmpop",
    arity: -5,
    flags: &["write", "blocking", "movablekeys"],
    first_key: 0,
    last_key: 0,
    key_step: 0,
    key_specs: &[],
    acl_categories: &["@write", "@list", "@slow", "@blocking"],
    tips: &[],
    group: "list",
    since: "7.0.0",
    complexity: "O(N+M) where N is the number of provided keys and M is the number of elements returned.",
    summary: "Pop elements from a list, or block until one is available",
    deprecated: None,
    movable_keys: Some(key_positions),
    subcommands: &[],
};

/// Where the keys are: after the count at position 2.
fn key_positions(argv: &[Bytes]) -> Vec<usize> {
    crate::command::keys_after_count(argv, 2, 0)
}

pub struct BLMPop {
    pop: LMPop,
    timeout_ms: Option<u64>,
}

impl Command for BLMPop {
    type Output = Reply;

    fn parse(args: &mut Args) -> Result<Self> {
        let timeout_ms = parse_block_timeout(&args.next_arg()?)?;
        Ok(BLMPop { pop: LMPop::parse_from(args)?, timeout_ms })
    }

    fn reply(reply: Reply) -> Reply {
        reply
    }
}

impl BlockingCommand for BLMPop {
    fn keys(&self) -> &[Bytes] {
        self.pop.keys()
    }

    fn timeout_ms(&self) -> Option<u64> {
        self.timeout_ms
    }

    fn try_serve(&self, keyspace: &mut Keyspace, ctx: &WriteCtx, ready: Option<&[u8]>) -> Result<Option<Reply>> {
        let (end, count) = (self.pop.end(), self.pop.count());
        Ok(match ready {
            Some(key) => other_type_is_not_ready(pop(keyspace, ctx, key, end, count))?
                .map(|elements| Popped { key: Bytes::copy_from_slice(key), elements }.nested_reply()),
            None => pop_first(keyspace, ctx, self.pop.keys(), end, count)?.map(Popped::nested_reply),
        })
    }

    fn timeout_reply(&self) -> Reply {
        Reply::NilArray
    }
}

blocking_write!(BLMPop);

#[cfg(test)]
mod tests {
    use crate::commands::testing::*;
    use crate::keyspace::Keyspace;
    use crate::reply::Reply;

    #[test]
    fn pops_many_at_once_or_answers_nil() {
        let mut ks = Keyspace::new();
        write(&mut ks, 1, &["rpush", "b", "1", "2", "3"]);
        assert_eq!(
            write(&mut ks, 1, &["blmpop", "0", "2", "a", "b", "RIGHT", "COUNT", "2"]),
            Reply::Array(vec![bulk("b"), Reply::Array(vec![bulk("3"), bulk("2")])])
        );
        assert_eq!(write(&mut ks, 1, &["blmpop", "0.1", "1", "a", "LEFT"]), Reply::NilArray);
        assert_eq!(write(&mut ks, 1, &["blmpop", "-1", "1", "a", "LEFT"]), error("ERR timeout is negative"));
    }
}
