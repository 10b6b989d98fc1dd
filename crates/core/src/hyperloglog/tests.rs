//! Known answers from a real Redis 7.0.15 (`GET` of the value, `PFCOUNT`), and properties that
//! hold for any input, corrupted ones included.

use super::*;
use proptest::prelude::*;

fn hex(text: &str) -> Vec<u8> {
    (0..text.len()).step_by(2).map(|at| u8::from_str_radix(&text[at..at + 2], 16).unwrap()).collect()
}

/// FNV-1a, to compare long values against digests of Redis's bytes.
fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3))
}

fn pfadd(hll: &mut Vec<u8>, elements: &[Vec<u8>]) -> Result<bool> {
    add_all(hll, elements.iter().map(Vec::as_slice))
}

/// PFCOUNT of several keys (Redis stores no cache then).
fn union_count(hlls: &[&[u8]]) -> u64 {
    let mut max = [0u8; REGISTERS];
    for hll in hlls {
        merge_into(&mut max, hll).unwrap();
    }
    count_registers(&max)
}

fn pfmerge(dest: Option<Vec<u8>>, sources: &[&[u8]]) -> Vec<u8> {
    let mut max = [0u8; REGISTERS];
    let mut dense = false;
    for source in dest.iter().map(Vec::as_slice).chain(sources.iter().copied()) {
        dense |= encoding(source).unwrap() == Encoding::Dense;
        merge_into(&mut max, source).unwrap();
    }
    let mut dest = dest.unwrap_or_else(empty);
    store(&mut dest, &max, dense).unwrap();
    dest
}

fn words(prefix: &str, count: usize) -> Vec<Vec<u8>> {
    (0..count).map(|i| format!("{prefix}{i}").into_bytes()).collect()
}

#[test]
fn murmur_and_patterns() {
    // MurmurHash64A of the empty string with seed 0 is the mixing of zero.
    assert_eq!(murmur64a(b"", 0), 0);
    let (index, count) = pattern(b"a");
    assert!(index < REGISTERS && (1..=51).contains(&count));
}

#[test]
fn new_and_small_values_are_redis_bytes() {
    let mut hll = empty();
    assert_eq!(hll, hex("48594c4c0100000000000000000000007fff"));
    assert_eq!(encoding(&hll), Ok(Encoding::Sparse));
    assert_eq!(count(&hll), Ok(0), "a new one's cache is valid and zero");
    // PFADD k (no elements) on a missing key: created, cache marked stale.
    invalidate_cache(&mut hll);
    assert_eq!(hll, hex("48594c4c0100000000000000000000807fff"));
    assert_eq!(count(&hll), Ok(0));
    // PFADD k a b c.
    assert_eq!(pfadd(&mut hll, &[b"a".to_vec(), b"b".to_vec(), b"c".to_vec()]), Ok(true));
    assert_eq!(hll, hex("48594c4c01000000000000000000008060f38050b1844bfb80425a"));
    assert_eq!(count(&hll), Ok(3));
    assert_eq!(pfadd(&mut hll, &[b"a".to_vec(), b"c".to_vec()]), Ok(false));
}

/// Adding "1" to "100000" in order, as Redis did: at each checkpoint the value's length,
/// encoding byte and digest, and PFCOUNT.
#[test]
fn a_stream_of_elements_matches_redis_byte_for_byte() {
    let expected = "\
        1 21 1 323da3c3b4f28a1f 1
        2 24 1 81aa57f4fad501d6 2
        3 27 1 db409c4791c52ce0 3
        10 47 1 20497d638317412b 10
        50 161 1 43b2f795252af182 50
        100 287 1 ac12d593e674f307 100
        200 508 1 6e98f2ddac7dac6a 201
        300 698 1 e6b9db602d3ec8ec 302
        500 1061 1 55859586ccc816ab 503
        700 1407 1 729bc285add9c44f 706
        1000 1922 1 abdeac6c99b1409d 1001
        1500 2766 1 b91e983f574a20ba 1512
        2000 12304 0 a733cc3d93c45ddb 2006
        3000 12304 0 992b43a674224822 3005
        5000 12304 0 eaf7ec3d6aad4de3 4985
        10000 12304 0 3a3f10e0e48d0f9b 9988
        20000 12304 0 d588f2c4bd6ecfd9 19891
        50000 12304 0 50779238d99c334e 50353
        100000 12304 0 1dd51ecdcaaba319 99562";
    let mut hll = empty();
    let mut added = 0;
    for line in expected.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let upto: usize = fields[0].parse().unwrap();
        let elements: Vec<Vec<u8>> = (added + 1..=upto).map(|i| i.to_string().into_bytes()).collect();
        pfadd(&mut hll, &elements).unwrap();
        added = upto;
        assert_eq!(hll.len().to_string(), fields[1], "length after {upto}");
        assert_eq!(hll[ENCODING_AT].to_string(), fields[2], "encoding after {upto}");
        assert_eq!(format!("{:016x}", fnv(&hll)), fields[3], "bytes after {upto}");
        assert_eq!(union_count(&[&hll]).to_string(), fields[4], "PFCOUNT after {upto}");
        assert_eq!(count(&hll).unwrap().to_string(), fields[4], "single-key PFCOUNT after {upto}");
    }
}

