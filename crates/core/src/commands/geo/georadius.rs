//! GEORADIUS key longitude latitude radius M | KM | FT | MI [WITHCOORD] [WITHDIST] [WITHHASH] [COUNT count [ANY]] [ASC | DESC] [STORE key] [STOREDIST key]

use super::search::{points_reply, search_and_store, Found, GeoQuery, Variant};
use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "georadius",
    arity: -6,
    flags: &["write", "denyoom", "movablekeys"],
    first_key: 1,
    last_key: 1,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["RO", "access"], begin_index: 1, last_key: 0, key_step: 1 }],
    acl_categories: &["@write", "@geo", "@slow"],
    tips: &[],
    group: "geo",
    since: "3.2.0",
    complexity: "O(N+log(M)) where N is the number of elements inside the bounding box of the circular area delimited by center and radius and M is the number of items inside the index.",
    summary: "Query a sorted set representing a geospatial index to fetch members matching a given maximum distance from a point",
    deprecated: Some(("6.2.0", "`GEOSEARCH` and `GEOSEARCHSTORE` with the `BYRADIUS` argument")),
    movable_keys: Some(key_positions),
    subcommands: &[],
};

/// Where the keys are: the sorted set, and the destination after the last STORE or STOREDIST.
fn key_positions(argv: &[Bytes]) -> Vec<usize> {
    let store = (2..argv.len().saturating_sub(1))
        .filter(|&at| is(&argv[at], "STORE") || is(&argv[at], "STOREDIST"))
        .last()
        .map(|at| at + 1);
    std::iter::once(1).chain(store).collect()
}

pub struct GeoRadius(GeoQuery);

impl Command for GeoRadius {
    type Output = Found;

    fn parse(args: &mut Args) -> Result<Self> {
        GeoQuery::parse(args, Variant::Radius { read_only: false }).map(GeoRadius)
    }

    fn reply(found: Found) -> Reply {
        points_reply(found)
    }
}

impl WriteCommand for GeoRadius {
    fn write(&self, keyspace: &mut Keyspace, ctx: &WriteCtx) -> Result<Found> {
        search_and_store(&self.0, keyspace, ctx)
    }
}

#[cfg(test)]
mod tests {
    use crate::commands::geo::testing::*;

    #[test]
    fn radius_searches_and_stores() {
        let ks = &mut Keyspace::new();
        nyc(ks);
        assert_eq!(
            run(ks, &["georadius", "nyc", "-73.9798091", "40.7598464", "3", "km", "asc"]),
            bulks(&["central park n/q/r", "4545", "union square"])
        );
        assert_eq!(
            run(ks, &["georadius", "nyc", "-73.9798091", "40.7598464", "3", "km", "withdist", "desc", "count", "1"]),
            Reply::Array(vec![Reply::Array(vec![bulk("union square"), bulk("2.7697")])])
        );
        assert_eq!(run(ks, &["georadius", "nyc", "-73.9798091", "40.7598464", "3", "km", "store", "dst"]), int(3));
        assert_eq!(run(ks, &["zcard", "dst"]), int(3));
        assert_eq!(
            run(ks, &["georadius", "nyc", "-73.9798091", "40.7598464", "3", "km", "storedist", "dst", "count", "1"]),
            int(1)
        );
        assert_eq!(run(ks, &["zrange", "dst", "0", "-1"]), bulks(&["central park n/q/r"]));
        assert_eq!(
            run(ks, &["georadius", "nyc", "-73.9798091", "40.7598464", "3", "km", "store", "dst", "withdist"]),
            error("ERR STORE option in GEORADIUS is not compatible with WITHDIST, WITHHASH and WITHCOORD options")
        );
        assert_eq!(
            run(ks, &["georadius", "nyc", "-73.9798091", "40.7598464", "3", "km", "store"]),
            error("ERR syntax error")
        );
        assert_eq!(
            run(ks, &["georadius", "nyc", "200", "40", "3", "km"]),
            error("ERR invalid longitude,latitude pair 200.000000,40.000000")
        );
        assert_eq!(run(ks, &["georadius", "nokey", "-73.9798091", "40.7598464", "3", "km", "store", "dst"]), int(0));
        assert_eq!(run(ks, &["exists", "dst"]), int(0));
        assert_eq!(
            run(ks, &["georadius", "nyc", "0", "0", "50000", "km", "count", "2", "any"]),
            bulks(&["wtc one", "union square"])
        );
    }
}
