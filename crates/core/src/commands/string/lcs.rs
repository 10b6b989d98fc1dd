//! LCS key1 key2 [LEN] [IDX] [MINMATCHLEN min-match-len] [WITHMATCHLEN]
//!
//! Redis fills the whole `(len(a) + 1) * (len(b) + 1)` table of LCS lengths, four bytes a cell,
//! then walks back from the corner. Concord gives the same answers, match ranges and tie-breaks
//! included, from a table of one bit per cell: each row holds the steps `L(r, c) - L(r, c - 1)`
//! (always 0 or 1), filled 64 cells at a time by the bit-parallel recurrence of Allison and Dix
//! (as Hyyrö writes it: `V' = (V + U) | (V - U)` with `U = V & match(char)`), and the walk back
//! recovers each length it compares from those steps. Rows run along the shorter string, so the
//! table and the match masks each take at most about `cells / 8` bytes, and the fill
//! `cells / 64` word operations. Inputs whose table would exceed
//! [`LCS_TABLE_CELLS_MAX`](crate::limits::LCS_TABLE_CELLS_MAX) are refused, as a default Redis
//! refuses them.

use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "lcs",
    arity: -3,
    flags: &["readonly"],
    first_key: 1,
    last_key: 2,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["RO", "access"], begin_index: 1, last_key: 1, key_step: 1 }],
    acl_categories: &["@read", "@string", "@slow"],
    tips: &[],
    group: "string",
    since: "7.0.0",
    complexity: "O(N*M) where N and M are the lengths of s1 and s2, respectively",
    summary: "Find longest common substring",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Options {
    pub len: bool,
    pub idx: bool,
    pub min_match_len: u64,
    pub with_match_len: bool,
}

fn parse_options(args: &mut Args) -> Result<Options> {
    let mut options = Options::default();
    while let Some(option) = args.peek().cloned() {
        args.next_arg()?;
        match () {
            _ if is(&option, "IDX") => options.idx = true,
            _ if is(&option, "LEN") => options.len = true,
            _ if is(&option, "WITHMATCHLEN") => options.with_match_len = true,
            _ if is(&option, "MINMATCHLEN") && !args.is_empty() => {
                options.min_match_len = args.next_i64()?.max(0) as u64;
            }
            _ => return Err(Error::SYNTAX),
        }
    }
    if options.len && options.idx {
        return Err(Error::err("If you want both the length and indexes, please just use IDX."));
    }
    Ok(options)
}

pub struct Lcs {
    a: Bytes,
    b: Bytes,
    /// Redis checks the keys' types before it reads the options.
    options: Result<Options>,
}

/// A common run: its ranges in `a` and in `b` (inclusive) and its length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Match {
    pub a: (usize, usize),
    pub b: (usize, usize),
    pub len: usize,
}

#[derive(Debug, PartialEq, Eq)]
pub enum LcsOutput {
    Text(Vec<u8>),
    Len(usize),
    Idx { matches: Vec<Match>, len: usize, with_match_len: bool },
}

impl Command for Lcs {
    type Output = LcsOutput;

    fn parse(args: &mut Args) -> Result<Self> {
        let (a, b) = (args.next_arg()?, args.next_arg()?);
        Ok(Lcs { a, b, options: parse_options(args) })
    }

    fn reply(output: LcsOutput) -> Reply {
        match output {
            LcsOutput::Text(text) => Reply::Bulk(text.into()),
            LcsOutput::Len(len) => Reply::Integer(len as i64),
            LcsOutput::Idx { matches, len, with_match_len } => {
                let range = |(start, end): (usize, usize)| {
                    Reply::Array(vec![Reply::Integer(start as i64), Reply::Integer(end as i64)])
                };
                let matches = matches
                    .into_iter()
                    .map(|m| {
                        let mut fields = vec![range(m.a), range(m.b)];
                        if with_match_len {
                            fields.push(Reply::Integer(m.len as i64));
                        }
                        Reply::Array(fields)
                    })
                    .collect();
                Reply::Map(vec![
                    (Reply::bulk("matches"), Reply::Array(matches)),
                    (Reply::bulk("len"), Reply::Integer(len as i64)),
                ])
            }
        }
    }
}

