//! HyperLogLog, in Redis's own representation (`hyperloglog.c`), byte for byte: a value written
//! here reads back in Redis and the reverse, and both estimate the same cardinality.
//!
//! A HyperLogLog is a string: a 16-byte header (`HYLL`, the encoding, three unused bytes, a
//! cached cardinality, little endian, whose top bit marks it stale) and then 16384 6-bit
//! registers, either *dense* (packed, 12288 bytes) or *sparse* (run lengths: `ZERO` runs of up
//! to 64 zero registers in one byte `00xxxxxx`, `XZERO` runs of up to 16384 in two bytes
//! `01xxxxxx xxxxxxxx`, and `VAL` runs of up to 4 registers holding 1 to 32 in one byte
//! `1vvvvvxx`). An element is hashed with MurmurHash64A (seed `0xadc83b19`): the low 14 bits
//! pick the register, and the run of zeros above them, plus one, is the value it offers. A
//! sparse value turns dense once a register needs more than 32 or it would grow past
//! [`HLL_SPARSE_BYTES_MAX`] (Redis's `hll-sparse-max-bytes` default). The estimate is Redis 7's
//! (Ertl, "New cardinality estimation algorithms for HyperLogLog sketches", 2017).
//!
//! **The cached cardinality.** Redis's PFCOUNT of one key stores what it computed in the header
//! (a write hidden in a read). In Concord too PFCOUNT is a write when the cache is stale, so
//! it goes through the log and every replica caches the same bytes; when the cache is valid
//! it changes nothing and is answered as a read (`commands::unchanged`). PFADD and PFMERGE
//! mark the cache stale as Redis's do (they set its top bit and keep the other seven bytes).
//!
//! Corrupted values (anything can be SET) never panic, loop or read out of bounds: where Redis
//! reads the string's terminating zero byte or writes into the spare room past its end while
//! splitting an opcode, this module reads and writes scratch zero bytes that it cuts off
//! afterwards, so even a damaged value changes exactly as it would in Redis.

use crate::limits::HLL_SPARSE_BYTES_MAX;

/// Header bytes: magic, encoding, three unused, cached cardinality.
pub const HEADER_BYTES: usize = 16;
/// Bits of the hash that pick the register.
const P: u32 = 14;
/// Bits of the hash whose run of zeros is counted.
const Q: usize = 64 - P as usize;
/// Registers in every HyperLogLog.
pub const REGISTERS: usize = 1 << P;
const REGISTER_BITS: usize = 6;
const REGISTER_MAX: u32 = (1 << REGISTER_BITS) - 1;
/// Length of a dense HyperLogLog, header included.
pub const DENSE_BYTES: usize = HEADER_BYTES + (REGISTERS * REGISTER_BITS).div_ceil(8);
const MAGIC: &[u8; 4] = b"HYLL";
const DENSE: u8 = 0;
const SPARSE: u8 = 1;
const SEED: u64 = 0xadc8_3b19;
/// Where the encoding byte is, and the cache byte whose top bit marks the cache stale.
const ENCODING_AT: usize = 4;
const CACHE_STALE_AT: usize = 15;
const CACHE_STALE_BIT: u8 = 0x80;

const SPARSE_VAL_MAX_VALUE: u8 = 32;
const SPARSE_VAL_MAX_LEN: usize = 4;
const SPARSE_ZERO_MAX_LEN: usize = 64;
const SPARSE_XZERO_MAX_LEN: usize = 16384;
/// 0.5 / ln 2.
const ALPHA_INF: f64 = 0.721_347_520_444_481_7;

/// How the registers are stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    Dense,
    Sparse,
}

impl Encoding {
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Dense => "dense",
            Encoding::Sparse => "sparse",
        }
    }
}

/// Why a string cannot be used as a HyperLogLog.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Invalid {
    /// Not a HyperLogLog at all: too short, wrong magic, unknown encoding, or a dense one of the
    /// wrong length (checked before any use).
    NotHll,
    /// A sparse one whose opcodes do not cover exactly the registers (found while using it).
    Corrupt,
}

impl From<Invalid> for crate::error::Error {
    fn from(invalid: Invalid) -> crate::error::Error {
        match invalid {
            Invalid::NotHll => crate::error::Error::fixed("WRONGTYPE Key is not a valid HyperLogLog string value."),
            Invalid::Corrupt => crate::error::Error::fixed("INVALIDOBJ Corrupted HLL object detected"),
        }
    }
}

type Result<T> = std::result::Result<T, Invalid>;

