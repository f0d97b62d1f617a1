//! Resuming: for every paginator whose position can be written down, a load cut after `k`
//! pages and reopened with the state of page `k` requests exactly the pages a clean run
//! requests after page `k`, and loads exactly its records.

use serde_json::{Value, json};

use crate::protocol::{Method, Page, Request, Response};
use crate::session::Session;

const N: u64 = 23;
const SIZE: u64 = 5;
const R: &str = "items";

fn param<'a>(url: &'a str, key: &str) -> Option<&'a str> {
    let q = url.split_once('?')?.1;
    q.split('&')
        .find_map(|kv| kv.strip_prefix(&format!("{key}=")))
}

/// One API answering every paginator's style: the first record of the page comes from
/// `offset`, `page` (from 1), `cursor`/`start` (`c<index>`) or a JSON body cursor.
fn serve(req: &Request) -> Response {
    let from_cursor = |c: &str| c.trim_start_matches('c').parse::<u64>().unwrap();
    let start = if let Some(o) = param(&req.url, "offset") {
        o.parse().unwrap()
    } else if let Some(p) = param(&req.url, "page") {
        (p.parse::<u64>().unwrap() - 1) * SIZE
    } else if let Some(c) = param(&req.url, "cursor").or(param(&req.url, "start")) {
        from_cursor(c)
    } else if let Some(body) = &req.body {
        let v: Value = serde_json::from_str(body).unwrap();
        v["cursor"].as_str().map_or(0, from_cursor)
    } else {
        0
    };
    let size = param(&req.url, "limit").map_or(SIZE, |l| l.parse().unwrap());
    let end = (start + size).min(N);
    let data: Vec<Value> = (start..end).map(|i| json!({"id": i})).collect();
    let next = (end < N).then(|| format!("c{end}"));
    let link = next
        .as_ref()
        .map(|c| format!("https://api.example.com/items?start={c}"));
    let mut headers = vec![];
    if let Some(c) = &next {
        headers.push(("next".to_string(), c.clone()));
    }
    if let Some(l) = &link {
        headers.push(("Link".to_string(), format!("<{l}>; rel=\"next\"")));
    }
    let body = json!({"data": data, "total": N, "next": next, "next_url": link});
    Response {
        seq: req.seq,
        status: 200,
        headers,
        body: body.to_string().into_bytes(),
    }
}

fn config(paginator: Value, method: &str) -> String {
    json!({
        "client": {"base_url": "https://api.example.com"},
        "resources": [{"name": R, "primary_key": "id", "write_disposition": "merge",
            "endpoint": {"path": "/items", "method": method, "data_selector": "data",
                         "paginator": paginator}}]
    })
    .to_string()
}

fn paginators() -> Vec<(Value, &'static str)> {
    vec![
        (json!({"type": "offset", "limit": SIZE}), "GET"),
        (
            json!({"type": "page_number", "base_page": 1, "total_path": null}),
            "GET",
        ),
        (json!({"type": "cursor", "cursor_path": "next"}), "GET"),
        (
            json!({"type": "cursor", "cursor_path": "next", "cursor_body_path": "cursor"}),
            "POST",
        ),
        (json!({"type": "header_cursor"}), "GET"),
        (
            json!({"type": "json_link", "next_url_path": "next_url"}),
            "GET",
        ),
        (json!("header_link"), "GET"),
    ]
}

/// Drives `resource` for at most `max` pages: the pages and the requests sent.
fn drive(s: &mut Session, resource: &str, max: usize) -> (Vec<Page>, Vec<Request>) {
    let (mut pages, mut sent) = (Vec::new(), Vec::new());
    while pages.len() < max {
        let Some(req) = s.next_requests(resource).unwrap().into_iter().next() else {
            break;
        };
        sent.push(req.clone());
        let page = s.on_response(resource, serve(&req)).unwrap();
        let done = page.done;
        pages.push(page);
        if done {
            break;
        }
    }
    (pages, sent)
}

fn ids(pages: &[Page]) -> Vec<u64> {
    pages
        .iter()
        .flat_map(|p| serde_json::from_str::<Vec<Value>>(&p.records).unwrap())
        .map(|r| r["id"].as_u64().unwrap())
        .collect()
}

fn target(r: &Request) -> (Method, String, Option<String>) {
    (r.method, r.url.clone(), r.body.clone())
}

