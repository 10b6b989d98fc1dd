//! MOVE key db

use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "move",
    arity: 3,
    flags: &["write", "fast"],
    first_key: 1,
    last_key: 1,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["RW", "access", "update"], begin_index: 1, last_key: 0, key_step: 1 }],
    acl_categories: &["@keyspace", "@write", "@fast"],
    tips: &[],
    group: "generic",
    since: "1.0.0",
    complexity: "O(1)",
    summary: "Move a key to another database",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct Move {
    key: Bytes,
    to_db: DbIndex,
}

impl Command for Move {
    type Output = bool;

    fn parse(args: &mut Args) -> Result<Self> {
        Ok(Move { key: args.next_arg()?, to_db: args.db_index()? })
    }

    fn reply(moved: bool) -> Reply {
        Reply::Integer(moved.into())
    }
}

impl WriteCommand for Move {
    fn write(&self, keyspace: &mut Keyspace, ctx: &WriteCtx) -> Result<bool> {
        if self.to_db == ctx.db {
            return Err(Error::SAME_OBJECT);
        }
        let source = keyspace.db_mut(ctx.db);
        if source.get_mut(&self.key, ctx.now_ms).is_none() {
            return Ok(false);
        }
        if keyspace.db_mut(self.to_db).get_mut(&self.key, ctx.now_ms).is_some() {
            return Ok(false);
        }
        let entry = keyspace.db_mut(ctx.db).remove(&self.key).expect("checked to exist");
        let expire_at = entry.expire_at_ms();
        keyspace.db_mut(self.to_db).insert(&self.key, entry.value, expire_at, ctx.index);
        keyspace.notify(EventClass::GENERIC, "move_from", ctx.db, &self.key);
        keyspace.notify(EventClass::GENERIC, "move_to", self.to_db, &self.key);
        Ok(true)
    }
}
