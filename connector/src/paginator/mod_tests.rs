use serde_json::{Value, json};

use super::*;

fn parse(v: Value) -> Result<PaginatorConfig, Error> {
    PaginatorConfig::parse("p", &v)
}

#[test]
fn unknown_type_suggests_near_miss() {
    let path = "resources[0].endpoint.paginator";
    let err = PaginatorConfig::parse(path, &json!({"type": "ofset", "limit": 100})).unwrap_err();
    assert!(
        err.to_string().starts_with(
            "resources[0].endpoint.paginator.type: unknown paginator \"ofset\" (expected one of: auto, single_page, offset,"
        ),
        "{err}"
    );
    assert!(err.to_string().ends_with("did you mean \"offset\"?)"));
    let err = parse(json!("header-link")).unwrap_err();
    assert!(
        err.to_string().ends_with("did you mean \"header_link\"?)"),
        "{err}"
    );
}

#[test]
fn every_kind_parses_from_its_string_shorthand_with_defaults() {
    for kind in kinds() {
        let parsed = parse(json!(kind));
        if kind == "offset" {
            assert_eq!(
                parsed.unwrap_err().to_string(),
                "p.limit: missing required key"
            );
            continue;
        }
        let parsed = parsed.unwrap_or_else(|e| panic!("{kind}: {e}"));
        let expected = match kind {
            "auto" => PaginatorConfig::Auto,
            "single_page" => PaginatorConfig::SinglePage,
            "header_link" => PaginatorConfig::HeaderLink("next".into()),
            "json_link" | "json_response" => {
                PaginatorConfig::JsonLink(Selector::parse("", "next").unwrap())
            }
            "cursor" => PaginatorConfig::Cursor(CursorConfig {
                cursor_path: Selector::parse("", "cursors.next").unwrap(),
                target: cursor::CursorTarget::Query("cursor".into()),
            }),
            "header_cursor" => PaginatorConfig::HeaderCursor(HeaderCursorConfig {
                cursor_key: "next".into(),
                cursor_param: "cursor".into(),
            }),
            "page_number" => PaginatorConfig::PageNumber(PageNumberConfig {
                base_page: 0,
                page: 0,
                page_param: "page".into(),
                page_body_path: None,
                total_path: Some(Selector::parse("", "total").unwrap()),
                total_required: false,
                maximum_page: None,
                stop_after_empty_page: true,
                has_more_path: None,
            }),
            other => panic!("untested kind {other}"),
        };
        assert_eq!(parsed, expected, "{kind}");
    }
}

#[test]
fn keys_of_each_kind_are_checked_with_paths() {
    let err = parse(json!({"type": "single_page", "limit": 1})).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("p.limit: unknown key \"limit\""),
        "{err}"
    );
    let err = parse(json!({"type": "json_link", "next_url": "a"})).unwrap_err();
    assert!(
        err.to_string()
            .ends_with("did you mean \"next_url_path\"?)"),
        "{err}"
    );
    let err = parse(json!({"type": "cursor", "cursor_param": 5})).unwrap_err();
    assert_eq!(
        err.to_string(),
        "p.cursor_param: expected a string, found a number"
    );
    let err = parse(json!({"type": "header_link", "links_next_key": ""})).unwrap_err();
    assert_eq!(err.to_string(), "p.links_next_key: must not be empty");
    let err = parse(json!({"type": "page_number", "maximum_page": "3"})).unwrap_err();
    assert_eq!(
        err.to_string(),
        "p.maximum_page: expected a non-negative integer, found a string"
    );
    let err = parse(json!(3)).unwrap_err();
    assert_eq!(err.to_string(), "p: expected an object, found a number");
}

#[test]
fn single_page_makes_one_request() {
    let mut p = PaginatorConfig::SinglePage.start();
    let mut parts = RequestParts::default();
    p.prepare(&mut parts);
    assert_eq!(parts, RequestParts::default());
    let view = PageView {
        status: 200,
        url: "https://a.io/x",
        body: &Value::Null,
        headers: &[],
        count: 5,
    };
    let a = p.advance(&view).unwrap();
    assert!(a.done);
    assert!(a.notices.is_empty());
}

#[test]
fn auto_single_page_warns_when_a_total_says_more_exist() {
    let mut p = PaginatorConfig::Auto.start();
    let body = json!({"data": [1, 2], "total": 2500});
    let view = PageView {
        status: 200,
        url: "https://a.io/v1/items",
        body: &body,
        headers: &[],
        count: 2,
    };
    let a = p.advance(&view).unwrap();
    assert!(a.done);
    assert_eq!(a.notices[0].level, crate::protocol::Level::Warn);
    assert!(
        a.notices[0]
            .message
            .ends_with("the response says there are 2500 records and 2 arrived: set a paginator to load the rest"),
        "{:?}",
        a.notices
    );
}

#[test]
fn auto_becomes_the_detected_paginator_and_reads_the_first_response() {
    let mut p = PaginatorConfig::Auto.start();
    let mut parts = RequestParts::default();
    p.prepare(&mut parts);
    assert_eq!(
        parts,
        RequestParts::default(),
        "the first request is unchanged"
    );
    let body = json!({"items": [1, 2], "next": "/items?page=2"});
    let view = PageView {
        status: 200,
        url: "https://a.io/v1/items",
        body: &body,
        headers: &[],
        count: 2,
    };
    let a = p.advance(&view).unwrap();
    assert!(!a.done);
    assert_eq!(a.reference.as_deref(), Some("https://a.io/items?page=2"));
    assert_eq!(
        a.notices,
        [Notice::info(
            "paginator not set: detected json_link (`next` holds a next URL)"
        )]
    );
    let mut parts = RequestParts {
        query: vec![("q".into(), "x".into())],
        ..Default::default()
    };
    p.prepare(&mut parts);
    assert_eq!(parts.url.as_deref(), Some("https://a.io/items?page=2"));
    assert!(parts.query.is_empty(), "the link carries its own params");
    assert!(matches!(p, Paginator::JsonLink(_)));
}
