//! FCALL_RO function numkeys [key ...] [arg ...]: a function flagged `no-writes`, served as
//! reads are.

use super::{fcall_function, ScriptCall};
use crate::commands::prelude::*;
use crate::scripting::Store;

pub const SPEC: CommandSpec = super::fcall_spec("fcall_ro", true, "Invoke a read-only function");

pub struct FCallRo(ScriptCall);

impl Command for FCallRo {
    type Output = Reply;

    fn parse(args: &mut Args) -> Result<Self> {
        ScriptCall::parse_fcall(args).map(FCallRo)
    }

    fn reply(output: Reply) -> Reply {
        output
    }
}

impl ReadCommand for FCallRo {
    fn read(&self, keyspace: &Keyspace, ctx: &mut ReadCtx) -> Result<Reply> {
        let (code, read_only, name) = super::function_code(keyspace, &self.0.script, true)?;
        let store = Store::Read { keyspace, db: ctx.db, now_ms: ctx.now_ms, seed: ctx.rng.next_u64() };
        fcall_function(store, &self.0, &code, &name, read_only)
    }
}
