//! Retries, timeouts, the allow-list and redirects against a real server on 127.0.0.1.

mod common;

use std::time::{Duration, Instant};

use common::{TestServer, client, client_with, fast_policy, recorder, reply};
use sluice_transport::{Cancel, Method, Request, TransportError};

fn get(url: String) -> Request {
    Request {
        method: Method::Get,
        url,
        headers: Vec::new(),
        body: None,
        auth: None,
    }
}

#[test]
fn retry_after_429_is_honoured_then_200_returned() {
    let server = TestServer::start(vec![reply(429).header("Retry-After", "1"), reply(200)]);
    let c = client(&[server.host()], 3, &[]);
    let mut events = Vec::new();
    let started = Instant::now();
    let response = c
        .send(&get(server.url("/items")), &mut recorder(&mut events))
        .unwrap();
    assert_eq!(response.status, 200);
    assert_eq!(response.body, b"{\"status\":200}");
    // Retry-After (1s) overrides the 10ms backoff, capped by max_delay (200ms).
    assert_eq!(
        events,
        vec![(1, "HTTP 429".to_string(), Duration::from_millis(200))]
    );
    assert!(started.elapsed() >= Duration::from_millis(200));
    assert_eq!(server.seen().len(), 2);
}

#[test]
fn retry_after_zero_seconds_retries_immediately() {
    let server = TestServer::start(vec![reply(429).header("Retry-After", "0"), reply(200)]);
    let c = client(&[server.host()], 3, &[]);
    let mut events = Vec::new();
    assert_eq!(
        c.send(&get(server.url("/")), &mut recorder(&mut events))
            .unwrap()
            .status,
        200
    );
    assert_eq!(events, vec![(1, "HTTP 429".to_string(), Duration::ZERO)]);
}

#[test]
fn two_503_then_200_backs_off_exponentially() {
    let server = TestServer::start(vec![reply(503), reply(503), reply(200)]);
    let c = client(&[server.host()], 3, &[]);
    let mut events = Vec::new();
    let response = c
        .send(&get(server.url("/")), &mut recorder(&mut events))
        .unwrap();
    assert_eq!(response.status, 200);
    assert_eq!(
        events,
        vec![
            (1, "HTTP 503".to_string(), Duration::from_millis(10)),
            (2, "HTTP 503".to_string(), Duration::from_millis(20))
        ]
    );
    assert_eq!(server.seen().len(), 3);
}

