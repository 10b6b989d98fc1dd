//! FCALL function numkeys [key ...] [arg ...]

use super::{fcall_function, ScriptCall};
use crate::commands::prelude::*;
use crate::scripting::Store;

pub const SPEC: CommandSpec = super::fcall_spec("fcall", false, "Invoke a function");

pub struct FCall(ScriptCall);

impl Command for FCall {
    type Output = Reply;

    fn parse(args: &mut Args) -> Result<Self> {
        ScriptCall::parse_fcall(args).map(FCall)
    }

    fn reply(output: Reply) -> Reply {
        output
    }
}

impl WriteCommand for FCall {
    fn write(&self, keyspace: &mut Keyspace, ctx: &WriteCtx) -> Result<Reply> {
        let (code, read_only, name) = super::function_code(keyspace, &self.0.script, false)?;
        fcall_function(Store::Write { keyspace, ctx: *ctx }, &self.0, &code, &name, read_only)
    }
}
