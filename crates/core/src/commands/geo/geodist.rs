//! GEODIST key member1 member2 [M | KM | FT | MI]

use super::search::extract_unit;
use crate::commands::prelude::*;
use crate::geohash::{decode_score, distance, format_distance};

pub const SPEC: CommandSpec = CommandSpec {
    name: "geodist",
    arity: -4,
    flags: &["readonly"],
    first_key: 1,
    last_key: 1,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["RO", "access"], begin_index: 1, last_key: 0, key_step: 1 }],
    acl_categories: &["@read", "@geo", "@slow"],
    tips: &[],
    group: "geo",
    since: "3.2.0",
    complexity: "O(log(N))",
    summary: "Returns the distance between two members of a geospatial index",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct GeoDist {
    key: Bytes,
    members: (Bytes, Bytes),
    /// Meters per unit.
    unit: f64,
}

impl Command for GeoDist {
    type Output = Option<f64>;

    fn parse(args: &mut Args) -> Result<Self> {
        let (key, first, second) = (args.next_arg()?, args.next_arg()?, args.next_arg()?);
        let unit = match args.remaining() {
            0 => 1.0,
            1 => extract_unit(&args.next_arg()?)?,
            _ => return Err(Error::SYNTAX),
        };
        Ok(GeoDist { key, members: (first, second), unit })
    }

    fn reply(distance: Option<f64>) -> Reply {
        distance.map_or(Reply::Nil, |distance| Reply::bulk_text(format_distance(distance)))
    }
}

impl ReadCommand for GeoDist {
    fn read(&self, keyspace: &Keyspace, ctx: &mut ReadCtx) -> Result<Option<f64>> {
        let Some(zset) = value_at::<ZSetValue>(keyspace.db(ctx.db), &self.key, ctx.now_ms)? else {
            return Ok(None);
        };
        let position = |member: &[u8]| zset.score(member).and_then(decode_score);
        let (Some((x1, y1)), Some((x2, y2))) = (position(&self.members.0), position(&self.members.1)) else {
            return Ok(None);
        };
        Ok(Some(distance(x1, y1, x2, y2) / self.unit))
    }
}

#[cfg(test)]
mod tests {
    use crate::commands::zset::testing::*;

    #[test]
    fn distances_in_units() {
        let ks = &mut Keyspace::new();
        run(ks, &["geoadd", "Sicily", "13.361389", "38.115556", "Palermo", "15.087269", "37.502669", "Catania"]);
        assert_eq!(run(ks, &["geodist", "Sicily", "Palermo", "Catania"]), bulk("166274.1516"));
        assert_eq!(run(ks, &["geodist", "Sicily", "Palermo", "Catania", "KM"]), bulk("166.2742"));
        assert_eq!(run(ks, &["geodist", "Sicily", "Palermo", "Catania", "mi"]), bulk("103.3182"));
        assert_eq!(run(ks, &["geodist", "Sicily", "Palermo", "Catania", "ft"]), bulk("545518.8700"));
        assert_eq!(run(ks, &["geodist", "Sicily", "Palermo", "Palermo"]), bulk("0.0000"));
        assert_eq!(run(ks, &["geodist", "Sicily", "Palermo", "nope"]), Reply::Nil);
        assert_eq!(run(ks, &["geodist", "nokey", "a", "b"]), Reply::Nil);
        assert_eq!(
            run(ks, &["geodist", "Sicily", "a", "b", "yards"]),
            error("ERR unsupported unit provided. please use M, KM, FT, MI")
        );
        assert_eq!(run(ks, &["geodist", "Sicily", "a", "b", "m", "x"]), error("ERR syntax error"));
    }
}
