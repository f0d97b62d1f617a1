//! Property: whatever the page size and the number of records, no paginator requests the
//! same page twice, and every record is delivered exactly once, also when the host sends
//! several planned requests before answering (pages planned ahead).

use proptest::prelude::*;
use serde_json::{Value, json};

use crate::protocol::{Request, Response};
use crate::session::Session;

fn query(url: &str, key: &str) -> Option<usize> {
    url.split_once('?')?
        .1
        .split('&')
        .find_map(|kv| kv.strip_prefix(&format!("{key}=")))
        .and_then(|v| v.parse().ok())
}

/// An API over records 1..=n, `limit` a page, in the style of `kind`.
fn answer(kind: &str, n: usize, limit: usize, with_total: bool, req: &Request) -> Response {
    let rows = |from: usize| -> Vec<Value> {
        (from..n.min(from + limit))
            .map(|i| json!({"id": i + 1}))
            .collect()
    };
    let body = match kind {
        "offset" => {
            let offset = query(&req.url, "offset").unwrap_or(0);
            let mut b = json!({"data": rows(offset)});
            if with_total {
                b["total"] = json!(n);
            }
            b
        }
        "page_number" => {
            let page = query(&req.url, "page").unwrap_or(1);
            let mut b = json!({"data": rows((page - 1) * limit)});
            if with_total {
                b["total_pages"] = json!(n.div_ceil(limit));
            }
            b
        }
        _ => {
            let from = query(&req.url, "cursor").unwrap_or(0);
            let next = (from + limit < n).then_some(from + limit);
            json!({"data": rows(from), "next": next.map(|c| c.to_string())})
        }
    };
    Response::json(req.seq, &body)
}

fn paginator(kind: &str, limit: usize, with_total: bool) -> Value {
    match kind {
        "offset" => json!({"type": "offset", "limit": limit,
                           "total_path": if with_total { json!("total") } else { Value::Null }}),
        "page_number" => json!({"type": "page_number", "base_page": 1, "page_param": "page",
                                "total_path": if with_total { json!("total_pages") } else { Value::Null }}),
        _ => json!({"type": "cursor", "cursor_path": "next", "cursor_param": "cursor"}),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]
    #[test]
    fn no_page_is_requested_twice_and_every_record_arrives_once(
        kind in prop::sample::select(vec!["offset", "page_number", "cursor"]),
        n in 0usize..260,
        limit in 1usize..40,
        with_total in any::<bool>(),
        // How many planned requests the host sends before it answers the oldest.
        window in 1usize..6,
    ) {
        let mut params = json!({});
        if kind == "page_number" {
            params = json!({"per_page": limit});
        }
        let cfg = json!({"client": {"base_url": "https://api.example.com"},
            "resources": [{"name": "r", "endpoint": {"path": "/items", "data_selector": "data",
                "params": params, "paginator": paginator(kind, limit, with_total)}}]});
        let mut s = Session::open(&cfg.to_string(), &[]).unwrap();
        let mut urls: Vec<String> = Vec::new();
        let mut ids: Vec<u64> = Vec::new();
        let mut in_flight: std::collections::VecDeque<Request> = Default::default();
        let mut done = false;
        for _ in 0..1000 {
            if !done && in_flight.len() < window {
                for req in s.next_requests("r").unwrap() {
                    prop_assert!(!urls.contains(&req.url), "asked twice: {}", req.url);
                    urls.push(req.url.clone());
                    in_flight.push_back(req);
                }
            }
            let Some(req) = in_flight.pop_front() else { break };
            let page = s.on_response("r", answer(kind, n, limit, with_total, &req)).unwrap();
            if !done {
                let records: Vec<Value> = serde_json::from_str(&page.records).unwrap();
                ids.extend(records.iter().map(|r| r["id"].as_u64().unwrap()));
            }
            done |= page.done;
        }
        prop_assert!(done, "the resource ends");
        let want: Vec<u64> = (1..=n as u64).collect();
        prop_assert_eq!(ids, want);
    }
}