impl ReadCommand for Lcs {
    fn read(&self, keyspace: &Keyspace, ctx: &mut ReadCtx) -> Result<LcsOutput> {
        let db = keyspace.db(ctx.db);
        let type_error = |_| Error::err("The specified keys must contain string values");
        let a = string_at(db, &self.a, ctx.now_ms).map_err(type_error)?;
        let b = string_at(db, &self.b, ctx.now_ms).map_err(type_error)?;
        let options = self.options.clone()?;
        let (a, b) = (a.map_or(&[][..], Blob::as_slice), b.map_or(&[][..], Blob::as_slice));
        if (a.len() as u64 + 1).saturating_mul(b.len() as u64 + 1) > LCS_TABLE_CELLS_MAX {
            return Err(Error::err("Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len"));
        }
        Ok(lcs(a, b, options))
    }
}

/// The table of LCS lengths of `rows` against `cols`, one bit per cell: bit `c - 1` of row `r`
/// is clear when `L(r, c) = L(r, c - 1) + 1` (the recurrence's vector `V`, whose clear bits are
/// the steps).
struct Table {
    words: usize,
    bits: Vec<u64>,
}

impl Table {
    fn fill(rows: &[u8], cols: &[u8]) -> Table {
        let words = cols.len().div_ceil(64);
        // Where each byte of `cols` is, for each byte value `rows` holds.
        let mut slot = [usize::MAX; 256];
        let mut masks = Vec::new();
        for &byte in rows {
            if slot[usize::from(byte)] == usize::MAX {
                slot[usize::from(byte)] = masks.len();
                masks.resize(masks.len() + words, 0u64);
            }
        }
        for (c, &byte) in cols.iter().enumerate() {
            let at = slot[usize::from(byte)];
            if at != usize::MAX {
                masks[at + c / 64] |= 1 << (c % 64);
            }
        }
        let mut bits = vec![u64::MAX; (rows.len() + 1) * words];
        for (r, &byte) in rows.iter().enumerate() {
            let (done, next) = bits.split_at_mut((r + 1) * words);
            let previous = &done[r * words..];
            let matches = &masks[slot[usize::from(byte)]..][..words];
            let mut carry = false;
            for ((out, &v), &m) in next[..words].iter_mut().zip(previous).zip(matches) {
                let u = v & m;
                let (sum, first) = v.overflowing_add(u);
                let (sum, second) = sum.overflowing_add(u64::from(carry));
                carry = first || second;
                // V - U is V & !U, as U only has bits of V.
                *out = sum | (v & !u);
            }
        }
        Table { words, bits }
    }

    /// `L(r, c) - L(r, c - 1)`, for `c >= 1`.
    fn step(&self, r: usize, c: usize) -> usize {
        let bit = c - 1;
        ((!self.bits[r * self.words + bit / 64] >> (bit % 64)) & 1) as usize
    }

    /// `L(r, c)`.
    fn length(&self, r: usize, c: usize) -> usize {
        let row = &self.bits[r * self.words..][..self.words];
        let full: usize = row[..c / 64].iter().map(|word| (!word).count_ones() as usize).sum();
        let partial =
            if c.is_multiple_of(64) { 0 } else { (!row[c / 64] & ((1u64 << (c % 64)) - 1)).count_ones() as usize };
        full + partial
    }
}

/// A walk back through the table from a corner: the length here and one row up, kept as it
/// moves (a row up costs a count along the row; a column left, two bits).
struct Cursor<'t> {
    table: &'t Table,
    r: usize,
    c: usize,
    here: usize,
    up: usize,
}

impl<'t> Cursor<'t> {
    fn new(table: &'t Table, r: usize, c: usize) -> Cursor<'t> {
        let up = if r > 0 { table.length(r - 1, c) } else { 0 };
        Cursor { table, r, c, here: table.length(r, c), up }
    }

    /// `L(r, c - 1)`.
    fn left(&self) -> usize {
        self.here - self.table.step(self.r, self.c)
    }

    fn back_col(&mut self) {
        self.here -= self.table.step(self.r, self.c);
        if self.r > 0 {
            self.up -= self.table.step(self.r - 1, self.c);
        }
        self.c -= 1;
    }

    fn back_row(&mut self) {
        self.here = self.up;
        self.r -= 1;
        self.up = if self.r > 0 { self.table.length(self.r - 1, self.c) } else { 0 };
    }
}

/// What the walk back needs from a table of the lengths `L(i, j)` of the LCS of `a[..i]` and
/// `b[..j]`, at the walk's position, which starts at the far corner.
trait Lengths {
    /// `L(i, j)`.
    fn here(&self) -> usize;
    /// `L(i - 1, j)` and `L(i, j - 1)`.
    fn up_and_left(&self) -> (usize, usize);
    fn back_i(&mut self);
    fn back_j(&mut self);
}

/// The bit table read through a [`Cursor`], its rows along `a` or, `transposed`, along `b`.
struct BitLengths<'t> {
    cursor: Cursor<'t>,
    transposed: bool,
}

