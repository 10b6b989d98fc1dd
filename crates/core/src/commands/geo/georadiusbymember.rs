//! GEORADIUSBYMEMBER key member radius M | KM | FT | MI [WITHCOORD] [WITHDIST] [WITHHASH] [COUNT count [ANY]] [ASC | DESC] [STORE key] [STOREDIST key]

use super::search::{points_reply, search_and_store, Found, GeoQuery, Variant};
use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "georadiusbymember",
    arity: -5,
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
    summary: "Query a sorted set representing a geospatial index to fetch members matching a given maximum distance from a member",
    deprecated: Some(("6.2.0", "`GEOSEARCH` and `GEOSEARCHSTORE` with the `BYRADIUS` and `FROMMEMBER` arguments")),
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

pub struct GeoRadiusByMember(GeoQuery);

impl Command for GeoRadiusByMember {
    type Output = Found;

    fn parse(args: &mut Args) -> Result<Self> {
        GeoQuery::parse(args, Variant::RadiusByMember { read_only: false }).map(GeoRadiusByMember)
    }

    fn reply(found: Found) -> Reply {
        points_reply(found)
    }
}

impl WriteCommand for GeoRadiusByMember {
    fn write(&self, keyspace: &mut Keyspace, ctx: &WriteCtx) -> Result<Found> {
        search_and_store(&self.0, keyspace, ctx)
    }
}

#[cfg(test)]
mod tests {
    use crate::commands::geo::testing::*;

    #[test]
    fn searches_around_a_member() {
        let ks = &mut Keyspace::new();
        nyc(ks);
        assert_eq!(
            run(ks, &["georadiusbymember", "nyc", "wtc one", "7", "km"]),
            bulks(&["wtc one", "union square", "central park n/q/r", "4545", "lic market"])
        );
        assert_eq!(
            run(ks, &["georadiusbymember", "nyc", "nope", "7", "km"]),
            error("ERR could not decode requested zset member")
        );
        // Without the key, neither the member nor the radius is read.
        assert_eq!(run(ks, &["georadiusbymember", "nokey", "nope", "-7", "km"]), bulks(&[]));
        assert_eq!(run(ks, &["georadiusbymember", "nokey", "nope", "-7", "km", "store", "dst"]), int(0));
    }
}
