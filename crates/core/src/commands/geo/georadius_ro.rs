//! GEORADIUS_RO key longitude latitude radius M | KM | FT | MI [WITHCOORD] [WITHDIST] [WITHHASH] [COUNT count [ANY]] [ASC | DESC]

use super::search::{points_reply, Found, GeoQuery, Variant};
use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "georadius_ro",
    arity: -6,
    flags: &["readonly"],
    first_key: 1,
    last_key: 1,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["RO", "access"], begin_index: 1, last_key: 0, key_step: 1 }],
    acl_categories: &["@read", "@geo", "@slow"],
    tips: &[],
    group: "geo",
    since: "3.2.10",
    complexity: "O(N+log(M)) where N is the number of elements inside the bounding box of the circular area delimited by center and radius and M is the number of items inside the index.",
    summary: "A read-only variant for GEORADIUS",
    deprecated: Some(("6.2.0", "`GEOSEARCH` with the `BYRADIUS` argument")),
    movable_keys: None,
    subcommands: &[],
};

pub struct GeoRadiusRo(GeoQuery);

impl Command for GeoRadiusRo {
    type Output = Found;

    fn parse(args: &mut Args) -> Result<Self> {
        GeoQuery::parse(args, Variant::Radius { read_only: true }).map(GeoRadiusRo)
    }

    fn reply(found: Found) -> Reply {
        points_reply(found)
    }
}

impl ReadCommand for GeoRadiusRo {
    fn read(&self, keyspace: &Keyspace, ctx: &mut ReadCtx) -> Result<Found> {
        self.0.search(keyspace.db(ctx.db), ctx.now_ms)
    }
}

#[cfg(test)]
mod tests {
    use crate::commands::geo::testing::*;

    #[test]
    fn refuses_store() {
        let ks = &mut Keyspace::new();
        nyc(ks);
        assert_eq!(
            run(ks, &["georadius_ro", "nyc", "-73.9798091", "40.7598464", "3", "km", "store", "dst"]),
            error("ERR syntax error")
        );
        assert_eq!(
            run(ks, &["georadius_ro", "nyc", "-73.9798091", "40.7598464", "1", "km"]),
            bulks(&["central park n/q/r"])
        );
    }
}
