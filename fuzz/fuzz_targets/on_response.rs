//! `on-response` for every paginator and data selector: a fixed config chosen by the first
//! byte, then responses whose status, headers and body come from the input, for a few
//! pages. Errors are fine; panics are not.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sluice_connector::{Response, Session};

const PAGINATORS: &[&str] = &[
    r#""auto""#,
    r#""single_page""#,
    r#"{"type": "offset", "limit": 10, "total_path": "total"}"#,
    r#"{"type": "offset", "limit": 10, "total_path": null}"#,
    r#"{"type": "page_number", "base_page": 1, "total_path": "pages"}"#,
    r#"{"type": "cursor", "cursor_path": "next", "cursor_param": "after"}"#,
    r#"{"type": "cursor", "cursor_path": "meta.next", "cursor_body_path": "cursor"}"#,
    r#"{"type": "header_cursor", "cursor_key": "x-next", "cursor_param": "c"}"#,
    r#"{"type": "json_link", "next_url_path": "links.next"}"#,
    r#"{"type": "json_response", "next_url_path": "next"}"#,
    r#""header_link""#,
];
const SELECTORS: &[&str] = &["null", r#""data""#, r#""$.items[*]""#, r#""a.b""#, r#""$""#];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let paginator = PAGINATORS[usize::from(pick) % PAGINATORS.len()];
    let selector = SELECTORS[usize::from(pick / 16) % SELECTORS.len()];
    let method = if pick & 0x80 != 0 { "POST" } else { "GET" };
    let config = format!(
        r#"{{"client": {{"base_url": "https://api.example.com"}}, "resources": [{{"name": "r",
            "endpoint": {{"path": "/items", "method": "{method}", "paginator": {paginator},
                          "data_selector": {selector},
                          "incremental": {{"cursor_path": "id", "initial_value": 0}}}}}}]}}"#
    );
    let mut session = Session::open(&config, &[]).expect("the fixed configs are valid");
    // The input: `status(2) | header lines \n\n | body`, used for every page.
    let status = rest
        .get(..2)
        .map_or(200, |s| 100 + u16::from_le_bytes([s[0], s[1]]) % 500);
    let rest = rest.get(2..).unwrap_or_default();
    let split = rest.windows(2).position(|w| w == b"\n\n").unwrap_or(0);
    let headers: Vec<(String, String)> = String::from_utf8_lossy(&rest[..split])
        .lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let body = rest.get(split..).unwrap_or_default().to_vec();
    for _ in 0..4 {
        let Ok(requests) = session.next_requests("r") else {
            return;
        };
        if requests.is_empty() {
            return;
        }
        for req in requests {
            let response = Response {
                seq: req.seq,
                status,
                headers: headers.clone(),
                body: body.clone(),
            };
            if session.on_response("r", response).is_err() {
                return;
            }
        }
    }
});
