//! RESTORE key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency]

use super::dump::image_of;
use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "restore",
    arity: -4,
    flags: &["write", "denyoom"],
    first_key: 1,
    last_key: 1,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["OW", "update"], begin_index: 1, last_key: 0, key_step: 1 }],
    acl_categories: &["@keyspace", "@write", "@slow", "@dangerous"],
    tips: &[],
    group: "generic",
    since: "2.6.0",
    complexity: "O(1) to create the new key and additional O(N*M) to reconstruct the serialized value, where N is the number of Redis objects composing the value and M their average size. For small string values the time complexity is thus O(1)+O(1*M) where M is small, so simply O(1). However for sorted set values the complexity is O(N*M*log(N)) because inserting values into sorted sets is O(log(N)).",
    summary: "Create a key using the provided serialized value, previously obtained using DUMP.",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct Restore {
    key: Bytes,
    ttl_ms: i64,
    payload: Bytes,
    replace: bool,
    absolute: bool,
}

impl Command for Restore {
    type Output = ();

    fn parse(args: &mut Args) -> Result<Self> {
        let key = args.next_arg()?;
        let ttl = args.next_arg()?;
        let payload = args.next_arg()?;
        let (mut replace, mut absolute, mut idle, mut freq) = (false, false, false, false);
        while let Some(option) = args.peek().cloned() {
            args.next_arg()?;
            match () {
                _ if is(&option, "REPLACE") => replace = true,
                _ if is(&option, "ABSTTL") => absolute = true,
                // The access time and frequency are not tracked; the values are checked only.
                _ if is(&option, "IDLETIME") && !args.is_empty() && !freq => {
                    if args.next_i64()? < 0 {
                        return Err(Error::err("Invalid IDLETIME value, must be >= 0"));
                    }
                    idle = true;
                }
                _ if is(&option, "FREQ") && !args.is_empty() && !idle => {
                    if !(0..=255).contains(&args.next_i64()?) {
                        return Err(Error::err("Invalid FREQ value, must be >= 0 and <= 255"));
                    }
                    freq = true;
                }
                _ => return Err(Error::SYNTAX),
            }
        }
        let ttl_ms = parse_i64(&ttl).ok_or(Error::NOT_INTEGER)?;
        Ok(Restore { key, ttl_ms, payload, replace, absolute })
    }

    fn reply((): ()) -> Reply {
        Reply::OK
    }
}

