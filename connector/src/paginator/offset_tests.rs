use serde_json::{Value, json};

use super::*;
use crate::config::walk::Obj;
use crate::protocol::Level;

fn paginator(cfg: Value) -> OffsetPaginator {
    OffsetPaginator::new(OffsetConfig::parse(Obj::new("p", &cfg).unwrap()).unwrap())
}

fn view(body: &Value, count: usize) -> PageView<'_> {
    PageView {
        status: 200,
        url: "https://a.io/x",
        body,
        headers: &[],
        count,
    }
}

fn query(p: &OffsetPaginator) -> Vec<(String, String)> {
    let mut parts = RequestParts::default();
    p.prepare(&mut parts);
    parts.query
}

#[test]
fn defaults_and_params() {
    let p = paginator(json!({"type": "offset", "limit": 100}));
    assert_eq!(
        query(&p),
        [
            ("offset".to_string(), "0".to_string()),
            ("limit".into(), "100".into())
        ]
    );
    let p = paginator(
        json!({"type": "offset", "limit": 5, "offset": 10, "offset_param": "skip", "limit_param": "take"}),
    );
    assert_eq!(
        query(&p),
        [
            ("skip".to_string(), "10".to_string()),
            ("take".into(), "5".into())
        ]
    );
    let mut parts = RequestParts {
        query: vec![("limit".into(), "1".into()), ("q".into(), "x".into())],
        ..Default::default()
    };
    p.prepare(&mut parts);
    assert_eq!(
        parts.query[0],
        ("limit".to_string(), "1".to_string()),
        "other names untouched"
    );
    let p = paginator(json!({"type": "offset", "limit": 5, "limit_param": "q"}));
    let mut parts = RequestParts {
        query: vec![("q".into(), "x".into())],
        ..Default::default()
    };
    p.prepare(&mut parts);
    assert_eq!(
        parts.query,
        [
            ("q".to_string(), "5".to_string()),
            ("offset".into(), "0".into())
        ]
    );
}

#[test]
fn config_errors_name_their_keys() {
    let parse = |v: Value| {
        OffsetConfig::parse(Obj::new("p", &v).unwrap())
            .unwrap_err()
            .to_string()
    };
    assert_eq!(
        parse(json!({"type": "offset"})),
        "p.limit: missing required key"
    );
    assert_eq!(
        parse(json!({"type": "offset", "limit": "100"})),
        "p.limit: expected a non-negative integer, found a string"
    );
    assert_eq!(
        parse(json!({"type": "offset", "limit": 0})),
        "p.limit: must be at least 1"
    );
    assert!(
        parse(json!({"type": "offset", "limit": 1, "totl_path": "x"}))
            .contains("did you mean \"total_path\"?")
    );
}

#[test]
fn stops_on_empty_page() {
    let mut p = paginator(json!({"type": "offset", "limit": 10}));
    let body = json!({"total": 100});
    assert!(!p.advance(&view(&body, 10)).unwrap().done);
    assert!(
        p.advance(&view(&body, 0)).unwrap().done,
        "empty page stops even if total says more"
    );
}

#[test]
fn empty_page_continues_when_told_and_total_says_more() {
    let mut p = paginator(json!({"type": "offset", "limit": 10, "stop_after_empty_page": false}));
    let body = json!({"total": 100});
    assert!(!p.advance(&view(&body, 0)).unwrap().done);
    assert_eq!(p.offset(), 10, "an empty page advances by limit");
}

#[test]
fn stops_on_short_page_without_total() {
    let mut p = paginator(json!({"type": "offset", "limit": 10}));
    let body = json!({"data": []});
    assert!(
        !p.advance(&view(&body, 10)).unwrap().done,
        "missing total is fine"
    );
    assert!(!p.advance(&view(&body, 10)).unwrap().done);
    let a = p.advance(&view(&body, 3)).unwrap();
    assert!(a.done);
    assert!(a.notices.is_empty());
    // After full pages, pages are `limit` apart (as in dlt): the short page ends at 30.
    assert_eq!(
        p.state(),
        json!({"offset": 30}).as_object().unwrap().clone()
    );
}

#[test]
fn stops_when_total_reached() {
    let mut p = paginator(json!({"type": "offset", "limit": 10}));
    let body = json!({"total": 25});
    assert!(!p.advance(&view(&body, 10)).unwrap().done);
    assert!(!p.advance(&view(&body, 10)).unwrap().done);
    assert!(p.advance(&view(&body, 5)).unwrap().done);
    let mut p = paginator(json!({"type": "offset", "limit": 10}));
    let body = json!({"total": 20});
    assert!(!p.advance(&view(&body, 10)).unwrap().done);
    assert!(
        p.advance(&view(&body, 10)).unwrap().done,
        "full last page: no extra request"
    );
}

