//! Positions on Earth (Redis's `geo.c`), kept as 52-bit geohash scores in sorted sets (the
//! math is [`crate::geohash`]); one command per file, and what they share:
//!
//! - [`search`]: the search behind GEOSEARCH and the GEORADIUS family.
//!
//! - [`geoadd`] — GEOADD key [NX | XX] [CH] longitude latitude member [longitude latitude member ...]
//! - [`geodist`] — GEODIST key member1 member2 [M | KM | FT | MI]
//! - [`geohash`] — GEOHASH key [member [member ...]]
//! - [`geopos`] — GEOPOS key [member [member ...]]
//! - [`georadius`] — GEORADIUS key longitude latitude radius M | KM | FT | MI [WITHCOORD] [WITHDIST] [WITHHASH] [COUNT count [ANY]] [ASC | DESC] [STORE key] [STOREDIST key]
//! - [`georadius_ro`] — GEORADIUS_RO key longitude latitude radius M | KM | FT | MI [WITHCOORD] [WITHDIST] [WITHHASH] [COUNT count [ANY]] [ASC | DESC]
//! - [`georadiusbymember`] — GEORADIUSBYMEMBER key member radius M | KM | FT | MI [WITHCOORD] [WITHDIST] [WITHHASH] [COUNT count [ANY]] [ASC | DESC] [STORE key] [STOREDIST key]
//! - [`georadiusbymember_ro`] — GEORADIUSBYMEMBER_RO key member radius M | KM | FT | MI [WITHCOORD] [WITHDIST] [WITHHASH] [COUNT count [ANY]] [ASC | DESC]
//! - [`geosearch`] — GEOSEARCH key <FROMMEMBER member | FROMLONLAT longitude latitude> <BYRADIUS radius unit | BYBOX width height unit> [ASC | DESC] [COUNT count [ANY]] [WITHCOORD] [WITHDIST] [WITHHASH]
//! - [`geosearchstore`] — GEOSEARCHSTORE destination source <FROMMEMBER member | FROMLONLAT longitude latitude> <BYRADIUS radius unit | BYBOX width height unit> [ASC | DESC] [COUNT count [ANY]] [STOREDIST]

pub mod geoadd;
pub mod geodist;
pub mod geohash;
pub mod geopos;
pub mod georadius;
pub mod georadius_ro;
pub mod georadiusbymember;
pub mod georadiusbymember_ro;
pub mod geosearch;
pub mod geosearchstore;
pub mod search;

#[cfg(test)]
pub(crate) mod testing {
    //! What the GEO tests share.

    pub use crate::commands::zset::testing::*;

    /// The places Redis's own GEO tests use.
    pub fn nyc(ks: &mut Keyspace) {
        run(
            ks,
            &[
                "geoadd",
                "nyc",
                "-73.9454966",
                "40.747533",
                "lic market",
                "-73.9733487",
                "40.7648057",
                "central park n/q/r",
                "-73.9903085",
                "40.7362513",
                "union square",
                "-74.0131604",
                "40.7126674",
                "wtc one",
                "-73.7858139",
                "40.6428986",
                "jfk",
                "-73.9375699",
                "40.7498929",
                "q4",
                "-73.9564142",
                "40.7480973",
                "4545",
            ],
        );
    }
}
