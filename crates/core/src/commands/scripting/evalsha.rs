//! EVALSHA sha1 numkeys [key ...] [arg ...]

use super::{cache_name, eval_body, ScriptCall, NO_SCRIPT};
use crate::commands::prelude::*;
use crate::scripting::Store;

pub const SPEC: CommandSpec = super::eval_spec("evalsha", false, "Execute a Lua script server side");

pub struct EvalSha(ScriptCall);

impl Command for EvalSha {
    type Output = Reply;

    fn parse(args: &mut Args) -> Result<Self> {
        ScriptCall::parse(args).map(EvalSha)
    }

    fn reply(output: Reply) -> Reply {
        output
    }
}

impl WriteCommand for EvalSha {
    fn write(&self, keyspace: &mut Keyspace, ctx: &WriteCtx) -> Result<Reply> {
        let call = &self.0;
        let sha = cache_name(&call.script).ok_or(NO_SCRIPT)?;
        let body = keyspace.scripts().get(&sha).ok_or(NO_SCRIPT)?.clone();
        eval_body(Store::Write { keyspace, ctx: *ctx }, call, &body, &sha, false)
    }
}
