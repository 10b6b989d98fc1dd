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
