//! SORT key [BY pattern] [LIMIT offset count] [GET pattern [GET pattern ...]] [ASC | DESC]
//! [ALPHA] [STORE destination]
//!
//! As Redis's `sort.c`: the elements of a list, set or sorted set, ordered by their value (as
//! numbers, or as byte strings with `ALPHA`) or by the values of other keys (`BY`: the first
//! `*` of the pattern stands for the element, `key->field` reads a hash field), or left in the
//! collection's own order (`BY` a pattern without `*`); then the range `LIMIT` selects, each
//! element replaced by the values the `GET` patterns name (`#`: the element itself), and
//! returned or stored as a list.
//!
//! SORT goes through the log (it may store); SORT_RO is a read. Redis's two key specs of
//! `unknown` position (the keys BY and GET patterns name, and STORE's destination) have no form
//! in Concord's key specs and are left out; `COMMAND GETKEYS` reports the sorted key only
//! ([`key_positions`] finds the STORE destination too).
//! The work is bounded by the collection (every element is loaded once, each pattern looked up
//! once per element in the range) and the reply by the range times the GET patterns, both
//! bounded by the request and the collection.

use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "sort",
    arity: -2,
    flags: &["write", "denyoom", "movablekeys"],
    first_key: 1,
    last_key: 1,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["RO", "access"], begin_index: 1, last_key: 0, key_step: 1 }],
    acl_categories: &["@write", "@set", "@sortedset", "@list", "@slow", "@dangerous"],
    tips: &[],
    group: "generic",
    since: "1.0.0",
    complexity: "O(N+M*log(M)) where N is the number of elements in the list or set to sort, and M the number of returned elements. When the elements are not sorted, complexity is O(N).",
    summary: "Sort the elements in a list, set or sorted set",
    deprecated: None,
    movable_keys: Some(key_positions),
    subcommands: &[],
};

/// The positions of SORT's keys in `argv` (the name first), as Redis's `sortGetKeys` finds
/// them: the sorted key, and the destination of the last STORE. For whoever extracts keys of
/// commands whose key specs cannot say where their keys are (`COMMAND GETKEYS` and routing read
/// only the fixed positions today).
pub fn key_positions(argv: &[Bytes]) -> Vec<usize> {
    let mut store = None;
    let mut at = 2;
    while at < argv.len() {
        let option = &argv[at];
        if is(option, "LIMIT") {
            at += 2;
        } else if is(option, "GET") || is(option, "BY") {
            at += 1;
        } else if is(option, "STORE") && at + 1 < argv.len() {
            // Its argument is looked at as an option next, as in Redis.
            store = Some(at + 1);
        }
        at += 1;
    }
    std::iter::once(1).chain(store).collect()
}

/// Parsed SORT options, shared with SORT_RO.
pub struct SortOptions {
    key: Bytes,
    by: Option<Bytes>,
    /// A BY pattern without `*` was given: nothing is looked up and nothing sorted.
    dont_sort: bool,
    /// Redis's `LIMIT offset count` (count -1: to the end).
    offset: i64,
    count: i64,
    gets: Vec<Bytes>,
    desc: bool,
    alpha: bool,
    store: Option<Bytes>,
}

pub enum SortOutput {
    /// The elements (or the GET values, missing ones `None`) in order.
    Values(Vec<Option<Bytes>>),
    /// STORE: the length of the list stored.
    Stored(usize),
}

/// The part of a byte string C sees (up to its first NUL): Redis matches patterns with
/// `strchr` and `strstr`.
fn c_string(bytes: &[u8]) -> &[u8] {
    bytes.iter().position(|byte| *byte == 0).map_or(bytes, |at| &bytes[..at])
}