#[test]
fn every_paginator_resumes_at_the_page_after_the_last_committed_one() {
    for (paginator, method) in paginators() {
        let cfg = config(paginator.clone(), method);
        let (clean, clean_sent) = drive(&mut Session::open(&cfg, &[]).unwrap(), R, 100);
        assert!(clean.len() >= 5, "{paginator}: 23 records in pages of 5");
        assert_eq!(ids(&clean), (0..N).collect::<Vec<_>>(), "{paginator}");
        let last = clean.last().unwrap();
        assert!(
            !last.state.contains("resume"),
            "{paginator}: {}",
            last.state
        );
        for k in 1..clean.len() {
            let (first, _) = drive(&mut Session::open(&cfg, &[]).unwrap(), R, k);
            let state = first.last().unwrap().state.clone();
            assert!(state.contains("\"resume\""), "{paginator}: {state}");
            let mut again = Session::open(&cfg, &[(R.into(), state)]).unwrap();
            let (rest, sent) = drive(&mut again, R, 100);
            let expected: Vec<_> = clean_sent[k..].iter().map(target).collect();
            let got: Vec<_> = sent.iter().map(target).collect();
            assert_eq!(got, expected, "{paginator} cut after {k} pages");
            let mut all = ids(&first);
            all.extend(ids(&rest));
            assert_eq!(all, (0..N).collect::<Vec<_>>(), "{paginator} cut after {k}");
            let said: Vec<&str> = rest[0].notices.iter().map(|n| n.message.as_str()).collect();
            assert!(
                said.iter()
                    .any(|m| m.contains(&format!("at page {}", k + 1))),
                "{paginator}: {said:?}"
            );
        }
    }
}

#[test]
fn a_changed_endpoint_starts_over_and_says_so() {
    let cfg = config(json!({"type": "offset", "limit": SIZE}), "GET");
    let (first, _) = drive(&mut Session::open(&cfg, &[]).unwrap(), R, 2);
    let state = first.last().unwrap().state.clone();
    let other = config(json!({"type": "offset", "limit": 7}), "GET");
    let mut s = Session::open(&other, &[(R.into(), state)]).unwrap();
    let (pages, sent) = drive(&mut s, R, 100);
    assert_eq!(param(&sent[0].url, "offset"), Some("0"));
    assert_eq!(ids(&pages), (0..N).collect::<Vec<_>>());
    assert!(
        pages[0]
            .notices
            .iter()
            .any(|n| n.message.contains("changed")),
        "{:?}",
        pages[0].notices
    );
    // It starts where the unfinished load began (from nothing), and says so.
    assert_eq!(restarted(&pages), [true, false]);
}

#[test]
fn a_changed_incremental_endpoint_starts_from_the_state_reached_and_says_nothing() {
    let cfg = |limit: u64| {
        json!({"client": {"base_url": "https://api.example.com"},
            "resources": [{"name": R, "endpoint": {"path": "/items", "data_selector": "data",
                "params": {"since": "{incremental.start_value}"},
                "incremental": {"cursor_path": "id", "initial_value": 0},
                "paginator": {"type": "offset", "limit": limit}}}]})
        .to_string()
    };
    let (first, _) = drive(&mut Session::open(&cfg(SIZE), &[]).unwrap(), R, 2);
    let state = first.last().unwrap().state.clone();
    let mut again = Session::open(&cfg(7), &[(R.into(), state)]).unwrap();
    let (pages, sent) = drive(&mut again, R, 100);
    assert_eq!(param(&sent[0].url, "offset"), Some("0"));
    assert_eq!(param(&sent[0].url, "since"), Some("9"), "the state reached");
    assert_eq!(restarted(&pages), [false, false]);
}

#[test]
fn a_detected_paginator_starts_over() {
    let cfg = json!({"client": {"base_url": "https://api.example.com"},
        "resources": [{"name": R, "endpoint": {"path": "/items", "data_selector": "data",
            "paginator": {"type": "cursor", "cursor_path": "next"}}}]})
    .to_string();
    let auto = cfg.replace(
        r#""paginator":{"type":"cursor","cursor_path":"next"}"#,
        r#""paginator":"auto""#,
    );
    assert_ne!(auto, cfg);
    let (first, _) = drive(&mut Session::open(&auto, &[]).unwrap(), R, 2);
    let state = first.last().unwrap().state.clone();
    let (pages, sent) = drive(
        &mut Session::open(&auto, &[(R.into(), state)]).unwrap(),
        R,
        100,
    );
    assert!(!sent[0].url.contains("cursor="), "{}", sent[0].url);
    assert_eq!(ids(&pages).len() as u64, N);
    // It starts the unfinished load over from where that began, and its first page says so.
    assert_eq!(restarted(&pages), [true, false]);
}

/// Whether the states of the first two pages say their load started an unfinished one over.
fn restarted(pages: &[Page]) -> Vec<bool> {
    (pages.iter().take(2))
        .map(|p| serde_json::from_str::<Value>(&p.state).unwrap()["restarted"] == json!(true))
        .collect()
}

