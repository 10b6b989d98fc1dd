//! LMPOP numkeys key [key ...] LEFT|RIGHT [COUNT count]

use super::{pop_first, End, Popped};
use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "lmpop",
    arity: -4,
    flags: &["write", "movablekeys"],
    first_key: 0,
    last_key: 0,
    key_step: 0,
    key_specs: &[],
    acl_categories: &["@write", "@list", "@slow"],
    tips: &[],
    group: "list",
    since: "7.0.0",
    complexity: "O(N+M) where N is the number of provided keys and M is the number of elements returned.",
    summary: "Pop elements from a list",
    deprecated: None,
    movable_keys: Some(key_positions),
    subcommands: &[],
};

/// Where the keys are: after the count at position 1.
fn key_positions(argv: &[Bytes]) -> Vec<usize> {
    crate::command::keys_after_count(argv, 1, 0)
}

pub struct LMPop {
    keys: Vec<Bytes>,
    end: End,
    count: usize,
}

/// Redis's `getRangeLongFromObjectOrReply(.., 1, LONG_MAX, message)`: a positive number, or
/// `message` for anything else.
fn positive(arg: &[u8], message: &'static str) -> Result<usize> {
    parse_i64(arg).filter(|value| *value > 0).map(|value| value as usize).ok_or(Error::fixed(message))
}

impl LMPop {
    /// `numkeys key [key ...] LEFT|RIGHT [COUNT count]`, as LMPOP and BLMPOP take them (after
    /// BLMPOP's timeout).
    pub fn parse_from(args: &mut Args) -> Result<LMPop> {
        let numkeys = positive(&args.next_arg()?, "ERR numkeys should be greater than 0")?;
        if numkeys >= args.remaining() {
            return Err(Error::SYNTAX);
        }
        let keys = (0..numkeys).map(|_| args.next_arg()).collect::<Result<Vec<_>>>()?;
        let end = End::parse(&args.next_arg()?)?;
        let mut count = None;
        while let Some(option) = args.peek().cloned() {
            args.next_arg()?;
            if count.is_some() || !is(&option, "COUNT") || args.is_empty() {
                return Err(Error::SYNTAX);
            }
            count = Some(positive(&args.next_arg()?, "ERR count should be greater than 0")?);
        }
        Ok(LMPop { keys, end, count: count.unwrap_or(1) })
    }

    pub fn keys(&self) -> &[Bytes] {
        &self.keys
    }

    pub fn end(&self) -> End {
        self.end
    }

    pub fn count(&self) -> usize {
        self.count
    }
}

impl Command for LMPop {
    type Output = Option<Popped>;

    fn parse(args: &mut Args) -> Result<Self> {
        LMPop::parse_from(args)
    }

    fn reply(popped: Option<Popped>) -> Reply {
        popped.map_or(Reply::NilArray, Popped::nested_reply)
    }
}

impl WriteCommand for LMPop {
    fn write(&self, keyspace: &mut Keyspace, ctx: &WriteCtx) -> Result<Option<Popped>> {
        pop_first(keyspace, ctx, &self.keys, self.end, self.count)
    }
}

#[cfg(test)]
mod tests {
    use crate::commands::testing::*;
    use crate::keyspace::Keyspace;
    use crate::reply::Reply;

    fn popped(key: &str, elements: &[&str]) -> Reply {
        Reply::Array(vec![bulk(key), Reply::Array(elements.iter().map(|element| bulk(element)).collect())])
    }

    #[test]
    fn pops_from_the_first_non_empty_list() {
        let ks = &mut Keyspace::new();
        write(ks, 1, &["rpush", "b", "1", "2", "3"]);
        write(ks, 1, &["rpush", "c", "x"]);
        assert_eq!(write(ks, 2, &["lmpop", "3", "a", "b", "c", "left"]), popped("b", &["1"]));
        assert_eq!(write(ks, 2, &["lmpop", "2", "a", "b", "RIGHT", "COUNT", "5"]), popped("b", &["3", "2"]));
        assert_eq!(read(ks, 2, &["exists", "b"]), Reply::Integer(0));
        assert_eq!(write(ks, 2, &["lmpop", "2", "b", "c", "Left", "count", "1"]), popped("c", &["x"]));
        assert_eq!(write(ks, 2, &["lmpop", "2", "b", "c", "left"]), Reply::NilArray);
    }

    #[test]
    fn a_key_of_another_type_on_the_way_is_an_error() {
        let ks = &mut Keyspace::new();
        write(ks, 1, &["set", "s", "v"]);
        write(ks, 1, &["rpush", "l", "1"]);
        let wrongtype = error("WRONGTYPE Operation against a key holding the wrong kind of value");
        assert_eq!(write(ks, 1, &["lmpop", "2", "s", "l", "left"]), wrongtype);
        assert_eq!(write(ks, 1, &["lmpop", "2", "l", "s", "left"]), popped("l", &["1"]));
    }

    #[test]
    fn argument_errors() {
        let ks = &mut Keyspace::new();
        let numkeys = error("ERR numkeys should be greater than 0");
        let count = error("ERR count should be greater than 0");
        let syntax = error("ERR syntax error");
        assert_eq!(write(ks, 1, &["lmpop", "1"]), error("ERR wrong number of arguments for 'lmpop' command"));
        assert_eq!(write(ks, 1, &["lmpop", "0", "a", "left"]), numkeys);
        assert_eq!(write(ks, 1, &["lmpop", "-1", "a", "left"]), numkeys);
        assert_eq!(write(ks, 1, &["lmpop", "a", "a", "left"]), numkeys);
        assert_eq!(write(ks, 1, &["lmpop", "1", "a", "bad"]), syntax);
        assert_eq!(write(ks, 1, &["lmpop", "2", "a", "left"]), syntax);
        assert_eq!(write(ks, 1, &["lmpop", "9223372036854775807", "a", "left"]), syntax);
        assert_eq!(write(ks, 1, &["lmpop", "1", "a", "left", "count"]), syntax);
        assert_eq!(write(ks, 1, &["lmpop", "1", "a", "left", "count", "0"]), count);
        assert_eq!(write(ks, 1, &["lmpop", "1", "a", "left", "count", "-1"]), count);
        assert_eq!(write(ks, 1, &["lmpop", "1", "a", "left", "count", "x"]), count);
        assert_eq!(write(ks, 1, &["lmpop", "1", "a", "left", "count", "1", "count", "1"]), syntax);
        assert_eq!(write(ks, 1, &["lmpop", "1", "a", "left", "foo", "1"]), syntax);
    }
}
