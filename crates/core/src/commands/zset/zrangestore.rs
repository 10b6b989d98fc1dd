//! ZRANGESTORE dst src min max [BYSCORE | BYLEX] [REV] [LIMIT offset count]

use super::range::{By, RangeQuery};
use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "zrangestore",
    arity: -5,
    flags: &["write", "denyoom"],
    first_key: 1,
    last_key: 2,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["OW", "update"], begin_index: 1, last_key: 0, key_step: 1 }, KeySpec { flags: &["RO", "access"], begin_index: 2, last_key: 0, key_step: 1 }],
    acl_categories: &["@write", "@sortedset", "@slow"],
    tips: &[],
    group: "sorted-set",
    since: "6.2.0",
    complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements stored into the destination key.",
    summary: "Store a range of members from sorted set into another key",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct ZRangeStore {
    destination: Bytes,
    query: RangeQuery,
}

impl Command for ZRangeStore {
    type Output = usize;

    fn parse(args: &mut Args) -> Result<Self> {
        let destination = args.next_arg()?;
        Ok(ZRangeStore { destination, query: RangeQuery::parse(args, true, By::Any, None)? })
    }

    fn reply(stored: usize) -> Reply {
        Reply::Integer(stored as i64)
    }
}

impl WriteCommand for ZRangeStore {
    fn write(&self, keyspace: &mut Keyspace, ctx: &WriteCtx) -> Result<usize> {
        let mut members = self.query.read(keyspace.db(ctx.db), ctx.now_ms)?;
        if self.query.reverse {
            members.reverse();
        }
        Ok(super::store::store(keyspace, ctx, &self.destination, &members, "zrangestore"))
    }
}

#[cfg(test)]
mod tests {
    use crate::commands::zset::testing::*;

    #[test]
    fn stores_ranges() {
        both(|ks, form| {
            run(ks, &["zadd", "src", "1", "a", "2", "b", "3", "c", "4", "d"]);
            assert_eq!(run(ks, &["zrangestore", "dst", "src", "0", "-1"]), int(4));
            assert_eq!(
                run(ks, &["zrange", "dst", "0", "-1", "WITHSCORES"]),
                run(ks, &["zrange", "src", "0", "-1", "WITHSCORES"])
            );
            assert_eq!(encoding_of(ks), bulk(form));
            assert_eq!(run(ks, &["zrangestore", "dst", "src", "4", "2", "BYSCORE", "REV", "LIMIT", "0", "2"]), int(2));
            assert_eq!(run(ks, &["zrange", "dst", "0", "-1"]), bulks(&["c", "d"]));
            assert_eq!(run(ks, &["zrangestore", "dst", "src", "[b", "[c", "BYLEX"]), int(2));
            assert_eq!(run(ks, &["zrangestore", "dst", "src", "5", "6"]), int(0));
            assert_eq!(run(ks, &["exists", "dst"]), int(0));
            run(ks, &["set", "dst", "string"]);
            assert_eq!(run(ks, &["zrangestore", "dst", "nokey", "0", "-1"]), int(0));
            assert_eq!(run(ks, &["exists", "dst"]), int(0));
            assert_eq!(run(ks, &["zrangestore", "dst", "src", "0", "-1", "WITHSCORES"]), error("ERR syntax error"));
            run(ks, &["set", "s", "x"]);
            assert_eq!(run(ks, &["zrangestore", "dst", "s", "0", "-1"]), error(WRONGTYPE));
            assert_eq!(run(ks, &["zrangestore", "src", "src", "0", "1"]), int(2));
            assert_eq!(run(ks, &["zrange", "src", "0", "-1"]), bulks(&["a", "b"]));
        });
    }

    fn encoding_of(ks: &mut Keyspace) -> Reply {
        encoding(ks, "dst")
    }

    #[test]
    fn the_destination_takes_the_form_its_size_asks_for() {
        let ks = &mut Keyspace::new();
        run(ks, &["zadd", "src", "1", "a", "2", "b"]);
        ks.encodings_mut().zset_max_listpack_entries = 1;
        assert_eq!(run(ks, &["zrangestore", "dst", "src", "0", "-1"]), int(2));
        assert_eq!(encoding(ks, "dst"), bulk("skiplist"));
        assert_eq!(run(ks, &["zrangestore", "dst", "src", "0", "0"]), int(1));
        assert_eq!(encoding(ks, "dst"), bulk("listpack"));
        ks.encodings_mut().zset_max_listpack_entries = 0;
        assert_eq!(run(ks, &["zrangestore", "dst", "src", "-inf", "+inf", "BYSCORE"]), int(2));
        assert_eq!(encoding(ks, "dst"), bulk("skiplist"));
    }
}
