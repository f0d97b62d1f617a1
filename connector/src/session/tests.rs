use serde_json::{Value, json};

use super::*;
use crate::protocol::{Auth, Credential, Level, NamedCredential};

const SEED: &str = r#"{
  "client": {
    "base_url": "https://api.example.com",
    "auth": {"type": "api_key", "name": "api_key", "api_key": {"secret": "api_key"}, "location": "query"}
  },
  "resource_defaults": {"primary_key": "id", "write_disposition": "merge"},
  "resources": [
    {"name": "inventory_items",
     "endpoint": {"path": "/v1/inventory", "data_selector": "data", "paginator": {"type": "offset", "limit": 100}}}
  ]
}"#;
const R: &str = "inventory_items";

fn query_param(url: &str, key: &str) -> Option<u64> {
    let q = url.split_once('?')?.1;
    q.split('&')
        .find_map(|kv| kv.strip_prefix(&format!("{key}="))?.parse().ok())
}

/// A fake inventory API of `n` items that caps pages at `cap` and may omit the total.
fn serve(req: &Request, n: u64, cap: u64, total: bool) -> Response {
    let offset = query_param(&req.url, "offset").unwrap();
    let limit = query_param(&req.url, "limit").unwrap().min(cap);
    let data: Vec<Value> = (offset..(offset + limit).min(n))
        .map(|i| json!({"id": i, "sku": format!("S-{i}")}))
        .collect();
    let mut body = json!({"data": data});
    if total {
        body["total"] = json!(n);
    }
    Response::json(req.seq, &body)
}

/// Drives a resource to its end; returns every page and the URLs requested.
fn drive(
    s: &mut Session,
    mut server: impl FnMut(&Request) -> Response,
) -> (Vec<Page>, Vec<String>) {
    let (mut pages, mut urls) = (Vec::new(), Vec::new());
    loop {
        let reqs = s.next_requests(R).unwrap();
        assert!(reqs.len() <= 1);
        let Some(req) = reqs.into_iter().next() else {
            break;
        };
        urls.push(req.url.clone());
        let page = s.on_response(R, server(&req)).unwrap();
        pages.push(page);
        assert!(pages.len() < 1000, "runaway");
    }
    assert!(pages.last().unwrap().done);
    (pages, urls)
}

fn all_ids(pages: &[Page]) -> Vec<u64> {
    pages
        .iter()
        .flat_map(|p| serde_json::from_str::<Vec<Value>>(&p.records).unwrap())
        .map(|r| r["id"].as_u64().unwrap())
        .collect()
}

#[test]
fn seed_config_first_request() {
    let mut s = Session::open(SEED, &[]).unwrap();
    let reqs = s.next_requests(R).unwrap();
    assert_eq!(reqs.len(), 1);
    let r = &reqs[0];
    assert_eq!(
        r.url,
        "https://api.example.com/v1/inventory?offset=0&limit=100"
    );
    assert_eq!(r.method, Method::Get);
    assert_eq!(r.body, None);
    assert_eq!(
        r.auth,
        Some(Auth::Query(NamedCredential {
            name: "api_key".into(),
            value: Credential::Secret("api_key".into())
        }))
    );
    let info = s.resources();
    assert_eq!(info.len(), 1);
    assert_eq!(info[0].name, R);
    assert_eq!(info[0].primary_key, ["id"]);
    assert_eq!(
        info[0].write_disposition,
        crate::protocol::WriteDisposition::Merge
    );
}

#[test]
fn full_run_with_total() {
    let mut s = Session::open(SEED, &[]).unwrap();
    let (pages, urls) = drive(&mut s, |r| serve(r, 2500, 1000, true));
    assert_eq!(pages.len(), 25, "no extra request past the total");
    assert_eq!(all_ids(&pages), (0..2500).collect::<Vec<_>>());
    assert_eq!(
        urls[24],
        "https://api.example.com/v1/inventory?offset=2400&limit=100"
    );
    assert!(pages[..24].iter().all(|p| !p.done && p.count == 100));
    let first: Value = serde_json::from_str(&pages[0].state).unwrap();
    assert_eq!(first["offset"], 100);
    assert_eq!(first["resume"]["paginator"]["offset"], 100);
    assert_eq!(
        pages[24].state, r#"{"offset":2500,"pages":25,"records_total":2500}"#,
        "done: no resume"
    );
    assert!(pages.iter().all(|p| p.notices.is_empty()));
}

