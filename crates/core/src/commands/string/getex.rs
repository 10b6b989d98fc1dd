//! GETEX key [EX seconds | PX milliseconds | EXAT unix-time-seconds |
//! PXAT unix-time-milliseconds | PERSIST]

use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "getex",
    arity: -2,
    flags: &["write", "fast"],
    first_key: 1,
    last_key: 1,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["RW", "access", "update"], begin_index: 1, last_key: 0, key_step: 1 }],
    acl_categories: &["@write", "@string", "@fast"],
    tips: &[],
    group: "string",
    since: "6.2.0",
    complexity: "O(1)",
    summary: "Get the value of a key and optionally set its expiration",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Change {
    Keep,
    Persist,
    Expire(ExpireArg),
}

pub struct GetEx {
    key: Bytes,
    change: Change,
}

impl Command for GetEx {
    type Output = Option<Bytes>;

    fn parse(args: &mut Args) -> Result<Self> {
        let key = args.next_arg()?;
        let mut change = Change::Keep;
        while let Some(option) = args.peek().cloned() {
            args.next_arg()?;
            let unit_and_kind = [
                ("EX", TimeUnit::Seconds, false),
                ("PX", TimeUnit::Milliseconds, false),
                ("EXAT", TimeUnit::Seconds, true),
                ("PXAT", TimeUnit::Milliseconds, true),
            ];
            let next = if is(&option, "PERSIST") {
                Change::Persist
            } else if let Some(&(_, unit, absolute)) = unit_and_kind.iter().find(|(name, ..)| is(&option, name)) {
                Change::Expire(ExpireArg { amount: 0, unit, absolute })
            } else {
                return Err(Error::SYNTAX);
            };
            let compatible = match (change, next) {
                (Change::Keep, _) | (Change::Persist, Change::Persist) => true,
                (Change::Expire(old), Change::Expire(new)) => old.unit == new.unit && old.absolute == new.absolute,
                _ => false,
            };
            if !compatible {
                return Err(Error::SYNTAX);
            }
            change = match next {
                Change::Expire(arg) => {
                    let amount = args.next_arg()?;
                    Change::Expire(ExpireArg { amount: parse_i64(&amount).ok_or(Error::NOT_INTEGER)?, ..arg })
                }
                other => other,
            };
        }
        Ok(GetEx { key, change })
    }

    fn reply(value: Option<Bytes>) -> Reply {
        Reply::optional_bulk(value)
    }
}

impl WriteCommand for GetEx {
    fn write(&self, keyspace: &mut Keyspace, ctx: &WriteCtx) -> Result<Option<Bytes>> {
        let db = keyspace.db_mut(ctx.db);
        let Some(entry) = string_entry_mut(db, &self.key, ctx.now_ms)? else {
            return Ok(None);
        };
        let Value::Str(value) = &entry.value else { unreachable!("checked to be a string") };
        let value = value.to_bytes();
        match self.change {
            Change::Keep => {}
            Change::Persist => {
                if entry.expire_at_ms().is_some() {
                    entry.version = ctx.index;
                    db.set_expiry(&self.key, None);
                    keyspace.notify(EventClass::GENERIC, "persist", ctx.db, &self.key);
                }
            }
            Change::Expire(arg) => {
                // Checked only for an existing string, as Redis orders it.
                super::set::check_expire_arg(arg, "getex")?;
                let at = arg.at_ms(ctx.now_ms).ok_or_else(|| super::set::invalid_expire("getex"))?;
                if at <= ctx.now_ms as i64 {
                    db.remove(&self.key);
                    keyspace.notify(EventClass::GENERIC, "del", ctx.db, &self.key);
                } else {
                    entry.version = ctx.index;
                    db.set_expiry(&self.key, Some(at as u64));
                    keyspace.notify(EventClass::GENERIC, "expire", ctx.db, &self.key);
                }
            }
        }
        Ok(Some(value))
    }
}