#[test]
fn merges_match_redis() {
    let mut a = empty();
    pfadd(&mut a, &words("a", 100)).unwrap();
    let mut b = empty();
    pfadd(&mut b, &words("b", 300)).unwrap();
    let mut c = empty();
    pfadd(&mut c, &words("c", 5000)).unwrap();

    let ab = pfmerge(None, &[&a, &b]);
    assert_eq!((ab.len(), ab[ENCODING_AT], fnv(&ab)), (874, SPARSE, 0x544f_e148_1001_b611));
    assert_eq!(union_count(&[&a, &b]), 401);
    assert_eq!(count(&ab), Ok(401));

    let abc = pfmerge(None, &[&a, &b, &c]);
    assert_eq!((abc.len(), abc[ENCODING_AT], fnv(&abc)), (DENSE_BYTES, DENSE, 0x9cef_eeaf_cf29_be7e));
    assert_eq!(union_count(&[&a, &b, &c]), 5387);

    // PFMERGE a b: the destination is one of the sources.
    let into_a = pfmerge(Some(a), &[&b]);
    assert_eq!(into_a, ab);

    // A sparse destination with a dense source turns dense.
    let mut d = empty();
    pfadd(&mut d, &words("d", 3000)).unwrap();
    let mut s = empty();
    pfadd(&mut s, &words("s", 50)).unwrap();
    let merged = pfmerge(Some(s), &[&d]);
    assert_eq!((merged.len(), merged[ENCODING_AT], fnv(&merged)), (DENSE_BYTES, DENSE, 0xd6be_ffb2_a0e7_14b0));
    assert_eq!(union_count(&[&merged]), 3069);
}

/// Sparse values from Redis, corrupted (bytes changed, cut off or appended), then PFADDed and
/// PFCOUNTed by Redis: the reply, the resulting bytes and the count match, errors included.
#[test]
fn corrupted_sparse_values_change_exactly_as_in_redis() {
    let cases = include_str!("corrupted-sparse.txt");
    let mut checked = 0;
    for (line_no, line) in cases.lines().enumerate() {
        let fields: Vec<&str> = line.split(' ').collect();
        let mut hll = hex(fields[0]);
        let elements: Vec<Vec<u8>> =
            if fields[1] == "-" { Vec::new() } else { fields[1].split(',').map(hex).collect() };
        assert_eq!(encoding(&hll), Ok(Encoding::Sparse));
        let reply = match pfadd(&mut hll, &elements) {
            Ok(updated) => u8::from(updated).to_string(),
            Err(error) => format!("E:{}", crate::error::Error::from(error)).replace(' ', "_"),
        };
        assert_eq!(reply, fields[2], "PFADD reply, case {line_no}");
        assert_eq!(format!("{}:{:016x}", hll.len(), fnv(&hll)), fields[3], "bytes after PFADD, case {line_no}");
        let count = match count(&hll) {
            Ok(count) => count.to_string(),
            Err(error) => format!("E:{}", crate::error::Error::from(error)).replace(' ', "_"),
        };
        assert_eq!(count, fields[4], "PFCOUNT, case {line_no}");
        checked += 1;
    }
    assert_eq!(checked, 200);
}

#[test]
fn invalid_strings_are_refused() {
    let mut hll = empty();
    pfadd(&mut hll, &[b"a".to_vec()]).unwrap();
    assert_eq!(encoding(b"HYLL"), Err(Invalid::NotHll), "shorter than a header");
    let mut broken = hll.clone();
    broken[0..4].copy_from_slice(b"0123");
    assert_eq!(encoding(&broken), Err(Invalid::NotHll), "broken magic");
    let mut broken = hll.clone();
    broken[4] = b'x';
    assert_eq!(encoding(&broken), Err(Invalid::NotHll), "unknown encoding");
    let mut broken = hll.clone();
    broken[4] = 0;
    assert_eq!(encoding(&broken), Err(Invalid::NotHll), "dense of the wrong length");
    let mut tail = hll.clone();
    tail.extend_from_slice(b"hello");
    assert_eq!(count(&tail), Err(Invalid::Corrupt), "additional at tail");
    let mut max = [0u8; REGISTERS];
    assert_eq!(merge_into(&mut max, &tail), Err(Invalid::Corrupt));
    assert_eq!(to_dense(&mut tail), Err(Invalid::Corrupt));
    // Every register covered, then a VAL run past the end: corrupt for every use, as in Redis
    // with its fix for CVE-2025-32023 (7.0.15 as released let merges and conversions stop
    // there).
    let mut trailing = hex("48594c4c0100000000000000000000807fff80");
    assert_eq!(encoding(&trailing), Ok(Encoding::Sparse));
    assert_eq!(count(&trailing), Err(Invalid::Corrupt));
    assert_eq!(merge_into(&mut max, &trailing), Err(Invalid::Corrupt));
    assert_eq!(to_dense(&mut trailing), Err(Invalid::Corrupt));
}