impl Lengths for BitLengths<'_> {
    fn here(&self) -> usize {
        self.cursor.here
    }

    fn up_and_left(&self) -> (usize, usize) {
        let (row_up, col_left) = (self.cursor.up, self.cursor.left());
        if self.transposed {
            (col_left, row_up)
        } else {
            (row_up, col_left)
        }
    }

    fn back_i(&mut self) {
        if self.transposed {
            self.cursor.back_col()
        } else {
            self.cursor.back_row()
        }
    }

    fn back_j(&mut self) {
        if self.transposed {
            self.cursor.back_row()
        } else {
            self.cursor.back_col()
        }
    }
}

/// The answer for `a` and `b`, from a table whose rows run along the shorter of the two.
pub fn lcs(a: &[u8], b: &[u8], options: Options) -> LcsOutput {
    let transposed = a.len() > b.len();
    let table = if transposed { Table::fill(b, a) } else { Table::fill(a, b) };
    let cursor = if transposed { Cursor::new(&table, b.len(), a.len()) } else { Cursor::new(&table, a.len(), b.len()) };
    walk(a, b, options, &mut BitLengths { cursor, transposed })
}

/// Redis's `lcsCommand` walk back from the corner over `a` (index `i`) and `b` (index `j`):
/// the common text, or its length, or its runs from the end backwards.
fn walk(a: &[u8], b: &[u8], options: Options, lengths: &mut impl Lengths) -> LcsOutput {
    let total = lengths.here();
    if options.len && !options.idx {
        return LcsOutput::Len(total);
    }
    let mut text = vec![0u8; total];
    let mut matches = Vec::new();
    let (alen, blen) = (a.len(), b.len());
    // `a_start == alen` means no range is open.
    let (mut a_start, mut a_end, mut b_start, mut b_end) = (alen, 0, 0, 0);
    let (mut i, mut j, mut idx) = (alen, blen, total);
    while i > 0 && j > 0 {
        let mut emit = false;
        if a[i - 1] == b[j - 1] {
            text[idx - 1] = a[i - 1];
            if a_start == alen {
                (a_start, a_end, b_start, b_end) = (i - 1, i - 1, j - 1, j - 1);
            } else if a_start == i && b_start == j {
                a_start -= 1;
                b_start -= 1;
            } else {
                emit = true;
            }
            emit |= a_start == 0 || b_start == 0;
            idx -= 1;
            i -= 1;
            j -= 1;
            lengths.back_i();
            lengths.back_j();
        } else {
            let (up, left) = lengths.up_and_left();
            if up > left {
                i -= 1;
                lengths.back_i();
            } else {
                j -= 1;
                lengths.back_j();
            }
            emit = a_start != alen;
        }
        if emit {
            let len = a_end - a_start + 1;
            if options.min_match_len == 0 || len as u64 >= options.min_match_len {
                matches.push(Match { a: (a_start, a_end), b: (b_start, b_end), len });
            }
            a_start = alen;
        }
    }
    if options.idx {
        LcsOutput::Idx { matches, len: total, with_match_len: options.with_match_len }
    } else {
        LcsOutput::Text(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::testing::*;
    use proptest::prelude::*;

    /// Redis's own table, transcribed: every length, four bytes each.
    struct FullTable {
        lengths: Vec<u32>,
        width: usize,
        i: usize,
        j: usize,
    }

    impl FullTable {
        fn fill(a: &[u8], b: &[u8]) -> FullTable {
            let width = b.len() + 1;
            let mut lengths = vec![0u32; (a.len() + 1) * width];
            for i in 1..=a.len() {
                for j in 1..=b.len() {
                    lengths[j + i * width] = if a[i - 1] == b[j - 1] {
                        lengths[(j - 1) + (i - 1) * width] + 1
                    } else {
                        lengths[j + (i - 1) * width].max(lengths[(j - 1) + i * width])
                    };
                }
            }
            FullTable { lengths, width, i: a.len(), j: b.len() }
        }

        fn at(&self, i: usize, j: usize) -> usize {
            self.lengths[j + i * self.width] as usize
        }
    }

    impl Lengths for FullTable {
        fn here(&self) -> usize {
            self.at(self.i, self.j)
        }
        fn up_and_left(&self) -> (usize, usize) {
            (self.at(self.i - 1, self.j), self.at(self.i, self.j - 1))
        }
        fn back_i(&mut self) {
            self.i -= 1;
        }
        fn back_j(&mut self) {
            self.j -= 1;
        }
    }

    fn redis_lcs(a: &[u8], b: &[u8], options: Options) -> LcsOutput {
        walk(a, b, options, &mut FullTable::fill(a, b))
    }

    const RNA1: &str = "CACCTTCCCAGGTAACAAACCAACCAACTTTCGATCTCTTGTAGATCTGTTCTCTAAACGAACTTTAAAATCTGTGTGGCTGTCACTCGGCTGCATGCTTAGTGCACTCACGCAGTATAATTAATAACTAATTACTGTCGTTGACAGGACACGAGTAACTCGTCTATCTTCTGCAGGCTGCTTACGGTTTCGTCCGTGTTGCAGCCGATCATCAGCACATCTAGGTTTCGTCCGGGTGTG";
    const RNA2: &str = "ATTAAAGGTTTATACCTTCCCAGGTAACAAACCAACCAACTTTCGATCTCTTGTAGATCTGTTCTCTAAACGAACTTTAAAATCTGTGTGGCTGTCACTCGGCTGCATGCTTAGTGCACTCACGCAGTATAATTAATAACTAATTACTGTCGTTGACAGGACACGAGTAACTCGTCTATCTTCTGCAGGCTGCTTACGGTTTCGTCCGTGTTGCAGCCGATCATCAGCACATCTAGGTTT";
    const RNA_LCS: &str = "ACCTTCCCAGGTAACAAACCAACCAACTTTCGATCTCTTGTAGATCTGTTCTCTAAACGAACTTTAAAATCTGTGTGGCTGTCACTCGGCTGCATGCTTAGTGCACTCACGCAGTATAATTAATAACTAATTACTGTCGTTGACAGGACACGAGTAACTCGTCTATCTTCTGCAGGCTGCTTACGGTTTCGTCCGTGTTGCAGCCGATCATCAGCACATCTAGGTTT";

    fn ints(values: &[i64]) -> Reply {
        Reply::Array(values.iter().map(|value| Reply::Integer(*value)).collect())
    }

    fn idx_match(a: (i64, i64), b: (i64, i64), len: Option<i64>) -> Reply {
        let mut fields = vec![ints(&[a.0, a.1]), ints(&[b.0, b.1])];
        fields.extend(len.map(Reply::Integer));
        Reply::Array(fields)
    }

    #[test]
    fn the_redis_suite_s_answers() {
        let ks = &mut Keyspace::new();
        write(ks, 1, &["set", "virus1", RNA1]);
        write(ks, 1, &["set", "virus2", RNA2]);
        assert_eq!(read(ks, 1, &["lcs", "virus1", "virus2"]), bulk(RNA_LCS));
        assert_eq!(read(ks, 1, &["lcs", "virus1", "virus2", "LEN"]), Reply::Integer(RNA_LCS.len() as i64));
        let expected = |with_len: bool, all: bool| {
            let len = |n| with_len.then_some(n);
            let mut matches = vec![];
            if all {
                matches.extend([
                    idx_match((238, 238), (239, 239), len(1)),
                    idx_match((236, 236), (238, 238), len(1)),
                    idx_match((229, 230), (236, 237), len(2)),
                    idx_match((224, 224), (235, 235), len(1)),
                ]);
            }
            matches.push(idx_match((1, 222), (13, 234), len(222)));
            Reply::Map(vec![(bulk("matches"), Reply::Array(matches)), (bulk("len"), Reply::Integer(227))])
        };
        assert_eq!(read(ks, 1, &["lcs", "virus1", "virus2", "IDX"]), expected(false, true));
        assert_eq!(read(ks, 1, &["lcs", "virus1", "virus2", "IDX", "WITHMATCHLEN"]), expected(true, true));
        assert_eq!(
            read(ks, 1, &["lcs", "virus1", "virus2", "IDX", "WITHMATCHLEN", "MINMATCHLEN", "5"]),
            expected(true, false)
        );
    }

    #[test]
    fn missing_keys_are_empty_strings() {
        let ks = &mut Keyspace::new();
        write(ks, 1, &["set", "a", "ohmytext"]);
        write(ks, 1, &["set", "b", "mynewtext"]);
        assert_eq!(read(ks, 1, &["lcs", "a", "b"]), bulk("mytext"));
        assert_eq!(read(ks, 1, &["lcs", "a", "missing"]), bulk(""));
        assert_eq!(read(ks, 1, &["lcs", "missing", "a", "len"]), Reply::Integer(0));
        assert_eq!(
            read(ks, 1, &["lcs", "a", "b", "idx", "minmatchlen", "-3", "withmatchlen"]),
            Reply::Map(vec![
                (
                    bulk("matches"),
                    Reply::Array(vec![idx_match((4, 7), (5, 8), Some(4)), idx_match((2, 3), (0, 1), Some(2))])
                ),
                (bulk("len"), Reply::Integer(6)),
            ])
        );
    }

    #[test]
    fn errors() {
        let ks = &mut Keyspace::new();
        write(ks, 1, &["set", "a", "x"]);
        write(ks, 1, &["hset", "h", "f", "v"]);
        let strings = "ERR The specified keys must contain string values";
        assert_eq!(read(ks, 1, &["lcs", "a", "h"]), error(strings));
        assert_eq!(read(ks, 1, &["lcs", "h", "a", "bogus"]), error(strings), "types are checked first");
        assert_eq!(
            read(ks, 1, &["lcs", "a", "b", "LEN", "IDX"]),
            error("ERR If you want both the length and indexes, please just use IDX.")
        );
        assert_eq!(read(ks, 1, &["lcs", "a", "b", "minmatchlen"]), error("ERR syntax error"));
        assert_eq!(
            read(ks, 1, &["lcs", "a", "b", "minmatchlen", "x"]),
            error("ERR value is not an integer or out of range")
        );
        assert_eq!(read(ks, 1, &["lcs", "a", "b", "bogus"]), error("ERR syntax error"));
        assert_eq!(read(ks, 1, &["lcs", "a"]), error("ERR wrong number of arguments for 'lcs' command"));
    }

    #[test]
    fn tables_past_the_limit_are_refused() {
        let ks = &mut Keyspace::new();
        // 11585² cells fit the limit; 11585 * 11586 do not.
        let side = 11_584;
        write(ks, 1, &["set", "a", &"a".repeat(side)]);
        write(ks, 1, &["set", "b", &"ab".repeat(side / 2)]);
        assert_eq!(read(ks, 1, &["lcs", "a", "b", "len"]), Reply::Integer(side as i64 / 2));
        write(ks, 1, &["set", "a", &"a".repeat(side + 1)]);
        assert_eq!(
            read(ks, 1, &["lcs", "a", "b", "len"]),
            error("ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len")
        );
        assert!((side as u64 + 1) * (side as u64 + 1) <= LCS_TABLE_CELLS_MAX);
        assert!((side as u64 + 1) * (side as u64 + 2) > LCS_TABLE_CELLS_MAX);
    }

    fn options() -> impl Strategy<Value = Options> {
        (any::<bool>(), any::<bool>(), 0u64..4, any::<bool>()).prop_map(|(len, idx, min_match_len, with_match_len)| {
            Options { len: len && !idx, idx, min_match_len, with_match_len }
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]

        /// The bit table leads the walk exactly as Redis's full table does (same text, length,
        /// ranges and tie-breaks), whichever string is longer.
        #[test]
        fn agrees_with_redis_s_table(
            a in proptest::collection::vec(0u8..4, 0..150),
            b in proptest::collection::vec(0u8..4, 0..150),
            options in options(),
        ) {
            prop_assert_eq!(lcs(&a, &b, options), redis_lcs(&a, &b, options));
        }

        /// Every cell of the bit table holds Redis's length.
        #[test]
        fn every_length_is_redis_s(
            a in proptest::collection::vec(0u8..3, 0..90),
            b in proptest::collection::vec(0u8..3, 0..150),
        ) {
            let (bits, full) = (Table::fill(&a, &b), FullTable::fill(&a, &b));
            for i in 0..=a.len() {
                for j in 0..=b.len() {
                    prop_assert_eq!(bits.length(i, j), full.at(i, j));
                    if j > 0 {
                        prop_assert_eq!(bits.step(i, j), full.at(i, j) - full.at(i, j - 1));
                    }
                }
            }
        }

        #[test]
        fn agrees_on_wider_alphabets(
            a in proptest::collection::vec(any::<u8>(), 0..300),
            b in proptest::collection::vec(prop_oneof![any::<u8>(), Just(7u8)], 0..70),
            options in options(),
        ) {
            prop_assert_eq!(lcs(&a, &b, options), redis_lcs(&a, &b, options));
            prop_assert_eq!(lcs(&b, &a, options), redis_lcs(&b, &a, options));
        }
    }
}
