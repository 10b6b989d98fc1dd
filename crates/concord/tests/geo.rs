//! GEO commands against the real `concord` binary: a real Redis client, and exact RESP2 and
//! RESP3 bytes as Redis 7.0.15 sends them (captured from redis-server 7.0.15).

mod common;

use common::{Raw, Server};
use redis::Value;

fn bulk(text: &str) -> String {
    format!("${}\r\n{text}\r\n", text.len())
}

fn sicily(con: &mut redis::Connection) {
    let added: i64 = redis::cmd("GEOADD")
        .arg("Sicily")
        .arg(13.361389)
        .arg(38.115556)
        .arg("Palermo")
        .arg(15.087269)
        .arg(37.502669)
        .arg("Catania")
        .query(con)
        .unwrap();
    assert_eq!(added, 2);
}

#[test]
fn positions_distances_and_searches_through_a_real_client() {
    let server = Server::start();
    let mut con = server.connect();
    sicily(&mut con);
    let score: f64 = redis::cmd("ZSCORE").arg("Sicily").arg("Palermo").query(&mut con).unwrap();
    assert_eq!(score, 3479099956230698.0, "the 52-bit geohash Redis gives it");
    let positions: Vec<Option<(String, String)>> =
        redis::cmd("GEOPOS").arg("Sicily").arg("Palermo").arg("nowhere").query(&mut con).unwrap();
    assert_eq!(positions, vec![Some(("13.36138933897018433".into(), "38.11555639549629859".into())), None]);
    let distance: String =
        redis::cmd("GEODIST").arg("Sicily").arg("Palermo").arg("Catania").arg("km").query(&mut con).unwrap();
    assert_eq!(distance, "166.2742");
    let hashes: Vec<Option<String>> =
        redis::cmd("GEOHASH").arg("Sicily").arg("Palermo").arg("Catania").query(&mut con).unwrap();
    assert_eq!(hashes, vec![Some("sqc8b49rny0".into()), Some("sqdtr74hyu0".into())]);
    let near: Vec<(String, String)> = redis::cmd("GEOSEARCH")
        .arg("Sicily")
        .arg("FROMLONLAT")
        .arg(15)
        .arg(37)
        .arg("BYRADIUS")
        .arg(200)
        .arg("km")
        .arg("ASC")
        .arg("WITHDIST")
        .query(&mut con)
        .unwrap();
    assert_eq!(near, vec![("Catania".into(), "56.4413".into()), ("Palermo".into(), "190.4424".into())]);
    let boxed: Vec<String> = redis::cmd("GEOSEARCH")
        .arg("Sicily")
        .arg("FROMMEMBER")
        .arg("Palermo")
        .arg("BYBOX")
        .arg(400)
        .arg(400)
        .arg("km")
        .arg("DESC")
        .query(&mut con)
        .unwrap();
    assert_eq!(boxed, vec!["Catania", "Palermo"]);
    let stored: i64 = redis::cmd("GEORADIUS")
        .arg("Sicily")
        .arg(15)
        .arg(37)
        .arg(100)
        .arg("km")
        .arg("STOREDIST")
        .arg("near")
        .query(&mut con)
        .unwrap();
    assert_eq!(stored, 1);
    let distance: f64 = redis::cmd("ZSCORE").arg("near").arg("Catania").query(&mut con).unwrap();
    assert!((distance - 56.4413).abs() < 1e-4, "{distance}");
    let stored: i64 = redis::cmd("GEOSEARCHSTORE")
        .arg("copy")
        .arg("Sicily")
        .arg("FROMMEMBER")
        .arg("Catania")
        .arg("BYRADIUS")
        .arg(500)
        .arg("km")
        .query(&mut con)
        .unwrap();
    assert_eq!(stored, 2);
    let copied: Vec<(String, f64)> =
        redis::cmd("ZRANGE").arg("copy").arg(0).arg(-1).arg("WITHSCORES").query(&mut con).unwrap();
    assert_eq!(copied, vec![("Palermo".into(), 3479099956230698.0), ("Catania".into(), 3479447370796909.0)]);
    let error = redis::cmd("GEOADD").arg("Sicily").arg(200).arg(100).arg("x").query::<i64>(&mut con).unwrap_err();
    assert_eq!(error.detail(), Some("invalid longitude,latitude pair 200.000000,100.000000"));
}

