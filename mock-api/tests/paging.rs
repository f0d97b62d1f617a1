//! Paging, totals, capping, auth and recording over real HTTP on 127.0.0.1.

mod common;

use std::collections::BTreeSet;
use std::net::TcpStream;

use common::{KEY, get, page, request};
use serde_json::json;
use sluice_mock_api::{MockConfig, MockServer, item};

fn start(config: MockConfig) -> MockServer {
    MockServer::start(config).expect("start mock server")
}

/// Pages with `limit` until an empty or short page; returns every id seen, in order.
fn walk(server: &MockServer, limit: usize) -> Vec<u64> {
    let mut ids = Vec::new();
    let mut offset = 0;
    loop {
        let reply = page(server, &format!("offset={offset}&limit={limit}"));
        assert_eq!(reply.status, 200, "{}", reply.body);
        let got = reply.ids();
        ids.extend(&got);
        if got.len() < limit {
            return ids;
        }
        offset += got.len();
    }
}

#[test]
fn base_url_and_content_type() {
    let server = start(MockConfig::default());
    let url = server.base_url();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    assert!(!url.ends_with('/'));
    let reply = page(&server, "");
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    let body = reply.json();
    assert_eq!(body["total"], 2500);
    assert_eq!(body["data"].as_array().unwrap().len(), 100);
    assert_eq!(body["data"][0], item(1, 0));
}

#[test]
fn paging_covers_every_id_exactly_once() {
    let server = start(MockConfig {
        items: 1003,
        ..MockConfig::default()
    });
    for limit in [100, 37, 1003, 5000] {
        let ids = walk(&server, limit);
        assert_eq!(ids, (1..=1003).collect::<Vec<u64>>(), "limit {limit}");
    }
    let body = page(&server, "offset=1003").json();
    assert_eq!(body, json!({"data": [], "total": 1003}));
    // Rows equal the source function.
    let body = page(&server, "offset=500&limit=3").json();
    assert_eq!(
        body["data"],
        json!([item(501, 0), item(502, 0), item(503, 0)])
    );
}

#[test]
fn total_can_be_left_out() {
    let server = start(MockConfig {
        items: 30,
        include_total: false,
        ..MockConfig::default()
    });
    let body = page(&server, "limit=10").json();
    assert!(body.get("total").is_none(), "{body}");
    assert_eq!(body["data"].as_array().unwrap().len(), 10);
    assert_eq!(walk(&server, 7), (1..=30).collect::<Vec<u64>>());
    assert_eq!(page(&server, "offset=30").json(), json!({"data": []}));
}

#[test]
fn max_page_size_caps_limit() {
    let server = start(MockConfig {
        items: 250,
        max_page_size: Some(40),
        ..MockConfig::default()
    });
    assert_eq!(
        page(&server, "limit=100").ids(),
        (1..=40).collect::<Vec<u64>>()
    );
    assert_eq!(
        page(&server, "offset=40").ids(),
        (41..=80).collect::<Vec<u64>>()
    );
    assert_eq!(page(&server, "limit=25").ids().len(), 25);
    // A client that advances by what it received still sees every id once.
    let mut seen = BTreeSet::new();
    let mut offset = 0;
    loop {
        let ids = page(&server, &format!("offset={offset}&limit=100")).ids();
        if ids.is_empty() {
            break;
        }
        offset += ids.len();
        for id in ids {
            assert!(seen.insert(id), "id {id} seen twice");
        }
    }
    assert_eq!(seen.len(), 250);
}

#[test]
fn auth_rejects_without_echoing_the_key() {
    let server = start(MockConfig {
        api_key: "s3cr3t-key".into(),
        ..MockConfig::default()
    });
    let missing = get(&server, "/v1/inventory");
    assert_eq!(missing.status, 401);
    assert_eq!(missing.json(), json!({"error": "invalid api key"}));
    let wrong = get(&server, "/v1/inventory?api_key=guess-abc-123");
    assert_eq!(wrong.status, 401);
    assert!(!wrong.body.contains("guess-abc-123") && !wrong.body.contains("s3cr3t"));
    let default_key = page(&server, "");
    assert_eq!(
        default_key.status, 401,
        "the default key is not this server's key"
    );
    let by_header = request(
        &server,
        "GET",
        "/v1/inventory?limit=2",
        &[("X-API-Key", "s3cr3t-key")],
    );
    assert_eq!(by_header.status, 200);
    assert_eq!(by_header.ids(), vec![1, 2]);
    let by_query = get(&server, "/v1/inventory?api_key=s3cr3t-key&limit=1");
    assert_eq!(by_query.ids(), vec![1]);
}

