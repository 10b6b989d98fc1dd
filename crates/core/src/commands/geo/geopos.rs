//! GEOPOS key [member [member ...]]

use super::search::coordinates_reply;
use crate::commands::prelude::*;
use crate::geohash::decode_score;

pub const SPEC: CommandSpec = CommandSpec {
    name: "geopos",
    arity: -2,
    flags: &["readonly"],
    first_key: 1,
    last_key: 1,
    key_step: 1,
    key_specs: &[KeySpec { flags: &["RO", "access"], begin_index: 1, last_key: 0, key_step: 1 }],
    acl_categories: &["@read", "@geo", "@slow"],
    tips: &[],
    group: "geo",
    since: "3.2.0",
    complexity: "O(N) where N is the number of members requested.",
    summary: "Returns longitude and latitude of members of a geospatial index",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct GeoPos {
    key: Bytes,
    members: Vec<Bytes>,
}

impl Command for GeoPos {
    type Output = Vec<Option<(f64, f64)>>;

    fn parse(args: &mut Args) -> Result<Self> {
        Ok(GeoPos { key: args.next_arg()?, members: args.rest() })
    }

    fn reply(positions: Vec<Option<(f64, f64)>>) -> Reply {
        Reply::Array(
            positions
                .into_iter()
                .map(|position| {
                    position.map_or(Reply::NilArray, |(longitude, latitude)| coordinates_reply(longitude, latitude))
                })
                .collect(),
        )
    }
}

impl ReadCommand for GeoPos {
    fn read(&self, keyspace: &Keyspace, ctx: &mut ReadCtx) -> Result<Vec<Option<(f64, f64)>>> {
        let zset = value_at::<ZSetValue>(keyspace.db(ctx.db), &self.key, ctx.now_ms)?;
        Ok(self.members.iter().map(|member| zset.and_then(|zset| zset.score(member)).and_then(decode_score)).collect())
    }
}

#[cfg(test)]
mod tests {
    use crate::commands::zset::testing::*;

    #[test]
    fn positions_are_cell_centres() {
        let ks = &mut Keyspace::new();
        run(ks, &["geoadd", "Sicily", "13.361389", "38.115556", "Palermo"]);
        assert_eq!(
            run(ks, &["geopos", "Sicily", "Palermo", "nope"]),
            Reply::Array(vec![
                Reply::Array(vec![Reply::HumanDouble(13.361389338970184), Reply::HumanDouble(38.1155563954963)]),
                Reply::NilArray,
            ])
        );
        assert_eq!(run(ks, &["geopos", "nokey", "a"]), Reply::Array(vec![Reply::NilArray]));
        assert_eq!(run(ks, &["geopos", "Sicily"]), Reply::Array(vec![]));
    }
}