impl SortOptions {
    pub fn parse(args: &mut Args, allow_store: bool) -> Result<SortOptions> {
        let mut options = SortOptions {
            key: args.next_arg()?,
            by: None,
            dont_sort: false,
            offset: 0,
            count: -1,
            gets: Vec::new(),
            desc: false,
            alpha: false,
            store: None,
        };
        while let Some(option) = args.peek().cloned() {
            args.next_arg()?;
            let left = args.remaining();
            if is(&option, "ASC") {
                options.desc = false;
            } else if is(&option, "DESC") {
                options.desc = true;
            } else if is(&option, "ALPHA") {
                options.alpha = true;
            } else if is(&option, "LIMIT") && left >= 2 {
                options.offset = args.next_i64()?;
                options.count = args.next_i64()?;
            } else if allow_store && is(&option, "STORE") && left >= 1 {
                options.store = Some(args.next_arg()?);
            } else if is(&option, "BY") && left >= 1 {
                let pattern = args.next_arg()?;
                // A later BY with a `*` does not undo an earlier one without, as in Redis.
                options.dont_sort |= !c_string(&pattern).contains(&b'*');
                options.by = Some(pattern);
            } else if is(&option, "GET") && left >= 1 {
                options.gets.push(args.next_arg()?);
            } else {
                return Err(Error::SYNTAX);
            }
        }
        Ok(options)
    }

    /// Sorts, reading the keyspace only.
    pub fn sort(
        &self,
        keyspace: &Keyspace,
        db: DbIndex,
        now_ms: TimeMs,
        from_script: bool,
    ) -> Result<Vec<Option<Bytes>>> {
        let db = keyspace.db(db);
        let value = match db.get(&self.key, now_ms).map(|entry| &entry.value) {
            None => None,
            Some(value @ (Value::List(_) | Value::Set(_) | Value::ZSet(_))) => Some(value),
            Some(_) => return Err(Error::WRONG_TYPE),
        };
        let (mut dont_sort, mut alpha, mut by) = (self.dont_sort, self.alpha, self.by.as_deref());
        if dont_sort && (self.store.is_some() || from_script) && matches!(value, Some(Value::Set(_))) {
            // A set's own order is no order: what is stored, or what a script goes on with,
            // must not depend on it (Redis sorts then too).
            (dont_sort, alpha, by) = (false, true, None);
        }
        let len = value.map_or(0, |value| match value {
            Value::List(list) => list.len(),
            Value::Set(set) => set.len(),
            Value::ZSet(zset) => zset.len(),
            _ => 0,
        }) as i64;
        // Redis's LIMIT clamping: `start..=end` within the collection (empty when end < start).
        let mut start = self.offset.clamp(0, len);
        let count = self.count.clamp(-1, len);
        let mut end = if count < 0 { len - 1 } else { start + count - 1 };
        if start >= len {
            (start, end) = (len - 1, len - 2);
        }
        end = end.min(len - 1);
        let range = (end - start + 1).max(0) as usize;
        let values = range.saturating_mul(self.gets.len().max(1));
        if values > SORT_VALUES_MAX.max(len as usize) {
            return Err(Error::err(format_args!(
                "SORT would return {values} values ({range} elements, {} GET patterns), more than {}",
                self.gets.len(),
                SORT_VALUES_MAX.max(len as usize)
            )));
        }
        let loaded_range = dont_sort && matches!(value, Some(Value::List(_) | Value::ZSet(_)));
        let mut elements: Vec<Bytes> = match value {
            None => Vec::new(),
            // Without sorting, lists and sorted sets load just the range, in their order.
            Some(Value::List(list)) if dont_sort => {
                let (first, last) = (start.max(0) as usize, end.max(0) as usize);
                if range == 0 {
                    Vec::new()
                } else if self.desc {
                    let total = list.len();
                    let mut picked: Vec<Bytes> =
                        list.range(total - 1 - last, total - 1 - first).map(bytes_of).collect();
                    picked.reverse();
                    picked
                } else {
                    list.range(first, last).map(bytes_of).collect()
                }
            }
            Some(Value::ZSet(zset)) if dont_sort => {
                let first = start.max(0) as usize;
                let ranked = if self.desc {
                    zset.iter_back_from(zset.len().saturating_sub(1 + first))
                } else {
                    zset.iter_from(first)
                };
                ranked.take(range).map(|(member, _)| bytes_of(member)).collect()
            }
            Some(Value::List(list)) => list.iter().map(bytes_of).collect(),
            Some(Value::Set(set)) => set.iter().map(|member| member.to_bytes()).collect(),
            Some(Value::ZSet(zset)) => zset.iter().map(|(member, _)| bytes_of(member)).collect(),
            Some(_) => unreachable!("checked above"),
        };
        if loaded_range {
            (start, end) = (0, range as i64 - 1);
        }
        if !dont_sort {
            elements = sorted(elements, db, by, alpha, self.desc, now_ms)?;
        }
        let selected = elements.into_iter().skip(start.max(0) as usize).take((end - start + 1).max(0) as usize);
        if self.gets.is_empty() {
            return Ok(selected.map(Some).collect());
        }
        let mut values = Vec::with_capacity(values);
        for element in selected {
            values.extend(self.gets.iter().map(|pattern| lookup(db, pattern, &element, now_ms)));
        }
        Ok(values)
    }

