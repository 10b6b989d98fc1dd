//! GEOADD key [NX | XX] [CH] longitude latitude member [longitude latitude member ...]
//!
//! ZADD with the positions' 52-bit geohashes as scores, as Redis rewrites it.

use super::search::extract_long_lat;
use crate::commands::prelude::*;
use crate::commands::zset::zadd::{added_reply, AddFlags, Added, ZAdd};
use crate::geohash::score_of;

pub const SPEC: CommandSpec = CommandSpec {
    name: "geoadd",
    arity: -5,
    flags: &["write", "denyoom"],
    first_key: 1,
    last_key: 1,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["RW", "update"], begin_index: 1, last_key: 0, key_step: 1 }],
    acl_categories: &["@write", "@geo", "@slow"],
    tips: &[],
    group: "geo",
    since: "3.2.0",
    complexity: "O(log(N)) for each item added, where N is the number of elements in the sorted set.",
    summary: "Add one or more geospatial items in the geospatial index represented using a sorted set",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct GeoAdd(ZAdd);

impl Command for GeoAdd {
    type Output = Added;

    fn parse(args: &mut Args) -> Result<Self> {
        let key = args.next_arg()?;
        let mut flags = AddFlags::default();
        while let Some(option) = args.peek() {
            let flag = match () {
                _ if is(option, "NX") => &mut flags.nx,
                _ if is(option, "XX") => &mut flags.xx,
                _ if is(option, "CH") => &mut flags.ch,
                _ => break,
            };
            *flag = true;
            args.next_arg()?;
        }
        let rest = args.rest();
        if !rest.len().is_multiple_of(3) || (flags.xx && flags.nx) {
            return Err(Error::SYNTAX);
        }
        let mut pairs = Vec::with_capacity(rest.len() / 3);
        for triple in rest.chunks_exact(3) {
            let (longitude, latitude) = extract_long_lat(&triple[0], &triple[1])?;
            pairs.push((score_of(longitude, latitude), triple[2].clone()));
        }
        // What ZADD then says to no pairs at all.
        if pairs.is_empty() {
            return Err(Error::SYNTAX);
        }
        Ok(GeoAdd(ZAdd { key, flags, pairs }))
    }

    fn reply(added: Added) -> Reply {
        added_reply(added)
    }
}

impl WriteCommand for GeoAdd {
    fn write(&self, keyspace: &mut Keyspace, ctx: &WriteCtx) -> Result<Added> {
        self.0.apply(keyspace, ctx)
    }
}

#[cfg(test)]
mod tests {
    use crate::commands::zset::testing::*;

    #[test]
    fn adds_positions_as_scores() {
        let ks = &mut Keyspace::new();
        assert_eq!(
            run(ks, &["geoadd", "Sicily", "13.361389", "38.115556", "Palermo", "15.087269", "37.502669", "Catania"]),
            int(2)
        );
        assert_eq!(run(ks, &["zscore", "Sicily", "Palermo"]), double(3479099956230698.0));
        assert_eq!(run(ks, &["geoadd", "Sicily", "13.361389", "38.115556", "Palermo"]), int(0));
        assert_eq!(run(ks, &["geoadd", "Sicily", "CH", "13", "38", "Palermo"]), int(1));
        assert_eq!(run(ks, &["geoadd", "Sicily", "NX", "14", "38", "Palermo"]), int(0));
        assert_eq!(run(ks, &["geoadd", "Sicily", "XX", "CH", "14", "38", "Palermo", "1", "1", "new"]), int(1));
        assert_eq!(run(ks, &["zcard", "Sicily"]), int(2));
        assert_eq!(run(ks, &["geoadd", "Sicily", "XX", "NX", "1", "1", "a"]), error("ERR syntax error"));
        assert_eq!(run(ks, &["geoadd", "Sicily", "GT", "1", "1", "a"]), error("ERR syntax error"));
        assert_eq!(run(ks, &["geoadd", "Sicily", "CH", "CH", "CH"]), error("ERR syntax error"));
        assert_eq!(
            run(ks, &["geoadd", "Sicily", "200", "100", "x"]),
            error("ERR invalid longitude,latitude pair 200.000000,100.000000")
        );
        assert_eq!(
            run(ks, &["geoadd", "Sicily", "13", "85.06", "x"]),
            error("ERR invalid longitude,latitude pair 13.000000,85.060000")
        );
        assert_eq!(
            run(ks, &["geoadd", "Sicily", "1", "1", "a", "foo", "bar", "b"]),
            error("ERR value is not a valid float")
        );
        assert_eq!(run(ks, &["zcard", "Sicily"]), int(2), "nothing added on an error");
    }
}
