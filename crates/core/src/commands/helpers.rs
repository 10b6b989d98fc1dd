//! Typed access to values, shared by the commands.

use crate::command::WriteCtx;
use crate::error::{Error, Result};
use crate::keyspace::{
    Blob, Db, Encodings, Entry, HashValue, Keyspace, ListValue, SetValue, StreamValue, TableHasher, Value, ZSetValue,
};
use crate::limits::STRING_BYTES_MAX;
use crate::notifications::EventClass;
use crate::types::TimeMs;
use bytes::Bytes;

/// A type of value a key can hold, for typed lookups that answer WRONGTYPE otherwise.
pub trait ValueType: Default + Sized {
    fn of(value: &Value) -> Option<&Self>;
    fn of_mut(value: &mut Value) -> Option<&mut Self>;
    fn wrap(self) -> Value;
    /// Whether the value holds nothing (an empty collection is never stored).
    fn is_void(&self) -> bool;
}

macro_rules! collection_type {
    ($type:ty, $variant:ident) => {
        impl ValueType for $type {
            fn of(value: &Value) -> Option<&Self> {
                match value {
                    Value::$variant(inner) => Some(inner),
                    _ => None,
                }
            }
            fn of_mut(value: &mut Value) -> Option<&mut Self> {
                match value {
                    Value::$variant(inner) => Some(inner),
                    _ => None,
                }
            }
            fn wrap(self) -> Value {
                Value::$variant(self.into())
            }
            fn is_void(&self) -> bool {
                self.is_empty()
            }
        }
    };
}

collection_type!(HashValue, Hash);
collection_type!(ListValue, List);
collection_type!(SetValue, Set);
collection_type!(ZSetValue, ZSet);
collection_type!(StreamValue, Stream);

impl ValueType for Blob {
    fn of(value: &Value) -> Option<&Self> {
        match value {
            Value::Str(blob) => Some(blob),
            _ => None,
        }
    }
    fn of_mut(value: &mut Value) -> Option<&mut Self> {
        match value {
            Value::Str(blob) => Some(blob),
            _ => None,
        }
    }
    fn wrap(self) -> Value {
        Value::Str(self)
    }
    fn is_void(&self) -> bool {
        false
    }
}

/// The value of type `T` at `key`, if any; WRONGTYPE if the key holds another type.
pub fn value_at<'a, T: ValueType>(db: &'a Db, key: &[u8], now_ms: TimeMs) -> Result<Option<&'a T>> {
    match db.get(key, now_ms) {
        None => Ok(None),
        Some(entry) => T::of(&entry.value).map(Some).ok_or(Error::WRONG_TYPE),
    }
}

/// The value of type `T` at `key` for writing, with its entry's version, if any.
pub fn value_mut<'a, T: ValueType>(
    db: &'a mut Db,
    key: &[u8],
    now_ms: TimeMs,
) -> Result<Option<(&'a mut T, &'a mut u64)>> {
    match db.get_mut(key, now_ms) {
        None => Ok(None),
        Some(Entry { value, version, .. }) => {
            T::of_mut(value).map(|inner| Some((inner, version))).ok_or(Error::WRONG_TYPE)
        }
    }
}

/// The value of type `T` at `key` for writing, created empty if missing (the version is set
/// to `version` either way). The caller leaves a collection non-empty, or calls
/// [`remove_if_void`].
pub fn value_or_create<'a, T: ValueType>(
    db: &'a mut Db,
    key: &[u8],
    now_ms: TimeMs,
    version: u64,
) -> Result<&'a mut T> {
    if db.get_mut(key, now_ms).is_none() {
        db.insert(key, T::default().wrap(), None, version);
    }
    let (value, entry_version) = value_mut::<T>(db, key, now_ms)?.expect("just created");
    *entry_version = version;
    Ok(value)
}

/// The collection of type `T` at `key` for writing (created empty if missing, its version set
/// to the entry's index), with what changing it needs: the encodings and the hasher its tables
/// use.
pub fn collection_or_create<'a, T: ValueType>(
    keyspace: &'a mut Keyspace,
    ctx: &WriteCtx,
    key: &[u8],
) -> Result<(&'a mut T, &'a Encodings, TableHasher)> {
    let (db, encodings) = keyspace.db_and_encodings(ctx.db);
    let hasher = db.hasher();
    Ok((value_or_create::<T>(db, key, ctx.now_ms, ctx.index)?, encodings, hasher))
}

/// The values of type `T` at `keys`, in order (`None` where a key is missing); WRONGTYPE at
/// the first key that holds another type.
pub fn values_at<'a, T: ValueType>(db: &'a Db, keys: &[Bytes], now_ms: TimeMs) -> Result<Vec<Option<&'a T>>> {
    keys.iter().map(|key| value_at::<T>(db, key, now_ms)).collect()
}

/// Stores `value` at `key` as the `*STORE` commands do: it replaces whatever the key held
/// (and its expiry), or, when it is void, the key is removed. A stored key's version becomes
/// the entry's index.
/// Returns whether the key changed (stored, or removed).
pub fn store_value<T: ValueType>(db: &mut Db, key: &[u8], value: T, ctx: &WriteCtx) -> bool {
    if value.is_void() {
        db.get_mut(key, ctx.now_ms).is_some() && db.remove(key).is_some()
    } else {
        db.insert(key, value.wrap(), None, ctx.index);
        true
    }
}

