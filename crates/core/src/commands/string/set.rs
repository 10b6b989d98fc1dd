//! SET key value [NX | XX] [GET] [EX seconds | PX milliseconds | EXAT unix-time-seconds |
//! PXAT unix-time-milliseconds | KEEPTTL]

use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "set",
    arity: -3,
    flags: &["write", "denyoom"],
    first_key: 1,
    last_key: 1,
    key_step: 1,
    key_specs: &[KeySpec {
        flags: &["RW", "access", "update", "variable_flags"],
        begin_index: 1,
        last_key: 0,
        key_step: 1,
    }],
    acl_categories: &["@write", "@string", "@slow"],
    tips: &[],
    group: "string",
    since: "1.0.0",
    complexity: "O(1)",
    summary: "Set the string value of a key",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Condition {
    Always,
    IfMissing,
    IfExists,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ttl {
    Clear,
    Keep,
    Expire(ExpireArg),
}

#[derive(Debug)]
pub struct Set {
    key: Bytes,
    value: Bytes,
    condition: Condition,
    ttl: Ttl,
    get: bool,
}

pub enum SetOutput {
    Stored,
    NotStored,
    Previous(Option<Bytes>),
}

impl Command for Set {
    type Output = SetOutput;

    fn parse(args: &mut Args) -> Result<Self> {
        let mut set = Set {
            key: args.next_arg()?,
            value: args.next_arg()?,
            condition: Condition::Always,
            ttl: Ttl::Clear,
            get: false,
        };
        while let Some(option) = args.peek().cloned() {
            args.next_arg()?;
            let expire = |absolute, unit| Ttl::Expire(ExpireArg { amount: 0, unit, absolute });
            let ttl = match () {
                _ if is(&option, "NX") && set.condition != Condition::IfExists => {
                    set.condition = Condition::IfMissing;
                    continue;
                }
                _ if is(&option, "XX") && set.condition != Condition::IfMissing => {
                    set.condition = Condition::IfExists;
                    continue;
                }
                _ if is(&option, "GET") => {
                    set.get = true;
                    continue;
                }
                _ if is(&option, "KEEPTTL") => Ttl::Keep,
                _ if is(&option, "EX") => expire(false, TimeUnit::Seconds),
                _ if is(&option, "PX") => expire(false, TimeUnit::Milliseconds),
                _ if is(&option, "EXAT") => expire(true, TimeUnit::Seconds),
                _ if is(&option, "PXAT") => expire(true, TimeUnit::Milliseconds),
                _ => return Err(Error::SYNTAX),
            };
            // One expiry option at most (repeating the same one is allowed; the last wins).
            let compatible = match (set.ttl, ttl) {
                (Ttl::Clear, _) => true,
                (Ttl::Keep, Ttl::Keep) => true,
                (Ttl::Expire(old), Ttl::Expire(new)) => old.unit == new.unit && old.absolute == new.absolute,
                _ => false,
            };
            if !compatible {
                return Err(Error::SYNTAX);
            }
            set.ttl = match ttl {
                Ttl::Expire(arg) => {
                    let amount = args.next_arg()?;
                    Ttl::Expire(ExpireArg { amount: parse_i64(&amount).ok_or(Error::NOT_INTEGER)?, ..arg })
                }
                other => other,
            };
        }
        if let Ttl::Expire(arg) = set.ttl {
            check_expire_arg(arg, "set")?;
        }
        Ok(set)
    }

    fn reply(output: SetOutput) -> Reply {
        match output {
            SetOutput::Stored => Reply::OK,
            SetOutput::NotStored => Reply::Nil,
            SetOutput::Previous(previous) => Reply::optional_bulk(previous),
        }
    }
}

fn string_bytes(value: &Value) -> Option<Bytes> {
    match value {
        Value::Str(blob) => Some(blob.to_bytes()),
        _ => None,
    }
}

/// Refuses non-positive expiry amounts and ones that overflow in milliseconds.
pub fn check_expire_arg(arg: ExpireArg, command: &str) -> Result<()> {
    let overflows = arg.unit == TimeUnit::Seconds && arg.amount > i64::MAX / 1000;
    if arg.amount <= 0 || overflows {
        return Err(invalid_expire(command));
    }
    Ok(())
}

pub fn invalid_expire(command: &str) -> Error {
    Error::err(format_args!("invalid expire time in '{command}' command"))
}

/// The events of a stored string: `set`, then `expire` when it was given a time to live.
pub fn notify_set(keyspace: &mut Keyspace, ctx: &WriteCtx, key: &[u8], expiring: bool) {
    keyspace.notify(EventClass::STRING, "set", ctx.db, key);
    if expiring {
        keyspace.notify(EventClass::GENERIC, "expire", ctx.db, key);
    }
}

impl WriteCommand for Set {
    fn write(&self, keyspace: &mut Keyspace, ctx: &WriteCtx) -> Result<SetOutput> {
        let db = keyspace.db_mut(ctx.db);
        let expire_at = match self.ttl {
            Ttl::Expire(arg) => {
                Some(arg.at_ms(ctx.now_ms).filter(|at| *at > 0).ok_or_else(|| invalid_expire("set"))? as u64)
            }
            _ => None,
        };
        if let (Condition::Always, false, Ttl::Clear | Ttl::Expire(_)) = (self.condition, self.get, self.ttl) {
            // A plain SET needs nothing from the entry it replaces (whatever its type, live or
            // expired): one lookup instead of three, and no copy of the old value.
            db.insert(&self.key, Value::string(&self.value), expire_at, ctx.index);
            notify_set(keyspace, ctx, &self.key, expire_at.is_some());
            return Ok(SetOutput::Stored);
        }
        let existing = string_entry_mut(db, &self.key, ctx.now_ms);
        let existing = match (existing, self.get) {
            (Ok(entry), _) => entry.map(|entry| (string_bytes(&entry.value), entry.expire_at_ms())),
            // Without GET, SET overwrites a value of any type.
            (Err(_), false) => db.get(&self.key, ctx.now_ms).map(|entry| (None, entry.expire_at_ms())),
            (Err(error), true) => return Err(error),
        };
        let proceed = match self.condition {
            Condition::Always => true,
            Condition::IfMissing => existing.is_none(),
            Condition::IfExists => existing.is_some(),
        };
        if proceed {
            let expire_at = match self.ttl {
                Ttl::Keep => existing.as_ref().and_then(|(_, at)| *at),
                _ => expire_at,
            };
            db.insert(&self.key, Value::string(&self.value), expire_at, ctx.index);
            notify_set(keyspace, ctx, &self.key, matches!(self.ttl, Ttl::Expire(_)));
        }
        Ok(match (self.get, proceed) {
            (true, _) => SetOutput::Previous(existing.and_then(|(value, _)| value)),
            (false, true) => SetOutput::Stored,
            (false, false) => SetOutput::NotStored,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::testing::*;

    #[test]
    fn parses_options() {
        assert!(parse::<Set>(&["k", "v", "NX", "XX"]).is_err());
        assert!(parse::<Set>(&["k", "v", "EX", "10", "PX", "10"]).is_err());
        assert!(parse::<Set>(&["k", "v", "EX", "10", "KEEPTTL"]).is_err());
        assert!(parse::<Set>(&["k", "v", "ex", "10", "ex", "20"]).is_ok());
        assert_eq!(
            parse::<Set>(&["k", "v", "EX", "0"]).unwrap_err().as_str(),
            "ERR invalid expire time in 'set' command"
        );
        assert_eq!(parse::<Set>(&["k", "v", "EX", "x"]).unwrap_err(), Error::NOT_INTEGER);
        assert_eq!(parse::<Set>(&["k", "v", "EX"]).unwrap_err(), Error::SYNTAX);
        assert_eq!(parse::<Set>(&["k", "v", "FOO"]).unwrap_err(), Error::SYNTAX);
        assert_eq!(
            parse::<Set>(&["k", "v", "EX", "9223372036854776"]).unwrap_err().as_str(),
            "ERR invalid expire time in 'set' command"
        );
    }

    #[test]
    fn applies_conditions_and_ttl() {
        let mut ks = Keyspace::new();
        assert_eq!(write(&mut ks, 1000, &["set", "k", "v", "XX"]), Reply::Nil);
        assert_eq!(write(&mut ks, 1000, &["set", "k", "v", "PX", "500"]), Reply::OK);
        assert_eq!(ks.db(0).get(b"k", 1000).unwrap().expire_at_ms(), Some(1500));
        assert_eq!(write(&mut ks, 1000, &["set", "k", "w", "KEEPTTL", "GET"]), bulk("v"));
        assert_eq!(ks.db(0).get(b"k", 1000).unwrap().expire_at_ms(), Some(1500));
        assert_eq!(write(&mut ks, 1000, &["set", "k", "x", "NX", "GET"]), bulk("w"));
        assert_eq!(write(&mut ks, 1000, &["set", "k", "x"]), Reply::OK);
        assert_eq!(ks.db(0).get(b"k", 1000).unwrap().expire_at_ms(), None);
        assert_eq!(write(&mut ks, 2000, &["set", "h", "x", "PXAT", "1500"]), Reply::OK);
        assert!(ks.db(0).get(b"h", 2000).is_none());
        write(&mut ks, 1000, &["hset", "hash", "f", "v"]);
        assert_eq!(write(&mut ks, 1000, &["set", "hash", "x", "GET"]), Reply::from(Error::WRONG_TYPE));
        assert_eq!(write(&mut ks, 1000, &["set", "hash", "x"]), Reply::OK);
    }

    #[test]
    fn a_plain_set_replaces_any_entry_and_keeps_the_expiry_index_exact() {
        let mut ks = Keyspace::new();
        write(&mut ks, 1000, &["set", "k", "v", "PX", "100"]);
        // Expired but not yet removed: replaced with a new deadline, the old one forgotten.
        assert_eq!(write(&mut ks, 2000, &["set", "k", "w", "PX", "100"]), Reply::OK);
        assert_eq!(ks.db(0).expires_len(), 1);
        assert_eq!(ks.db(0).get(b"k", 2050).unwrap().expire_at_ms(), Some(2100));
        assert_eq!(write(&mut ks, 2050, &["set", "k", "x"]), Reply::OK);
        assert_eq!(ks.db(0).expires_len(), 0);
        assert_eq!(ks.db(0).get(b"k", 9000).unwrap().value, Value::string(b"x"));
        write(&mut ks, 3000, &["hset", "h", "f", "v"]);
        write(&mut ks, 3000, &["pexpire", "h", "10"]);
        assert_eq!(write(&mut ks, 3000, &["set", "h", "s", "EX", "1"]), Reply::OK);
        assert_eq!(ks.db(0).get(b"h", 3500).unwrap().value, Value::string(b"s"));
        assert_eq!(ks.db(0).get(b"h", 3500).unwrap().expire_at_ms(), Some(4000));
        assert_eq!(ks.db(0).expires_len(), 1);
        assert_eq!(ks.db(0).len(), 2);
    }
}