#[test]
fn dense_conversion_keeps_registers_and_estimate() {
    let mut sparse = empty();
    pfadd(&mut sparse, &words("x", 500)).unwrap();
    let mut dense = sparse.clone();
    assert_eq!(to_dense(&mut dense), Ok(true));
    assert_eq!(to_dense(&mut dense), Ok(false));
    assert_eq!(dense.len(), DENSE_BYTES);
    assert_eq!(registers(&dense), registers(&sparse));
    assert_eq!(count(&dense), count(&sparse));
    assert_eq!(
        &dense[..16],
        &{
            let mut header = sparse[..16].to_vec();
            header[4] = DENSE;
            header
        }[..]
    );
}

#[test]
fn decoding_sparse_opcodes() {
    let mut hll = empty();
    pfadd(&mut hll, &[b"a".to_vec(), b"b".to_vec(), b"c".to_vec()]).unwrap();
    let text = decode(&hll, 1 << 20).unwrap();
    assert_eq!(text, "Z:8436 v:1,1 Z:4274 v:2,1 Z:3068 v:1,1 Z:603");
    assert_eq!(decode(&hll, 10), None, "longer than allowed");
    assert_eq!(decode(&empty(), 100).unwrap(), "Z:16384");
}

#[test]
fn the_self_test_passes() {
    let mut state = 1u64;
    let next = move || {
        state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) as u8
    };
    assert_eq!(self_test_registers(20, next), Ok(()));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// The same elements give the same registers and estimate, sparse or dense, and the sparse
    /// value stays well formed and within its size bound.
    #[test]
    fn sparse_and_dense_agree(elements in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..6), 0..400)) {
        let mut sparse = empty();
        let mut dense = empty();
        to_dense(&mut dense).unwrap();
        for element in &elements {
            let a = add(&mut sparse, element).unwrap();
            let b = add(&mut dense, element).unwrap();
            prop_assert_eq!(a, b);
        }
        prop_assert_eq!(registers(&sparse).unwrap(), registers(&dense).unwrap());
        invalidate_cache(&mut sparse);
        invalidate_cache(&mut dense);
        prop_assert_eq!(count(&sparse), count(&dense));
        if sparse[ENCODING_AT] == SPARSE {
            prop_assert!(sparse.len() <= HLL_SPARSE_BYTES_MAX);
        }
    }

    /// Whatever the bytes after a valid header, nothing panics or loops.
    #[test]
    fn arbitrary_bodies_never_panic(
        body in proptest::collection::vec(any::<u8>(), 0..200),
        dense in any::<bool>(),
        elements in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..4), 0..20),
    ) {
        let mut hll = empty()[..HEADER_BYTES].to_vec();
        if dense {
            hll[ENCODING_AT] = DENSE;
            let mut registers = body.clone();
            registers.resize(DENSE_BYTES - HEADER_BYTES, 0x5a);
            hll.extend_from_slice(&registers);
        } else {
            hll.extend_from_slice(&body);
        }
        prop_assert!(encoding(&hll).is_ok());
        let _ = count(&hll);
        let mut max = [0u8; REGISTERS];
        let _ = merge_into(&mut max, &hll);
        let _ = decode(&hll, 1 << 16);
        let mut changed = hll.clone();
        let _ = pfadd(&mut changed, &elements);
        let _ = count(&changed);
        let mut converted = hll.clone();
        let _ = to_dense(&mut converted);
        if let Ok(Encoding::Dense) = encoding(&converted) {
            let _ = count(&converted);
        }
    }

    /// Any string at all is either refused or usable without panicking.
    #[test]
    fn arbitrary_strings_never_panic(mut value in proptest::collection::vec(any::<u8>(), 0..64)) {
        if value.len() >= 5 && value[0] % 2 == 0 {
            value[..4].copy_from_slice(MAGIC);
            value[4] %= 2;
        }
        if encoding(&value).is_ok() {
            let _ = count(&value);
            let _ = pfadd(&mut value, &[b"x".to_vec()]);
        }
    }
}