    /// Sorts, then stores the result as STORE asks.
    pub fn sort_and_store(&self, keyspace: &mut Keyspace, ctx: &WriteCtx) -> Result<SortOutput> {
        let values = self.sort(keyspace, ctx.db, ctx.now_ms, ctx.from_script)?;
        let Some(destination) = &self.store else {
            return Ok(SortOutput::Values(values));
        };
        let list =
            ListValue::from_elements(values.iter().map(|value| value.as_deref().unwrap_or(b"")), keyspace.encodings());
        let len = list.len();
        store_value_notifying(keyspace, ctx, destination, list, (EventClass::LIST, "sortstore"));
        Ok(SortOutput::Stored(len))
    }
}

/// Redis's `lookupKeyByPattern`: the value the pattern names for `element` (`#`: the element
/// itself; the first `*` stands for it, and `key->field` names a hash field). A pattern without
/// `*`, a missing key or field, or a key of another type name nothing.
fn lookup(db: &Db, pattern: &[u8], element: &[u8], now_ms: TimeMs) -> Option<Bytes> {
    let visible = c_string(pattern);
    if visible == b"#" {
        return Some(bytes_of(element));
    }
    let star = visible.iter().position(|byte| *byte == b'*')?;
    let arrow = visible[star + 1..]
        .windows(2)
        .position(|pair| pair == b"->")
        .map(|at| star + 1 + at)
        .filter(|at| at + 2 < visible.len());
    let key_end = arrow.unwrap_or(pattern.len());
    let mut key = Vec::with_capacity(pattern.len() + element.len());
    key.extend_from_slice(&pattern[..star]);
    key.extend_from_slice(element);
    key.extend_from_slice(&pattern[star + 1..key_end]);
    let entry = db.get(&key, now_ms)?;
    match (arrow, &entry.value) {
        (Some(arrow), Value::Hash(hash)) => hash.get(&pattern[arrow + 2..]).map(bytes_of),
        (None, Value::Str(string)) => Some(string.to_bytes()),
        _ => None,
    }
}

/// What an element sorts by.
struct Keyed {
    element: Bytes,
    score: f64,
    /// ALPHA BY: the value looked up (missing ones sort first).
    text: Option<Bytes>,
}

/// The elements in order: by score (ties by the elements' bytes), or with ALPHA by the
/// looked-up values or the elements' bytes; descending reverses the whole comparison.
fn sorted(
    elements: Vec<Bytes>,
    db: &Db,
    by: Option<&[u8]>,
    alpha: bool,
    desc: bool,
    now_ms: TimeMs,
) -> Result<Vec<Bytes>> {
    let mut keyed = Vec::with_capacity(elements.len());
    for element in elements {
        let value = match by {
            Some(pattern) => lookup(db, pattern, &element, now_ms),
            None => None,
        };
        let (score, text) = match (alpha, by) {
            (true, Some(_)) => (0.0, value),
            (true, None) => (0.0, None),
            (false, Some(_)) => (value.as_deref().map_or(Some(0.0), score_of).ok_or_else(not_a_double)?, None),
            (false, None) => (score_of(&element).ok_or_else(not_a_double)?, None),
        };
        keyed.push(Keyed { element, score, text });
    }
    let compare = |a: &Keyed, b: &Keyed| {
        let order = match (alpha, by) {
            (false, _) => {
                a.score.partial_cmp(&b.score).expect("scores are never NaN").then_with(|| a.element.cmp(&b.element))
            }
            (true, Some(_)) => a.text.cmp(&b.text),
            (true, None) => a.element.cmp(&b.element),
        };
        if desc {
            order.reverse()
        } else {
            order
        }
    };
    keyed.sort_by(compare);
    Ok(keyed.into_iter().map(|keyed| keyed.element).collect())
}

