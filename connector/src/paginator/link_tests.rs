use serde_json::{Value, json};

use super::*;
use crate::paginator::{Paginator, PaginatorConfig};

fn start(cfg: Value) -> Paginator {
    PaginatorConfig::parse("p", &cfg).unwrap().start()
}

fn view<'a>(body: &'a Value, headers: &'a [(String, String)], count: usize) -> PageView<'a> {
    PageView {
        status: 200,
        url: "https://api.io/v1/items?page=1&q=x",
        body,
        headers,
        count,
    }
}

#[test]
fn parses_link_headers() {
    let v = r#"<https://api.github.com/repos/o/r/issues?page=2>; rel="next", <https://api.github.com/repos/o/r/issues?page=5>; rel="last""#;
    assert_eq!(
        parse_links(v),
        [
            (
                "https://api.github.com/repos/o/r/issues?page=2".to_string(),
                vec!["next".to_string()]
            ),
            (
                "https://api.github.com/repos/o/r/issues?page=5".to_string(),
                vec!["last".to_string()]
            ),
        ]
    );
    let h = vec![
        ("Content-Type".to_string(), "application/json".to_string()),
        (
            "link".to_string(),
            "</a?x=1,2>; title=\"t\"; REL=\"prev next\"".to_string(),
        ),
    ];
    assert_eq!(link_rel(&h, "next").as_deref(), Some("/a?x=1,2"));
    assert_eq!(link_rel(&h, "last"), None);
    assert!(parse_links("garbage").is_empty());
}

#[test]
fn header_link_follows_next_until_absent() {
    let mut p = start(json!("header_link"));
    let h = vec![(
        "Link".to_string(),
        "</v1/items?page=2&q=x>; rel=\"next\"".to_string(),
    )];
    let a = p.advance(&view(&json!([1]), &h, 1)).unwrap();
    assert!(!a.done);
    assert_eq!(
        a.reference.as_deref(),
        Some("https://api.io/v1/items?page=2&q=x")
    );
    let mut parts = RequestParts {
        query: vec![("q".into(), "x".into()), ("per_page".into(), "5".into())],
        ..Default::default()
    };
    p.prepare(&mut parts);
    assert_eq!(
        parts.url.as_deref(),
        Some("https://api.io/v1/items?page=2&q=x")
    );
    assert!(parts.query.is_empty());
    assert_eq!(p.state()["next_url"], "https://api.io/v1/items?page=2&q=x");
    let last = vec![(
        "Link".to_string(),
        "</v1/items?page=1>; rel=\"prev\"".to_string(),
    )];
    assert!(p.advance(&view(&json!([1]), &last, 1)).unwrap().done);
    let mut p = start(json!({"type": "header_link", "links_next_key": "forward"}));
    let h = vec![(
        "Link".to_string(),
        "<https://b.io/2>; rel=\"forward\"".to_string(),
    )];
    assert_eq!(
        p.advance(&view(&json!([1]), &h, 1))
            .unwrap()
            .reference
            .as_deref(),
        Some("https://b.io/2")
    );
}

#[test]
fn json_link_resolves_relative_urls_and_stops() {
    let mut p = start(json!({"type": "json_link", "next_url_path": "paging.next"}));
    let a = p
        .advance(&view(&json!({"paging": {"next": "?page=2&q=x"}}), &[], 3))
        .unwrap();
    assert_eq!(
        a.reference.as_deref(),
        Some("https://api.io/v1/items?page=2&q=x")
    );
    assert!(
        p.advance(&view(&json!({"paging": {"next": null}}), &[], 3))
            .unwrap()
            .done
    );
    let mut p = start(json!("json_response"));
    assert!(
        !p.advance(&view(&json!({"next": "https://x.io/2"}), &[], 3))
            .unwrap()
            .done
    );
    assert!(
        p.advance(&view(&json!({"next": "https://x.io/3"}), &[], 0))
            .unwrap()
            .done,
        "empty page"
    );
}