#[test]
fn full_run_without_total() {
    let mut s = Session::open(SEED, &[]).unwrap();
    let (pages, _) = drive(&mut s, |r| serve(r, 2500, 1000, false));
    assert_eq!(pages.len(), 26, "stops on the empty page after 2 500 items");
    assert_eq!(pages[25].count, 0);
    assert_eq!(all_ids(&pages).len(), 2500);
    let mut s = Session::open(SEED, &[]).unwrap();
    let (pages, _) = drive(&mut s, |r| serve(r, 2450, 1000, false));
    assert_eq!(pages.len(), 25, "short page stops");
    assert_eq!(all_ids(&pages), (0..2450).collect::<Vec<_>>());
}

#[test]
fn capped_server_loses_nothing() {
    let mut s = Session::open(SEED, &[]).unwrap();
    let (pages, urls) = drive(&mut s, |r| serve(r, 2500, 50, true));
    assert_eq!(pages.len(), 50);
    assert_eq!(all_ids(&pages), (0..2500).collect::<Vec<_>>());
    assert_eq!(
        urls[1],
        "https://api.example.com/v1/inventory?offset=50&limit=100"
    );
    assert_eq!(pages[0].notices.len(), 1);
    assert_eq!(pages[0].notices[0].level, Level::Warn);
    assert!(
        pages[1..].iter().all(|p| p.notices.is_empty()),
        "warned once"
    );
}

#[test]
fn protocol_errors() {
    let mut s = Session::open(SEED, &[]).unwrap();
    assert_eq!(
        s.next_requests("nope").unwrap_err(),
        Error::Protocol("unknown resource \"nope\"".into())
    );
    let req = s.next_requests(R).unwrap().remove(0);
    let mut bad = serve(&req, 10, 100, true);
    bad.seq = 99;
    assert_eq!(
        s.on_response(R, bad).unwrap_err(),
        Error::Protocol("resource \"inventory_items\": response to request seq 99 while seq 0 is unanswered (responses go in the order the requests were planned)".into())
    );
    let page = s.on_response(R, serve(&req, 10, 100, true)).unwrap();
    assert!(page.done);
    assert!(s.next_requests(R).unwrap().is_empty(), "done");
    let again = s.on_response(R, serve(&req, 10, 100, true)).unwrap_err();
    assert!(
        matches!(again, Error::Protocol(_)),
        "a response answered twice"
    );
    assert!(matches!(
        s.on_response("nope", serve(&req, 1, 1, true)),
        Err(Error::Protocol(_))
    ));
}

#[test]
fn http_error_stops_the_resource() {
    let mut s = Session::open(SEED, &[]).unwrap();
    let req = s.next_requests(R).unwrap().remove(0);
    let resp = Response {
        seq: req.seq,
        status: 401,
        headers: vec![],
        body: b"{\"error\":\"bad key\"}".to_vec(),
    };
    let err = s.on_response(R, resp).unwrap_err();
    assert_eq!(
        err,
        Error::Response {
            status: 401,
            message: "HTTP 401 from GET https://api.example.com/v1/inventory?offset=0&limit=100: {\"error\":\"bad key\"}".into()
        }
    );
    assert!(matches!(s.next_requests(R), Err(Error::Protocol(m)) if m.contains("failed earlier")));
}

