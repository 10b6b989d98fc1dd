//! SETRANGE key offset value

use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "setrange",
    arity: 4,
    flags: &["write", "denyoom"],
    first_key: 1,
    last_key: 1,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["RW", "update"], begin_index: 1, last_key: 0, key_step: 1 }],
    acl_categories: &["@write", "@string", "@slow"],
    tips: &[],
    group: "string",
    since: "2.2.0",
    complexity: "O(1), not counting the time taken to copy the new string in place. Usually, this string is very small so the amortized complexity is O(1). Otherwise, complexity is O(M) with M being the length of the value argument.",
    summary: "Overwrite part of a string at key starting at the specified offset",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct SetRange {
    key: Bytes,
    offset: usize,
    value: Bytes,
}

impl Command for SetRange {
    type Output = usize;

    fn parse(args: &mut Args) -> Result<Self> {
        let key = args.next_arg()?;
        let offset = args.next_i64()?;
        if offset < 0 {
            return Err(Error::err("offset is out of range"));
        }
        let value = args.next_arg()?;
        Ok(SetRange { key, offset: offset as usize, value })
    }

    fn reply(length: usize) -> Reply {
        Reply::Integer(length as i64)
    }
}

impl WriteCommand for SetRange {
    fn write(&self, keyspace: &mut Keyspace, ctx: &WriteCtx) -> Result<usize> {
        let db = keyspace.db_mut(ctx.db);
        let end = self.offset as u64 + self.value.len() as u64;
        match string_entry_mut(db, &self.key, ctx.now_ms)? {
            None => {
                // Nothing to write creates nothing.
                if self.value.is_empty() {
                    return Ok(0);
                }
                check_string_length(end)?;
                let mut bytes = BytesMut::zeroed(self.offset);
                bytes.extend_from_slice(&self.value);
                db.insert(&self.key, Value::string(&bytes), None, ctx.index);
                keyspace.notify(EventClass::STRING, "setrange", ctx.db, &self.key);
                Ok(end as usize)
            }
            Some(entry) => {
                let Value::Str(current) = &mut entry.value else { unreachable!("checked to be a string") };
                if self.value.is_empty() {
                    return Ok(current.len());
                }
                check_string_length(end)?;
                let bytes = current.make_mut();
                if bytes.len() < end as usize {
                    bytes.resize(end as usize, 0);
                }
                bytes[self.offset..end as usize].copy_from_slice(&self.value);
                current.settle();
                entry.version = ctx.index;
                let length = current.len();
                keyspace.notify(EventClass::STRING, "setrange", ctx.db, &self.key);
                Ok(length)
            }
        }
    }
}
