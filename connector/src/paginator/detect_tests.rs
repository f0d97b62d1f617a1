use serde_json::{Value, json};

use super::*;
use crate::paginator::{Paginate, RequestParts};

fn detect_on(body: Value, headers: &[(String, String)]) -> (Paginator, String) {
    let view = PageView {
        status: 200,
        url: "https://a.io/items",
        body: &body,
        headers,
        count: 3,
    };
    detect(&view)
}

fn query_after(mut p: Paginator, body: Value) -> Vec<(String, String)> {
    let view = PageView {
        status: 200,
        url: "https://a.io/items",
        body: &body,
        headers: &[],
        count: 3,
    };
    p.advance(&view).unwrap();
    let mut parts = RequestParts::default();
    p.prepare(&mut parts);
    parts.query
}

#[test]
fn link_header_first() {
    let h = vec![(
        "Link".to_string(),
        "<https://a.io/items?page=2>; rel=\"next\"".to_string(),
    )];
    let (p, why) = detect_on(json!({"next": "/x"}), &h);
    assert!(matches!(p, Paginator::HeaderLink(_)));
    assert_eq!(
        why,
        "paginator not set: detected header_link (the Link header has rel=\"next\")"
    );
}

#[test]
fn next_urls_in_the_body() {
    let (p, why) = detect_on(
        json!({"results": [], "next": "https://a.io/items?page=2"}),
        &[],
    );
    assert!(matches!(p, Paginator::JsonLink(_)));
    assert!(why.contains("`next` holds a next URL"), "{why}");
    let (_, why) = detect_on(
        json!({"data": [], "links": {"next": {"href": "/items?p=2"}}}),
        &[],
    );
    assert!(why.contains("`links.next.href`"), "{why}");
    let (_, why) = detect_on(
        json!({"data": [], "pagination": {"next_url": "/items?p=2"}}),
        &[],
    );
    assert!(
        why.contains("detected json_link (`pagination.next_url`"),
        "{why}"
    );
}

#[test]
fn total_pages_then_cursor_then_single_page() {
    let (p, why) = detect_on(json!({"data": [], "page": 1, "total_pages": 4}), &[]);
    assert!(
        why.contains(
            "detected page_number (`total_pages` holds a total number of pages; base page 1)"
        ),
        "{why}"
    );
    assert_eq!(
        query_after(p, json!({"page": 1, "total_pages": 4})),
        [("page".to_string(), "2".to_string())]
    );
    let (p, why) = detect_on(json!({"items": [], "meta": {"next_cursor": "abc=="}}), &[]);
    assert!(
        why.contains("detected cursor (`meta.next_cursor` holds a cursor"),
        "{why}"
    );
    assert_eq!(
        query_after(p, json!({"meta": {"next_cursor": "abc=="}})),
        [("cursor".to_string(), "abc==".to_string())]
    );
    let (p, why) = detect_on(json!({"items": [], "next": null}), &[]);
    assert!(matches!(p, Paginator::SinglePage));
    assert_eq!(
        why,
        "paginator not set: detected single_page (no next link, cursor or page total in the first response)"
    );
    let (p, _) = detect_on(json!([{"id": 1}]), &[]);
    assert!(matches!(p, Paginator::SinglePage));
    assert_eq!(
        unpaged_total(&json!({"data": [], "total": 2500}), 3),
        Some(2500)
    );
    assert_eq!(
        unpaged_total(&json!({"data": [], "meta": {"count": "9"}}), 3),
        Some(9)
    );
    assert_eq!(unpaged_total(&json!({"data": [], "total": 3}), 3), None);
    assert_eq!(unpaged_total(&json!([1, 2]), 1), None);
    let (_, why) = detect_on(json!({"a.b": {"nextToken": "t"}}), &[]);
    assert!(why.contains("`$['a.b']['nextToken']`"), "{why}");
}