/// Redis's `isHLLObjectOrReply` checks: the encoding of a string that may be used as a
/// HyperLogLog.
pub fn encoding(value: &[u8]) -> Result<Encoding> {
    if value.len() < HEADER_BYTES || &value[..4] != MAGIC {
        return Err(Invalid::NotHll);
    }
    match value[ENCODING_AT] {
        DENSE if value.len() == DENSE_BYTES => Ok(Encoding::Dense),
        SPARSE => Ok(Encoding::Sparse),
        _ => Err(Invalid::NotHll),
    }
}

/// A new, empty HyperLogLog: sparse, one `XZERO` run over every register, cache valid at 0.
pub fn empty() -> Vec<u8> {
    let mut hll = Vec::with_capacity(HEADER_BYTES + 2 * REGISTERS.div_ceil(SPARSE_XZERO_MAX_LEN));
    hll.extend_from_slice(MAGIC);
    hll.push(SPARSE);
    hll.resize(HEADER_BYTES, 0);
    let mut left = REGISTERS;
    while left > 0 {
        let run = left.min(SPARSE_XZERO_MAX_LEN);
        hll.extend_from_slice(&xzero(run));
        left -= run;
    }
    hll
}

/// Marks the cached cardinality stale (its other bytes stay, as in Redis).
pub fn invalidate_cache(hll: &mut [u8]) {
    hll[CACHE_STALE_AT] |= CACHE_STALE_BIT;
}

/// MurmurHash2, 64-bit version, reading the input as little endian (as Redis does on every
/// architecture).
pub fn murmur64a(key: &[u8], seed: u64) -> u64 {
    const M: u64 = 0xc6a4_a793_5bd1_e995;
    const R: u32 = 47;
    let mut h = seed ^ (key.len() as u64).wrapping_mul(M);
    let mut chunks = key.chunks_exact(8);
    for chunk in &mut chunks {
        let mut k = u64::from_le_bytes(chunk.try_into().expect("eight bytes"));
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h ^= k;
        h = h.wrapping_mul(M);
    }
    let tail = chunks.remainder();
    if !tail.is_empty() {
        for (at, byte) in tail.iter().enumerate() {
            h ^= u64::from(*byte) << (8 * at);
        }
        h = h.wrapping_mul(M);
    }
    h ^= h >> R;
    h = h.wrapping_mul(M);
    h ^= h >> R;
    h
}

/// The register `element` falls in and the value it offers (its hash's run of zeros above the
/// register bits, plus one: 1 to 51).
pub fn pattern(element: &[u8]) -> (usize, u8) {
    let hash = murmur64a(element, SEED);
    let index = (hash as usize) & (REGISTERS - 1);
    let rest = (hash >> P) | (1 << Q);
    (index, rest.trailing_zeros() as u8 + 1)
}

/// Adds an element; true if a register grew (the estimate may have changed).
pub fn add(hll: &mut Vec<u8>, element: &[u8]) -> Result<bool> {
    let (index, count) = pattern(element);
    set_register(hll, index, count)
}

/// Raises register `index` to `count` if it is lower; true if it was.
pub fn set_register(hll: &mut Vec<u8>, index: usize, count: u8) -> Result<bool> {
    match hll[ENCODING_AT] {
        DENSE => Ok(dense_set_if_greater(&mut hll[HEADER_BYTES..], index, count)),
        SPARSE => sparse_set(hll, index, count),
        _ => Err(Invalid::Corrupt),
    }
}

// ---- Dense registers: 6 bits each, from the low bits of each byte up. ----

fn dense_get(registers: &[u8], index: usize) -> u8 {
    let byte = index * REGISTER_BITS / 8;
    let shift = (index * REGISTER_BITS) & 7;
    let b0 = u32::from(registers[byte]);
    // The last register's next byte is past the end (Redis reads the string's terminator).
    let b1 = u32::from(registers.get(byte + 1).copied().unwrap_or(0));
    (((b0 >> shift) | (b1 << (8 - shift))) & REGISTER_MAX) as u8
}

fn dense_set(registers: &mut [u8], index: usize, value: u8) {
    let byte = index * REGISTER_BITS / 8;
    let shift = (index * REGISTER_BITS) & 7;
    let value = u32::from(value);
    registers[byte] = ((u32::from(registers[byte]) & !(REGISTER_MAX << shift)) | (value << shift)) as u8;
    if let Some(next) = registers.get_mut(byte + 1) {
        let high = 8 - shift;
        *next = ((u32::from(*next) & !(REGISTER_MAX >> high)) | (value >> high)) as u8;
    }
}

