//! HDEL key field [field ...]

use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "hdel",
    arity: -3,
    flags: &["write", "fast"],
    first_key: 1,
    last_key: 1,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["RW", "delete"], begin_index: 1, last_key: 0, key_step: 1 }],
    acl_categories: &["@write", "@hash", "@fast"],
    tips: &[],
    group: "hash",
    since: "2.0.0",
    complexity: "O(N) where N is the number of fields to be removed.",
    summary: "Delete one or more hash fields",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct HDel {
    key: Bytes,
    fields: Vec<Bytes>,
}

impl Command for HDel {
    type Output = usize;

    fn parse(args: &mut Args) -> Result<Self> {
        Ok(HDel { key: args.next_arg()?, fields: args.rest() })
    }

    fn reply(removed: usize) -> Reply {
        Reply::Integer(removed as i64)
    }
}

impl WriteCommand for HDel {
    fn write(&self, keyspace: &mut Keyspace, ctx: &WriteCtx) -> Result<usize> {
        let db = keyspace.db_mut(ctx.db);
        let Some((hash, version)) = hash_entry_mut(db, &self.key, ctx.now_ms)? else {
            return Ok(0);
        };
        let removed = self.fields.iter().filter(|field| hash.remove(field)).count();
        if removed > 0 {
            *version = ctx.index;
        }
        let emptied = hash.is_empty();
        if emptied {
            db.remove(&self.key);
        }
        if removed > 0 {
            keyspace.notify(EventClass::HASH, "hdel", ctx.db, &self.key);
            if emptied {
                keyspace.notify(EventClass::GENERIC, "del", ctx.db, &self.key);
            }
        }
        Ok(removed)
    }
}

impl MayChangeNothing for HDel {
    fn reply_if_unchanged(&self, keyspace: &Keyspace, db: DbIndex, now_ms: TimeMs) -> Option<Reply> {
        let unchanged = match hash_at(keyspace.db(db), &self.key, now_ms).ok()? {
            None => true,
            Some(hash) => !self.fields.iter().any(|field| hash.contains(field)),
        };
        unchanged.then_some(Reply::Integer(0))
    }
}
