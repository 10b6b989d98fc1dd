//! Typed access to values, shared by the commands.

use crate::error::{Error, Result};
use crate::keyspace::{Db, Entry, HashValue, Value};
use crate::limits::STRING_BYTES_MAX;
use crate::types::TimeMs;
use bytes::Bytes;

/// The string at `key`, if any; WRONGTYPE if the key holds something else.
pub fn string_at<'a>(db: &'a Db, key: &[u8], now_ms: TimeMs) -> Result<Option<&'a Bytes>> {
    match db.get(key, now_ms).map(|entry| &entry.value) {
        None => Ok(None),
        Some(Value::Str(bytes)) => Ok(Some(bytes)),
        Some(_) => Err(Error::WRONG_TYPE),
    }
}

/// The hash at `key`, if any; WRONGTYPE if the key holds something else.
pub fn hash_at<'a>(db: &'a Db, key: &[u8], now_ms: TimeMs) -> Result<Option<&'a HashValue>> {
    match db.get(key, now_ms).map(|entry| &entry.value) {
        None => Ok(None),
        Some(Value::Hash(hash)) => Ok(Some(hash)),
        Some(_) => Err(Error::WRONG_TYPE),
    }
}

/// The live entry at `key` for writing, checked to hold a string.
pub fn string_entry_mut<'a>(db: &'a mut Db, key: &[u8], now_ms: TimeMs) -> Result<Option<&'a mut Entry>> {
    match db.get_mut(key, now_ms) {
        None => Ok(None),
        Some(entry) if matches!(entry.value, Value::Str(_)) => Ok(Some(entry)),
        Some(_) => Err(Error::WRONG_TYPE),
    }
}

/// The live hash at `key` for writing (its entry, for the version), if any.
pub fn hash_entry_mut<'a>(
    db: &'a mut Db,
    key: &[u8],
    now_ms: TimeMs,
) -> Result<Option<(&'a mut HashValue, &'a mut u64)>> {
    match db.get_mut(key, now_ms) {
        None => Ok(None),
        Some(Entry { value: Value::Hash(hash), version, .. }) => Ok(Some((hash, version))),
        Some(_) => Err(Error::WRONG_TYPE),
    }
}

/// The hash at `key` for writing, created empty if missing. The caller must leave it
/// non-empty (an empty hash is never stored) and set the version.
pub fn hash_or_create<'a>(
    db: &'a mut Db,
    key: &Bytes,
    now_ms: TimeMs,
    version: u64,
) -> Result<(&'a mut HashValue, &'a mut u64)> {
    if db.get_mut(key, now_ms).is_none() {
        db.insert(key.clone(), Value::Hash(HashValue::new()), None, version);
    }
    Ok(hash_entry_mut(db, key, now_ms)?.expect("just created"))
}

/// Redis's `checkStringLength`: refuses strings that would grow past the limit.
pub fn check_string_length(length: u64) -> Result<()> {
    if length > STRING_BYTES_MAX as u64 {
        Err(Error::STRING_TOO_LONG)
    } else {
        Ok(())
    }
}

pub fn text_of(value: i64) -> Bytes {
    Bytes::from(value.to_string())
}

/// How an expiry argument is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeUnit {
    Seconds,
    Milliseconds,
}

/// An expiry as given by a command: relative (`EX`, `EXPIRE`) or absolute (`EXAT`, `EXPIREAT`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExpireArg {
    pub amount: i64,
    pub unit: TimeUnit,
    pub absolute: bool,
}

impl ExpireArg {
    /// The absolute time in milliseconds, or `None` if it overflows.
    pub fn at_ms(&self, now_ms: TimeMs) -> Option<i64> {
        let millis = match self.unit {
            TimeUnit::Seconds => self.amount.checked_mul(1000)?,
            TimeUnit::Milliseconds => self.amount,
        };
        if self.absolute {
            Some(millis)
        } else {
            millis.checked_add(now_ms as i64)
        }
    }
}