fn dense_set_if_greater(registers: &mut [u8], index: usize, count: u8) -> bool {
    if count > dense_get(registers, index) {
        dense_set(registers, index, count);
        true
    } else {
        false
    }
}

// ---- Sparse opcodes. ----

fn is_zero(op: u8) -> bool {
    op & 0xc0 == 0
}

fn is_xzero(op: u8) -> bool {
    op & 0xc0 == 0x40
}

fn is_val(op: u8) -> bool {
    op & 0x80 != 0
}

fn zero_len(op: u8) -> usize {
    usize::from(op & 0x3f) + 1
}

fn xzero_len(op: u8, next: u8) -> usize {
    ((usize::from(op & 0x3f) << 8) | usize::from(next)) + 1
}

fn val_value(op: u8) -> u8 {
    ((op >> 2) & 0x1f) + 1
}

fn val_len(op: u8) -> usize {
    usize::from(op & 0x3) + 1
}

fn val(value: u8, len: usize) -> u8 {
    ((value - 1) << 2) | (len - 1) as u8 | 0x80
}

fn zero(len: usize) -> u8 {
    (len - 1) as u8
}

fn xzero(len: usize) -> [u8; 2] {
    let l = len - 1;
    [(l >> 8) as u8 | 0x40, (l & 0xff) as u8]
}

/// The opcodes of a sparse body, as (register value, run length); `None` for an `XZERO` cut
/// off by the end of the string is never produced: its second byte reads as zero, as Redis
/// reads the string's terminator there.
fn sparse_runs(body: &[u8]) -> impl Iterator<Item = (u8, usize)> + '_ {
    let mut at = 0;
    std::iter::from_fn(move || {
        let op = *body.get(at)?;
        Some(if is_zero(op) {
            at += 1;
            (0, zero_len(op))
        } else if is_xzero(op) {
            let run = xzero_len(op, body.get(at + 1).copied().unwrap_or(0));
            at += 2;
            (0, run)
        } else {
            at += 1;
            (val_value(op), val_len(op))
        })
    })
}

/// Visits every run of a sparse body in order, as (first register, value, length); `Corrupt`
/// unless the runs cover exactly [`REGISTERS`]. A run past the last register is corrupt
/// wherever it is, as in Redis since its fix for CVE-2025-32023 (also in the Redis 7.0.15 that
/// Debian ships): 7.0.15 as released stopped at a `VAL` run past the end and accepted what came
/// before it.
fn for_each_run(body: &[u8], mut visit: impl FnMut(usize, u8, usize)) -> Result<()> {
    let mut index = 0usize;
    for (value, run) in sparse_runs(body) {
        if index + run > REGISTERS {
            return Err(Invalid::Corrupt);
        }
        visit(index, value, run);
        index += run;
    }
    if index == REGISTERS {
        Ok(())
    } else {
        Err(Invalid::Corrupt)
    }
}

/// Visits every register that a sparse body sets, with its value (see [`for_each_run`]).
fn for_each_set_register(body: &[u8], mut visit: impl FnMut(usize, u8)) -> Result<()> {
    for_each_run(body, |first, value, run| {
        if value != 0 {
            (first..first + run).for_each(|index| visit(index, value));
        }
    })
}

/// Turns a sparse HyperLogLog dense (header kept, cache included); true if it was sparse.
pub fn to_dense(hll: &mut Vec<u8>) -> Result<bool> {
    if hll[ENCODING_AT] == DENSE {
        return Ok(false);
    }
    let mut dense = vec![0u8; DENSE_BYTES];
    dense[..HEADER_BYTES].copy_from_slice(&hll[..HEADER_BYTES]);
    dense[ENCODING_AT] = DENSE;
    let registers = &mut dense[HEADER_BYTES..];
    for_each_set_register(&hll[HEADER_BYTES..], |index, value| dense_set(registers, index, value))?;
    *hll = dense;
    Ok(true)
}

/// Spare bytes past the end while a sparse value is changed: the string's terminator, which
/// Redis may read, and the three bytes of room it reserves before splitting an opcode.
const SPARSE_SCRATCH: usize = 4;

