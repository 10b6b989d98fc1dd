//! Lua scripting as Redis embeds it: Lua 5.1 with Redis's libraries, run inside the state
//! machine's apply, so that every replica runs the same script on the same data with the same
//! time and seed, and computes the same effects and reply.
//!
//! - [`sandbox`]: the interpreter's libraries: only those Redis loads, globals and library
//!   tables read-only, and `math.random` drawn from the entry's seed.
//! - [`vm`]: the interpreter, kept between runs in the keyspace, and why every replica still
//!   stops the same run at the same instruction and the same byte.
//! - [`convert`]: Redis's conversion rules between Lua values and replies, both ways.
//! - [`libs`]: `bit`, `cjson` and `cmsgpack`, the libraries Redis adds, written in Rust.
//! - [`lua_struct`]: `struct` (pack, unpack and size of binary records), the other one.
//! - [`engine`]: one run of a script or function: `redis.call` against the keyspace through
//!   the command table, the instruction and memory bounds, the reply or the error.
//!
//! Building an interpreter costs some hundreds of microseconds, a run of a small script some
//! microseconds, so the interpreter is kept; what matters more is kept too: no state leaks
//! from one script to the next, and every run starts from the same heap, so a replica
//! restored from a snapshot runs the next script exactly as one that applied every entry.

pub mod convert;
pub mod engine;
pub mod libs;
pub mod lua_struct;
pub mod sandbox;
pub mod vm;

#[cfg(test)]
mod tests;

pub use engine::{run, Program, Run, Store};

use crate::error::{Error, Result};

/// What a script's shebang line (`#!lua flags=no-writes,allow-oom`) declares.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ScriptFlags {
    /// No shebang: Redis's backwards-compatible mode (writes allowed, flags not checked).
    pub compat: bool,
    pub no_writes: bool,
    pub allow_oom: bool,
    pub allow_stale: bool,
    pub no_cluster: bool,
    pub allow_cross_slot_keys: bool,
}

impl ScriptFlags {
    /// Parses one flag name, as `#!lua flags=` and `redis.register_function` name them.
    pub fn set(&mut self, name: &str) -> bool {
        match name {
            "no-writes" => self.no_writes = true,
            "allow-oom" => self.allow_oom = true,
            "allow-stale" => self.allow_stale = true,
            "no-cluster" => self.no_cluster = true,
            "allow-cross-slot-keys" => self.allow_cross_slot_keys = true,
            _ => return false,
        }
        true
    }

    /// The flag names set, in Redis's order (FUNCTION LIST).
    pub fn names(&self) -> Vec<&'static str> {
        let all = [
            (self.no_writes, "no-writes"),
            (self.allow_oom, "allow-oom"),
            (self.allow_stale, "allow-stale"),
            (self.no_cluster, "no-cluster"),
            (self.allow_cross_slot_keys, "allow-cross-slot-keys"),
        ];
        all.into_iter().filter(|(set, _)| *set).map(|(_, name)| name).collect()
    }
}

/// Splits an EVAL body into its flags and the code Lua compiles: the shebang line is dropped
/// but its line feed kept, so that error line numbers match the body's.
pub fn parse_shebang(body: &[u8]) -> Result<(ScriptFlags, &[u8])> {
    if !body.starts_with(b"#!") {
        return Ok((ScriptFlags { compat: true, ..ScriptFlags::default() }, body));
    }
    let end = body.iter().position(|byte| *byte == b'\n').ok_or(Error::fixed("ERR Invalid script shebang"))?;
    let line = String::from_utf8_lossy(&body[..end]);
    let mut parts = line.split_ascii_whitespace();
    let engine = parts.next().ok_or(Error::fixed("ERR Invalid engine in script shebang"))?;
    if engine != "#!lua" {
        return Err(Error::err(format_args!("Unexpected engine in script shebang: {engine}")));
    }
    let mut flags = ScriptFlags::default();
    for part in parts {
        let Some(names) = part.strip_prefix("flags=") else {
            return Err(Error::err(format_args!("Unknown lua shebang option: {part}")));
        };
        for name in names.split(',') {
            if !flags.set(name) {
                return Err(Error::err(format_args!("Unexpected flag in script shebang: {name}")));
            }
        }
    }
    Ok((flags, &body[end..]))
}

/// The lower-case hex SHA1 of `bytes`, as script names and `redis.sha1hex` give it.
pub fn sha1hex(bytes: &[u8]) -> String {
    sha1_smol::Sha1::from(bytes).digest().to_string()
}

#[cfg(test)]
mod unit_tests {
    use super::*;

    #[test]
    fn shebangs_declare_flags_and_keep_line_numbers() {
        let (flags, code) = parse_shebang(b"#!lua flags=no-writes,allow-oom\nreturn 1").unwrap();
        assert!(flags.no_writes && flags.allow_oom && !flags.compat);
        assert_eq!(code, b"\nreturn 1");
        assert!(parse_shebang(b"return 1").unwrap().0.compat);
        let error = |body: &[u8]| parse_shebang(body).unwrap_err().as_str().to_string();
        assert_eq!(error(b"#!lua"), "ERR Invalid script shebang");
        assert_eq!(error(b"#!python\n"), "ERR Unexpected engine in script shebang: #!python");
        assert_eq!(error(b"#!lua flags=bad\n"), "ERR Unexpected flag in script shebang: bad");
        assert_eq!(error(b"#!lua name=x\n"), "ERR Unknown lua shebang option: name=x");
    }

    #[test]
    fn sha1hex_is_redis_s() {
        assert_eq!(sha1hex(b""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
        assert_eq!(sha1hex(b"Pizza & Mandolino"), "74822d82031af7493c20eefa13bd07ec4fada82f");
    }
}
