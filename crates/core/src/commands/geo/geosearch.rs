//! GEOSEARCH key <FROMMEMBER member | FROMLONLAT longitude latitude> <BYRADIUS radius unit | BYBOX width height unit> [ASC | DESC] [COUNT count [ANY]] [WITHCOORD] [WITHDIST] [WITHHASH]

use super::search::{points_reply, Found, GeoQuery, Variant};
use crate::commands::prelude::*;

pub const SPEC: CommandSpec = CommandSpec {
    name: "geosearch",
    arity: -7,
    flags: &["readonly"],
    first_key: 1,
    last_key: 1,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["RO", "access"], begin_index: 1, last_key: 0, key_step: 1 }],
    acl_categories: &["@read", "@geo", "@slow"],
    tips: &[],
    group: "geo",
    since: "6.2.0",
    complexity: "O(N+log(M)) where N is the number of elements in the grid-aligned bounding box area around the shape provided as the filter and M is the number of items inside the shape",
    summary: "Query a sorted set representing a geospatial index to fetch members inside an area of a box or a circle.",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct GeoSearch(GeoQuery);

impl Command for GeoSearch {
    type Output = Found;

    fn parse(args: &mut Args) -> Result<Self> {
        GeoQuery::parse(args, Variant::Search).map(GeoSearch)
    }

    fn reply(found: Found) -> Reply {
        points_reply(found)
    }
}

impl ReadCommand for GeoSearch {
    fn read(&self, keyspace: &Keyspace, ctx: &mut ReadCtx) -> Result<Found> {
        self.0.search(keyspace.db(ctx.db), ctx.now_ms)
    }
}

#[cfg(test)]
mod tests {
    use crate::commands::geo::testing::*;

    /// A coordinate as Redis 7.0.15 printed it.
    fn human(text: &str) -> Reply {
        Reply::HumanDouble(text.parse().unwrap())
    }

    #[test]
    fn searches_boxes_and_circles() {
        let ks = &mut Keyspace::new();
        nyc(ks);
        assert_eq!(
            run(ks, &["geosearch", "nyc", "fromlonlat", "-73.9798091", "40.7598464", "bybox", "6", "6", "km", "asc"]),
            bulks(&["central park n/q/r", "4545", "union square", "lic market"])
        );
        assert_eq!(
            run(
                ks,
                &[
                    "geosearch",
                    "nyc",
                    "fromlonlat",
                    "-73.9798091",
                    "40.7598464",
                    "byradius",
                    "3",
                    "km",
                    "withdist",
                    "asc",
                    "count",
                    "2"
                ]
            ),
            Reply::Array(vec![
                Reply::Array(vec![bulk("central park n/q/r"), bulk("0.7750")]),
                Reply::Array(vec![bulk("4545"), bulk("2.3651")]),
            ])
        );
        assert_eq!(
            run(ks, &["geosearch", "nyc", "frommember", "jfk", "byradius", "1", "m", "withhash", "withcoord"]),
            Reply::Array(vec![Reply::Array(vec![
                bulk("jfk"),
                int(1791895905559723),
                Reply::Array(vec![human("-73.78581315279006958"), human("40.64289898154041936")]),
            ])])
        );
        assert_eq!(run(ks, &["geosearch", "nokey", "frommember", "x", "bybox", "1", "1", "m"]), bulks(&[]));
        assert_eq!(run(ks, &["geosearch", "nyc", "fromlonlat", "0", "0", "byradius", "1", "m"]), bulks(&[]));
    }

    #[test]
    fn errors_in_redis_order() {
        let ks = &mut Keyspace::new();
        nyc(ks);
        let search = |ks: &mut Keyspace, rest: &[&str]| {
            let mut words = vec!["geosearch", "nyc"];
            words.extend_from_slice(rest);
            run(ks, &words)
        };
        assert_eq!(
            search(ks, &["fromlonlat", "0", "0", "frommember", "x", "bybox", "1", "1", "km"]),
            error("ERR syntax error")
        );
        assert_eq!(
            search(ks, &["bybox", "1", "1", "km", "asc"]),
            error("ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for geosearch")
        );
        assert_eq!(
            search(ks, &["fromlonlat", "0", "0", "asc", "withdist"]),
            error("ERR exactly one of BYRADIUS and BYBOX can be specified for geosearch")
        );
        assert_eq!(
            search(ks, &["fromlonlat", "0", "0", "byradius", "1", "km", "bybox", "1", "1", "km"]),
            error("ERR syntax error")
        );
        assert_eq!(
            search(ks, &["fromlonlat", "0", "0", "byradius", "1", "km", "storedist"]),
            error("ERR syntax error")
        );
        assert_eq!(
            search(ks, &["fromlonlat", "0", "0", "byradius", "1", "km", "any"]),
            error("ERR the ANY argument requires COUNT argument")
        );
        assert_eq!(
            search(ks, &["fromlonlat", "0", "0", "byradius", "1", "km", "count", "0"]),
            error("ERR COUNT must be > 0")
        );
        assert_eq!(
            search(ks, &["fromlonlat", "0", "0", "byradius", "-1", "km"]),
            error("ERR radius cannot be negative")
        );
        assert_eq!(search(ks, &["fromlonlat", "0", "0", "byradius", "x", "km"]), error("ERR need numeric radius"));
        assert_eq!(
            search(ks, &["fromlonlat", "0", "0", "bybox", "1", "-1", "km"]),
            error("ERR height or width cannot be negative")
        );
        assert_eq!(
            search(ks, &["fromlonlat", "0", "0", "bybox", "1", "1", "yd"]),
            error("ERR unsupported unit provided. please use M, KM, FT, MI")
        );
        // The member is looked for where its option is read: before a later bad option.
        assert_eq!(
            search(ks, &["frommember", "nope", "byradius", "-1", "km"]),
            error("ERR could not decode requested zset member")
        );
        assert_eq!(search(ks, &["byradius", "-1", "km", "frommember", "nope"]), error("ERR radius cannot be negative"));
        run(ks, &["set", "s", "v"]);
        assert_eq!(run(ks, &["geosearch", "s", "frommember", "x", "byradius", "-1", "m"]), error(WRONGTYPE));
    }
}