/// Redis's `hllSparseSet`.
fn sparse_set(hll: &mut Vec<u8>, index: usize, count: u8) -> Result<bool> {
    if count > SPARSE_VAL_MAX_VALUE {
        return promote(hll, index, count);
    }
    let mut end = hll.len();
    hll.resize(end + SPARSE_SCRATCH, 0);
    let outcome = sparse_set_within(hll, &mut end, index, count);
    hll.truncate(end);
    match outcome {
        SparseOutcome::Unchanged => Ok(false),
        SparseOutcome::Updated => {
            invalidate_cache(hll);
            Ok(true)
        }
        SparseOutcome::Promote => promote(hll, index, count),
        SparseOutcome::Corrupt => Err(Invalid::Corrupt),
    }
}

enum SparseOutcome {
    Unchanged,
    Updated,
    Promote,
    Corrupt,
}

/// The body of `hllSparseSet` on `buf[..*end]`, with scratch room after it.
fn sparse_set_within(buf: &mut [u8], end: &mut usize, index: usize, count: u8) -> SparseOutcome {
    // Step 1: the opcode covering the register, with the one before it.
    let mut p = HEADER_BYTES;
    let mut first = 0usize;
    let mut prev = None;
    let mut span = 0usize;
    while p < *end {
        let op = buf[p];
        let mut op_len = 1;
        span = if is_zero(op) {
            zero_len(op)
        } else if is_val(op) {
            val_len(op)
        } else {
            op_len = 2;
            xzero_len(op, buf[p + 1])
        };
        if index < first + span {
            break;
        }
        prev = Some(p);
        p += op_len;
        first += span;
    }
    if span == 0 || p >= *end {
        return SparseOutcome::Corrupt;
    }
    let op = buf[p];
    let next = if is_xzero(op) { p + 2 } else { p + 1 };
    let next = (next < *end).then_some(next);

    // Step 2: the trivial updates in place, else the opcode split in up to three.
    let mut updated_in_place = false;
    if is_val(op) {
        if val_value(op) >= count {
            return SparseOutcome::Unchanged;
        }
        if val_len(op) == 1 {
            buf[p] = val(count, 1);
            updated_in_place = true;
        }
    } else if is_zero(op) && zero_len(op) == 1 {
        buf[p] = val(count, 1);
        updated_in_place = true;
    }
    if !updated_in_place {
        let last = first + span - 1;
        let mut seq = [0u8; 5];
        let mut n = 0;
        if is_val(op) {
            let current = val_value(op);
            if index != first {
                seq[n] = val(current, index - first);
                n += 1;
            }
            seq[n] = val(count, 1);
            n += 1;
            if index != last {
                seq[n] = val(current, last - index);
                n += 1;
            }
        } else {
            if index != first {
                push_zeros(&mut seq, &mut n, index - first);
            }
            seq[n] = val(count, 1);
            n += 1;
            if index != last {
                push_zeros(&mut seq, &mut n, last - index);
            }
        }
        // Step 3: the new sequence replaces the opcode, moving what follows.
        let old_len = if is_xzero(op) { 2 } else { 1 };
        let delta = n as isize - old_len as isize;
        if delta > 0 && *end + delta as usize > HLL_SPARSE_BYTES_MAX {
            return SparseOutcome::Promote;
        }
        if let Some(next) = next {
            if delta != 0 {
                buf.copy_within(next..*end, next.wrapping_add_signed(delta));
            }
        }
        *end = end.wrapping_add_signed(delta);
        buf[p..p + n].copy_from_slice(&seq[..n]);
    }

    // Step 4: merge adjacent equal VAL runs, scanning up to five opcodes from the previous one.
    let mut p = prev.unwrap_or(HEADER_BYTES);
    let mut scan = 5;
    while p < *end && scan > 0 {
        scan -= 1;
        let op = buf[p];
        if is_xzero(op) {
            p += 2;
            continue;
        }
        if is_zero(op) {
            p += 1;
            continue;
        }
        if p + 1 < *end && is_val(buf[p + 1]) && val_value(op) == val_value(buf[p + 1]) {
            let len = val_len(op) + val_len(buf[p + 1]);
            if len <= SPARSE_VAL_MAX_LEN {
                buf[p + 1] = val(val_value(op), len);
                buf.copy_within(p + 1..*end + 1, p);
                *end -= 1;
                continue;
            }
        }
        p += 1;
    }
    SparseOutcome::Updated
}

/// Appends a run of `len` zero registers to an opcode sequence: `ZERO` when it fits, else `XZERO`.
fn push_zeros(seq: &mut [u8; 5], n: &mut usize, len: usize) {
    if len > SPARSE_ZERO_MAX_LEN {
        seq[*n..*n + 2].copy_from_slice(&xzero(len));
        *n += 2;
    } else {
        seq[*n] = zero(len);
        *n += 1;
    }
}