#[test]
fn saved_state_is_parsed_but_not_resumed() {
    let state = vec![
        (R.to_string(), r#"{"offset": 1200}"#.to_string()),
        ("gone".into(), "junk".into()),
    ];
    let mut s = Session::open(SEED, &state).unwrap();
    assert_eq!(s.saved_state(R).unwrap()["offset"], 1200);
    assert!(
        s.next_requests(R).unwrap()[0].url.contains("offset=0&"),
        "full refresh"
    );
    let bad = vec![(R.to_string(), "{not json".to_string())];
    let Err(Error::State(m)) = Session::open(SEED, &bad) else {
        panic!()
    };
    assert!(
        m.starts_with("resource \"inventory_items\": state is not valid JSON"),
        "{m}"
    );
    let bad = vec![(R.to_string(), "[1]".to_string())];
    let Err(Error::State(m)) = Session::open(SEED, &bad) else {
        panic!()
    };
    assert_eq!(
        m,
        "resource \"inventory_items\": expected a JSON object, found a list"
    );
}

#[test]
fn config_errors_surface_from_open() {
    let err = Session::open(r#"{"client": {}, "resources": ["a"]}"#, &[]).unwrap_err();
    assert_eq!(err.to_string(), "client.base_url: missing required key");
}

#[test]
fn params_headers_and_literal_warning() {
    let cfg = json!({
        "client": {"base_url": "https://a.io/api/", "headers": {"Accept": "application/json", "X-A": "1"},
                   "auth": {"type": "bearer", "token": "literal-token"}},
        "resource_defaults": {"endpoint": {"params": {"x": 1}}},
        "resources": [{"name": R, "endpoint": {"path": "/v1/inventory", "params": {"status": "in stock", "limit": 5},
            "headers": {"x-a": "2"}, "paginator": {"type": "offset", "limit": 2}}}]});
    let mut s = Session::open(&cfg.to_string(), &[]).unwrap();
    let req = s.next_requests(R).unwrap().remove(0);
    assert_eq!(
        req.url,
        "https://a.io/api/v1/inventory?x=1&status=in%20stock&limit=2&offset=0"
    );
    assert_eq!(
        req.headers,
        [
            ("Accept".to_string(), "application/json".to_string()),
            ("X-A".into(), "2".into())
        ]
    );
    assert!(!format!("{req:?}").contains("literal-token"));
    let page = s
        .on_response(R, Response::json(req.seq, &json!({"results": [{"id": 1}]})))
        .unwrap();
    assert!(page.done, "short page, no total");
    assert_eq!(page.notices[0].level, Level::Warn);
    assert!(page.notices[0].message.contains("written literally"));
    assert!(
        page.notices[0].message.starts_with("client.auth."),
        "names the key: {}",
        page.notices[0].message
    );
    assert!(!page.notices[0].message.contains("literal-token"));
    assert_eq!(
        page.notices[1].message,
        "data_selector not set: using `results`"
    );
}

#[test]
fn single_page_204_and_loop_guards() {
    let cfg = r#"{"client": {"base_url": "https://a.io"}, "resources": ["items"]}"#;
    let mut s = Session::open(cfg, &[]).unwrap();
    let req = s.next_requests("items").unwrap().remove(0);
    assert_eq!(req.url, "https://a.io/items");
    let page = s
        .on_response(
            "items",
            Response {
                seq: req.seq,
                status: 204,
                headers: vec![],
                body: vec![],
            },
        )
        .unwrap();
    assert_eq!(
        (
            page.count,
            page.records.as_str(),
            page.done,
            page.state.as_str()
        ),
        (0, "[]", true, r#"{"pages":1}"#)
    );

    // An API that ignores the offset: the same records every time.
    let mut s = Session::open(SEED, &[]).unwrap();
    let fixed = |r: &Request| {
        let mut resp = serve(r, 2500, 100, true);
        resp.body = serve(
            &Request {
                url: "x?offset=0&limit=100".into(),
                ..r.clone()
            },
            2500,
            100,
            true,
        )
        .body;
        resp
    };
    let first = s.next_requests(R).unwrap().remove(0);
    s.on_response(R, fixed(&first)).unwrap();
    let second = s.next_requests(R).unwrap().remove(0);
    let err = s.on_response(R, fixed(&second)).unwrap_err();
    assert!(
        err.to_string()
            .contains("repeats the records of the previous page"),
        "{err}"
    );

    // The page ceiling is an error, not a silent stop.
    let mut s = Session::open(SEED, &[]).unwrap();
    s.set_max_pages(3);
    for _ in 0..2 {
        let r = s.next_requests(R).unwrap().remove(0);
        assert!(!s.on_response(R, serve(&r, 2500, 100, true)).unwrap().done);
    }
    let r = s.next_requests(R).unwrap().remove(0);
    let err = s.on_response(R, serve(&r, 2500, 100, true)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "resource \"inventory_items\": more than 3 pages: stopping (page ceiling reached)"
    );
}

#[test]
fn post_endpoint_sends_its_json_body() {
    let cfg = json!({"client": {"base_url": "https://a.io"},
        "resources": [{"name": "search", "endpoint": {"path": "/search", "method": "POST",
            "json": {"query": "x", "n": 1}, "data_selector": "hits"}}]});
    let mut s = Session::open(&cfg.to_string(), &[]).unwrap();
    let req = s.next_requests("search").unwrap().remove(0);
    assert_eq!(req.method, Method::Post);
    assert_eq!(req.body.as_deref(), Some(r#"{"query":"x","n":1}"#));
    assert_eq!(
        req.headers,
        [("Content-Type".to_string(), "application/json".to_string())]
    );
    assert_eq!(req.auth, None);
    let body = json!({"hits": [{"id": "a"}, {"id": "b"}]});
    let page = s
        .on_response("search", Response::json(req.seq, &body))
        .unwrap();
    assert_eq!((page.count, page.done), (2, true));
    let records: Value = serde_json::from_str(&page.records).unwrap();
    assert_eq!(records, json!([{"id": "a"}, {"id": "b"}]));
}

#[test]
fn data_sends_a_form_or_a_raw_body_as_dlt() {
    let cfg = json!({"client": {"base_url": "https://a.io"},
        "resources": [
            {"name": "form", "endpoint": {"path": "/search", "method": "POST",
                "data": {"q": "red shoes", "page_size": 50, "all": true}, "data_selector": "hits",
                "paginator": {"type": "page_number", "base_page": 1, "total_path": null}}},
            {"name": "raw", "endpoint": {"path": "/q", "method": "POST",
                "headers": {"Content-Type": "text/plain"}, "data": "SELECT 1",
                "paginator": "single_page"}}]});
    let mut s = Session::open(&cfg.to_string(), &[]).unwrap();
    let req = s.next_requests("form").unwrap().remove(0);
    assert_eq!(req.method, Method::Post);
    assert_eq!(req.url, "https://a.io/search?page=1");
    assert_eq!(
        req.body.as_deref(),
        Some("q=red+shoes&page_size=50&all=True")
    );
    assert_eq!(
        req.headers,
        [(
            "Content-Type".to_string(),
            "application/x-www-form-urlencoded".to_string()
        )]
    );
    let req = s.next_requests("raw").unwrap().remove(0);
    assert_eq!(req.body.as_deref(), Some("SELECT 1"));
    assert_eq!(
        req.headers,
        [("Content-Type".to_string(), "text/plain".to_string())]
    );
}

#[test]
fn data_with_json_or_a_body_path_is_a_config_error() {
    let open = |endpoint: Value| {
        let cfg = json!({"client": {"base_url": "https://a.io"},
            "resources": [{"name": "r", "endpoint": endpoint}]});
        Session::open(&cfg.to_string(), &[])
            .unwrap_err()
            .to_string()
    };
    assert_eq!(
        open(json!({"method": "POST", "json": {"a": 1}, "data": {"b": 2}})),
        "resources[0].endpoint.data: set either json or data, not both (json for a JSON body, data for a form or a raw body)"
    );
    assert_eq!(
        open(json!({"method": "POST", "data": {"b": 2},
            "paginator": {"type": "offset", "limit": 10, "offset_body_path": "page.offset"}})),
        "resources[0].endpoint.data: the paginator's offset_body_path writes into a JSON body; data sends a form or a raw body (use json)"
    );
}

/// Every request the session plans now (calling `next_requests` until it has none).
fn plan_all(s: &mut Session) -> Vec<Request> {
    let mut out = Vec::new();
    loop {
        let next = s.next_requests(R).unwrap();
        if next.is_empty() {
            return out;
        }
        out.extend(next);
    }
}

fn offset_of(req: &Request) -> u64 {
    let query = req.url.split_once('?').unwrap().1;
    let kv = query
        .split('&')
        .find(|kv| kv.starts_with("offset="))
        .unwrap();
    kv["offset=".len()..].parse().unwrap()
}

#[test]
fn offset_pages_are_planned_ahead_up_to_the_total() {
    let mut s = Session::open(SEED, &[]).unwrap();
    let first = plan_all(&mut s);
    assert_eq!(
        first.len(),
        1,
        "the page size is not known before a response"
    );
    let page = s.on_response(R, serve(&first[0], 1000, 100, true)).unwrap();
    assert!(!page.done);
    let ahead = plan_all(&mut s);
    let offsets: Vec<u64> = ahead.iter().map(offset_of).collect();
    assert_eq!(offsets, (1..10).map(|i| i * 100).collect::<Vec<_>>());
    let mut pages = vec![page];
    for req in &ahead {
        pages.push(s.on_response(R, serve(req, 1000, 100, true)).unwrap());
    }
    assert_eq!(all_ids(&pages), (0..1000).collect::<Vec<_>>());
    assert!(pages.last().unwrap().done);
    assert!(pages[..9].iter().all(|p| !p.done));
    let state: Value = serde_json::from_str(&pages[0].state).unwrap();
    assert_eq!(
        state["records_total"], 1000,
        "the API's total, for progress"
    );
    // Answered out of the planned order: a protocol error.
    let mut s = Session::open(SEED, &[]).unwrap();
    let first = plan_all(&mut s);
    s.on_response(R, serve(&first[0], 1000, 100, true)).unwrap();
    let ahead = plan_all(&mut s);
    let err = s
        .on_response(R, serve(&ahead[1], 1000, 100, true))
        .unwrap_err();
    assert!(matches!(err, Error::Protocol(m) if m.contains("while seq 1 is unanswered")));
}

#[test]
fn without_a_total_pages_ahead_stop_at_the_short_page() {
    let mut s = Session::open(SEED, &[]).unwrap();
    let first = plan_all(&mut s);
    let mut pages = vec![s.on_response(R, serve(&first[0], 250, 100, false)).unwrap()];
    let ahead = plan_all(&mut s);
    assert_eq!(
        ahead.len(),
        crate::session::MAX_AHEAD,
        "as many as allowed in flight"
    );
    for req in &ahead {
        let page = s.on_response(R, serve(req, 250, 100, false)).unwrap();
        let done = page.done;
        pages.push(page);
        if done {
            break; // the host drops the answers to requests past the end
        }
    }
    assert_eq!(all_ids(&pages), (0..250).collect::<Vec<_>>());
    assert_eq!(pages.len(), 3);
    assert!(s.next_requests(R).unwrap().is_empty(), "done");
}

#[test]
fn no_page_ceiling_of_its_own_the_host_sets_the_one_ceiling() {
    // Past the 100,000 pages a component used to stop at (which the host's --max-pages could
    // not raise): the connector goes on until the data ends.
    let cfg = json!({
        "client": {"base_url": "https://api.example.com"},
        "resources": [{"name": "items", "endpoint": {"path": "/items", "data_selector": "data",
            "paginator": {"type": "offset", "limit": 1}}}]
    });
    let mut s = Session::open(&cfg.to_string(), &[]).unwrap();
    let total = 100_003u64;
    let mut pages = 0u64;
    while let Some(req) = s.next_requests("items").unwrap().pop() {
        let body = format!(r#"{{"data":[{{"id":{pages}}}],"total":{total}}}"#);
        let page = s
            .on_response(
                "items",
                Response {
                    seq: req.seq,
                    status: 200,
                    headers: vec![],
                    body: body.into_bytes(),
                },
            )
            .unwrap();
        pages += 1;
        if page.done {
            break;
        }
    }
    assert_eq!(pages, total);
}

#[test]
fn a_first_response_without_the_selectors_key_is_warned_about_once() {
    // `data_selector: data`, but the API puts its records under `items`.
    let mut s = Session::open(SEED, &[]).unwrap();
    let (pages, _) = drive(&mut s, |r| {
        Response::json(r.seq, &json!({"items": [{"id": 1}], "total": 1}))
    });
    assert_eq!(pages.len(), 1);
    assert_eq!(pages[0].count, 0, "dlt loads nothing too");
    assert_eq!(pages[0].notices.len(), 1, "{:?}", pages[0].notices);
    assert_eq!(pages[0].notices[0].level, Level::Warn);
    assert_eq!(
        pages[0].notices[0].message,
        "data_selector `data` found no records in the first response: it has no key `data` (its keys: `items`, `total`); check data_selector if the API has records"
    );
    // A later page without the key ends the records quietly; an empty list or `null` at
    // the path is no mistake.
    for last in [
        json!({"total": 150}),
        json!({"data": [], "total": 100}),
        json!({"data": null}),
    ] {
        let mut s = Session::open(SEED, &[]).unwrap();
        let (pages, _) = drive(&mut s, |r| {
            match (query_param(&r.url, "offset"), last.get("data")) {
                // Records first, then a page without the key.
                (Some(0), None) => serve(r, 150, 1000, true),
                _ => Response::json(r.seq, &last),
            }
        });
        assert!(
            pages.iter().all(|p| p.notices.is_empty()),
            "{last}: {:?}",
            pages.iter().map(|p| &p.notices).collect::<Vec<_>>()
        );
    }
}
