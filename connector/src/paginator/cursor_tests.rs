use serde_json::{Value, json};

use super::*;
use crate::paginator::{Paginator, PaginatorConfig};
use crate::protocol::Level;

fn start(cfg: Value) -> Paginator {
    PaginatorConfig::parse("p", &cfg).unwrap().start()
}

fn view<'a>(body: &'a Value, headers: &'a [(String, String)], count: usize) -> PageView<'a> {
    PageView {
        status: 200,
        url: "https://a.io/x",
        body,
        headers,
        count,
    }
}

fn parts(p: &Paginator, base: RequestParts) -> RequestParts {
    let mut parts = base;
    p.prepare(&mut parts);
    parts
}

#[test]
fn cursor_in_query_param() {
    let mut p =
        start(json!({"type": "cursor", "cursor_path": "meta.next", "cursor_param": "after"}));
    assert!(
        parts(&p, RequestParts::default()).query.is_empty(),
        "no cursor on the first request"
    );
    let a = p
        .advance(&view(&json!({"meta": {"next": "c2"}}), &[], 5))
        .unwrap();
    assert!(!a.done);
    assert_eq!(a.reference.as_deref(), Some("c2"));
    assert_eq!(
        parts(&p, RequestParts::default()).query,
        [("after".to_string(), "c2".to_string())]
    );
    assert_eq!(p.state()["cursor"], "c2");
    for last in [
        json!({"meta": {"next": null}}),
        json!({"meta": {}}),
        json!({"meta": {"next": ""}}),
    ] {
        let mut q = p.clone();
        let a = q.advance(&view(&last, &[], 5)).unwrap();
        assert!(a.done, "{last}");
        assert_eq!(a.reference, None);
    }
}

#[test]
fn numeric_cursor_and_empty_page() {
    let mut p = start(json!({"type": "cursor", "cursor_path": "next_id"}));
    let a = p.advance(&view(&json!({"next_id": 42}), &[], 5)).unwrap();
    assert_eq!(a.reference.as_deref(), Some("42"));
    let a = p.advance(&view(&json!({"next_id": 43}), &[], 0)).unwrap();
    assert!(a.done, "an empty page ends paging");
    assert_eq!(a.notices[0].level, Level::Warn);
    assert!(
        a.notices[0]
            .message
            .contains("empty page with a next cursor")
    );
}

#[test]
fn cursor_in_json_body() {
    let mut p = start(
        json!({"type": "cursor", "cursor_path": "next_cursor", "cursor_body_path": "page.start_cursor"}),
    );
    let base = RequestParts {
        body: Some(json!({"query": "x"})),
        ..Default::default()
    };
    assert_eq!(parts(&p, base.clone()).body, Some(json!({"query": "x"})));
    p.advance(&view(&json!({"next_cursor": "abc"}), &[], 5))
        .unwrap();
    let next = parts(&p, base);
    assert_eq!(
        next.body,
        Some(json!({"query": "x", "page": {"start_cursor": "abc"}}))
    );
    assert!(next.query.is_empty());
    let both = PaginatorConfig::parse(
        "p",
        &json!({"type": "cursor", "cursor_param": "c", "cursor_body_path": "c"}),
    )
    .unwrap_err();
    assert_eq!(
        both.to_string(),
        "p.cursor_body_path: set either cursor_param or cursor_body_path, not both"
    );
    let bad = PaginatorConfig::parse("p", &json!({"type": "cursor", "cursor_body_path": "a..b"}))
        .unwrap_err();
    assert!(
        bad.to_string()
            .starts_with("p.cursor_body_path: invalid path"),
        "{bad}"
    );
}

#[test]
fn header_cursor() {
    let mut p = start(json!("header_cursor"));
    let h = vec![("NEXT".to_string(), "tok-2".to_string())];
    let a = p.advance(&view(&Value::Null, &h, 5)).unwrap();
    assert!(!a.done);
    assert_eq!(
        parts(&p, RequestParts::default()).query,
        [("cursor".to_string(), "tok-2".to_string())]
    );
    assert!(p.advance(&view(&Value::Null, &[], 5)).unwrap().done);
    let mut p =
        start(json!({"type": "header_cursor", "cursor_key": "X-Next", "cursor_param": "from"}));
    let h = vec![("x-next".to_string(), "7".to_string())];
    p.advance(&view(&Value::Null, &h, 5)).unwrap();
    assert_eq!(
        parts(&p, RequestParts::default()).query,
        [("from".to_string(), "7".to_string())]
    );
}
