//! LPOP key [count]

use super::{pop, positive_count, End};
use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "lpop",
    arity: -2,
    flags: &["write", "fast"],
    first_key: 1,
    last_key: 1,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["RW", "access", "delete"], begin_index: 1, last_key: 0, key_step: 1 }],
    acl_categories: &["@write", "@list", "@fast"],
    tips: &[],
    group: "list",
    since: "1.0.0",
    complexity: "O(N) where N is the number of elements returned",
    summary: "Remove and get the first elements in a list",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

/// LPOP and RPOP: one element (a bulk string) or, given a count, up to that many (an array).
pub struct Pop {
    key: Bytes,
    count: Option<usize>,
    end: End,
}

/// What a pop replies with: `One` without a count, `Many` with one (`None`: no such key, which
/// is a nil bulk string or a nil array to match).
pub enum PopOutput {
    One(Option<Bytes>),
    Many(Option<Vec<Bytes>>),
}

impl Pop {
    pub fn parse_in(args: &mut Args, end: End, command: &str) -> Result<Pop> {
        let key = args.next_arg()?;
        if args.remaining() > 1 {
            return Err(Error::wrong_arity(command));
        }
        let count = match args.is_empty() {
            true => None,
            false => Some(positive_count(&args.next_arg()?)?),
        };
        Ok(Pop { key, count, end })
    }

    pub fn apply(&self, keyspace: &mut Keyspace, ctx: &WriteCtx) -> Result<PopOutput> {
        Ok(match self.count {
            None => {
                PopOutput::One(pop(keyspace, ctx, &self.key, self.end, 1)?.and_then(|taken| taken.into_iter().next()))
            }
            // A count of 0 pops nothing, but still tells a list (an empty array) from no key.
            Some(0) => {
                let db = keyspace.db_mut(ctx.db);
                PopOutput::Many(value_mut::<ListValue>(db, &self.key, ctx.now_ms)?.map(|_| Vec::new()))
            }
            Some(count) => PopOutput::Many(pop(keyspace, ctx, &self.key, self.end, count)?),
        })
    }

    pub fn reply(output: PopOutput) -> Reply {
        match output {
            PopOutput::One(element) => Reply::optional_bulk(element),
            PopOutput::Many(None) => Reply::NilArray,
            PopOutput::Many(Some(elements)) => Reply::bulks(elements),
        }
    }
}

pop_command!(LPop, End::Left, "lpop");

#[cfg(test)]
mod tests {
    use crate::commands::testing::*;
    use crate::keyspace::Keyspace;
    use crate::reply::Reply;

    fn bulks(items: &[&str]) -> Reply {
        Reply::Array(items.iter().map(|item| bulk(item)).collect())
    }

    #[test]
    fn pops_from_the_head_with_or_without_a_count() {
        let ks = &mut Keyspace::new();
        write(ks, 1, &["rpush", "l", "a", "b", "c", "d", "e"]);
        assert_eq!(write(ks, 2, &["lpop", "l"]), bulk("a"));
        assert_eq!(ks.db(0).get(b"l", 2).unwrap().version, 2);
        assert_eq!(write(ks, 3, &["lpop", "l", "2"]), bulks(&["b", "c"]));
        assert_eq!(write(ks, 4, &["lpop", "l", "0"]), bulks(&[]));
        assert_eq!(ks.db(0).get(b"l", 4).unwrap().version, 3, "a count of 0 changes nothing");
        assert_eq!(write(ks, 5, &["lpop", "l", "100"]), bulks(&["d", "e"]));
        assert_eq!(read(ks, 5, &["exists", "l"]), Reply::Integer(0));
    }

    #[test]
    fn a_missing_key_is_nil_of_the_reply_shape() {
        let ks = &mut Keyspace::new();
        assert_eq!(write(ks, 1, &["lpop", "nope"]), Reply::Nil);
        assert_eq!(write(ks, 1, &["lpop", "nope", "0"]), Reply::NilArray);
        assert_eq!(write(ks, 1, &["lpop", "nope", "3"]), Reply::NilArray);
    }

    #[test]
    fn errors() {
        let ks = &mut Keyspace::new();
        assert_eq!(write(ks, 1, &["lpop", "l", "1", "1"]), error("ERR wrong number of arguments for 'lpop' command"));
        assert_eq!(write(ks, 1, &["lpop", "l", "-1"]), error("ERR value is out of range, must be positive"));
        assert_eq!(write(ks, 1, &["lpop", "l", "x"]), error("ERR value is out of range, must be positive"));
        write(ks, 1, &["set", "s", "v"]);
        let wrongtype = error("WRONGTYPE Operation against a key holding the wrong kind of value");
        assert_eq!(write(ks, 1, &["lpop", "s"]), wrongtype);
        assert_eq!(write(ks, 1, &["lpop", "s", "0"]), wrongtype);
        // The count is checked before the key.
        assert_eq!(write(ks, 1, &["lpop", "s", "-5"]), error("ERR value is out of range, must be positive"));
    }
}
