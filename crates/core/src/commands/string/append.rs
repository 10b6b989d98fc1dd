//! APPEND key value

use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "append",
    arity: 3,
    flags: &["write", "denyoom", "fast"],
    first_key: 1,
    last_key: 1,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["RW", "insert"], begin_index: 1, last_key: 0, key_step: 1 }],
    acl_categories: &["@write", "@string", "@fast"],
    tips: &[],
    group: "string",
    since: "2.0.0",
    complexity: "O(1). The amortized time complexity is O(1) assuming the appended value is small and the already present value is of any size, since the dynamic string library used by Redis will double the free space available on every reallocation.",
    summary: "Append a value to a key",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct Append {
    key: Bytes,
    value: Bytes,
}

impl Command for Append {
    type Output = usize;

    fn parse(args: &mut Args) -> Result<Self> {
        Ok(Append { key: args.next_arg()?, value: args.next_arg()? })
    }

    fn reply(length: usize) -> Reply {
        Reply::Integer(length as i64)
    }
}

impl WriteCommand for Append {
    fn write(&self, keyspace: &mut Keyspace, ctx: &WriteCtx) -> Result<usize> {
        let db = keyspace.db_mut(ctx.db);
        let length = match string_entry_mut(db, &self.key, ctx.now_ms)? {
            None => {
                db.insert(&self.key, Value::string(&self.value), None, ctx.index);
                self.value.len()
            }
            Some(entry) => {
                let Value::Str(current) = &mut entry.value else { unreachable!("checked to be a string") };
                check_string_length(current.len() as u64 + self.value.len() as u64)?;
                current.make_mut().extend_from_slice(&self.value);
                current.settle();
                entry.version = ctx.index;
                current.len()
            }
        };
        keyspace.notify(EventClass::STRING, "append", ctx.db, &self.key);
        Ok(length)
    }
}
