//! The search behind GEOSEARCH, GEOSEARCHSTORE and the GEORADIUS family: Redis's
//! `georadiusGeneric`, from reading the arguments to the reply or the stored result.
//!
//! Redis reads the arguments with the source sorted set at hand: it checks the key's type
//! first, and finds FROMMEMBER's (or GEORADIUSBYMEMBER's) member while reading the options,
//! so which error a bad request gets depends on the data. The arguments are kept as given and
//! read at apply time, in the same order, so every request gets Redis's error.
//!
//! Each of the (at most 9) cells to search is a score range of the sorted set, found in
//! O(log N) and read in O(1) per member.

use crate::commands::prelude::*;
use crate::commands::zset::score::{parse_score, ScoreRange};
use crate::geohash::{format_distance, Shape, ShapeKind, LAT_MAX, LAT_MIN, LONG_MAX, LONG_MIN};

/// Which command the arguments are for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    /// GEORADIUS key longitude latitude radius unit ... (`read_only`: GEORADIUS_RO, no STORE).
    Radius { read_only: bool },
    /// GEORADIUSBYMEMBER key member radius unit ...
    RadiusByMember { read_only: bool },
    /// GEOSEARCH key ...
    Search,
    /// GEOSEARCHSTORE destination source ...
    SearchStore,
}

impl Variant {
    fn is_search(self) -> bool {
        matches!(self, Variant::Search | Variant::SearchStore)
    }

    fn takes_store(self) -> bool {
        matches!(self, Variant::Radius { read_only: false } | Variant::RadiusByMember { read_only: false })
    }

    fn name(self) -> &'static str {
        match self {
            Variant::Radius { read_only: false } => "georadius",
            Variant::Radius { read_only: true } => "georadius_ro",
            Variant::RadiusByMember { read_only: false } => "georadiusbymember",
            Variant::RadiusByMember { read_only: true } => "georadiusbymember_ro",
            Variant::Search => "geosearch",
            Variant::SearchStore => "geosearchstore",
        }
    }
}

/// A request as given: read when applied (see the module documentation).
#[derive(Clone, Debug, PartialEq)]
pub struct GeoQuery {
    variant: Variant,
    source: Bytes,
    /// GEOSEARCHSTORE's destination.
    destination: Option<Bytes>,
    /// Everything after the source key.
    args: Vec<Bytes>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Sort {
    None,
    Ascending,
    Descending,
}

/// The request once read.
struct Options {
    shape: Shape,
    with_dist: bool,
    with_hash: bool,
    with_coord: bool,
    sort: Sort,
    any: bool,
    /// 0: every match.
    count: u64,
    /// The key to store at, and whether to store distances instead of positions.
    store: Option<(Bytes, bool)>,
}

/// A match.
pub struct Point {
    pub member: Bytes,
    pub score: f64,
    pub longitude: f64,
    pub latitude: f64,
    /// From the centre, in the request's unit.
    pub distance: f64,
}

/// What a search gives: the matches for the reply (with what to show of each), or how many
/// it stored.
pub enum Found {
    Points { points: Vec<Point>, with_dist: bool, with_hash: bool, with_coord: bool },
    Stored { destination: Bytes, pairs: Vec<(Bytes, f64)> },
}

/// `extractLongLatOrReply`: a longitude and a latitude within Redis's limits.
pub fn extract_long_lat(longitude: &[u8], latitude: &[u8]) -> Result<(f64, f64)> {
    let longitude = parse_score(longitude).ok_or(Error::NOT_FLOAT)?;
    let latitude = parse_score(latitude).ok_or(Error::NOT_FLOAT)?;
    if !(LONG_MIN..=LONG_MAX).contains(&longitude) || !(LAT_MIN..=LAT_MAX).contains(&latitude) {
        return Err(Error::err(format_args!("invalid longitude,latitude pair {longitude:.6},{latitude:.6}")));
    }
    Ok((longitude, latitude))
}

/// `extractUnitOrReply`: meters per unit.
pub fn extract_unit(unit: &[u8]) -> Result<f64> {
    Ok(match () {
        _ if is(unit, "m") => 1.0,
        _ if is(unit, "km") => 1000.0,
        _ if is(unit, "ft") => 0.3048,
        _ if is(unit, "mi") => 1609.34,
        _ => return Err(Error::err("unsupported unit provided. please use M, KM, FT, MI")),
    })
}

/// `extractDistanceOrReply`: a radius and its unit.
fn extract_distance(radius: &[u8], unit: &[u8]) -> Result<(f64, f64)> {
    let radius = parse_score(radius).ok_or(Error::err("need numeric radius"))?;
    if radius < 0.0 {
        return Err(Error::err("radius cannot be negative"));
    }
    Ok((radius, extract_unit(unit)?))
}

/// `extractBoxOrReply`: a width, a height and their unit.
fn extract_box(width: &[u8], height: &[u8], unit: &[u8]) -> Result<(f64, f64, f64)> {
    let width = parse_score(width).ok_or(Error::err("need numeric width"))?;
    let height = parse_score(height).ok_or(Error::err("need numeric height"))?;
    if height < 0.0 || width < 0.0 {
        return Err(Error::err("height or width cannot be negative"));
    }
    Ok((width, height, extract_unit(unit)?))
}

/// `longLatFromMember`.
fn position_of(zset: &ZSetValue, member: &[u8]) -> Result<(f64, f64)> {
    zset.score(member)
        .and_then(crate::geohash::decode_score)
        .ok_or(Error::err("could not decode requested zset member"))
}

impl GeoQuery {
    /// Keeps the arguments (GEOSEARCHSTORE's destination, then the source key, then the
    /// rest) for [`GeoQuery::search`].
    pub fn parse(args: &mut Args, variant: Variant) -> Result<GeoQuery> {
        let destination = if variant == Variant::SearchStore { Some(args.next_arg()?) } else { None };
        let source = args.next_arg()?;
        Ok(GeoQuery { variant, source, destination, args: args.rest() })
    }

