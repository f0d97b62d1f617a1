//! Fault injection and generations over real HTTP on 127.0.0.1.

mod common;

use common::page;
use serde_json::Value;
use sluice_mock_api::{Fault, MockConfig, MockServer, changed_in_generation, item};

fn faulty(faults: &[&str]) -> MockServer {
    MockServer::start(MockConfig {
        faults: faults.iter().map(|f| f.parse().unwrap()).collect(),
        ..MockConfig::default()
    })
    .expect("start mock server")
}

#[test]
fn fault_fires_exactly_times_then_stops() {
    let server = faulty(&["503x2"]);
    let statuses: Vec<u16> = (0..4).map(|_| page(&server, "").status).collect();
    assert_eq!(statuses, vec![503, 503, 200, 200]);
    let first = page(
        &MockServer::start(MockConfig {
            faults: vec![Fault::new(500)],
            ..MockConfig::default()
        })
        .unwrap(),
        "",
    );
    assert_eq!(first.status, 500);
    assert_eq!(first.body, r#"{"error":"injected"}"#);
    assert_eq!(first.header("content-type"), Some("application/json"));
    assert_eq!(first.header("retry-after"), None);
    let recorded: Vec<u16> = server.requests().iter().map(|r| r.status).collect();
    assert_eq!(recorded, vec![503, 503, 200, 200]);
    assert!(server.pending_faults().is_empty());
}

#[test]
fn at_offset_only_matches_that_offset() {
    let server = faulty(&["500x3@1200", "429x1@500:retry-after=1"]);
    assert_eq!(page(&server, "offset=0").status, 200);
    assert_eq!(page(&server, "offset=1100").status, 200);
    let throttled = page(&server, "offset=500&limit=100");
    assert_eq!(throttled.status, 429);
    assert_eq!(throttled.header("retry-after"), Some("1"));
    assert_eq!(page(&server, "offset=500").ids()[0], 501);
    for _ in 0..3 {
        assert_eq!(page(&server, "offset=1200").status, 500);
    }
    assert_eq!(page(&server, "offset=1200").ids()[0], 1201);
    assert!(server.pending_faults().is_empty());
}

#[test]
fn faults_are_consumed_in_order() {
    let server = faulty(&["502", "503:retry-after=Wed, 21 Oct 2015 07:28:00 GMT"]);
    assert_eq!(page(&server, "").status, 502);
    let second = page(&server, "");
    assert_eq!(second.status, 503);
    assert_eq!(
        second.header("retry-after"),
        Some("Wed, 21 Oct 2015 07:28:00 GMT")
    );
    assert_eq!(page(&server, "").status, 200);
}

#[test]
fn faults_can_be_added_while_running() {
    let server = faulty(&[]);
    assert_eq!(page(&server, "").status, 200);
    server.add_faults(["429x2:retry-after=3".parse::<Fault>().unwrap()]);
    assert_eq!(server.pending_faults().len(), 1);
    let a = page(&server, "offset=300");
    let b = page(&server, "offset=0");
    assert_eq!((a.status, b.status), (429, 429));
    assert_eq!(b.header("retry-after"), Some("3"));
    assert_eq!(page(&server, "").status, 200);
    // A fault with nothing left to fire is ignored.
    server.add_faults([Fault {
        times: 0,
        ..Fault::new(500)
    }]);
    assert_eq!(page(&server, "").status, 200);
}

fn all_items(server: &MockServer) -> Vec<Value> {
    let body = page(server, "limit=5000").json();
    body["data"].as_array().unwrap().clone()
}

#[test]
fn generation_changes_only_a_subset() {
    let server = MockServer::start(MockConfig {
        items: 500,
        max_page_size: None,
        ..MockConfig::default()
    })
    .unwrap();
    let before = all_items(&server);
    assert_eq!(before.len(), 500);
    server.set_generation(3);
    assert_eq!(server.generation(), 3);
    let after = all_items(&server);
    let mut changed = 0;
    for (b, a) in before.iter().zip(&after) {
        let id = a["id"].as_u64().unwrap();
        assert_eq!(*a, item(id, 3));
        if changed_in_generation(id, 3) {
            changed += 1;
            assert_eq!(id % 10, 3);
            assert_ne!(a, b);
            assert!(a["name"].as_str().unwrap().ends_with(" (rev 3)"));
            assert!(a["updated_at"].as_str() > b["updated_at"].as_str());
            assert_eq!(a["price"], b["price"]);
        } else {
            assert_eq!(a, b);
        }
    }
    assert_eq!(changed, 50);
    server.set_generation(0);
    assert_eq!(all_items(&server), before);
}

#[test]
fn starting_generation_is_served() {
    let server = MockServer::start(MockConfig {
        items: 20,
        generation: 1,
        ..MockConfig::default()
    })
    .unwrap();
    let items = all_items(&server);
    assert_eq!(items[0], item(1, 1));
    assert!(items[0]["name"].as_str().unwrap().ends_with(" (rev 1)"));
    assert_eq!(items[1], item(2, 0));
}
