//! Next-URL paginators: dlt's `JSONLinkPaginator` (`json_link`, alias `json_response`) and
//! `HeaderLinkPaginator` (`header_link`).
//!
//! `json_link`: the next URL is in the body at `next_url_path` (default "next").
//! `header_link`: the next URL is the `Link` header entry whose `rel` is `links_next_key`
//! (default "next"), e.g. `Link: <https://api.github.com/x?page=2>; rel="next"`.
//! A relative next URL is resolved against the request URL. As dlt, the next request is the
//! link as it is: the endpoint's params are not added again (the link carries its own).
//!
//! Stops when no next URL comes back or on an empty page; the next URL is reported as the
//! page's reference, so a repeated URL fails in the guard instead of looping.

use serde_json::{Map, Value};

use super::cursor::verdict;
use super::{Advance, PageView, Paginate, RequestParts, param, path_or_default, scalar_text};
use crate::config::spec::{ObjSpec, Ty, key};
use crate::config::walk::Obj;
use crate::protocol::Error;
use crate::selector::Selector;
use crate::url;

const JSON_KEYS: &[crate::config::spec::KeySpec] = &[
    key("type", Ty::Tag, "json_link"),
    key(
        "next_url_path",
        Ty::Str,
        "JSONPath of the next page URL in the body (default next)",
    ),
];

/// The keys of the JSON link paginator.
pub(crate) static JSON_SPEC: ObjSpec = ObjSpec {
    name: "json_link",
    keys: JSON_KEYS,
    required: &["type"],
};

/// dlt's older name of `json_link`.
pub(crate) static JSON_RESPONSE_SPEC: ObjSpec = ObjSpec {
    name: "json_response",
    keys: JSON_KEYS,
    required: &["type"],
};

/// The keys of the header link paginator.
pub(crate) static HEADER_SPEC: ObjSpec = ObjSpec {
    name: "header_link",
    keys: &[
        key("type", Ty::Tag, "header_link"),
        key(
            "links_next_key",
            Ty::Str,
            "rel of the next link in the Link header (default next)",
        ),
    ],
    required: &["type"],
};

pub(crate) fn parse_json(obj: Obj<'_>) -> Result<Selector, Error> {
    path_or_default(&obj, "next_url_path", "next")?
        .ok_or_else(|| crate::protocol::Error::config(obj.at("next_url_path"), "must not be null"))
}

pub(crate) fn parse_header(obj: Obj<'_>) -> Result<String, Error> {
    param(&obj, "links_next_key", "next")
}

/// Sends the next URL as it is, without the endpoint's params.
fn prepare_next(next: &Option<String>, parts: &mut RequestParts) {
    if let Some(next) = next {
        parts.url = Some(next.clone());
        parts.query.clear();
    }
}

fn state_of(next: &Option<String>) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert(
        "next_url".into(),
        next.clone().map_or(Value::Null, Value::from),
    );
    m
}

/// A running JSON link paginator.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonLinkPaginator {
    next_url_path: Selector,
    next: Option<String>,
}

impl JsonLinkPaginator {
    pub fn new(next_url_path: Selector) -> Self {
        JsonLinkPaginator {
            next_url_path,
            next: None,
        }
    }
}

impl Paginate for JsonLinkPaginator {
    fn prepare(&self, parts: &mut RequestParts) {
        prepare_next(&self.next, parts);
    }

    fn advance(&mut self, page: &PageView<'_>) -> Result<Advance, Error> {
        let found =
            scalar_text(page.value(&self.next_url_path)).map(|u| url::resolve(page.url, &u));
        let (next, advance) = verdict(found, page.count, "URL");
        self.next = next;
        Ok(advance)
    }

    fn state(&self) -> Map<String, Value> {
        state_of(&self.next)
    }

    fn restore(&mut self, state: &Map<String, Value>) -> bool {
        super::restore_text(state, "next_url", &mut self.next)
    }
}

/// A running header link paginator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderLinkPaginator {
    links_next_key: String,
    next: Option<String>,
}

impl HeaderLinkPaginator {
    pub fn new(links_next_key: String) -> Self {
        HeaderLinkPaginator {
            links_next_key,
            next: None,
        }
    }
}

impl Paginate for HeaderLinkPaginator {
    fn prepare(&self, parts: &mut RequestParts) {
        prepare_next(&self.next, parts);
    }

    fn advance(&mut self, page: &PageView<'_>) -> Result<Advance, Error> {
        let found =
            link_rel(page.headers, &self.links_next_key).map(|u| url::resolve(page.url, &u));
        let (next, advance) = verdict(found, page.count, "link");
        self.next = next;
        Ok(advance)
    }

    fn state(&self) -> Map<String, Value> {
        state_of(&self.next)
    }

    fn restore(&mut self, state: &Map<String, Value>) -> bool {
        super::restore_text(state, "next_url", &mut self.next)
    }
}

/// The URL of the first `Link` header entry (of any `Link` header) whose `rel` contains
/// `rel` (case-insensitive): `<url>; rel="next", <url2>; rel="prev last"`.
pub fn link_rel(headers: &[(String, String)], rel: &str) -> Option<String> {
    headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("link"))
        .flat_map(|(_, v)| parse_links(v))
        .find(|(_, rels)| rels.iter().any(|r| r.eq_ignore_ascii_case(rel)))
        .map(|(url, _)| url)
}

/// The entries of a `Link` header value: `(url, rels)`.
pub fn parse_links(value: &str) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    let mut rest = value;
    while let Some(start) = rest.find('<') {
        let Some(len) = rest[start + 1..].find('>') else {
            break;
        };
        let url = rest[start + 1..start + 1 + len].trim().to_string();
        rest = &rest[start + 1 + len + 1..];
        // Params run up to the next entry (`, <`).
        let end = rest.find('<').unwrap_or(rest.len());
        let params = &rest[..end];
        let mut rels = Vec::new();
        for p in params.split(';') {
            let Some((k, v)) = p.split_once('=') else {
                continue;
            };
            if k.trim().eq_ignore_ascii_case("rel") {
                let v = v.trim().trim_end_matches(',').trim().trim_matches('"');
                rels.extend(v.split_whitespace().map(str::to_string));
            }
        }
        out.push((url, rels));
        rest = &rest[end..];
    }
    out
}

#[cfg(test)]
#[path = "link_tests.rs"]
mod tests;