fn promote(hll: &mut Vec<u8>, index: usize, count: u8) -> Result<bool> {
    to_dense(hll)?;
    Ok(dense_set_if_greater(&mut hll[HEADER_BYTES..], index, count))
}

/// Raises `max[i]` to register `i` of `hll` (Redis's `hllMerge`); `hll` passed [`encoding`].
pub fn merge_into(max: &mut [u8; REGISTERS], hll: &[u8]) -> Result<()> {
    let body = &hll[HEADER_BYTES..];
    if hll[ENCODING_AT] == DENSE {
        for (index, slot) in max.iter_mut().enumerate() {
            *slot = (*slot).max(dense_get(body, index));
        }
        Ok(())
    } else {
        for_each_set_register(body, |index, value| max[index] = max[index].max(value))
    }
}

/// PFADD's update: adds each element in turn and marks the cache stale if a register grew.
/// True if one did. On `Corrupt` the elements added before it stay added, as in Redis.
pub fn add_all<'a>(hll: &mut Vec<u8>, elements: impl IntoIterator<Item = &'a [u8]>) -> Result<bool> {
    let mut updated = false;
    for element in elements {
        updated |= add(hll, element)?;
    }
    if updated {
        invalidate_cache(hll);
    }
    Ok(updated)
}

/// PFMERGE's update: raises the registers of `hll` (valid: it was merged into `max` first) to
/// `max`, turning it dense first if `dense`, and marks the cache stale.
pub fn store(hll: &mut Vec<u8>, max: &[u8; REGISTERS], dense: bool) -> Result<()> {
    if dense {
        to_dense(hll)?;
    }
    for (index, value) in max.iter().enumerate() {
        if *value != 0 {
            // Redis ignores the outcome: `hll` was checked while merging.
            let _ = set_register(hll, index, *value);
        }
    }
    invalidate_cache(hll);
    Ok(())
}

/// Every register's value (the HyperLogLog passed [`encoding`]).
pub fn registers(hll: &[u8]) -> Result<Box<[u8; REGISTERS]>> {
    let mut registers = Box::new([0u8; REGISTERS]);
    merge_into(&mut registers, hll)?;
    Ok(registers)
}

/// The cached cardinality of a HyperLogLog (which passed [`encoding`]), if it is valid.
pub fn cached_count(hll: &[u8]) -> Option<u64> {
    (hll[CACHE_STALE_AT] & CACHE_STALE_BIT == 0)
        .then(|| u64::from_le_bytes(hll[8..HEADER_BYTES].try_into().expect("eight bytes")))
}

/// Caches `count` in the header (an estimate never reaches the stale bit: it is below 2^63).
pub fn store_count(hll: &mut [u8], count: u64) {
    hll[8..HEADER_BYTES].copy_from_slice(&count.to_le_bytes());
    assert_eq!(hll[CACHE_STALE_AT] & CACHE_STALE_BIT, 0, "an estimate sets the stale bit");
}

/// The estimated cardinality of one HyperLogLog (which passed [`encoding`]): the cached value
/// when it is valid, else computed (and not stored: see [`store_count`]).
pub fn count(hll: &[u8]) -> Result<u64> {
    if let Some(cached) = cached_count(hll) {
        return Ok(cached);
    }
    let mut histogram = [0u64; 64];
    let body = &hll[HEADER_BYTES..];
    if hll[ENCODING_AT] == DENSE {
        for index in 0..REGISTERS {
            histogram[usize::from(dense_get(body, index))] += 1;
        }
    } else {
        for_each_run(body, |_, value, run| histogram[usize::from(value)] += run as u64)?;
    }
    Ok(estimate(&histogram))
}

/// The estimated cardinality of registers held one per byte (PFCOUNT of several keys).
pub fn count_registers(registers: &[u8; REGISTERS]) -> u64 {
    let mut histogram = [0u64; 64];
    for value in registers {
        histogram[usize::from(*value & 63)] += 1;
    }
    estimate(&histogram)
}

/// Redis 7's `hllCount` estimate from the register histogram.
fn estimate(histogram: &[u64; 64]) -> u64 {
    let m = REGISTERS as f64;
    let mut z = m * tau((m - histogram[Q + 1] as f64) / m);
    for j in (1..=Q).rev() {
        z += histogram[j] as f64;
        z *= 0.5;
    }
    z += m * sigma(histogram[0] as f64 / m);
    (ALPHA_INF * m * m / z).round() as u64
}

