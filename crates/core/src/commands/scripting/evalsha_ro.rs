//! EVALSHA_RO sha1 numkeys [key ...] [arg ...]

use super::{cache_name, eval_body, ScriptCall, NO_SCRIPT};
use crate::commands::prelude::*;
use crate::scripting::Store;

pub const SPEC: CommandSpec = super::eval_spec("evalsha_ro", true, "Execute a read-only Lua script server side");

pub struct EvalShaRo(ScriptCall);

impl Command for EvalShaRo {
    type Output = Reply;

    fn parse(args: &mut Args) -> Result<Self> {
        ScriptCall::parse(args).map(EvalShaRo)
    }

    fn reply(output: Reply) -> Reply {
        output
    }
}

impl ReadCommand for EvalShaRo {
    fn read(&self, keyspace: &Keyspace, ctx: &mut ReadCtx) -> Result<Reply> {
        let call = &self.0;
        let sha = cache_name(&call.script).ok_or(NO_SCRIPT)?;
        let body = keyspace.scripts().get(&sha).ok_or(NO_SCRIPT)?;
        let store = Store::Read { keyspace, db: ctx.db, now_ms: ctx.now_ms, seed: ctx.rng.next_u64() };
        eval_body(store, call, body, &sha, true)
    }
}
