use serde_json::{Value, json};

use super::*;
use crate::paginator::PaginatorConfig;
use crate::protocol::Level;

fn paginator(cfg: Value) -> PageNumberPaginator {
    match PaginatorConfig::parse("p", &cfg).unwrap() {
        PaginatorConfig::PageNumber(c) => PageNumberPaginator::new(c),
        other => panic!("{other:?}"),
    }
}

fn view<'a>(url: &'a str, body: &'a Value, count: usize) -> PageView<'a> {
    PageView {
        status: 200,
        url,
        body,
        headers: &[],
        count,
    }
}

fn page_param(p: &PageNumberPaginator) -> Vec<(String, String)> {
    let mut parts = RequestParts::default();
    p.prepare(&mut parts);
    parts.query
}

const U: &str = "https://a.io/x";

#[test]
fn defaults_are_dlts() {
    let mut p = paginator(json!({"type": "page_number"}));
    assert_eq!(page_param(&p), [("page".to_string(), "0".to_string())]);
    let body = json!({"total": 3});
    assert!(!p.advance(&view(U, &body, 10)).unwrap().done);
    assert_eq!(page_param(&p), [("page".to_string(), "1".to_string())]);
    assert!(!p.advance(&view(U, &body, 10)).unwrap().done);
    assert!(
        p.advance(&view(U, &body, 10)).unwrap().done,
        "3 pages: 0, 1, 2"
    );
    assert_eq!(p.state()["page"], 3);
}

#[test]
fn base_page_start_page_and_param() {
    let mut p = paginator(
        json!({"type": "page_number", "base_page": 1, "page_param": "p", "total_path": "meta.pages"}),
    );
    assert_eq!(page_param(&p), [("p".to_string(), "1".to_string())]);
    let body = json!({"meta": {"pages": 2}});
    assert!(!p.advance(&view(U, &body, 10)).unwrap().done);
    assert!(
        p.advance(&view(U, &body, 10)).unwrap().done,
        "pages 1 and 2"
    );
    let p = paginator(json!({"type": "page_number", "base_page": 1, "page": 4}));
    assert_eq!(page_param(&p), [("page".to_string(), "4".to_string())]);
    let err = PaginatorConfig::parse(
        "p",
        &json!({"type": "page_number", "base_page": 1, "page": 0}),
    )
    .unwrap_err();
    assert_eq!(err.to_string(), "p.page: must not be below base_page (1)");
}

#[test]
fn empty_page_has_more_and_maximum_stop() {
    let none = json!({});
    let mut p = paginator(json!({"type": "page_number", "total_path": null}));
    assert!(!p.advance(&view(U, &none, 5)).unwrap().done);
    assert!(p.advance(&view(U, &none, 0)).unwrap().done, "empty page");
    let mut p =
        paginator(json!({"type": "page_number", "total_path": null, "has_more_path": "more"}));
    assert!(!p.advance(&view(U, &json!({"more": true}), 5)).unwrap().done);
    assert!(
        p.advance(&view(U, &json!({"more": "false"}), 5))
            .unwrap()
            .done
    );
    let mut p = paginator(
        json!({"type": "page_number", "base_page": 1, "maximum_page": 3, "total_path": null}),
    );
    assert!(!p.advance(&view(U, &none, 5)).unwrap().done);
    assert!(
        p.advance(&view(U, &none, 5)).unwrap().done,
        "dlt: stops when the next page reaches maximum_page"
    );
    let err = PaginatorConfig::parse(
        "p",
        &json!({"type": "page_number", "total_path": null, "stop_after_empty_page": false}),
    )
    .unwrap_err();
    assert!(err.to_string().starts_with("p: no stop rule"), "{err}");
}

#[test]
fn short_page_stops_only_when_no_total_says_more() {
    let url = "https://a.io/x?per_page=100&page=0";
    let none = json!({});
    let mut p = paginator(json!({"type": "page_number", "total_path": null}));
    assert!(!p.advance(&view(url, &none, 100)).unwrap().done);
    assert!(
        p.advance(&view(url, &none, 40)).unwrap().done,
        "short page, no total"
    );
    let mut p = paginator(json!({"type": "page_number", "total_path": null}));
    assert!(
        !p.advance(&view(U, &none, 40)).unwrap().done,
        "page size unknown: continue"
    );
    // A server capping 100 to 50 with a total of 4 pages: all pages, one warning.
    let mut p = paginator(json!({"type": "page_number", "total_path": "total_pages"}));
    let total = json!({"total_pages": 4});
    let a = p.advance(&view(url, &total, 50)).unwrap();
    assert!(!a.done);
    assert_eq!(a.notices[0].level, Level::Warn);
    assert!(
        a.notices[0].message.contains("capped the page size"),
        "{:?}",
        a.notices
    );
    let a = p.advance(&view(url, &total, 50)).unwrap();
    assert!(!a.done && a.notices.is_empty(), "warned once");
    assert!(!p.advance(&view(url, &total, 50)).unwrap().done);
    assert!(p.advance(&view(url, &total, 50)).unwrap().done);
}

#[test]
fn total_errors() {
    let mut p = paginator(json!({"type": "page_number", "total_path": "meta.pages"}));
    let err = p.advance(&view(U, &json!({"meta": {}}), 3)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "total_path \"meta.pages\" not found in the response"
    );
    let mut p = paginator(json!({"type": "page_number"}));
    assert!(
        !p.advance(&view(U, &json!({}), 3)).unwrap().done,
        "default total_path may be absent"
    );
    let err = p
        .advance(&view(U, &json!({"total": "many"}), 3))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "total_path \"total\" is not a non-negative number: found a string"
    );
}

#[test]
fn page_body_path_puts_the_page_number_in_the_json_body() {
    let mut p = paginator(json!({"type": "page_number", "base_page": 1,
                                 "page_body_path": "paging.page", "total_path": null}));
    let mut parts = RequestParts {
        body: Some(json!({"filter": {"active": true}})),
        ..Default::default()
    };
    p.prepare(&mut parts);
    assert!(parts.query.is_empty());
    assert_eq!(
        parts.body,
        Some(json!({"filter": {"active": true}, "paging": {"page": 1}}))
    );
    let body = json!({});
    assert!(!p.advance(&view(U, &body, 10)).unwrap().done);
    let mut parts = RequestParts::default();
    p.prepare(&mut parts);
    assert_eq!(parts.body, Some(json!({"paging": {"page": 2}})));
    let both = json!({"type": "page_number", "page_param": "p", "page_body_path": "p"});
    let e = PaginatorConfig::parse("x", &both).unwrap_err();
    assert_eq!(
        e.to_string(),
        "x.page_body_path: set either page_param or page_body_path, not both"
    );
}