#[test]
fn bad_parameters_and_unknown_paths() {
    let server = start(MockConfig::default());
    for q in ["offset=-1", "limit=abc", "offset=1e3"] {
        let reply = page(&server, q);
        assert_eq!(reply.status, 400, "{q}");
        assert!(reply.json()["error"].is_string());
        assert_eq!(reply.header("content-type"), Some("application/json"));
    }
    assert_eq!(get(&server, "/").status, 404);
    assert_eq!(
        get(&server, &format!("/v1/items?api_key={KEY}")).status,
        404
    );
}

#[test]
fn requests_are_recorded_in_order_and_cleared() {
    let server = start(MockConfig::default());
    get(&server, "/nope");
    request(
        &server,
        "GET",
        "/v1/inventory?api_key=demo%2Dsecret%2Dkey&offset=10&limit=5&note=a+b",
        &[("X-Trace", "t-1")],
    );
    let recorded = server.requests();
    assert_eq!(recorded.len(), 2);
    assert_eq!(
        (recorded[0].path.as_str(), recorded[0].status),
        ("/nope", 404)
    );
    let r = &recorded[1];
    assert_eq!(
        (r.method.as_str(), r.path.as_str(), r.status),
        ("GET", "/v1/inventory", 200)
    );
    assert_eq!(
        r.query,
        vec![
            ("api_key".to_string(), KEY.to_string()),
            ("offset".to_string(), "10".to_string()),
            ("limit".to_string(), "5".to_string()),
            ("note".to_string(), "a b".to_string()),
        ]
    );
    assert_eq!(r.header("x-trace"), Some("t-1"));
    assert!(!format!("{r:?}").contains(KEY));
    server.clear_requests();
    assert!(server.requests().is_empty());
    page(&server, "limit=1");
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn concurrent_requests_are_all_answered_and_recorded() {
    let server = start(MockConfig::default());
    std::thread::scope(|s| {
        for t in 0..8 {
            let server = &server;
            s.spawn(move || {
                for i in 0..5 {
                    let offset = (t * 5 + i) * 10;
                    let reply = page(server, &format!("offset={offset}&limit=10"));
                    let first = offset as u64 + 1;
                    assert_eq!(reply.ids(), (first..first + 10).collect::<Vec<_>>());
                }
            });
        }
    });
    let recorded = server.requests();
    assert_eq!(recorded.len(), 40);
    assert!(recorded.iter().all(|r| r.status == 200));
}

#[test]
fn drop_stops_the_server() {
    let server = start(MockConfig {
        port: 0,
        ..MockConfig::default()
    });
    let addr = server.addr();
    assert_eq!(page(&server, "limit=1").status, 200);
    drop(server);
    assert!(
        TcpStream::connect(addr).is_err(),
        "still listening after drop"
    );
}

#[test]
fn fixed_port_is_used() {
    // Find a free port, release it, then ask for it explicitly.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let server = start(MockConfig {
        port,
        ..MockConfig::default()
    });
    assert_eq!(server.base_url(), format!("http://127.0.0.1:{port}"));
    assert!(
        MockServer::start(MockConfig {
            port,
            ..MockConfig::default()
        })
        .is_err()
    );
}

#[test]
fn keep_alive_connection_serves_several_requests() {
    use std::io::{BufRead, BufReader, Read, Write};
    let server = start(MockConfig::default());
    let stream = TcpStream::connect(server.addr()).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    let mut writer = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    for offset in [0, 2, 4] {
        let req = format!(
            "GET /v1/inventory?api_key={KEY}&offset={offset}&limit=2 HTTP/1.1\r\nHost: x\r\n\r\n"
        );
        writer.write_all(req.as_bytes()).unwrap();
        let mut length = None;
        let mut status_line = String::new();
        reader.read_line(&mut status_line).unwrap();
        assert!(status_line.starts_with("HTTP/1.1 200"), "{status_line}");
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            if line == "\r\n" {
                break;
            }
            if let Some((n, v)) = line.split_once(':')
                && n.eq_ignore_ascii_case("content-length")
            {
                length = v.trim().parse::<usize>().ok();
            }
        }
        let mut body = vec![0; length.expect("content-length")];
        reader.read_exact(&mut body).unwrap();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        let first = offset + 1;
        assert_eq!(body["data"][0]["id"], first);
        assert_eq!(body["data"][1]["id"], first + 1);
    }
    assert_eq!(server.requests().len(), 3);
}
