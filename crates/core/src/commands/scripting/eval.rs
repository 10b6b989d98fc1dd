//! EVAL script numkeys [key ...] [arg ...]

use super::{eval_body, failed_to_compile, ScriptCall};
use crate::commands::prelude::*;
use crate::scripting::{sha1hex, Store};

pub const SPEC: CommandSpec = super::eval_spec("eval", false, "Execute a Lua script server side");

pub struct Eval(ScriptCall);

impl Command for Eval {
    type Output = Reply;

    fn parse(args: &mut Args) -> Result<Self> {
        ScriptCall::parse(args).map(Eval)
    }

    fn reply(output: Reply) -> Reply {
        output
    }
}

impl WriteCommand for Eval {
    fn write(&self, keyspace: &mut Keyspace, ctx: &WriteCtx) -> Result<Reply> {
        let call = &self.0;
        let sha = sha1hex(&call.script);
        let reply = eval_body(Store::Write { keyspace: &mut *keyspace, ctx: *ctx }, call, &call.script, &sha, false)?;
        // Cached once it compiled, as Redis caches every script EVAL is given; a full cache
        // keeps what it has (the script still ran).
        if !failed_to_compile(&reply) {
            keyspace.scripts_mut().insert(sha, call.script.clone());
        }
        Ok(reply)
    }
}

#[cfg(test)]
mod tests {
    use crate::commands::testing::*;
    use crate::keyspace::Keyspace;
    use crate::reply::Reply;

    #[test]
    fn scripts_call_commands_and_are_cached() {
        let mut keyspace = Keyspace::new();
        let set = "return redis.call('set', KEYS[1], ARGV[1])";
        assert_eq!(write(&mut keyspace, 1, &["eval", set, "1", "k", "v"]), Reply::OK);
        assert_eq!(write(&mut keyspace, 2, &["get", "k"]), bulk("v"));
        assert!(keyspace.scripts().contains(&crate::scripting::sha1hex(set.as_bytes())));
        assert_eq!(
            write(&mut keyspace, 3, &["eval", "return", "2", "a"]),
            error("ERR Number of keys can't be greater than number of args")
        );
        assert_eq!(write(&mut keyspace, 3, &["eval", "return", "-1"]), error("ERR Number of keys can't be negative"));
    }
}
