//! Bad and hostile input: malformed RESP, huge requests, slow clients, too many clients.

mod common;

use common::{exchange, Raw, Server};
use std::io::Write;
use std::time::Duration;

#[test]
fn malformed_requests_get_a_protocol_error_and_the_connection_closes() {
    let server = Server::start();
    let cases: [(&[u8], &str); 5] = [
        (b"*x\r\n", "-ERR Protocol error: invalid multibulk length\r\n"),
        (b"*1\r\n+PING\r\n", "-ERR Protocol error: expected '$', got '+'\r\n"),
        (b"*1\r\n$-5\r\n", "-ERR Protocol error: invalid bulk length\r\n"),
        (b"*1\r\n$999999999999\r\n", "-ERR Protocol error: invalid bulk length\r\n"),
        (b"SET a \"unterminated\r\n", "-ERR Protocol error: unbalanced quotes in request\r\n"),
    ];
    for (request, expected) in cases {
        let mut stream = server.raw();
        let reply = exchange(&mut stream, request, Duration::from_secs(5));
        // The whole answer is the error: then the server closed the connection.
        assert_eq!(String::from_utf8_lossy(&reply), expected);
    }
    // Commands before the bad bytes are answered first.
    let mut stream = server.raw();
    let reply = exchange(&mut stream, b"PING\r\n*1\r\n!3\r\n", Duration::from_secs(5));
    assert_eq!(String::from_utf8_lossy(&reply), "+PONG\r\n-ERR Protocol error: expected '$', got '!'\r\n");
    // And the node still serves everyone else.
    assert_eq!(Raw::new(&server).call(&["PING"]), "+PONG\r\n");
}

#[test]
fn inline_commands_and_pipelines_keep_order() {
    let server = Server::start();
    let mut stream = server.raw();
    let reply = exchange(
        &mut stream,
        b"PING\r\nSET greeting \"hello world\"\nGET greeting\r\n\r\nQUIT\r\n",
        Duration::from_secs(5),
    );
    assert_eq!(String::from_utf8_lossy(&reply), "+PONG\r\n+OK\r\n$11\r\nhello world\r\n+OK\r\n");
    // A pipeline of writes and reads: each command sees those before it.
    let mut raw = Raw::new(&server);
    let mut pipeline = Vec::new();
    for i in 0..200 {
        pipeline.push(vec!["INCR".to_string(), "n".to_string()]);
        pipeline.push(vec!["GET".to_string(), "n".to_string()]);
        if i % 50 == 0 {
            pipeline.push(vec!["SET".to_string(), "n".to_string(), (i * 1000).to_string()]);
        }
    }
    let mut bytes = Vec::new();
    for command in &pipeline {
        bytes.extend(format!("*{}\r\n", command.len()).into_bytes());
        for arg in command {
            bytes.extend(format!("${}\r\n{arg}\r\n", arg.len()).into_bytes());
        }
    }
    raw.stream().write_all(&bytes).unwrap();
    let mut expected = 0i64;
    for command in &pipeline {
        let reply = raw.reply();
        match command[0].as_str() {
            "INCR" => {
                expected += 1;
                assert_eq!(reply, format!(":{expected}\r\n"));
            }
            "GET" => assert_eq!(reply, format!("${}\r\n{expected}\r\n", expected.to_string().len())),
            _ => {
                expected = command[2].parse().unwrap();
                assert_eq!(reply, "+OK\r\n");
            }
        }
    }
}

#[test]
fn a_stalled_client_does_not_stall_others() {
    let server = Server::start();
    let mut stalled = server.raw();
    stalled.write_all(b"*3\r\n$3\r\nSET\r\n$1\r\na\r\n$100\r\nonly part").unwrap();
    let mut con = server.connect();
    for i in 0..200 {
        let _: () = redis::cmd("SET").arg(format!("k{i}")).arg(i).query(&mut con).unwrap();
    }
    assert_eq!(redis::cmd("DBSIZE").query::<i64>(&mut con).unwrap(), 200);
}

#[test]
fn limits_are_enforced() {
    let server =
        Server::start_with(&["--maxclients", "3", "--proto-max-bulk-len", "1mb", "--client-query-buffer-limit", "2mb"]);
    let mut first = Raw::new(&server);
    let mut big = Raw::new(&server);
    // An argument over proto-max-bulk-len is refused.
    let reply = exchange(big.stream(), b"*2\r\n$3\r\nGET\r\n$2000000\r\n", Duration::from_secs(5));
    assert_eq!(String::from_utf8_lossy(&reply), "-ERR Protocol error: invalid bulk length\r\n");
    // Many small arguments past client-query-buffer-limit close the connection, and only it.
    let mut flood = server.raw();
    let mut request = b"*1000000\r\n".to_vec();
    for _ in 0..40_000 {
        request.extend_from_slice(b"$40\r\n0123456789012345678901234567890123456789\r\n");
    }
    let _ = flood.write_all(&request);
    let reply = exchange(&mut flood, b"", Duration::from_secs(5));
    assert!(reply.is_empty(), "{:?}", String::from_utf8_lossy(&reply));
    assert_eq!(first.call(&["PING"]), "+PONG\r\n");
    // maxclients: the extra connection is told and closed.
    let _second = Raw::new(&server);
    let _third = Raw::new(&server);
    let mut extra = server.raw();
    let reply = exchange(&mut extra, b"", Duration::from_secs(5));
    assert_eq!(String::from_utf8_lossy(&reply), "-ERR max number of clients reached\r\n");
    // Values up to the limit round-trip.
    let value = "v".repeat(900_000);
    assert_eq!(first.call(&["SET", "big", &value]), "+OK\r\n");
    assert_eq!(first.call(&["STRLEN", "big"]), ":900000\r\n");
}