fn sigma(mut x: f64) -> f64 {
    if x == 1.0 {
        return f64::INFINITY;
    }
    let mut y = 1.0;
    let mut z = x;
    loop {
        x *= x;
        let previous = z;
        z += x * y;
        y += y;
        if previous == z {
            return z;
        }
    }
}

fn tau(mut x: f64) -> f64 {
    if x == 0.0 || x == 1.0 {
        return 0.0;
    }
    let mut y = 1.0;
    let mut z = 1.0 - x;
    loop {
        x = x.sqrt();
        let previous = z;
        y *= 0.5;
        z -= (1.0 - x) * (1.0 - x) * y;
        if previous == z {
            return z / 3.0;
        }
    }
}

/// PFDEBUG DECODE: a sparse body as `z:<len>`, `Z:<len>` and `v:<value>,<len>` words, or `None`
/// if the text would be longer than `bytes_max`.
pub fn decode(hll: &[u8], bytes_max: usize) -> Option<String> {
    use std::fmt::Write;
    let body = &hll[HEADER_BYTES..];
    let mut text = String::new();
    let mut at = 0;
    while let Some(&op) = body.get(at) {
        if is_zero(op) {
            write!(text, "z:{} ", zero_len(op))
        } else if is_xzero(op) {
            at += 1;
            write!(text, "Z:{} ", xzero_len(op, body.get(at).copied().unwrap_or(0)))
        } else {
            write!(text, "v:{},{} ", val_value(op), val_len(op))
        }
        .expect("writing to a string");
        at += 1;
        if text.len() > bytes_max + 1 {
            return None;
        }
    }
    let text = text.trim_matches(' ').to_string();
    (text.len() <= bytes_max).then_some(text)
}

/// PFSELFTEST's first half: `cycles` times (Redis: 1000), every register set to a value drawn
/// from `next` reads back, without disturbing its neighbours. `Err((register, expected, found))`
/// on a mismatch.
pub fn self_test_registers(cycles: usize, mut next: impl FnMut() -> u8) -> std::result::Result<(), (usize, u8, u8)> {
    let mut registers = vec![0u8; DENSE_BYTES - HEADER_BYTES];
    let mut expected = vec![0u8; REGISTERS];
    for _ in 0..cycles {
        for (index, slot) in expected.iter_mut().enumerate() {
            *slot = next() & REGISTER_MAX as u8;
            dense_set(&mut registers, index, *slot);
        }
        for (index, want) in expected.iter().enumerate() {
            let found = dense_get(&registers, index);
            if found != *want {
                return Err((index, *want, found));
            }
        }
    }
    Ok(())
}

/// PFSELFTEST's second half: adds `elements` distinct elements (Redis: 10,000,000) to a dense
/// and a sparse HyperLogLog at once, checking at every power of ten that small ones stay sparse, that both
/// estimate the same, and that the error stays within six standard errors.
pub fn self_test_estimates(seed: u64, elements: u64) -> std::result::Result<(), String> {
    let mut dense = empty();
    to_dense(&mut dense).expect("a new HyperLogLog is valid");
    let mut sparse = empty();
    let relative_error = 1.04 / (REGISTERS as f64).sqrt();
    let mut checkpoint = 1u64;
    for j in 1..=elements {
        let element = (j ^ seed).to_le_bytes();
        add(&mut dense, &element).expect("dense adds never fail");
        add(&mut sparse, &element).map_err(|_| "TESTFAILED sparse encoding corrupted".to_string())?;
        if j != checkpoint {
            continue;
        }
        if j < HLL_SPARSE_BYTES_MAX as u64 / 2 && sparse[ENCODING_AT] != SPARSE {
            return Err("TESTFAILED sparse encoding not used".into());
        }
        let dense_count = estimate_now(&dense);
        if dense_count != estimate_now(&sparse) {
            return Err("TESTFAILED dense/sparse disagree".into());
        }
        let error = checkpoint.abs_diff(dense_count);
        let error_max = if j == 10 { 1 } else { (relative_error * 6.0 * checkpoint as f64).ceil() as u64 };
        if error > error_max {
            return Err(format!("TESTFAILED Too big error. card:{checkpoint} abserr:{error}"));
        }
        checkpoint *= 10;
    }
    Ok(())
}

/// The estimate computed from the registers, ignoring any cache.
fn estimate_now(hll: &[u8]) -> u64 {
    let mut stale = hll.to_vec();
    invalidate_cache(&mut stale);
    count(&stale).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests;