/// [`store_value`] in the command's database, then the event Redis raises: `event` (of
/// `class`) for a stored value, `del` for a key a void result removed.
pub fn store_value_notifying<T: ValueType>(
    keyspace: &mut Keyspace,
    ctx: &WriteCtx,
    key: &[u8],
    value: T,
    (class, event): (EventClass, &'static str),
) {
    let void = value.is_void();
    if store_value(keyspace.db_mut(ctx.db), key, value, ctx) {
        match void {
            false => keyspace.notify(class, event, ctx.db, key),
            true => keyspace.notify(EventClass::GENERIC, "del", ctx.db, key),
        }
    }
}

/// Removes `key` if it holds an empty collection (Redis never keeps one); true if it did.
pub fn remove_if_void<T: ValueType>(db: &mut Db, key: &[u8]) -> bool {
    let void = db
        .get(key, 0)
        .or_else(|| db.table().get(key).map(|entry| &**entry))
        .is_some_and(|entry| T::of(&entry.value).is_some_and(T::is_void));
    if void {
        db.remove(key);
        // Created by this command and left empty: subscribers never see it created.
        db.retract_new(key);
    }
    void
}

/// The string at `key`, if any; WRONGTYPE if the key holds something else.
pub fn string_at<'a>(db: &'a Db, key: &[u8], now_ms: TimeMs) -> Result<Option<&'a Blob>> {
    value_at::<Blob>(db, key, now_ms)
}

/// The hash at `key`, if any; WRONGTYPE if the key holds something else.
pub fn hash_at<'a>(db: &'a Db, key: &[u8], now_ms: TimeMs) -> Result<Option<&'a HashValue>> {
    value_at::<HashValue>(db, key, now_ms)
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
    value_mut::<HashValue>(db, key, now_ms)
}

/// A HELP reply: one status line per entry.
pub fn help(lines: &[&'static str]) -> crate::reply::Reply {
    crate::reply::Reply::Array(lines.iter().map(|line| crate::reply::Reply::status(line)).collect())
}

/// Most elements a random pick with repeats (a negative count) returns.
pub const RANDOM_PICKS_MAX: usize = crate::limits::SCAN_COUNT_MAX * 100;

/// Positions of a random pick of `count` out of `len` elements, as Redis's random-member
/// commands choose: a negative count draws independently (repeats allowed), a count of at least
/// `len` takes everything, and a smaller one distinct elements.
pub fn random_positions(len: usize, count: i64, rng: &mut crate::rng::Rng) -> Vec<usize> {
    if len == 0 {
        return Vec::new();
    }
    if count < 0 {
        let wanted = (count.unsigned_abs() as usize).min(RANDOM_PICKS_MAX);
        return (0..wanted).map(|_| rng.below(len as u64) as usize).collect();
    }
    let count = count as usize;
    if count >= len {
        return (0..len).collect();
    }
    // A partial Fisher-Yates shuffle of the positions.
    let mut positions: Vec<usize> = (0..len).collect();
    for i in 0..count {
        let j = i + rng.below((len - i) as u64) as usize;
        positions.swap(i, j);
    }
    positions.truncate(count);
    positions
}

/// A blocking command's timeout in seconds (a float; 0 waits for ever), as milliseconds, with
/// Redis's errors.
pub fn parse_block_timeout(arg: &[u8]) -> Result<Option<u64>> {
    let seconds = crate::args::parse_f64(arg).ok_or_else(|| Error::err("timeout is not a float or out of range"))?;
    let millis = (seconds * 1000.0).ceil();
    if millis < 0.0 {
        return Err(Error::err("timeout is negative"));
    }
    if millis > (crate::limits::BLOCK_TIMEOUT_SECS_MAX * 1000) as f64 {
        return Err(Error::err("timeout is out of range"));
    }
    Ok((millis > 0.0).then_some(millis as u64))
}

/// Implements a blocking command's write (outside a `Block` request: in MULTI, it answers at
/// once) on top of its [`crate::command::BlockingCommand`] implementation.
macro_rules! blocking_write {
    ($type:ty) => {
        impl WriteCommand for $type {
            fn write(&self, keyspace: &mut Keyspace, ctx: &WriteCtx) -> Result<Reply> {
                crate::command::serve_or_time_out(self, keyspace, ctx)
            }
        }
    };
}
pub(crate) use blocking_write;

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

/// Bytes of a stored element, as a reply value.
pub fn bytes_of(element: &[u8]) -> Bytes {
    Bytes::copy_from_slice(element)
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

/// A string value built in place: `fill` writes into an empty buffer that becomes the value
/// without another copy (a long result, such as a bitmap, is not copied again).
pub fn build_blob(fill: impl FnOnce(&mut Vec<u8>)) -> Blob {
    let mut blob = Blob::EMPTY;
    fill(blob.make_mut());
    blob.settle();
    blob
}
