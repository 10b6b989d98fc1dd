//! BRPOPLPUSH source destination timeout: BLMOVE source destination RIGHT LEFT timeout.

use super::blmove::BLMove;
use super::End;
use crate::command::BlockingCommand;
use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "brpoplpush",
    arity: 4,
    since: "2.2.0",
    deprecated: Some(("6.2.0", "`BLMOVE` with the `RIGHT` and `LEFT` arguments")),
    movable_keys: None,
    ..super::blmove::SPEC
};

pub struct BRPopLPush(BLMove);

impl Command for BRPopLPush {
    type Output = Reply;

    fn parse(args: &mut Args) -> Result<Self> {
        let (source, destination, timeout) = (args.next_arg()?, args.next_arg()?, args.next_arg()?);
        args.finish()?;
        BLMove::new(source, destination, End::Right, End::Left, &timeout).map(BRPopLPush)
    }

    fn reply(reply: Reply) -> Reply {
        reply
    }
}

impl BlockingCommand for BRPopLPush {
    fn keys(&self) -> &[Bytes] {
        self.0.keys()
    }

    fn timeout_ms(&self) -> Option<u64> {
        self.0.timeout_ms()
    }

    fn try_serve(&self, keyspace: &mut Keyspace, ctx: &WriteCtx, ready: Option<&[u8]>) -> Result<Option<Reply>> {
        self.0.try_serve(keyspace, ctx, ready)
    }

    fn timeout_reply(&self) -> Reply {
        self.0.timeout_reply()
    }

    fn destination(&self) -> Option<&[u8]> {
        self.0.destination()
    }
}

blocking_write!(BRPopLPush);
