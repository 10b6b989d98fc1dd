//! Command errors, worded exactly as Redis words them so clients and tests that match on
//! the text keep working.

use bytes::Bytes;
use std::borrow::Cow;
use std::fmt;

/// An error reply, including its code prefix (`ERR`, `WRONGTYPE`, ...).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error(Cow<'static, str>);

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub const WRONG_TYPE: Error = Error::fixed("WRONGTYPE Operation against a key holding the wrong kind of value");
    pub const SYNTAX: Error = Error::fixed("ERR syntax error");
    pub const NOT_INTEGER: Error = Error::fixed("ERR value is not an integer or out of range");
    pub const NOT_FLOAT: Error = Error::fixed("ERR value is not a valid float");
    pub const OVERFLOW: Error = Error::fixed("ERR increment or decrement would overflow");
    pub const NO_SUCH_KEY: Error = Error::fixed("ERR no such key");
    pub const DB_INDEX_OUT_OF_RANGE: Error = Error::fixed("ERR DB index is out of range");
    pub const SAME_OBJECT: Error = Error::fixed("ERR source and destination objects are the same");
    pub const STRING_TOO_LONG: Error = Error::fixed("ERR string exceeds maximum allowed size (proto-max-bulk-len)");
    pub const INVALID_CURSOR: Error = Error::fixed("ERR invalid cursor");
    pub const HASH_NOT_INTEGER: Error = Error::fixed("ERR hash value is not an integer");
    pub const HASH_NOT_FLOAT: Error = Error::fixed("ERR hash value is not a float");
    pub const NAN_OR_INFINITY: Error = Error::fixed("ERR increment would produce NaN or Infinity");

    pub const fn fixed(text: &'static str) -> Error {
        Error(Cow::Borrowed(text))
    }

    pub fn new(text: impl Into<String>) -> Error {
        Error(Cow::Owned(text.into()))
    }

    /// `ERR <text>`.
    pub fn err(text: impl fmt::Display) -> Error {
        Error(Cow::Owned(format!("ERR {text}")))
    }

    pub fn wrong_arity(command: &str) -> Error {
        Error::err(format_args!("wrong number of arguments for '{}' command", command.to_ascii_lowercase()))
    }

    pub fn unknown_command(name: &[u8], args: &[Bytes]) -> Error {
        let mut shown = String::new();
        for arg in args {
            // Redis stops listing once the text grows past 128 bytes.
            if shown.len() >= 128 {
                break;
            }
            let text = String::from_utf8_lossy(arg);
            let room = 128 - shown.len();
            shown.push('\'');
            shown.push_str(truncate_chars(&text, room));
            shown.push_str("' ");
        }
        Error::err(format_args!(
            "unknown command '{}', with args beginning with: {}",
            truncate_chars(&String::from_utf8_lossy(name), 128),
            shown
        ))
    }

    pub fn unknown_subcommand(command: &str, subcommand: &[u8]) -> Error {
        Error::err(format_args!(
            "unknown subcommand '{}'. Try {} HELP.",
            truncate_chars(&String::from_utf8_lossy(subcommand), 128),
            command.to_ascii_uppercase()
        ))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_bytes(self) -> Bytes {
        match self.0 {
            Cow::Borrowed(text) => Bytes::from_static(text.as_bytes()),
            Cow::Owned(text) => Bytes::from(text),
        }
    }
}

fn truncate_chars(text: &str, bytes_max: usize) -> &str {
    if text.len() <= bytes_max {
        return text;
    }
    let mut end = bytes_max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}
