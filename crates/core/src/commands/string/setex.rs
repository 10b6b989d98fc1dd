//! SETEX key seconds value

use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "setex",
    arity: 4,
    flags: &["write", "denyoom"],
    first_key: 1,
    last_key: 1,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["OW", "update"], begin_index: 1, last_key: 0, key_step: 1 }],
    acl_categories: &["@write", "@string", "@slow"],
    tips: &[],
    group: "string",
    since: "2.0.0",
    complexity: "O(1)",
    summary: "Set the value and expiration of a key",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct SetEx {
    key: Bytes,
    expire: ExpireArg,
    value: Bytes,
}

impl SetEx {
    /// SETEX and PSETEX differ only in the unit and the name in their errors.
    pub fn parse_in(args: &mut Args, unit: TimeUnit, command: &str) -> Result<Self> {
        let key = args.next_arg()?;
        let amount = args.next_i64()?;
        let expire = ExpireArg { amount, unit, absolute: false };
        super::set::check_expire_arg(expire, command)?;
        Ok(SetEx { key, expire, value: args.next_arg()? })
    }
}

impl Command for SetEx {
    type Output = ();

    fn parse(args: &mut Args) -> Result<Self> {
        SetEx::parse_in(args, TimeUnit::Seconds, "setex")
    }

    fn reply(_: ()) -> Reply {
        Reply::OK
    }
}

impl WriteCommand for SetEx {
    fn write(&self, keyspace: &mut Keyspace, ctx: &WriteCtx) -> Result<()> {
        let name = if self.expire.unit == TimeUnit::Seconds { "setex" } else { "psetex" };
        let at = self.expire.at_ms(ctx.now_ms).ok_or_else(|| super::set::invalid_expire(name))?;
        keyspace.db_mut(ctx.db).insert(&self.key, Value::string(&self.value), Some(at as u64), ctx.index);
        super::set::notify_set(keyspace, ctx, &self.key, true);
        Ok(())
    }
}