#[test]
fn exact_replies_in_resp2_and_resp3() {
    let server = Server::start();
    let mut raw = Raw::new(&server);
    assert_eq!(
        raw.call(&["GEOADD", "Sicily", "13.361389", "38.115556", "Palermo", "15.087269", "37.502669", "Catania"]),
        ":2\r\n"
    );
    let radius = ["GEORADIUS", "Sicily", "15", "37", "200", "km", "WITHDIST", "WITHCOORD", "WITHHASH"];
    assert_eq!(
        raw.call(&["GEOPOS", "Sicily", "Palermo", "nonex"]),
        format!("*2\r\n*2\r\n{}{}*-1\r\n", bulk("13.36138933897018433"), bulk("38.11555639549629859"))
    );
    assert_eq!(
        raw.call(&radius),
        format!(
            "*2\r\n*4\r\n{}{}:3479099956230698\r\n*2\r\n{}{}*4\r\n{}{}:3479447370796909\r\n*2\r\n{}{}",
            bulk("Palermo"),
            bulk("190.4424"),
            bulk("13.36138933897018433"),
            bulk("38.11555639549629859"),
            bulk("Catania"),
            bulk("56.4413"),
            bulk("15.08726745843887329"),
            bulk("37.50266842333162032"),
        )
    );
    assert_eq!(raw.call(&["GEODIST", "Sicily", "Palermo", "Catania"]), bulk("166274.1516"));
    assert_eq!(raw.call(&["GEODIST", "nokey", "a", "b"]), "$-1\r\n");
    assert_eq!(raw.call(&["GEOHASH", "Sicily", "Palermo", "nonex"]), format!("*2\r\n{}$-1\r\n", bulk("sqc8b49rny0")));
    assert_eq!(raw.call(&["GEOSEARCH", "nokey", "FROMMEMBER", "x", "BYRADIUS", "1", "m"]), "*0\r\n");
    assert_eq!(
        raw.call(&["GEOSEARCH", "Sicily", "BYRADIUS", "1", "m", "ASC", "WITHDIST"]),
        "-ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for geosearch\r\n"
    );
    assert_eq!(
        raw.call(&["GEORADIUSBYMEMBER", "Sicily", "Rome", "1", "km"]),
        "-ERR could not decode requested zset member\r\n"
    );

    assert!(raw.call(&["HELLO", "3"]).starts_with('%'));
    assert_eq!(
        raw.call(&["GEOPOS", "Sicily", "Palermo", "nonex"]),
        "*2\r\n*2\r\n,13.36138933897018433\r\n,38.11555639549629859\r\n_\r\n"
    );
    assert_eq!(
        raw.call(&radius),
        format!(
            "*2\r\n*4\r\n{}{}:3479099956230698\r\n*2\r\n,13.36138933897018433\r\n,38.11555639549629859\r\n\
             *4\r\n{}{}:3479447370796909\r\n*2\r\n,15.08726745843887329\r\n,37.50266842333162032\r\n",
            bulk("Palermo"),
            bulk("190.4424"),
            bulk("Catania"),
            bulk("56.4413"),
        )
    );
    assert_eq!(raw.call(&["GEODIST", "Sicily", "Palermo", "Catania"]), bulk("166274.1516"));
    assert_eq!(raw.call(&["GEODIST", "nokey", "a", "b"]), "_\r\n");
    assert_eq!(raw.call(&["GEOHASH", "Sicily", "nonex"]), "*1\r\n_\r\n");
}

#[test]
fn resp3_coordinates_are_doubles() {
    let server = Server::start();
    let mut con = server.connect_resp3();
    sicily(&mut con);
    let position: Value = redis::cmd("GEOPOS").arg("Sicily").arg("Catania").query(&mut con).unwrap();
    let Value::Array(items) = position else { panic!("{position:?}") };
    let Value::Array(coordinates) = &items[0] else { panic!("{items:?}") };
    assert!(
        matches!(coordinates[..], [Value::Double(x), Value::Double(y)] if (x - 15.087267).abs() < 1e-5 && (y - 37.502668).abs() < 1e-5)
    );
}