fn not_a_double() -> Error {
    Error::err("One or more scores can't be converted into double")
}

/// A value as glibc's `strtod` reads it for SORT: leading white space skipped, the whole text
/// used (as C sees it, up to a NUL), no NaN, nothing out of range (an overflow, or an inexact
/// result below the normal doubles); an empty text reads as 0.
fn score_of(text: &[u8]) -> Option<f64> {
    let text = c_string(text);
    if text.is_empty() {
        return Some(0.0);
    }
    let number = &text[text.iter().position(|byte| !b" \t\n\x0b\x0c\r".contains(byte))?..];
    let value = crate::args::parse_f64(number)?;
    let unsigned = number.strip_prefix(b"-").or_else(|| number.strip_prefix(b"+")).unwrap_or(number);
    if value.is_infinite() {
        // `inf` and `infinity` are read as such; any other infinity is an overflow.
        return unsigned[0].eq_ignore_ascii_case(&b'i').then_some(value);
    }
    let hex = unsigned.get(1).is_some_and(|byte| byte.eq_ignore_ascii_case(&b'x'));
    let (digits, exponent) = if hex { (&unsigned[2..], b'p') } else { (unsigned, b'e') };
    let mantissa =
        &digits[..digits.iter().position(|byte| byte.eq_ignore_ascii_case(&exponent)).unwrap_or(digits.len())];
    let vanished = value == 0.0 && mantissa.iter().any(|byte| byte.is_ascii_hexdigit() && *byte != b'0');
    // A decimal below the normal doubles is never exact; a hexadecimal one may be.
    let underflow = vanished || (value.is_subnormal() && !hex);
    (!underflow).then_some(value)
}

pub struct Sort {
    options: SortOptions,
}

impl Command for Sort {
    type Output = SortOutput;

    fn parse(args: &mut Args) -> Result<Self> {
        Ok(Sort { options: SortOptions::parse(args, true)? })
    }

    fn reply(output: SortOutput) -> Reply {
        sort_reply(output)
    }
}

/// The values as an array (missing ones nil), or the stored length.
pub fn sort_reply(output: SortOutput) -> Reply {
    match output {
        SortOutput::Values(values) => Reply::Array(values.into_iter().map(Reply::optional_bulk).collect()),
        SortOutput::Stored(len) => Reply::Integer(len as i64),
    }
}