    /// Reads the arguments against the source (`None`: missing), in `georadiusGeneric`'s
    /// order.
    fn options(&self, zset: Option<&ZSetValue>) -> Result<Options> {
        let args = &self.args;
        let arg = |at: usize| args.get(at).map(|arg| &arg[..]).ok_or(Error::SYNTAX);
        let mut shape = Shape { longitude: 0.0, latitude: 0.0, conversion: 1.0, kind: ShapeKind::Radius(0.0) };
        let mut at = 0;
        match (self.variant, zset) {
            (Variant::Radius { .. }, _) => {
                (shape.longitude, shape.latitude) = extract_long_lat(arg(0)?, arg(1)?)?;
                let (radius, conversion) = extract_distance(arg(2)?, arg(3)?)?;
                (shape.kind, shape.conversion, at) = (ShapeKind::Radius(radius), conversion, 4);
            }
            // Without a source there is nothing to decode: Redis reads neither.
            (Variant::RadiusByMember { .. }, None) => at = 3,
            (Variant::RadiusByMember { .. }, Some(zset)) => {
                (shape.longitude, shape.latitude) = position_of(zset, arg(0)?)?;
                let (radius, conversion) = extract_distance(arg(1)?, arg(2)?)?;
                (shape.kind, shape.conversion, at) = (ShapeKind::Radius(radius), conversion, 3);
            }
            (Variant::Search | Variant::SearchStore, _) => {}
        }
        let mut options = Options {
            shape,
            with_dist: false,
            with_hash: false,
            with_coord: false,
            sort: Sort::None,
            any: false,
            count: 0,
            store: self.destination.clone().map(|destination| (destination, false)),
        };
        let (mut from_member, mut from_lonlat, mut by_radius, mut by_box) = (false, false, false, false);
        let search = self.variant.is_search();
        while at < args.len() {
            let option = &args[at];
            let more = args.len() - at - 1;
            if is(option, "WITHDIST") {
                options.with_dist = true;
            } else if is(option, "WITHHASH") {
                options.with_hash = true;
            } else if is(option, "WITHCOORD") {
                options.with_coord = true;
            } else if is(option, "ANY") {
                options.any = true;
            } else if is(option, "ASC") {
                options.sort = Sort::Ascending;
            } else if is(option, "DESC") {
                options.sort = Sort::Descending;
            } else if is(option, "COUNT") && more >= 1 {
                let count = crate::args::parse_i64(&args[at + 1]).ok_or(Error::NOT_INTEGER)?;
                if count <= 0 {
                    return Err(Error::err("COUNT must be > 0"));
                }
                options.count = count as u64;
                at += 1;
            } else if self.variant.takes_store() && more >= 1 && (is(option, "STORE") || is(option, "STOREDIST")) {
                options.store = Some((args[at + 1].clone(), is(option, "STOREDIST")));
                at += 1;
            } else if self.variant == Variant::SearchStore && is(option, "STOREDIST") {
                if let Some((_, distances)) = &mut options.store {
                    *distances = true;
                }
            } else if search && is(option, "FROMMEMBER") && more >= 1 && !from_lonlat {
                if let Some(zset) = zset {
                    (options.shape.longitude, options.shape.latitude) = position_of(zset, &args[at + 1])?;
                }
                from_member = true;
                at += 1;
            } else if search && is(option, "FROMLONLAT") && more >= 2 && !from_member {
                (options.shape.longitude, options.shape.latitude) = extract_long_lat(&args[at + 1], &args[at + 2])?;
                from_lonlat = true;
                at += 2;
            } else if search && is(option, "BYRADIUS") && more >= 2 && !by_box {
                let (radius, conversion) = extract_distance(&args[at + 1], &args[at + 2])?;
                (options.shape.kind, options.shape.conversion) = (ShapeKind::Radius(radius), conversion);
                by_radius = true;
                at += 2;
            } else if search && is(option, "BYBOX") && more >= 3 && !by_radius {
                let (width, height, conversion) = extract_box(&args[at + 1], &args[at + 2], &args[at + 3])?;
                (options.shape.kind, options.shape.conversion) = (ShapeKind::Box { width, height }, conversion);
                by_box = true;
                at += 3;
            } else {
                return Err(Error::SYNTAX);
            }
            at += 1;
        }
        if options.store.is_some() && (options.with_dist || options.with_hash || options.with_coord) {
            let what =
                if self.variant == Variant::SearchStore { "GEOSEARCHSTORE" } else { "STORE option in GEORADIUS" };
            return Err(Error::err(format_args!(
                "{what} is not compatible with WITHDIST, WITHHASH and WITHCOORD options"
            )));
        }
        if search && !(from_member || from_lonlat) {
            return Err(Error::err(format_args!(
                "exactly one of FROMMEMBER or FROMLONLAT can be specified for {}",
                self.variant.name()
            )));
        }
        if search && !(by_radius || by_box) {
            return Err(Error::err(format_args!(
                "exactly one of BYRADIUS and BYBOX can be specified for {}",
                self.variant.name()
            )));
        }
        if options.any && options.count == 0 {
            return Err(Error::err("the ANY argument requires COUNT argument"));
        }
        // COUNT picks the nearest, unless ANY says the first found will do.
        if options.count != 0 && options.sort == Sort::None && !options.any {
            options.sort = Sort::Ascending;
        }
        Ok(options)
    }

