//! EXPIRE key seconds [NX | XX | GT | LT]

use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "expire",
    arity: -3,
    flags: &["write", "fast"],
    first_key: 1,
    last_key: 1,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["RW", "update"], begin_index: 1, last_key: 0, key_step: 1 }],
    acl_categories: &["@keyspace", "@write", "@fast"],
    tips: &[],
    group: "generic",
    since: "1.0.0",
    complexity: "O(1)",
    summary: "Set a key's time to live in seconds",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

/// NX, XX, GT and LT, which may be combined where they do not contradict.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Only {
    /// NX: only when the key has no expiry.
    no_expiry: bool,
    /// XX: only when the key has an expiry.
    has_expiry: bool,
    /// GT: only when the new time is later (no expiry counts as infinitely late).
    later: bool,
    /// LT: only when the new time is earlier.
    earlier: bool,
}

/// The shared body of EXPIRE, PEXPIRE, EXPIREAT and PEXPIREAT.
pub struct SetExpiry {
    key: Bytes,
    expire: ExpireArg,
    only: Only,
    command: &'static str,
}

impl SetExpiry {
    pub fn parse_in(args: &mut Args, unit: TimeUnit, absolute: bool, command: &'static str) -> Result<SetExpiry> {
        let key = args.next_arg()?;
        let amount = args.next_arg()?;
        let mut only = Only::default();
        while !args.is_empty() {
            let option = args.next_arg()?;
            let flag = match () {
                _ if is(&option, "NX") => &mut only.no_expiry,
                _ if is(&option, "XX") => &mut only.has_expiry,
                _ if is(&option, "GT") => &mut only.later,
                _ if is(&option, "LT") => &mut only.earlier,
                _ => return Err(Error::err(format_args!("Unsupported option {}", String::from_utf8_lossy(&option)))),
            };
            *flag = true;
        }
        if only.no_expiry && (only.has_expiry || only.later || only.earlier) {
            return Err(Error::err("NX and XX, GT or LT options at the same time are not compatible"));
        }
        if only.later && only.earlier {
            return Err(Error::err("GT and LT options at the same time are not compatible"));
        }
        let amount = parse_i64(&amount).ok_or(Error::NOT_INTEGER)?;
        Ok(SetExpiry { key, expire: ExpireArg { amount, unit, absolute }, only, command })
    }

    pub fn apply(&self, keyspace: &mut Keyspace, ctx: &WriteCtx) -> Result<bool> {
        let Some(at) = self.expire.at_ms(ctx.now_ms) else {
            return Err(crate::commands::string::set::invalid_expire(self.command));
        };
        let db = keyspace.db_mut(ctx.db);
        let Some(entry) = db.get_mut(&self.key, ctx.now_ms) else {
            return Ok(false);
        };
        let current = entry.expire_at_ms().map(|at| at as i64);
        let only = self.only;
        let refused = (only.no_expiry && current.is_some())
            || (only.has_expiry && current.is_none())
            || (only.later && current.is_none_or(|current| at <= current))
            || (only.earlier && current.is_some_and(|current| at >= current));
        if refused {
            return Ok(false);
        }
        if at <= ctx.now_ms as i64 {
            // A time already past deletes the key, as Redis does on a primary.
            db.remove(&self.key);
            keyspace.notify(EventClass::GENERIC, "del", ctx.db, &self.key);
        } else {
            entry.version = ctx.index;
            db.set_expiry(&self.key, Some(at as u64));
            keyspace.notify(EventClass::GENERIC, "expire", ctx.db, &self.key);
        }
        Ok(true)
    }
}

pub struct Expire(SetExpiry);

impl Command for Expire {
    type Output = bool;

    fn parse(args: &mut Args) -> Result<Self> {
        SetExpiry::parse_in(args, TimeUnit::Seconds, false, "expire").map(Expire)
    }

    fn reply(changed: bool) -> Reply {
        Reply::Integer(changed.into())
    }
}

impl WriteCommand for Expire {
    fn write(&self, keyspace: &mut Keyspace, ctx: &WriteCtx) -> Result<bool> {
        self.0.apply(keyspace, ctx)
    }
}

#[cfg(test)]
mod tests {
    use crate::commands::testing::*;
    use crate::reply::Reply;

    #[test]
    fn conditions() {
        let mut ks = crate::keyspace::Keyspace::new();
        write(&mut ks, 1000, &["set", "k", "v"]);
        assert_eq!(write(&mut ks, 1000, &["expire", "k", "10", "XX"]), Reply::Integer(0));
        assert_eq!(write(&mut ks, 1000, &["expire", "k", "10", "GT"]), Reply::Integer(0));
        assert_eq!(write(&mut ks, 1000, &["expire", "k", "10", "LT"]), Reply::Integer(1));
        assert_eq!(write(&mut ks, 1000, &["expire", "k", "20", "NX"]), Reply::Integer(0));
        assert_eq!(write(&mut ks, 1000, &["expire", "k", "20", "GT"]), Reply::Integer(1));
        assert_eq!(ks.db(0).get(b"k", 1000).unwrap().expire_at_ms(), Some(21_000));
        assert_eq!(write(&mut ks, 1000, &["pexpire", "k", "0"]), Reply::Integer(1));
        assert!(ks.db(0).is_empty());
        assert_eq!(
            write(&mut ks, 1000, &["expire", "k", "1", "NX", "XX"]),
            error("ERR NX and XX, GT or LT options at the same time are not compatible")
        );
        assert_eq!(
            write(&mut ks, 1000, &["expire", "k", "1", "GT", "LT"]),
            error("ERR GT and LT options at the same time are not compatible")
        );
        assert_eq!(write(&mut ks, 1000, &["expire", "k", "1", "FOO"]), error("ERR Unsupported option FOO"));
        write(&mut ks, 1000, &["set", "k", "v"]);
        assert_eq!(
            write(&mut ks, 1000, &["expire", "k", "9223372036854775807"]),
            error("ERR invalid expire time in 'expire' command")
        );
    }
}