#[test]
fn total_path_nested_string_or_disabled() {
    let mut p = paginator(json!({"type": "offset", "limit": 10, "total_path": "meta.count"}));
    let body = json!({"meta": {"count": "15"}});
    assert!(!p.advance(&view(&body, 10)).unwrap().done);
    assert!(p.advance(&view(&body, 5)).unwrap().done);
    let mut p = paginator(json!({"type": "offset", "limit": 10, "total_path": null}));
    let body = json!({"total": 10});
    assert!(
        !p.advance(&view(&body, 10)).unwrap().done,
        "total ignored when total_path is null"
    );
    let mut p = paginator(json!({"type": "offset", "limit": 10}));
    let err = p.advance(&view(&json!({"total": "many"}), 10)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "total_path \"total\" is not a non-negative number: found a string"
    );
}

#[test]
fn stops_at_maximum_offset() {
    let mut p = paginator(json!({"type": "offset", "limit": 10, "maximum_offset": 20}));
    let body = json!({});
    assert!(!p.advance(&view(&body, 10)).unwrap().done);
    assert!(p.advance(&view(&body, 10)).unwrap().done);
    assert_eq!(p.offset(), 20);
}

#[test]
fn stops_when_has_more_false() {
    let mut p = paginator(json!({"type": "offset", "limit": 10, "has_more_path": "meta.has_more"}));
    assert!(
        !p.advance(&view(&json!({"meta": {"has_more": true}}), 10))
            .unwrap()
            .done
    );
    let more_short = p
        .advance(&view(&json!({"meta": {"has_more": true}}), 4))
        .unwrap();
    assert!(!more_short.done, "has_more true wins over a short page");
    assert!(
        p.advance(&view(&json!({"meta": {"has_more": false}}), 10))
            .unwrap()
            .done
    );
    let err = p.advance(&view(&json!({}), 10)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "has_more_path \"meta.has_more\" not found in the response"
    );
}

#[test]
fn capped_page_size_advances_by_records_received_and_warns_once() {
    let mut p = paginator(json!({"type": "offset", "limit": 100}));
    let body = json!({"total": 120});
    let a = p.advance(&view(&body, 50)).unwrap();
    assert!(!a.done);
    assert_eq!(a.notices.len(), 1);
    assert_eq!(a.notices[0].level, Level::Warn);
    assert_eq!(
        a.notices[0].message,
        "API returned 50 records for limit 100: the API capped the page size; advancing by records received"
    );
    assert_eq!(query(&p)[0].1, "50");
    let a = p.advance(&view(&body, 50)).unwrap();
    assert!(!a.done);
    assert!(a.notices.is_empty(), "warned once");
    assert!(p.advance(&view(&body, 20)).unwrap().done);
    assert_eq!(p.offset(), 120);
}

#[test]
fn body_paths_put_offset_and_limit_in_the_json_body() {
    // dlt's `offset_body_path` / `limit_body_path` (a POST search API): numbers in the body,
    // next to what the endpoint's `json` holds, and nothing in the query.
    let mut p = paginator(json!({"type": "offset", "limit": 50,
        "offset_body_path": "page.offset", "limit_body_path": "$.page.size"}));
    let mut parts = RequestParts {
        body: Some(json!({"q": "x", "page": {"sort": "id"}})),
        ..Default::default()
    };
    p.prepare(&mut parts);
    assert!(parts.query.is_empty(), "{:?}", parts.query);
    assert_eq!(
        parts.body,
        Some(json!({"q": "x", "page": {"sort": "id", "offset": 0, "size": 50}}))
    );
    let body = json!({"total": 120});
    p.advance(&view(&body, 50)).unwrap();
    let mut parts = RequestParts::default();
    p.prepare(&mut parts);
    assert_eq!(
        parts.body,
        Some(json!({"page": {"offset": 50, "size": 50}}))
    );
    // Only one of the two places.
    let both = json!({"type": "offset", "limit": 5, "offset_param": "o", "offset_body_path": "o"});
    let e = OffsetConfig::parse(Obj::new("p", &both).unwrap()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "p.offset_body_path: set either offset_param or offset_body_path, not both"
    );
}
