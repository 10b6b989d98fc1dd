//! LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len]

use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "lpos",
    arity: -3,
    flags: &["readonly"],
    first_key: 1,
    last_key: 1,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["RO", "access"], begin_index: 1, last_key: 0, key_step: 1 }],
    acl_categories: &["@read", "@list", "@slow"],
    tips: &[],
    group: "list",
    since: "6.0.6",
    complexity: "O(N) where N is the number of elements in the list, for the average case. When searching for elements near the head or the tail of the list, or when the MAXLEN option is provided, the command may run in constant time.",
    summary: "Return the index of matching elements on a list",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct LPos {
    key: Bytes,
    element: Bytes,
    /// Which match is the first reported: 1 the first from the head, -1 the first from the
    /// tail; never 0.
    rank: i64,
    /// `None`: reply with one index; `Some(0)`: every match; `Some(n)`: up to n.
    count: Option<u64>,
    /// Elements looked at, at most (0: all).
    maxlen: u64,
}

pub enum Found {
    One(Option<usize>),
    Many(Vec<usize>),
}

fn non_negative(arg: &[u8], message: &'static str) -> Result<u64> {
    parse_i64(arg).and_then(|value| u64::try_from(value).ok()).ok_or(Error::fixed(message))
}

impl Command for LPos {
    type Output = Found;

    fn parse(args: &mut Args) -> Result<Self> {
        let key = args.next_arg()?;
        let element = args.next_arg()?;
        let (mut rank, mut count, mut maxlen) = (1, None, 0);
        while let Some(option) = args.peek().cloned() {
            args.next_arg()?;
            if args.is_empty() {
                return Err(Error::SYNTAX);
            }
            let value = args.next_arg()?;
            if is(&option, "RANK") {
                rank = parse_i64(&value).ok_or(Error::NOT_INTEGER)?;
                if rank == 0 {
                    return Err(Error::fixed(
                        "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use \
                         negative to start from the end of the list",
                    ));
                }
            } else if is(&option, "COUNT") {
                count = Some(non_negative(&value, "ERR COUNT can't be negative")?);
            } else if is(&option, "MAXLEN") {
                maxlen = non_negative(&value, "ERR MAXLEN can't be negative")?;
            } else {
                return Err(Error::SYNTAX);
            }
        }
        Ok(LPos { key, element, rank, count, maxlen })
    }

    fn reply(found: Found) -> Reply {
        match found {
            Found::One(index) => index.map_or(Reply::Nil, |index| Reply::Integer(index as i64)),
            Found::Many(indexes) => {
                Reply::Array(indexes.into_iter().map(|index| Reply::Integer(index as i64)).collect())
            }
        }
    }
}

impl LPos {
    /// The indexes of the matches among `elements` (the list walked from one end, `index`
    /// turning a step into the list's index), from match `skip + 1` on, up to `limit`.
    fn scan<'a>(
        &self,
        elements: impl Iterator<Item = &'a [u8]>,
        index: impl Fn(usize) -> usize,
        skip: u64,
        limit: Option<u64>,
    ) -> Vec<usize> {
        let mut found = Vec::new();
        let mut matches = 0u64;
        let looked_at = if self.maxlen == 0 { usize::MAX } else { usize::try_from(self.maxlen).unwrap_or(usize::MAX) };
        for (step, candidate) in elements.take(looked_at).enumerate() {
            if candidate != &self.element[..] {
                continue;
            }
            matches += 1;
            if matches > skip {
                found.push(index(step));
                if limit.is_some_and(|limit| found.len() as u64 >= limit) {
                    break;
                }
            }
        }
        found
    }
}

