//! GEORADIUSBYMEMBER_RO key member radius M | KM | FT | MI [WITHCOORD] [WITHDIST] [WITHHASH] [COUNT count [ANY]] [ASC | DESC]

use super::search::{points_reply, Found, GeoQuery, Variant};
use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "georadiusbymember_ro",
    arity: -5,
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
    summary: "A read-only variant for GEORADIUSBYMEMBER",
    deprecated: Some(("6.2.0", "`GEOSEARCH` with the `BYRADIUS` and `FROMMEMBER` arguments")),
    movable_keys: None,
    subcommands: &[],
};

pub struct GeoRadiusByMemberRo(GeoQuery);

impl Command for GeoRadiusByMemberRo {
    type Output = Found;

    fn parse(args: &mut Args) -> Result<Self> {
        GeoQuery::parse(args, Variant::RadiusByMember { read_only: true }).map(GeoRadiusByMemberRo)
    }

    fn reply(found: Found) -> Reply {
        points_reply(found)
    }
}

impl ReadCommand for GeoRadiusByMemberRo {
    fn read(&self, keyspace: &Keyspace, ctx: &mut ReadCtx) -> Result<Found> {
        self.0.search(keyspace.db(ctx.db), ctx.now_ms)
    }
}

#[cfg(test)]
mod tests {
    use crate::commands::geo::testing::*;

    #[test]
    fn searches_around_a_member_read_only() {
        let ks = &mut Keyspace::new();
        nyc(ks);
        assert_eq!(
            run(ks, &["georadiusbymember_ro", "nyc", "jfk", "1", "km", "withdist"]),
            Reply::Array(vec![Reply::Array(vec![bulk("jfk"), bulk("0.0000")])])
        );
        assert_eq!(
            run(ks, &["georadiusbymember_ro", "nyc", "jfk", "1", "km", "storedist", "x"]),
            error("ERR syntax error")
        );
    }
}