#[test]
fn three_503_exhaust_the_retries() {
    let server = TestServer::start(vec![reply(503)]);
    let c = client(&[server.host()], 3, &[]);
    let mut events = Vec::new();
    let url = server.url("/things?page=2");
    let err = c
        .send(&get(url.clone()), &mut recorder(&mut events))
        .unwrap_err();
    match &err {
        TransportError::RetriesExhausted {
            attempts,
            last,
            url: u,
        } => {
            assert_eq!(*attempts, 3);
            assert_eq!(last, "HTTP 503");
            assert_eq!(u, &url);
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(err.is_retries_exhausted());
    assert_eq!(
        err.to_string(),
        format!("{url}: gave up after 3 attempts, last: HTTP 503")
    );
    assert_eq!(events.len(), 2);
    assert_eq!(server.seen().len(), 3);
}

#[test]
fn client_errors_are_returned_not_retried() {
    let server = TestServer::start(vec![reply(404), reply(200)]);
    let c = client(&[server.host()], 3, &[]);
    let mut events = Vec::new();
    let response = c
        .send(&get(server.url("/missing")), &mut recorder(&mut events))
        .unwrap();
    assert_eq!(response.status, 404);
    assert!(events.is_empty());
    assert_eq!(server.seen().len(), 1);
    assert!(
        response
            .headers
            .iter()
            .all(|(n, _)| *n == n.to_ascii_lowercase())
    );
    assert!(response.header("Content-Length").is_some());
}

#[test]
fn connection_refused_is_retried_then_fails() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let host = format!("127.0.0.1:{port}");
    let c = client(std::slice::from_ref(&host), 3, &[]);
    let mut events = Vec::new();
    let err = c
        .send(&get(format!("http://{host}/x")), &mut recorder(&mut events))
        .unwrap_err();
    assert!(
        matches!(err, TransportError::Connect { attempts: 3, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("connection refused"), "{err}");
    let reasons: Vec<&str> = events.iter().map(|(_, r, _)| r.as_str()).collect();
    assert_eq!(reasons, ["connection refused", "connection refused"]);
}

#[test]
fn timeout_is_retried_then_fails() {
    let server = TestServer::start(vec![reply(200).delay(Duration::from_millis(900))]);
    let c = client(&[server.host()], 2, &[]);
    let mut events = Vec::new();
    let started = Instant::now();
    let err = c
        .send(&get(server.url("/slow")), &mut recorder(&mut events))
        .unwrap_err();
    assert!(
        matches!(err, TransportError::Timeout { attempts: 2, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("timed out after 0.5s"), "{err}");
    assert_eq!(
        events,
        vec![(1, "timeout".to_string(), Duration::from_millis(10))]
    );
    assert!(started.elapsed() < Duration::from_millis(1800));
}

#[test]
fn timeout_then_success() {
    let server = TestServer::start(vec![
        reply(200).delay(Duration::from_millis(800)),
        reply(200),
    ]);
    let c = client(&[server.host()], 3, &[]);
    let mut events = Vec::new();
    let response = c
        .send(&get(server.url("/")), &mut recorder(&mut events))
        .unwrap();
    assert_eq!(response.status, 200);
    assert_eq!(events[0].1, "timeout");
}

#[test]
fn host_not_in_allow_list_is_refused_before_any_request() {
    let server = TestServer::start(vec![reply(200)]);
    let c = client(&["127.0.0.1:1".to_string()], 3, &[]);
    let err = c.send(&get(server.url("/")), &mut |_| {}).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "request to host `127.0.0.1:{}` refused: not in the allow-list (allowed: 127.0.0.1:1)",
            server.port
        )
    );
    let err = c
        .send(&get("http://evil.example/steal".into()), &mut |_| {})
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "request to host `evil.example:80` refused: not in the allow-list (allowed: 127.0.0.1:1)"
    );
    assert!(server.seen().is_empty());
}

#[test]
fn bare_host_entry_allows_any_port() {
    let server = TestServer::start(vec![reply(200)]);
    let c = client(&["127.0.0.1".to_string()], 1, &[]);
    assert_eq!(
        c.send(&get(server.url("/")), &mut |_| {}).unwrap().status,
        200
    );
}

#[test]
fn redirect_to_disallowed_host_is_refused() {
    let server = TestServer::start(vec![
        reply(302).header("Location", "http://evil.example:8080/x"),
    ]);
    let c = client(&[server.host()], 3, &[]);
    let err = c.send(&get(server.url("/start")), &mut |_| {}).unwrap_err();
    assert!(
        matches!(err, TransportError::RedirectNotAllowed { .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("`evil.example:8080`"), "{err}");
    assert_eq!(server.seen().len(), 1);
}

#[test]
fn redirects_are_followed_at_most_five_times() {
    let server = TestServer::start(vec![reply(302).header("Location", "/again")]);
    let c = client(&[server.host()], 3, &[]);
    let err = c.send(&get(server.url("/start")), &mut |_| {}).unwrap_err();
    assert!(
        matches!(err, TransportError::TooManyRedirects { max: 5, .. }),
        "{err:?}"
    );
    assert_eq!(server.seen().len(), 6);
}

#[test]
fn post_body_is_sent_and_303_turns_into_get() {
    let server = TestServer::start(vec![reply(303).header("Location", "/result"), reply(201)]);
    let c = client(&[server.host()], 1, &[]);
    let request = Request {
        method: Method::Post,
        url: server.url("/search"),
        headers: vec![("Content-Type".into(), "application/json".into())],
        body: Some("{\"q\":1}".into()),
        auth: None,
    };
    assert_eq!(c.send(&request, &mut |_| {}).unwrap().status, 201);
    let seen = server.seen();
    assert_eq!(
        (seen[0].method.as_str(), seen[0].body.as_str()),
        ("POST", "{\"q\":1}")
    );
    assert_eq!(seen[0].header("content-type"), Some("application/json"));
    assert_eq!(
        (
            seen[1].method.as_str(),
            seen[1].url.as_str(),
            seen[1].body.as_str()
        ),
        ("GET", "/result", "")
    );
}

#[test]
fn invalid_url_is_an_error() {
    let c = client(&["127.0.0.1".to_string()], 1, &[]);
    let err = c.send(&get("not a url".into()), &mut |_| {}).unwrap_err();
    assert!(matches!(err, TransportError::InvalidUrl { .. }), "{err:?}");
}

#[test]
fn a_cancel_ends_the_wait_before_a_retry_and_sends_no_more() {
    // The server asks for a 10-minute pause; a cancel (Ctrl-C) ends it at once.
    let server = TestServer::start(vec![reply(429).header("Retry-After", "600"), reply(200)]);
    let cancel = Cancel::default();
    let c = client_with(&[server.host()], &[], |config| {
        config.policy = sluice_transport::RetryPolicy {
            max_delay: Duration::from_secs(600),
            ..fast_policy(3)
        };
        config.cancel = cancel.clone();
    });
    let waker = {
        let cancel = cancel.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            cancel.cancel();
        })
    };
    let mut events = Vec::new();
    let started = Instant::now();
    let err = c
        .send(&get(server.url("/items")), &mut recorder(&mut events))
        .unwrap_err();
    waker.join().unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(300),
        "the wait ended early"
    );
    assert!(
        matches!(&err, TransportError::Cancelled { attempts: 1, last, .. } if last == "HTTP 429"),
        "{err:?}"
    );
    assert!(err.to_string().contains("not retried"), "{err}");
    assert_eq!(events.len(), 1, "the retry was announced, then cancelled");
    assert_eq!(server.seen().len(), 1, "nothing sent after the cancel");
    // Cancelled before the wait: no retry is announced.
    events.clear();
    let server = TestServer::start(vec![reply(503), reply(200)]);
    let c = client_with(&[server.host()], &[], |config| {
        config.cancel = cancel.clone()
    });
    let err = c
        .send(&get(server.url("/")), &mut recorder(&mut events))
        .unwrap_err();
    assert!(matches!(err, TransportError::Cancelled { .. }), "{err:?}");
    assert!(events.is_empty());
    assert_eq!(server.seen().len(), 1);
}

/// A server on 127.0.0.1 that answers one request with a 200 whose JSON body arrives in
/// `chunks` pieces, `gap` apart. Joined by the test through the returned handle.
fn trickle(chunks: usize, gap: Duration) -> (String, std::thread::JoinHandle<()>) {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let host = listener.local_addr().unwrap().to_string();
    let handle = std::thread::spawn(move || {
        let (mut conn, _) = listener.accept().unwrap();
        let mut head = [0u8; 4096];
        let _ = conn.read(&mut head);
        // `[1`, `,1`, ..., `,1]`: one piece an element.
        let pieces: Vec<String> = (0..chunks)
            .map(|i| {
                let open = if i == 0 { "[" } else { "," };
                let close = if i + 1 == chunks { "]" } else { "" };
                format!("{open}1{close}")
            })
            .collect();
        let body = pieces.concat();
        let head = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
            body.len()
        );
        let _ = conn.write_all(head.as_bytes());
        for piece in pieces {
            std::thread::sleep(gap);
            if conn.write_all(piece.as_bytes()).is_err() {
                return;
            }
        }
    });
    (host, handle)
}

#[test]
fn the_timeout_is_for_silence_not_for_the_whole_body() {
    // As in dlt (requests' read timeout): a body that keeps coming may take longer than the
    // timeout in all, 4 x 300 ms against 500 ms; a pause longer than it times out.
    let (host, server) = trickle(4, Duration::from_millis(300));
    let c = client(std::slice::from_ref(&host), 1, &[]);
    let started = Instant::now();
    let response = c
        .send(&get(format!("http://{host}/slow")), &mut |_| {})
        .unwrap();
    assert_eq!(response.status, 200);
    assert_eq!(response.body, b"[1,1,1,1]");
    assert!(started.elapsed() > Duration::from_millis(1000));
    server.join().unwrap();
    let (host, server) = trickle(1, Duration::from_millis(900));
    let c = client(std::slice::from_ref(&host), 1, &[]);
    let err = c
        .send(&get(format!("http://{host}/stalls")), &mut |_| {})
        .unwrap_err();
    assert!(matches!(err, TransportError::Timeout { .. }), "{err:?}");
    server.join().unwrap();
}