impl ReadCommand for LPos {
    fn read(&self, keyspace: &Keyspace, ctx: &mut ReadCtx) -> Result<Found> {
        let list = value_at::<ListValue>(keyspace.db(ctx.db), &self.key, ctx.now_ms)?;
        let Some(list) = list else {
            return Ok(if self.count.is_some() { Found::Many(Vec::new()) } else { Found::One(None) });
        };
        // Redis negates the rank to search from the tail; for the lowest rank that overflows and
        // leaves it negative, so it behaves as -1 and a COUNT never stops the search.
        let (skip, limit) = match (self.rank, self.count) {
            (i64::MIN, Some(_)) => (0, None),
            (i64::MIN, None) => (0, Some(1)),
            (rank, None) => (rank.unsigned_abs() - 1, Some(1)),
            (rank, Some(count)) => (rank.unsigned_abs() - 1, (count > 0).then_some(count)),
        };
        let len = list.len();
        let found = if self.rank > 0 {
            self.scan(list.iter(), |step| step, skip, limit)
        } else {
            self.scan(list.iter().rev(), |step| len - 1 - step, skip, limit)
        };
        Ok(match self.count {
            None => Found::One(found.first().copied()),
            Some(_) => Found::Many(found),
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::commands::testing::*;
    use crate::keyspace::Keyspace;
    use crate::reply::Reply;

    fn ints(items: &[i64]) -> Reply {
        Reply::Array(items.iter().map(|item| Reply::Integer(*item)).collect())
    }

    fn list() -> Keyspace {
        let mut ks = Keyspace::new();
        write(&mut ks, 1, &["rpush", "l", "a", "b", "c", "1", "2", "3", "c", "c"]);
        ks
    }

    #[test]
    fn ranks_and_counts() {
        let ks = &list();
        assert_eq!(read(ks, 1, &["lpos", "l", "a"]), Reply::Integer(0));
        assert_eq!(read(ks, 1, &["lpos", "l", "c"]), Reply::Integer(2));
        assert_eq!(read(ks, 1, &["lpos", "l", "c", "RANK", "2"]), Reply::Integer(6));
        assert_eq!(read(ks, 1, &["lpos", "l", "c", "rank", "4"]), Reply::Nil);
        assert_eq!(read(ks, 1, &["lpos", "l", "c", "RANK", "-1"]), Reply::Integer(7));
        assert_eq!(read(ks, 1, &["lpos", "l", "c", "RANK", "-2"]), Reply::Integer(6));
        assert_eq!(read(ks, 1, &["lpos", "l", "c", "COUNT", "0"]), ints(&[2, 6, 7]));
        assert_eq!(read(ks, 1, &["lpos", "l", "c", "COUNT", "2"]), ints(&[2, 6]));
        assert_eq!(read(ks, 1, &["lpos", "l", "c", "COUNT", "100"]), ints(&[2, 6, 7]));
        assert_eq!(read(ks, 1, &["lpos", "l", "c", "COUNT", "0", "RANK", "2"]), ints(&[6, 7]));
        assert_eq!(read(ks, 1, &["lpos", "l", "c", "COUNT", "2", "RANK", "-1"]), ints(&[7, 6]));
        assert_eq!(read(ks, 1, &["lpos", "l", "x", "COUNT", "2"]), ints(&[]));
        assert_eq!(read(ks, 1, &["lpos", "l", "x"]), Reply::Nil);
        assert_eq!(read(ks, 1, &["lpos", "l", "a", "RANK", "1", "RANK", "-1"]), Reply::Integer(0));
    }

    #[test]
    fn maxlen_bounds_the_scan() {
        let ks = &list();
        assert_eq!(read(ks, 1, &["lpos", "l", "a", "COUNT", "0", "MAXLEN", "1"]), ints(&[0]));
        assert_eq!(read(ks, 1, &["lpos", "l", "c", "COUNT", "0", "MAXLEN", "1"]), ints(&[]));
        assert_eq!(read(ks, 1, &["lpos", "l", "c", "COUNT", "0", "MAXLEN", "3"]), ints(&[2]));
        assert_eq!(read(ks, 1, &["lpos", "l", "c", "COUNT", "0", "MAXLEN", "3", "RANK", "-1"]), ints(&[7, 6]));
        assert_eq!(read(ks, 1, &["lpos", "l", "c", "COUNT", "0", "MAXLEN", "7", "RANK", "2"]), ints(&[6]));
    }

    #[test]
    fn missing_keys() {
        let ks = &list();
        assert_eq!(read(ks, 1, &["lpos", "nope", "c", "COUNT", "0", "RANK", "2"]), ints(&[]));
        assert_eq!(read(ks, 1, &["lpos", "nope", "c"]), Reply::Nil);
    }

    #[test]
    fn the_lowest_rank_behaves_as_redis_does() {
        let ks = &mut Keyspace::new();
        write(ks, 1, &["rpush", "l", "a", "b", "c", "a", "b", "c"]);
        assert_eq!(read(ks, 1, &["lpos", "l", "a", "RANK", "-9223372036854775808"]), Reply::Integer(3));
        assert_eq!(read(ks, 1, &["lpos", "l", "a", "RANK", "-9223372036854775808", "COUNT", "1"]), ints(&[3, 0]));
        assert_eq!(read(ks, 1, &["lpos", "l", "a", "RANK", "-9223372036854775807"]), Reply::Nil);
        assert_eq!(read(ks, 1, &["lpos", "l", "a", "RANK", "9223372036854775807"]), Reply::Nil);
    }

    #[test]
    fn errors() {
        let ks = &mut list();
        let rank_zero = "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list";
        assert_eq!(read(ks, 1, &["lpos", "l", "c", "RANK", "0"]), error(rank_zero));
        assert_eq!(read(ks, 1, &["lpos", "nope", "c", "RANK", "0"]), error(rank_zero));
        assert_eq!(read(ks, 1, &["lpos", "l", "c", "RANK", "x"]), error("ERR value is not an integer or out of range"));
        assert_eq!(read(ks, 1, &["lpos", "l", "c", "COUNT", "-1"]), error("ERR COUNT can't be negative"));
        assert_eq!(read(ks, 1, &["lpos", "l", "c", "COUNT", "abc"]), error("ERR COUNT can't be negative"));
        assert_eq!(read(ks, 1, &["lpos", "l", "c", "MAXLEN", "-1"]), error("ERR MAXLEN can't be negative"));
        assert_eq!(read(ks, 1, &["lpos", "l", "c", "RANK"]), error("ERR syntax error"));
        assert_eq!(read(ks, 1, &["lpos", "l", "c", "FOO", "1"]), error("ERR syntax error"));
        write(ks, 1, &["set", "s", "v"]);
        assert_eq!(
            read(ks, 1, &["lpos", "s", "c"]),
            error("WRONGTYPE Operation against a key holding the wrong kind of value")
        );
        assert_eq!(read(ks, 1, &["lpos", "s", "c", "RANK", "0"]), error(rank_zero));
    }
}