#[test]
fn a_parent_starts_over_from_the_range_it_began_with_and_says_so() {
    let cfg = json!({"client": {"base_url": "https://api.example.com"},
        "resources": [
            {"name": R, "endpoint": {"path": "/items", "data_selector": "data",
                "params": {"since": "{incremental.start_value}"},
                "incremental": {"cursor_path": "id", "initial_value": 0},
                "paginator": {"type": "offset", "limit": SIZE}}},
            {"name": "sub", "endpoint": {"path": "/items/{resources.items.id}/sub",
                "data_selector": "data"}}]})
    .to_string();
    let (first, _) = drive(&mut Session::open(&cfg, &[]).unwrap(), R, 2);
    let state = first.last().unwrap().state.clone();
    let mut again = Session::open(&cfg, &[(R.into(), state)]).unwrap();
    let (pages, sent) = drive(&mut again, R, 100);
    assert_eq!(param(&sent[0].url, "offset"), Some("0"), "from page 1");
    assert_eq!(
        param(&sent[0].url, "since"),
        Some("0"),
        "from where it began"
    );
    assert_eq!(restarted(&pages), [true, false]);
    // A load that continues, or one that is new, says nothing of the kind.
    let (clean, _) = drive(&mut Session::open(&cfg, &[]).unwrap(), R, 2);
    assert_eq!(restarted(&clean), [false, false]);
}

#[test]
fn an_incremental_load_resumes_with_the_range_it_started_with() {
    let cfg = json!({"client": {"base_url": "https://api.example.com"},
        "resources": [{"name": R, "primary_key": "id", "write_disposition": "merge",
            "endpoint": {"path": "/items", "data_selector": "data",
                "params": {"since": "{incremental.start_value}"},
                "incremental": {"cursor_path": "id", "initial_value": 0},
                "paginator": {"type": "offset", "limit": SIZE}}}]})
    .to_string();
    let (first, sent) = drive(&mut Session::open(&cfg, &[]).unwrap(), R, 2);
    assert_eq!(param(&sent[0].url, "since"), Some("0"));
    let state = first.last().unwrap().state.clone();
    let (rest, sent) = drive(
        &mut Session::open(&cfg, &[(R.into(), state)]).unwrap(),
        R,
        100,
    );
    assert_eq!(
        param(&sent[0].url, "since"),
        Some("0"),
        "the range it started with"
    );
    assert_eq!(param(&sent[0].url, "offset"), Some("10"));
    let mut all = ids(&first);
    all.extend(ids(&rest));
    assert_eq!(all, (0..N).collect::<Vec<_>>());
    let done: Value = serde_json::from_str(&rest.last().unwrap().state).unwrap();
    assert_eq!(done["incremental"]["last_value"], json!(N - 1));
    assert!(done.get("resume").is_none());
}

/// A parent of 4 records, each with a child chain of 3 pages.
fn dependent_config() -> String {
    json!({"client": {"base_url": "https://api.example.com"},
        "resources": [
            {"name": "parents", "endpoint": {"path": "/items", "data_selector": "data",
                "paginator": {"type": "offset", "limit": 4, "maximum_offset": 4}}},
            {"name": "children", "endpoint": {"path": "/items/{resources.parents.id}/sub",
                "data_selector": "data", "paginator": {"type": "offset", "limit": 8}}}]})
    .to_string()
}

fn drive_all(s: &mut Session, child_pages: usize) -> (Vec<Page>, Vec<Request>) {
    drive(s, "parents", 100);
    drive(s, "children", child_pages)
}

#[test]
fn a_dependent_resource_resumes_in_the_chain_it_was_in() {
    let cfg = dependent_config();
    let (clean, clean_sent) = drive_all(&mut Session::open(&cfg, &[]).unwrap(), 100);
    assert_eq!(clean_sent.len(), 12, "4 parents x 3 pages of 8 of 23");
    for k in 1..clean.len() {
        let (first, _) = drive_all(&mut Session::open(&cfg, &[]).unwrap(), k);
        let state = first.last().unwrap().state.clone();
        let mut again = Session::open(&cfg, &[("children".into(), state)]).unwrap();
        let (rest, sent) = drive_all(&mut again, 100);
        let expected: Vec<_> = clean_sent[k..].iter().map(target).collect();
        let got: Vec<_> = sent.iter().map(target).collect();
        assert_eq!(got, expected, "cut after {k} child pages");
        assert_eq!(first.len() + rest.len(), clean.len());
    }
}

#[test]
fn a_dependent_resource_whose_parent_changed_starts_over_and_says_so() {
    let cfg = dependent_config();
    let (first, _) = drive_all(&mut Session::open(&cfg, &[]).unwrap(), 2);
    let mut state: Value = serde_json::from_str(&first.last().unwrap().state).unwrap();
    assert_eq!(
        state["resume"]["chain"]["current"],
        json!([["id", 0]]),
        "{state}"
    );
    // The parent no longer lists record 0 where the chain in progress was.
    state["resume"]["chain"]["current"] = json!([["id", 99]]);
    let mut again = Session::open(&cfg, &[("children".into(), state.to_string())]).unwrap();
    let (rest, sent) = drive_all(&mut again, 100);
    assert!(sent[0].url.contains("/items/0/sub"), "{}", sent[0].url);
    assert_eq!(sent.len(), 12, "every chain again");
    assert_eq!(restarted(&rest), [true, false]);
}
