//! Detecting a paginator from the first response when none is configured, as dlt's
//! `PaginatorFactory` does (detectors in dlt's order, first match wins):
//! 1. a `Link` header with `rel="next"` -> `header_link`;
//! 2. a body key starting with `next` (at any depth; for an object value its `href`/`url`
//!    key) holding a URL (`http...` or `/...`) -> `json_link` at that path;
//! 3. a `total_pages`/`pages`/`totalpages` number -> `page_number` with that `total_path`
//!    (the base page is read from a `page`/`current_page` number next to it, 0 otherwise);
//! 4. a `next...` key holding any other scalar -> `cursor` at that path (param `cursor`);
//! 5. otherwise `single_page`.
//!
//! Every detection is reported in an Info notice naming the paginator and why; a
//! `single_page` fallback is a warning when the body has a total (`total`, `count`,
//! `total_count`, at the top or under `meta`) larger than the records received, since
//! rows would otherwise be missed quietly.

use serde_json::{Map, Value};

use super::link::link_rel;
use super::{CursorConfig, CursorPaginator, HeaderLinkPaginator, JsonLinkPaginator};
use super::{PageNumberConfig, PageNumberPaginator, PageView, Paginator};
use crate::selector::Selector;

const TOTAL_PAGES_KEYS: &[&str] = &["total_pages", "pages", "totalpages"];
const PAGE_KEYS: &[&str] = &[
    "page",
    "current_page",
    "currentpage",
    "page_number",
    "pagenumber",
];

/// The paginator for a resource whose first response is `page`, and why.
pub fn detect(page: &PageView<'_>) -> (Paginator, String) {
    let why = |kind: &str, reason: String| format!("paginator not set: detected {kind} ({reason})");
    if link_rel(page.headers, "next").is_some() {
        return (
            Paginator::HeaderLink(HeaderLinkPaginator::new("next".into())),
            why("header_link", "the Link header has rel=\"next\"".into()),
        );
    }
    let next = page
        .body
        .as_object()
        .and_then(|m| find_next(m, &mut Vec::new()));
    if let Some((keys, Value::String(s))) = &next
        && (s.starts_with("http") || s.starts_with('/'))
        && let Some(sel) = key_path_selector(keys)
    {
        let reason = format!("`{}` holds a next URL", sel.as_str());
        return (
            Paginator::JsonLink(JsonLinkPaginator::new(sel)),
            why("json_link", reason),
        );
    }
    if let Some(m) = page.body.as_object()
        && let Some((keys, base)) = find_total_pages(m, &mut Vec::new())
        && let Some(sel) = key_path_selector(&keys)
    {
        let reason = format!(
            "`{}` holds a total number of pages; base page {base}",
            sel.as_str()
        );
        let config = PageNumberConfig {
            base_page: base,
            page: base,
            page_param: "page".into(),
            page_body_path: None,
            total_path: Some(sel),
            total_required: false,
            maximum_page: None,
            stop_after_empty_page: true,
            has_more_path: None,
        };
        return (
            Paginator::PageNumber(PageNumberPaginator::new(config)),
            why("page_number", reason),
        );
    }
    if let Some((keys, _)) = &next
        && let Some(sel) = key_path_selector(keys)
    {
        let reason = format!(
            "`{}` holds a cursor; sent as the `cursor` param",
            sel.as_str()
        );
        return (
            Paginator::Cursor(CursorPaginator::new(CursorConfig::detected(sel))),
            why("cursor", reason),
        );
    }
    (
        Paginator::SinglePage,
        why(
            "single_page",
            "no next link, cursor or page total in the first response".into(),
        ),
    )
}

/// A record total in the body larger than `count`, when the body has one.
pub(crate) fn unpaged_total(body: &Value, count: usize) -> Option<u64> {
    const TOTAL_KEYS: &[&str] = &[
        "total",
        "count",
        "total_count",
        "totalcount",
        "total_results",
    ];
    let map = body.as_object()?;
    let scopes = std::iter::once(map).chain(map.get("meta").and_then(Value::as_object));
    scopes
        .flat_map(|m| m.iter())
        .find(|(k, _)| TOTAL_KEYS.contains(&k.to_ascii_lowercase().as_str()))
        .and_then(|(_, v)| as_int(v))
        .filter(|t| *t > count as u64)
}

/// A selector for a key path: dotted when the keys are plain, bracketed otherwise.
pub(crate) fn key_path_selector(keys: &[String]) -> Option<Selector> {
    let plain = keys.iter().all(|k| {
        !k.is_empty()
            && k.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    });
    let text = if plain {
        keys.join(".")
    } else {
        let mut s = String::from("$");
        for k in keys {
            s.push_str(&format!("['{k}']"));
        }
        s
    };
    Selector::parse("", &text).ok()
}

fn is_scalar(v: &Value) -> bool {
    matches!(v, Value::String(_) | Value::Number(_))
}

/// dlt's `find_next_page_path`: the first key starting with `next` holding a scalar (or an
/// object with an `href`/`url` scalar), depth first.
fn find_next(map: &Map<String, Value>, path: &mut Vec<String>) -> Option<(Vec<String>, Value)> {
    for (key, value) in map {
        if key.to_ascii_lowercase().starts_with("next") {
            if let Value::Object(inner) = value {
                for (k, v) in inner {
                    let lk = k.to_ascii_lowercase();
                    if (lk.starts_with("href") || lk.starts_with("url")) && is_scalar(v) {
                        let mut p = path.clone();
                        p.extend([key.clone(), k.clone()]);
                        return Some((p, v.clone()));
                    }
                }
            } else if is_scalar(value) {
                let mut p = path.clone();
                p.push(key.clone());
                return Some((p, value.clone()));
            }
        }
        if let Value::Object(inner) = value {
            path.push(key.clone());
            let found = find_next(inner, path);
            path.pop();
            if found.is_some() {
                return found;
            }
        }
    }
    None
}

/// dlt's `find_total_pages_path`, plus the base page from a page number beside the total.
fn find_total_pages(
    map: &Map<String, Value>,
    path: &mut Vec<String>,
) -> Option<(Vec<String>, u64)> {
    for (key, value) in map {
        if TOTAL_PAGES_KEYS.contains(&key.to_ascii_lowercase().as_str()) && as_int(value).is_some()
        {
            let base = map
                .iter()
                .find(|(k, _)| PAGE_KEYS.contains(&k.to_ascii_lowercase().as_str()))
                .and_then(|(_, v)| as_int(v))
                .filter(|b| *b <= 1)
                .unwrap_or(0);
            let mut p = path.clone();
            p.push(key.clone());
            return Some((p, base));
        }
        if let Value::Object(inner) = value {
            path.push(key.clone());
            let found = find_total_pages(inner, path);
            path.pop();
            if found.is_some() {
                return found;
            }
        }
    }
    None
}

fn as_int(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
#[path = "detect_tests.rs"]
mod tests;