impl WriteCommand for Sort {
    fn write(&self, keyspace: &mut Keyspace, ctx: &WriteCtx) -> Result<SortOutput> {
        self.options.sort_and_store(keyspace, ctx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::testing::*;
    use crate::keyspace::ZSetValue;

    const T: u64 = 1_000_000;

    /// Lists and sorted sets are made directly (their commands live elsewhere).
    fn list(ks: &mut Keyspace, key: &str, elements: &[&str]) {
        let list = ListValue::from_elements(elements.iter().map(|e| e.as_bytes()), ks.encodings());
        ks.db_mut(0).insert(key.as_bytes(), Value::List(Box::new(list)), None, 1);
    }

    fn zset(ks: &mut Keyspace, key: &str, pairs: &[(f64, &str)]) {
        let (encodings, hasher) = (*ks.encodings(), ks.db_mut(0).hasher());
        let mut zset = ZSetValue::new();
        for (score, member) in pairs {
            zset.insert(member.as_bytes(), *score, &encodings, hasher);
        }
        ks.db_mut(0).insert(key.as_bytes(), Value::ZSet(zset), None, 1);
    }

    fn bulks(items: &[&str]) -> Reply {
        Reply::Array(items.iter().map(|item| bulk(item)).collect())
    }

    fn stored(ks: &Keyspace, key: &str) -> Vec<String> {
        match ks.db(0).get(key.as_bytes(), T).map(|entry| &entry.value) {
            Some(Value::List(list)) => list.iter().map(|e| String::from_utf8(e.to_vec()).unwrap()).collect(),
            other => panic!("not a list: {other:?}"),
        }
    }

    #[test]
    fn numeric_alpha_desc_and_limit() {
        let ks = &mut Keyspace::new();
        list(ks, "l", &["3", "10", "1", "2"]);
        assert_eq!(write(ks, T, &["sort", "l"]), bulks(&["1", "2", "3", "10"]));
        assert_eq!(write(ks, T, &["sort", "l", "DESC"]), bulks(&["10", "3", "2", "1"]));
        assert_eq!(write(ks, T, &["sort", "l", "alpha"]), bulks(&["1", "10", "2", "3"]));
        assert_eq!(write(ks, T, &["sort", "l", "LIMIT", "1", "2"]), bulks(&["2", "3"]));
        assert_eq!(write(ks, T, &["sort", "l", "LIMIT", "-10", "100"]), bulks(&["1", "2", "3", "10"]));
        assert_eq!(write(ks, T, &["sort", "l", "LIMIT", "5", "10"]), bulks(&[]));
        assert_eq!(write(ks, T, &["sort", "l", "LIMIT", "2", "9223372036854775807"]), bulks(&["3", "10"]));
        assert_eq!(write(ks, T, &["sort", "l", "LIMIT", "0", "-5"]), bulks(&["1", "2", "3", "10"]));
        assert_eq!(read(ks, T, &["sort_ro", "l", "desc", "asc"]), bulks(&["1", "2", "3", "10"]));
        list(ks, "f", &["1.1", "5.10", "3.10", "7.44", "2.1", "5.75", "6.12", "0.25", "1.15", "-inf", "  4"]);
        assert_eq!(
            write(ks, T, &["sort", "f"]),
            bulks(&["-inf", "0.25", "1.1", "1.15", "2.1", "3.10", "  4", "5.10", "5.75", "6.12", "7.44"])
        );
        assert_eq!(write(ks, T, &["sort", "missing"]), bulks(&[]));
    }

    #[test]
    fn sets_and_sorted_sets() {
        let ks = &mut Keyspace::new();
        write(ks, T, &["sadd", "s", "c", "a", "b"]);
        assert_eq!(write(ks, T, &["sort", "s", "ALPHA"]), bulks(&["a", "b", "c"]));
        assert_eq!(write(ks, T, &["sort", "s"]), error("ERR One or more scores can't be converted into double"));
        zset(ks, "z", &[(1.0, "a"), (5.0, "b"), (2.0, "c"), (10.0, "d"), (3.0, "e")]);
        assert_eq!(write(ks, T, &["sort", "z", "alpha", "desc"]), bulks(&["e", "d", "c", "b", "a"]));
        assert_eq!(write(ks, T, &["sort", "z", "by", "nosort", "asc"]), bulks(&["a", "c", "e", "b", "d"]));
        assert_eq!(write(ks, T, &["sort", "z", "by", "nosort", "desc"]), bulks(&["d", "b", "e", "c", "a"]));
        assert_eq!(write(ks, T, &["sort", "z", "by", "nosort", "asc", "limit", "0", "2"]), bulks(&["a", "c"]));
        assert_eq!(write(ks, T, &["sort", "z", "by", "nosort", "desc", "limit", "1", "2"]), bulks(&["b", "e"]));
        assert_eq!(write(ks, T, &["sort", "z", "by", "nosort", "limit", "5", "10"]), bulks(&[]));
        assert_eq!(
            write(ks, T, &["sort", "z", "by", "nosort", "limit", "-10", "100"]),
            bulks(&["a", "c", "e", "b", "d"])
        );
        write(ks, T, &["set", "str", "x"]);
        assert_eq!(
            write(ks, T, &["sort", "str"]),
            error("WRONGTYPE Operation against a key holding the wrong kind of value")
        );
        write(ks, T, &["hset", "h", "f", "v"]);
        assert_eq!(
            read(ks, T, &["sort_ro", "h"]),
            error("WRONGTYPE Operation against a key holding the wrong kind of value")
        );
    }

    #[test]
    fn lists_keep_their_order_without_sorting() {
        let ks = &mut Keyspace::new();
        list(ks, "l", &["5", "3", "4", "1", "2"]);
        assert_eq!(write(ks, T, &["sort", "l", "by", "nosort"]), bulks(&["5", "3", "4", "1", "2"]));
        assert_eq!(write(ks, T, &["sort", "l", "by", "nosort", "desc"]), bulks(&["2", "1", "4", "3", "5"]));
        assert_eq!(write(ks, T, &["sort", "l", "by", "nosort", "limit", "1", "3"]), bulks(&["3", "4", "1"]));
        assert_eq!(write(ks, T, &["sort", "l", "by", "nosort", "desc", "limit", "1", "3"]), bulks(&["1", "4", "3"]));
        assert_eq!(write(ks, T, &["sort", "l", "by", "nosort", "limit", "0", "3", "store", "dst"]), Reply::Integer(3));
        assert_eq!(stored(ks, "dst"), ["5", "3", "4"]);
        // A later BY with a `*` does not bring sorting back.
        assert_eq!(write(ks, T, &["sort", "l", "by", "nosort", "by", "w_*"]), bulks(&["5", "3", "4", "1", "2"]));
    }

    #[test]
    fn by_and_get_patterns() {
        let ks = &mut Keyspace::new();
        list(ks, "l", &["1", "2", "3"]);
        write(ks, T, &["mset", "w_1", "30", "w_2", "10", "w_3", "20"]);
        write(ks, T, &["hset", "o_1", "weight", "3", "name", "one"]);
        write(ks, T, &["hset", "o_2", "weight", "1", "name", "two"]);
        write(ks, T, &["hset", "o_3", "weight", "2"]);
        assert_eq!(write(ks, T, &["sort", "l", "BY", "w_*"]), bulks(&["2", "3", "1"]));
        assert_eq!(write(ks, T, &["sort", "l", "BY", "w_*", "LIMIT", "1", "1"]), bulks(&["3"]));
        assert_eq!(write(ks, T, &["sort", "l", "BY", "o_*->weight", "DESC"]), bulks(&["1", "3", "2"]));
        assert_eq!(
            write(ks, T, &["sort", "l", "BY", "o_*->weight", "GET", "#", "GET", "o_*->name", "GET", "w_*"]),
            Reply::Array(vec![
                bulk("2"),
                bulk("two"),
                bulk("10"),
                bulk("3"),
                Reply::Nil,
                bulk("20"),
                bulk("1"),
                bulk("one"),
                bulk("30"),
            ])
        );
        assert_eq!(write(ks, T, &["sort", "l", "GET", "const"]), Reply::Array(vec![Reply::Nil; 3]));
        // Missing BY values weigh 0; ALPHA BY sorts missing values first.
        write(ks, T, &["del", "w_2"]);
        assert_eq!(write(ks, T, &["sort", "l", "BY", "w_*"]), bulks(&["2", "3", "1"]));
        assert_eq!(write(ks, T, &["sort", "l", "BY", "w_*", "ALPHA", "DESC"]), bulks(&["1", "3", "2"]));
        // A BY value of the wrong type is missing too.
        assert_eq!(write(ks, T, &["sort", "l", "BY", "o_*"]), bulks(&["1", "2", "3"]));
        write(ks, T, &["set", "w_3", "heavy"]);
        assert_eq!(
            write(ks, T, &["sort", "l", "BY", "w_*"]),
            error("ERR One or more scores can't be converted into double")
        );
        // `->` at the very end is part of the key name.
        list(ks, "one", &["a"]);
        write(ks, T, &["set", "x:a->", "100"]);
        assert_eq!(write(ks, T, &["sort", "one", "by", "num", "get", "x:*->"]), bulks(&["100"]));
        assert_eq!(read(ks, T, &["sort_ro", "one", "by", "nosort", "get", "x:*->"]), bulks(&["100"]));
    }

    #[test]
    fn ties_sort_by_the_elements() {
        let ks = &mut Keyspace::new();
        let members = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "l", "m", "n", "o", "p", "aa", "aaa", "azz"];
        let mut words = vec!["sadd", "s"];
        words.extend(members);
        write(ks, T, &words);
        let mut expected = members.to_vec();
        expected.sort();
        assert_eq!(write(ks, T, &["sort", "s", "by", "score:*"]), bulks(&expected));
        // BY a constant and STORE: a set's order must not leak into the stored list.
        assert_eq!(write(ks, T, &["sort", "s", "alpha", "by", "_", "store", "dst"]), Reply::Integer(17));
        assert_eq!(stored(ks, "dst"), expected);
    }

    #[test]
    fn store() {
        let ks = &mut Keyspace::new();
        list(ks, "l", &["2", "1"]);
        write(ks, T, &["set", "dst", "old", "EX", "100"]);
        assert_eq!(write(ks, T, &["sort", "l", "store", "dst"]), Reply::Integer(2));
        assert_eq!(stored(ks, "dst"), ["1", "2"]);
        assert_eq!(read(ks, T, &["ttl", "dst"]), Reply::Integer(-1));
        assert_eq!(ks.db(0).get(b"dst", T).unwrap().version, T);
        assert_eq!(write(ks, T, &["sort", "l", "get", "nokey_*", "get", "#", "store", "dst"]), Reply::Integer(4));
        assert_eq!(stored(ks, "dst"), ["", "1", "", "2"]);
        assert_eq!(write(ks, T, &["sort", "l", "alpha", "limit", "10", "10", "store", "dst"]), Reply::Integer(0));
        assert_eq!(read(ks, T, &["exists", "dst"]), Reply::Integer(0));
        assert_eq!(write(ks, T, &["sort", "nokey", "store", "l"]), Reply::Integer(0));
        assert_eq!(read(ks, T, &["exists", "l"]), Reply::Integer(0));
    }

    #[test]
    fn argument_errors() {
        let ks = &mut Keyspace::new();
        list(ks, "l", &["1"]);
        for words in [
            &["sort", "l", "limit", "1"][..],
            &["sort", "l", "get"],
            &["sort", "l", "by"],
            &["sort", "l", "store"],
            &["sort", "l", "nope"],
            &["sort_ro", "l", "store", "x"],
        ] {
            assert_eq!(write(ks, T, words), error("ERR syntax error"), "{words:?}");
        }
        assert_eq!(
            write(ks, T, &["sort", "l", "limit", "a", "1"]),
            error("ERR value is not an integer or out of range")
        );
        assert_eq!(write(ks, T, &["sort"]), error("ERR wrong number of arguments for 'sort' command"));
    }

    #[test]
    fn keys_are_the_sorted_key_and_the_last_store() {
        for (words, expected) in [
            (&["sort", "abc", "store", "def"][..], vec![1, 3]),
            (&["sort", "abc", "store", "invalid", "store", "stillbad", "store", "def"], vec![1, 7]),
            (&["sort", "abc", "get", "store", "by", "store", "limit", "store", "1"], vec![1]),
            (&["sort", "abc", "store"], vec![1]),
        ] {
            assert_eq!(key_positions(&argv(words)), expected, "{words:?}");
        }
    }

    #[test]
    fn scores_read_as_strtod_reads_them() {
        for (text, score) in [
            ("5", Some(5.0)),
            ("  5", Some(5.0)),
            ("", Some(0.0)),
            ("-1.5e3", Some(-1500.0)),
            ("+inf", Some(f64::INFINITY)),
            ("-Infinity", Some(f64::NEG_INFINITY)),
            ("0x10", Some(16.0)),
            ("1\0junk", Some(1.0)),
            ("0e-500", Some(0.0)),
            ("5 ", None),
            ("   ", None),
            ("abc", None),
            ("nan", None),
            ("1e400", None),
            ("1e-400", None),
            ("1e-310", None),
        ] {
            assert_eq!(score_of(text.as_bytes()), score, "{text:?}");
        }
    }
}