    /// Runs the search against the database.
    pub fn search(&self, db: &Db, now_ms: TimeMs) -> Result<Found> {
        let zset = value_at::<ZSetValue>(db, &self.source, now_ms)?;
        let options = self.options(zset)?;
        let Some(zset) = zset else {
            return Ok(match options.store {
                Some((destination, _)) => Found::Stored { destination, pairs: Vec::new() },
                None => Found::Points { points: Vec::new(), with_dist: false, with_hash: false, with_coord: false },
            });
        };
        let limit = if options.any { options.count } else { 0 };
        let mut points = members_in_cells(zset, &options.shape, limit);
        match options.sort {
            Sort::None => {}
            Sort::Ascending => points.sort_by(|a, b| a.distance.total_cmp(&b.distance)),
            Sort::Descending => points.sort_by(|a, b| b.distance.total_cmp(&a.distance)),
        }
        if options.count != 0 {
            points.truncate(options.count.min(usize::MAX as u64) as usize);
        }
        for point in &mut points {
            point.distance /= options.shape.conversion;
        }
        Ok(match options.store {
            None => Found::Points {
                points,
                with_dist: options.with_dist,
                with_hash: options.with_hash,
                with_coord: options.with_coord,
            },
            Some((destination, distances)) => {
                let mut pairs: Vec<(Bytes, f64)> = points
                    .into_iter()
                    .map(|point| (point.member, if distances { point.distance } else { point.score }))
                    .collect();
                crate::commands::zset::store::sort(&mut pairs);
                pairs.dedup_by(|a, b| a.0 == b.0);
                Found::Stored { destination, pairs }
            }
        })
    }
}

/// `membersOfAllNeighbors`: the members in the shape, cell after cell (a cell equal to the
/// one searched just before is skipped), stopping at `limit` matches (0: no limit).
fn members_in_cells(zset: &ZSetValue, shape: &Shape, limit: u64) -> Vec<Point> {
    let cells = shape.areas();
    let full = |points: &Vec<Point>| limit != 0 && points.len() as u64 >= limit;
    let mut points = Vec::new();
    let mut last: Option<usize> = None;
    for (i, cell) in cells.iter().enumerate() {
        if cell.is_zero() || last.is_some_and(|last| cells[last] == *cell) {
            continue;
        }
        if full(&points) {
            break;
        }
        // `geoGetPointsInRange`: every score in `min <= score < max`.
        let (min, max) = cell.score_range();
        let range = ScoreRange::half_open(min as f64, max as f64);
        let start = zset.count_while(|score, _| !range.above_min(score));
        for (member, score) in zset.iter_from(start) {
            if !range.below_max(score) {
                break;
            }
            if let Some(((longitude, latitude), distance)) = shape.contains(score) {
                points.push(Point { member: bytes_of(member), score, longitude, latitude, distance });
            }
            if full(&points) {
                break;
            }
        }
        last = Some(i);
    }
    points
}

/// The reply to a search that did not store: members, or for each an array of the member and
/// what was asked (distance, hash, coordinates, in that order).
pub fn points_reply(found: Found) -> Reply {
    match found {
        Found::Stored { pairs, .. } => Reply::Integer(pairs.len() as i64),
        Found::Points { points, with_dist, with_hash, with_coord } => Reply::Array(
            points
                .into_iter()
                .map(|point| {
                    if !(with_dist || with_hash || with_coord) {
                        return Reply::Bulk(point.member);
                    }
                    let mut item = vec![Reply::Bulk(point.member)];
                    if with_dist {
                        item.push(Reply::bulk_text(format_distance(point.distance)));
                    }
                    if with_hash {
                        item.push(Reply::Integer(point.score as i64));
                    }
                    if with_coord {
                        item.push(coordinates_reply(point.longitude, point.latitude));
                    }
                    Reply::Array(item)
                })
                .collect(),
        ),
    }
}

/// A position as GEOPOS and WITHCOORD reply with it.
pub fn coordinates_reply(longitude: f64, latitude: f64) -> Reply {
    Reply::Array(vec![Reply::HumanDouble(longitude), Reply::HumanDouble(latitude)])
}

/// Carries out a search that may store (GEORADIUS, GEORADIUSBYMEMBER, GEOSEARCHSTORE).
pub fn search_and_store(query: &GeoQuery, keyspace: &mut Keyspace, ctx: &WriteCtx) -> Result<Found> {
    let found = query.search(keyspace.db(ctx.db), ctx.now_ms)?;
    if let Found::Stored { destination, pairs } = &found {
        let event = if query.variant.is_search() { "geosearchstore" } else { "georadiusstore" };
        crate::commands::zset::store::store(keyspace, ctx, destination, pairs, event);
    }
    Ok(found)
}
