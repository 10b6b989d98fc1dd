//! GEOHASH key [member [member ...]]

use crate::commands::prelude::*;
use crate::geohash::geohash_string;

pub const SPEC: CommandSpec = CommandSpec {
    name: "geohash",
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
    complexity: "O(log(N)) for each member requested, where N is the number of elements in the sorted set.",
    summary: "Returns members of a geospatial index as standard geohash strings",
    deprecated: None,
    movable_keys: None,
    subcommands: &[],
};

pub struct GeoHash {
    key: Bytes,
    members: Vec<Bytes>,
}

impl Command for GeoHash {
    type Output = Vec<Option<String>>;

    fn parse(args: &mut Args) -> Result<Self> {
        Ok(GeoHash { key: args.next_arg()?, members: args.rest() })
    }

    fn reply(hashes: Vec<Option<String>>) -> Reply {
        Reply::Array(hashes.into_iter().map(|hash| hash.map_or(Reply::Nil, Reply::bulk_text)).collect())
    }
}

impl ReadCommand for GeoHash {
    fn read(&self, keyspace: &Keyspace, ctx: &mut ReadCtx) -> Result<Vec<Option<String>>> {
        let zset = value_at::<ZSetValue>(keyspace.db(ctx.db), &self.key, ctx.now_ms)?;
        Ok(self
            .members
            .iter()
            .map(|member| zset.and_then(|zset| zset.score(member)).and_then(geohash_string))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use crate::commands::zset::testing::*;

    #[test]
    fn standard_geohashes() {
        let ks = &mut Keyspace::new();
        run(ks, &["geoadd", "Sicily", "13.361389", "38.115556", "Palermo", "15.087269", "37.502669", "Catania"]);
        assert_eq!(
            run(ks, &["geohash", "Sicily", "Palermo", "Catania", "nope"]),
            Reply::Array(vec![bulk("sqc8b49rny0"), bulk("sqdtr74hyu0"), Reply::Nil])
        );
        assert_eq!(run(ks, &["geohash", "nokey", "a"]), Reply::Array(vec![Reply::Nil]));
        run(ks, &["set", "s", "v"]);
        assert_eq!(run(ks, &["geohash", "s", "a"]), error(WRONGTYPE));
    }
}
