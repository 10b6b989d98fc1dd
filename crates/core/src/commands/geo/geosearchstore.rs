//! GEOSEARCHSTORE destination source <FROMMEMBER member | FROMLONLAT longitude latitude> <BYRADIUS radius unit | BYBOX width height unit> [ASC | DESC] [COUNT count [ANY]] [STOREDIST]

use super::search::{points_reply, search_and_store, Found, GeoQuery, Variant};
use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "geosearchstore",
    arity: -8,
    flags: &["write", "denyoom"],
    first_key: 1,
    last_key: 2,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["OW", "update"], begin_index: 1, last_key: 0, key_step: 1 }, KeySpec { flags: &["RO", "access"], begin_index: 2, last_key: 0, key_step: 1 }],
    acl_categories: &["@write", "@geo", "@slow"],
    tips: &[],
    group: "geo",
    since: "6.2.0",
    complexity: "O(N+log(M)) where N is the number of elements in the grid-aligned bounding box area around the shape provided as the filter and M is the number of items inside the shape",
    summary: "Query a sorted set representing a geospatial index to fetch members inside an area of a box or a circle, and store the result in another key.",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct GeoSearchStore(GeoQuery);

impl Command for GeoSearchStore {
    type Output = Found;

    fn parse(args: &mut Args) -> Result<Self> {
        GeoQuery::parse(args, Variant::SearchStore).map(GeoSearchStore)
    }

    fn reply(found: Found) -> Reply {
        points_reply(found)
    }
}

impl WriteCommand for GeoSearchStore {
    fn write(&self, keyspace: &mut Keyspace, ctx: &WriteCtx) -> Result<Found> {
        search_and_store(&self.0, keyspace, ctx)
    }
}

#[cfg(test)]
mod tests {
    use crate::commands::geo::testing::*;

    #[test]
    fn stores_positions_or_distances() {
        let ks = &mut Keyspace::new();
        nyc(ks);
        let from = ["fromlonlat", "-73.9798091", "40.7598464", "byradius", "3", "km"];
        let store = |ks: &mut Keyspace, extra: &[&str]| {
            let mut words = vec!["geosearchstore", "dst", "nyc"];
            words.extend_from_slice(&from);
            words.extend_from_slice(extra);
            run(ks, &words)
        };
        assert_eq!(store(ks, &[]), int(3));
        assert_eq!(run(ks, &["zrange", "dst", "0", "-1"]), bulks(&["union square", "central park n/q/r", "4545"]));
        assert_eq!(run(ks, &["zscore", "dst", "4545"]), double(1791875796750882.0));
        assert_eq!(store(ks, &["storedist", "count", "2", "desc"]), int(2));
        assert_eq!(
            run(ks, &["zrange", "dst", "0", "-1", "withscores"]),
            run(ks, &["zrange", "dst", "0", "-1", "withscores"])
        );
        let Reply::Pairs(pairs) = run(ks, &["zrange", "dst", "0", "-1", "withscores"]) else { panic!() };
        assert_eq!(pairs[0].0, bulk("4545"));
        let Reply::Double(distance) = pairs[1].1 else { panic!() };
        assert!((distance - 2.7697).abs() < 0.0001, "{distance}");
        assert_eq!(
            store(ks, &["withdist"]),
            error("ERR GEOSEARCHSTORE is not compatible with WITHDIST, WITHHASH and WITHCOORD options")
        );
        assert_eq!(store(ks, &["store", "x"]), error("ERR syntax error"));
        assert_eq!(run(ks, &["geosearchstore", "dst", "nokey", "frommember", "x", "bybox", "1", "1", "m"]), int(0));
        assert_eq!(run(ks, &["exists", "dst"]), int(0));
    }
}
