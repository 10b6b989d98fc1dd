//! EVAL_RO script numkeys [key ...] [arg ...]: a script that may only read, served as reads
//! are (after a read barrier, or by a replica for a READONLY client).

use super::{eval_body, ScriptCall};
use crate::commands::prelude::*;
use crate::scripting::{sha1hex, Store};

pub const SPEC: CommandSpec = super::eval_spec("eval_ro", true, "Execute a read-only Lua script server side");

pub struct EvalRo(ScriptCall);

impl Command for EvalRo {
    type Output = Reply;

    fn parse(args: &mut Args) -> Result<Self> {
        ScriptCall::parse(args).map(EvalRo)
    }

    fn reply(output: Reply) -> Reply {
        output
    }
}

impl ReadCommand for EvalRo {
    fn read(&self, keyspace: &Keyspace, ctx: &mut ReadCtx) -> Result<Reply> {
        let call = &self.0;
        let sha = sha1hex(&call.script);
        let store = Store::Read { keyspace, db: ctx.db, now_ms: ctx.now_ms, seed: ctx.rng.next_u64() };
        // A read changes no replicated state: the script is not cached.
        eval_body(store, call, &call.script, &sha, true)
    }
}
