//! ZPOPMIN key [count]

use super::pop::{pop, pop_reply, End};
use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "zpopmin",
    arity: -2,
    flags: &["write", "fast"],
    first_key: 1,
    last_key: 1,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["RW", "access", "delete"], begin_index: 1, last_key: 0, key_step: 1 }],
    acl_categories: &["@write", "@sortedset", "@fast"],
    tips: &[],
    group: "sorted-set",
    since: "5.0.0",
    complexity:
        "O(log(N)*M) with N being the number of elements in the sorted set, and M being the number of elements popped.",
    summary: "Remove and return members with the lowest scores in a sorted set",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct ZPopMin {
    key: Bytes,
    /// `None`: one member, replied flat.
    count: Option<usize>,
}

/// ZPOPMIN's and ZPOPMAX's arguments: a key and an optional non-negative count.
pub fn parse_pop(args: &mut Args) -> Result<(Bytes, Option<usize>)> {
    let key = args.next_arg()?;
    let count = match args.is_empty() {
        true => None,
        false => match crate::args::parse_i64(&args.next_arg()?) {
            Some(count) if count >= 0 => Some(count as usize),
            _ => return Err(Error::err("value is out of range, must be positive")),
        },
    };
    args.finish()?;
    Ok((key, count))
}

/// Pops from `end` of `key` as ZPOPMIN and ZPOPMAX do; the flag says whether a count was
/// given (which nests the pairs in RESP3).
pub fn pop_command(
    keyspace: &mut Keyspace,
    ctx: &WriteCtx,
    key: &[u8],
    count: Option<usize>,
    end: End,
) -> Result<(Vec<(Bytes, f64)>, bool)> {
    Ok((pop(keyspace, ctx, key, end, count.unwrap_or(1))?, count.is_some()))
}

impl Command for ZPopMin {
    type Output = (Vec<(Bytes, f64)>, bool);

    fn parse(args: &mut Args) -> Result<Self> {
        let (key, count) = parse_pop(args)?;
        Ok(ZPopMin { key, count })
    }

    fn reply((popped, nested): (Vec<(Bytes, f64)>, bool)) -> Reply {
        pop_reply(popped, nested)
    }
}

impl WriteCommand for ZPopMin {
    fn write(&self, keyspace: &mut Keyspace, ctx: &WriteCtx) -> Result<(Vec<(Bytes, f64)>, bool)> {
        pop_command(keyspace, ctx, &self.key, self.count, End::Min)
    }
}

#[cfg(test)]
mod tests {
    use crate::commands::zset::testing::*;

    #[test]
    fn pops_the_lowest() {
        both(|ks, _| {
            run(ks, &["zadd", "z", "1", "a", "2", "b", "3", "c"]);
            assert_eq!(run(ks, &["zpopmin", "z"]), Reply::Array(vec![bulk("a"), double(1.0)]));
            assert_eq!(run(ks, &["zpopmin", "z", "5"]), scored(&[("b", 2.0), ("c", 3.0)]));
            assert_eq!(run(ks, &["exists", "z"]), int(0));
            assert_eq!(run(ks, &["zpopmin", "z"]), Reply::Array(vec![]));
            assert_eq!(run(ks, &["zpopmin", "z", "2"]), scored(&[]));
            run(ks, &["zadd", "z", "1", "a"]);
            assert_eq!(run(ks, &["zpopmin", "z", "0"]), scored(&[]));
            assert_eq!(run(ks, &["zcard", "z"]), int(1));
            assert_eq!(run(ks, &["zpopmin", "z", "-1"]), error("ERR value is out of range, must be positive"));
            assert_eq!(run(ks, &["zpopmin", "z", "x"]), error("ERR value is out of range, must be positive"));
            assert_eq!(run(ks, &["zpopmin", "z", "1", "2"]), error("ERR syntax error"));
            run(ks, &["set", "s", "v"]);
            assert_eq!(run(ks, &["zpopmin", "s"]), error(WRONGTYPE));
        });
    }
}
