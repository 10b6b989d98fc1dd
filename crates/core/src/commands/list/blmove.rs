//! BLMOVE source destination LEFT|RIGHT LEFT|RIGHT timeout
//!
//! LMOVE, or a wait for the source to get an element; the element moved when it is served
//! lands in the destination, where it may serve other waiters in turn.

use super::{move_one, End};
use crate::command::{other_type_is_not_ready, BlockingCommand};
use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "blmove",
    arity: 6,
    flags: &["write", "denyoom", "noscript", "blocking"],
    first_key: 1,
    last_key: 2,
    key_step: 1,
    key_specs: &[
        KeySpec { flags: &["RW", "access", "delete"], begin_index: 1, last_key: 0, key_step: 1 },
        KeySpec { flags: &["RW", "insert"], begin_index: 2, last_key: 0, key_step: 1 },
    ],
    acl_categories: &["@write", "@list", "@slow", "@blocking"],
    tips: &[],
    group: "list",
    since: "6.2.0",
    complexity: "O(1)",
    summary: "Pop an element from a list, push it to another list and return it; or block until one is available",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct BLMove {
    /// The source, as the one key waited on.
    source: [Bytes; 1],
    destination: Bytes,
    from: End,
    to: End,
    timeout_ms: Option<u64>,
}

impl BLMove {
    pub fn new(source: Bytes, destination: Bytes, from: End, to: End, timeout: &[u8]) -> Result<BLMove> {
        Ok(BLMove { source: [source], destination, from, to, timeout_ms: parse_block_timeout(timeout)? })
    }
}

impl Command for BLMove {
    type Output = Reply;

    fn parse(args: &mut Args) -> Result<Self> {
        let (source, destination) = (args.next_arg()?, args.next_arg()?);
        let (from, to) = (End::parse(&args.next_arg()?)?, End::parse(&args.next_arg()?)?);
        let timeout = args.next_arg()?;
        args.finish()?;
        BLMove::new(source, destination, from, to, &timeout)
    }

    fn reply(reply: Reply) -> Reply {
        reply
    }
}

impl BlockingCommand for BLMove {
    fn keys(&self) -> &[Bytes] {
        &self.source
    }

    fn timeout_ms(&self) -> Option<u64> {
        self.timeout_ms
    }

    fn try_serve(&self, keyspace: &mut Keyspace, ctx: &WriteCtx, ready: Option<&[u8]>) -> Result<Option<Reply>> {
        if ready.is_some()
            && other_type_is_not_ready(value_at::<ListValue>(keyspace.db(ctx.db), &self.source[0], ctx.now_ms))?
                .is_none()
        {
            return Ok(None);
        }
        Ok(move_one(keyspace, ctx, &self.source[0], &self.destination, self.from, self.to)?.map(Reply::Bulk))
    }

    fn timeout_reply(&self) -> Reply {
        Reply::Nil
    }

    fn destination(&self) -> Option<&[u8]> {
        Some(&self.destination)
    }
}

blocking_write!(BLMove);

#[cfg(test)]
mod tests {
    use crate::commands::testing::*;
    use crate::keyspace::Keyspace;
    use crate::reply::Reply;

    #[test]
    fn moves_at_once_or_answers_nil() {
        let mut ks = Keyspace::new();
        write(&mut ks, 1, &["rpush", "src", "a", "b"]);
        assert_eq!(write(&mut ks, 1, &["blmove", "src", "dst", "RIGHT", "LEFT", "0"]), bulk("b"));
        assert_eq!(write(&mut ks, 1, &["brpoplpush", "src", "dst", "0"]), bulk("a"));
        assert_eq!(write(&mut ks, 1, &["lrange", "dst", "0", "-1"]), Reply::Array(vec![bulk("a"), bulk("b")]));
        assert_eq!(write(&mut ks, 1, &["blmove", "src", "dst", "LEFT", "LEFT", "1"]), Reply::Nil);
        assert_eq!(write(&mut ks, 1, &["blmove", "src", "dst", "UP", "LEFT", "1"]), error("ERR syntax error"));
    }
}
