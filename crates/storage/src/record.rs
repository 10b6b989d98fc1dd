//! Record framing on disk: `[u32 length][u32 crc32c(payload)][payload]`, little-endian.
//!
//! A zero length is never written, so a run of zeroes (what a crash can leave after the
//! last durable byte) never reads as a record.

use concord_core::limits::LOG_RECORD_BYTES_MAX;

pub const HEADER_BYTES: usize = 8;

pub fn frame(payload: &[u8], out: &mut Vec<u8>) {
    assert!(!payload.is_empty() && payload.len() <= LOG_RECORD_BYTES_MAX, "record of {} bytes", payload.len());
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(&crc32c::crc32c(payload).to_le_bytes());
    out.extend_from_slice(payload);
}

/// What is found at an offset of a log file.
#[derive(Debug, PartialEq, Eq)]
pub enum Read<'a> {
    /// A whole, intact record: its payload and the offset after it.
    Record(&'a [u8], usize),
    /// The end of the data.
    End,
    /// Not a valid record, for the given reason.
    Bad(&'static str),
}

pub fn read_at(bytes: &[u8], offset: usize) -> Read<'_> {
    let rest = &bytes[offset..];
    if rest.is_empty() {
        return Read::End;
    }
    if rest.len() < HEADER_BYTES {
        return Read::Bad("incomplete record header");
    }
    let length = u32::from_le_bytes(rest[0..4].try_into().expect("4 bytes")) as usize;
    let checksum = u32::from_le_bytes(rest[4..8].try_into().expect("4 bytes"));
    if length == 0 || length > LOG_RECORD_BYTES_MAX {
        return Read::Bad("invalid record length");
    }
    if rest.len() - HEADER_BYTES < length {
        return Read::Bad("incomplete record");
    }
    let payload = &rest[HEADER_BYTES..HEADER_BYTES + length];
    if crc32c::crc32c(payload) != checksum {
        return Read::Bad("checksum mismatch");
    }
    Read::Record(payload, offset + HEADER_BYTES + length)
}

/// Whether an intact record starts anywhere after `offset`: tells a torn tail (nothing valid
/// follows the damage) from corruption in the middle of the log (valid records follow it).
pub fn any_record_after(bytes: &[u8], offset: usize) -> bool {
    (offset + 1..bytes.len()).any(|at| matches!(read_at(bytes, at), Read::Record(..)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_and_damage_is_seen() {
        let mut bytes = Vec::new();
        frame(b"hello", &mut bytes);
        frame(b"world", &mut bytes);
        let Read::Record(first, next) = read_at(&bytes, 0) else { panic!() };
        assert_eq!(first, b"hello");
        let Read::Record(second, end) = read_at(&bytes, next) else { panic!() };
        assert_eq!(second, b"world");
        assert_eq!(read_at(&bytes, end), Read::End);
        assert_eq!(read_at(&bytes[..end - 1], next), Read::Bad("incomplete record"));
        assert_eq!(read_at(&[0u8; 16], 0), Read::Bad("invalid record length"));
        let mut damaged = bytes.clone();
        damaged[10] ^= 1;
        assert_eq!(read_at(&damaged, 0), Read::Bad("checksum mismatch"));
        assert!(any_record_after(&damaged, 0));
        assert!(!any_record_after(&bytes[..end - 1], next));
    }
}