impl WriteCommand for Restore {
    fn write(&self, keyspace: &mut Keyspace, ctx: &WriteCtx) -> Result<()> {
        let (db, encodings) = keyspace.db_and_encodings(ctx.db);
        if !self.replace && db.get_mut(&self.key, ctx.now_ms).is_some() {
            return Err(Error::fixed("BUSYKEY Target key name already exists."));
        }
        if self.ttl_ms < 0 {
            return Err(Error::err("Invalid TTL value, must be >= 0"));
        }
        let image = image_of(&self.payload)?;
        if image.is_empty_collection() {
            return Err(Error::err("Bad data format"));
        }
        let value = image.into_normalized_value(db.hasher(), encodings).map_err(|_| Error::err("Bad data format"))?;
        let expire_at = match self.ttl_ms {
            0 => None,
            ttl if self.absolute => Some(ttl),
            ttl => Some(ttl.saturating_add(ctx.now_ms as i64)),
        };
        let replaced = db.remove(&self.key).is_some();
        match expire_at {
            // Already past: the key is deleted (REPLACE) and nothing is created, as in Redis.
            Some(at) if at <= ctx.now_ms as i64 => {
                if replaced {
                    keyspace.notify(EventClass::GENERIC, "del", ctx.db, &self.key);
                }
            }
            _ => {
                db.insert(&self.key, value, expire_at.map(|at| at as u64), ctx.index);
                keyspace.notify(EventClass::GENERIC, "restore", ctx.db, &self.key);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::commands::testing::*;
    use crate::keyspace::Keyspace;
    use crate::reply::Reply;

    use bytes::Bytes;

    fn payload(keyspace: &mut Keyspace, key: &str) -> Bytes {
        match write(keyspace, 1, &["dump", key]) {
            Reply::Bulk(bytes) => bytes,
            other => panic!("{other:?}"),
        }
    }

    /// RESTORE key ttl payload [options...].
    fn restore(keyspace: &mut Keyspace, now_ms: u64, key: &str, ttl: &str, payload: &[u8], options: &[&str]) -> Reply {
        let mut command = argv(&["restore", key, ttl]);
        command.push(Bytes::copy_from_slice(payload));
        command.extend(argv(options));
        write_argv(keyspace, now_ms, &command)
    }

    #[test]
    fn a_value_dumps_and_restores_under_another_name() {
        let mut ks = Keyspace::new();
        write(&mut ks, 1, &["hset", "h", "a", "1", "b", "2"]);
        write(&mut ks, 1, &["set", "s", "text"]);
        for key in ["h", "s"] {
            let dumped = payload(&mut ks, key);
            let copy = format!("{key}-copy");
            assert_eq!(restore(&mut ks, 1, &copy, "0", &dumped, &[]), Reply::OK);
            assert_eq!(payload(&mut ks, &copy), dumped);
            assert_eq!(restore(&mut ks, 1, &copy, "0", &dumped, &[]), error("BUSYKEY Target key name already exists."));
            assert_eq!(restore(&mut ks, 1, &copy, "0", &dumped, &["REPLACE"]), Reply::OK);
        }
        assert_eq!(write(&mut ks, 1, &["hget", "h-copy", "b"]), bulk("2"));
        assert_eq!(write(&mut ks, 1, &["dump", "missing"]), Reply::Nil);
    }

    #[test]
    fn a_damaged_or_foreign_payload_is_a_clean_error() {
        let mut ks = Keyspace::new();
        write(&mut ks, 1, &["set", "s", "text"]);
        let mut dumped = payload(&mut ks, "s").to_vec();
        let last = dumped.len() - 1;
        dumped[last] ^= 1;
        let wrong = error("ERR DUMP payload version or checksum are wrong");
        assert_eq!(restore(&mut ks, 1, "t", "0", &dumped, &[]), wrong);
        assert_eq!(restore(&mut ks, 1, "t", "0", b"x", &[]), wrong);
        // A Redis payload (an RDB string, RDB version 10, a CRC64) is not ours.
        let redis = b"\x00\x05hello\x0a\x00\x8a\x6c\x9f\x1c\x2c\x6e\x61\x6e";
        assert_eq!(restore(&mut ks, 1, "t", "0", redis, &[]), wrong);
        // Right checksum, nonsense inside.
        let mut nonsense = vec![0xff, 0xff, 0xff];
        nonsense.extend_from_slice(&super::super::dump::DUMP_FORMAT_VERSION.to_le_bytes());
        let checksum = crc32c::crc32c(&nonsense);
        nonsense.extend_from_slice(&checksum.to_le_bytes());
        assert_eq!(restore(&mut ks, 1, "t", "0", &nonsense, &[]), error("ERR Bad data format"));
        assert_eq!(write(&mut ks, 1, &["restore", "t", "-1", "x"]), error("ERR Invalid TTL value, must be >= 0"));
        assert_eq!(write(&mut ks, 1, &["exists", "t"]), Reply::Integer(0));
    }

    #[test]
    fn ttl_is_relative_or_absolute_and_a_past_one_creates_nothing() {
        let mut ks = Keyspace::new();
        write(&mut ks, 1_000, &["set", "s", "v"]);
        let dumped = payload(&mut ks, "s");
        restore(&mut ks, 1_000, "rel", "5000", &dumped, &[]);
        assert_eq!(write(&mut ks, 1_000, &["pttl", "rel"]), Reply::Integer(5000));
        restore(&mut ks, 1_000, "abs", "9000", &dumped, &["ABSTTL"]);
        assert_eq!(write(&mut ks, 1_000, &["pttl", "abs"]), Reply::Integer(8000));
        assert_eq!(restore(&mut ks, 1_000, "s", "500", &dumped, &["ABSTTL", "REPLACE"]), Reply::OK);
        assert_eq!(write(&mut ks, 1_000, &["exists", "s"]), Reply::Integer(0));
    }
}
