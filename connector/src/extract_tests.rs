use super::*;
use crate::protocol::Level;

const URL: &str = "https://api.example.com/v1/inventory?offset=0&limit=100";

fn resp(status: u16, body: &str) -> Response {
    Response {
        seq: 0,
        status,
        headers: vec![],
        body: body.as_bytes().to_vec(),
    }
}

fn sel(s: &str) -> Selector {
    Selector::parse("data_selector", s).unwrap()
}

fn run(status: u16, body: &str, selector: Option<&str>) -> Result<Extracted, Error> {
    let s = selector.map(sel);
    extract(Method::Get, URL, &resp(status, body), s.as_ref())
}

#[test]
fn selects_records_unchanged() {
    let e = run(
        200,
        r#"{"data": [{"id": 1, "z": "a", "b": 1.5}, {"id": 2}], "total": 2}"#,
        Some("data"),
    )
    .unwrap();
    // The list as it is in the body: the host parses each record once.
    assert_eq!(e.records, r#"[{"id": 1, "z": "a", "b": 1.5}, {"id": 2}]"#);
    assert_eq!(e.count, 2);
    assert!(e.notices.is_empty());
    assert_eq!(e.body["total"], 2);
}

#[test]
fn nested_and_wildcard_selectors() {
    let body = r#"{"data": {"items": [{"id": 1}]}, "results": [{"id": 5}, {"id": 6}]}"#;
    assert_eq!(
        run(200, body, Some("data.items")).unwrap().records,
        r#"[{"id": 1}]"#
    );
    assert_eq!(run(200, body, Some("$.results[*]")).unwrap().count, 2);
    assert_eq!(run(200, r#"[{"id": 1}]"#, Some("$")).unwrap().count, 1);
    assert_eq!(
        run(200, r#"[{"id": 1}, {"id": 2}]"#, Some("[*]"))
            .unwrap()
            .count,
        2
    );
    let one = run(200, r#"{"data": {"id": 3}}"#, Some("data")).unwrap();
    assert_eq!((one.count, one.records.as_str()), (1, r#"[{"id":3}]"#));
}

#[test]
fn missing_or_null_selection_is_an_empty_page() {
    for body in [
        r#"{"other": 1}"#,
        r#"{"data": null}"#,
        r#"{"error": null, "data": null}"#,
        r#"{"errors": []}"#,
    ] {
        let e = run(200, body, Some("data")).unwrap();
        assert_eq!((e.count, e.records.as_str()), (0, "[]"), "{body}");
    }
}

#[test]
fn error_payload_with_200_is_an_error() {
    let err = run(200, r#"{"error": "invalid api key"}"#, Some("data")).unwrap_err();
    assert_eq!(
        err,
        Error::Response {
            status: 200,
            message: format!("HTTP 200 from GET {URL} carries an error: invalid api key")
        }
    );
    let err = run(
        200,
        r#"{"errors": [{"message": "rate limited"}]}"#,
        Some("data"),
    )
    .unwrap_err();
    assert!(
        err.to_string().contains(r#"[{"message":"rate limited"}]"#),
        "{err}"
    );
    let err = run(200, r#"{"errors": [{"message": "x"}]}"#, None).unwrap_err();
    assert!(matches!(err, Error::Response { status: 200, .. }));
    let ok = run(
        200,
        r#"{"data": [{"id": 1}], "errors": ["partial"]}"#,
        Some("data"),
    )
    .unwrap();
    assert_eq!(ok.count, 1, "records found: the error key is not consulted");
}

#[test]
fn no_content_and_empty_body_are_empty_pages() {
    for (status, body) in [(204, ""), (200, ""), (200, "  \n"), (204, "ignored")] {
        let e = run(status, body, Some("data")).unwrap();
        assert_eq!(
            (e.count, e.records.as_str(), &e.body),
            (0, "[]", &Value::Null)
        );
    }
}

#[test]
fn non_json_body_is_an_error() {
    let err = run(200, "<html>oops</html>", Some("data")).unwrap_err();
    match err {
        Error::Response { status, message } => {
            assert_eq!(status, 200);
            assert!(
                message.starts_with(&format!("HTTP 200 from GET {URL} is not JSON (")),
                "{message}"
            );
            assert!(message.ends_with(": <html>oops</html>"), "{message}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn non_2xx_status_is_an_error_with_body_snippet() {
    let body = "x".repeat(300);
    let err = run(401, &body, Some("data")).unwrap_err();
    let Error::Response { status, message } = err else {
        panic!()
    };
    assert_eq!(status, 401);
    assert_eq!(
        message,
        format!("HTTP 401 from GET {URL}: {}…", "x".repeat(200))
    );
    let err = run(404, r#"{"error": "no such path"}"#, None).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(r#"HTTP 404 from GET {URL}: {{"error": "no such path"}}"#)
    );
}

#[test]
fn omitted_selector_uses_list_body_or_single_list_field() {
    assert_eq!(
        run(200, r#"[{"id": 1}, {"id": 2}]"#, None).unwrap().count,
        2
    );
    let e = run(
        200,
        r#"{"items": [{"id": 1}], "total": 1, "errors": []}"#,
        None,
    )
    .unwrap();
    assert_eq!(e.count, 1);
    assert_eq!(
        e.notices,
        [Notice {
            level: Level::Info,
            message: "data_selector not set: using `items`".into()
        }]
    );
    // dlt: the first list when none has a record-like name, with a warning naming the others.
    let e = run(200, r#"{"a": [1], "b": [2, 3]}"#, None).unwrap();
    assert_eq!((e.count, e.records.as_str()), (1, "[1]"));
    assert_eq!(e.notices[0].level, Level::Warn);
    assert_eq!(
        e.notices[0].message,
        "data_selector not set: using `a`, the first of 2 lists (also b); set data_selector if that is wrong"
    );
    assert_eq!(e.detected.unwrap().as_str(), "a");
    // dlt's preferred keys win over earlier lists, also nested.
    let e = run(
        200,
        r#"{"tags": ["x"], "meta": {"links": []}, "page": {"results": [{"id": 1}, {"id": 2}]}}"#,
        None,
    )
    .unwrap();
    assert_eq!(e.count, 2);
    assert_eq!(
        e.notices[0].message,
        "data_selector not set: using `page.results`"
    );
    assert_eq!(e.detected.unwrap().as_str(), "page.results");
    // No list at all: the object is one record (a single-entity endpoint, as dlt).
    let e = run(200, r#"{"id": 1}"#, None).unwrap();
    assert_eq!((e.count, e.records.as_str()), (1, r#"[{"id":1}]"#));
    assert_eq!(e.notices[0].level, Level::Info);
    assert_eq!(e.detected.unwrap().as_str(), "$");
    // ... unless it is an error payload.
    let err = run(200, r#"{"error": "quota exceeded"}"#, None).unwrap_err();
    assert!(
        err.to_string().contains("carries an error: quota exceeded"),
        "{err}"
    );
    // A detected `$` on later pages still refuses an error object.
    let err = run(200, r#"{"error": {"code": 5}}"#, Some("$")).unwrap_err();
    assert!(err.to_string().contains("carries an error"), "{err}");
    let e = run(200, "42", None).unwrap();
    assert_eq!((e.count, e.notices[0].level), (0, Level::Warn));
}
