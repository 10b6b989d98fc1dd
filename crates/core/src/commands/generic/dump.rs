//! DUMP key
//!
//! The payload is Concord's own: the value's image (as snapshots record it), a format version
//! and a CRC32C of both. RESTORE checks all three, so a damaged or foreign payload is a clean
//! error, never a half-built key.

use crate::commands::prelude::*;
use crate::state_machine::ValueImage;

pub const SPEC: CommandSpec = CommandSpec {
    name: "dump",
    arity: 2,
    flags: &["readonly"],
    first_key: 1,
    last_key: 1,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["RO", "access"], begin_index: 1, last_key: 0, key_step: 1 }],
    acl_categories: &["@keyspace", "@read", "@slow"],
    tips: &["nondeterministic_output"],
    group: "generic",
    since: "2.6.0",
    complexity: "O(1) to access the key and additional O(N*M) to serialize it, where N is the number of Redis objects composing the value and M their average size. For small string values the time complexity is thus O(1)+O(1*M) where M is small, so simply O(1).",
    summary: "Return a serialized version of the value stored at the specified key.",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

/// The version of the payload encoding, after the image.
pub const DUMP_FORMAT_VERSION: u16 = 1;

pub struct Dump {
    key: Bytes,
}

/// A value as a DUMP payload.
pub fn payload_of(value: &Value) -> Bytes {
    let mut bytes = postcard::to_stdvec(&ValueImage::of(value)).expect("value images encode");
    bytes.extend_from_slice(&DUMP_FORMAT_VERSION.to_le_bytes());
    let checksum = crc32c::crc32c(&bytes);
    bytes.extend_from_slice(&checksum.to_le_bytes());
    Bytes::from(bytes)
}

/// The image in a DUMP payload, if its version and checksum are right.
pub(crate) fn image_of(payload: &[u8]) -> Result<ValueImage> {
    let wrong = || Error::err("DUMP payload version or checksum are wrong");
    if payload.len() < 6 {
        return Err(wrong());
    }
    let (body, checksum) = payload.split_at(payload.len() - 4);
    if crc32c::crc32c(body).to_le_bytes() != checksum {
        return Err(wrong());
    }
    let (image, version) = body.split_at(body.len() - 2);
    if u16::from_le_bytes([version[0], version[1]]) != DUMP_FORMAT_VERSION {
        return Err(wrong());
    }
    postcard::from_bytes(image).map_err(|_| Error::err("Bad data format"))
}

impl Command for Dump {
    type Output = Option<Bytes>;

    fn parse(args: &mut Args) -> Result<Self> {
        Ok(Dump { key: args.next_arg()? })
    }

    fn reply(payload: Option<Bytes>) -> Reply {
        Reply::optional_bulk(payload)
    }
}

impl ReadCommand for Dump {
    fn read(&self, keyspace: &Keyspace, ctx: &mut ReadCtx) -> Result<Option<Bytes>> {
        Ok(keyspace.db(ctx.db).get(&self.key, ctx.now_ms).map(|entry| payload_of(&entry.value)))
    }
}
