//! COPY source destination [DB destination-db] [REPLACE]

use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "copy",
    arity: -3,
    flags: &["write", "denyoom"],
    first_key: 1,
    last_key: 2,
    key_step: 1,
    key_specs: &[
        KeySpec { flags: &["RO", "access"], begin_index: 1, last_key: 0, key_step: 1 },
        KeySpec { flags: &["OW", "update"], begin_index: 2, last_key: 0, key_step: 1 },
    ],
    acl_categories: &["@keyspace", "@write", "@slow"],
    tips: &[],
    group: "generic",
    since: "6.2.0",
    complexity: "O(N) worst case for collections, where N is the number of nested items. O(1) for string values.",
    summary: "Copy a key",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct Copy {
    from: Bytes,
    to: Bytes,
    to_db: Option<DbIndex>,
    replace: bool,
}

impl Command for Copy {
    type Output = bool;

    fn parse(args: &mut Args) -> Result<Self> {
        let mut copy = Copy { from: args.next_arg()?, to: args.next_arg()?, to_db: None, replace: false };
        while !args.is_empty() {
            let option = args.next_arg()?;
            if is(&option, "REPLACE") {
                copy.replace = true;
            } else if is(&option, "DB") && !args.is_empty() {
                copy.to_db = Some(args.db_index()?);
            } else {
                return Err(Error::SYNTAX);
            }
        }
        Ok(copy)
    }

    fn reply(copied: bool) -> Reply {
        Reply::Integer(copied.into())
    }
}

impl WriteCommand for Copy {
    fn write(&self, keyspace: &mut Keyspace, ctx: &WriteCtx) -> Result<bool> {
        let to_db = self.to_db.unwrap_or(ctx.db);
        if to_db == ctx.db && self.from == self.to {
            return Err(Error::SAME_OBJECT);
        }
        let Some(source) = keyspace.db(ctx.db).get(&self.from, ctx.now_ms) else {
            return Ok(false);
        };
        let (value, expire_at) = (source.value.clone(), source.expire_at_ms());
        let target = keyspace.db_mut(to_db);
        if target.get_mut(&self.to, ctx.now_ms).is_some() {
            if !self.replace {
                return Ok(false);
            }
            target.remove(&self.to);
        }
        target.insert(&self.to, value, expire_at, ctx.index);
        keyspace.notify(EventClass::GENERIC, "copy_to", to_db, &self.to);
        Ok(true)
    }
}
