//! Bitmaps (`bitops.c`): strings read and changed bit by bit, one command per file.
//!
//! - [`bitcount`] — BITCOUNT key [start end [BYTE | BIT]]
//! - [`bitfield`] — BITFIELD key [GET encoding offset | [OVERFLOW WRAP | SAT | FAIL] SET encoding offset value | INCRBY encoding offset increment ...]
//! - [`bitfield_ro`] — BITFIELD_RO key [GET encoding offset ...]
//! - [`bitop`] — BITOP AND | OR | XOR | NOT destkey key [key ...]
//! - [`bitpos`] — BITPOS key bit [start [end [BYTE | BIT]]]
//! - [`getbit`] — GETBIT key offset
//! - [`setbit`] — SETBIT key offset value

pub mod bitcount;
pub mod bitfield;
pub mod bitfield_ro;
pub mod bitop;
pub mod bitpos;
pub mod getbit;
pub mod setbit;
