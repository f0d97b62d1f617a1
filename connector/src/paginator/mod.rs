//! Paginators: how to ask for the next page and when to stop.
//!
//! Each paginator is pure: it shapes the next request ([`Paginate::prepare`]) and learns from
//! each response ([`Paginate::advance`]). [`Paginator`] dispatches over the kinds, one module
//! each, with dlt's parameter names and defaults:
//! - `single_page`; `offset` ([`offset`]); `page_number` ([`page_number`]);
//! - `cursor` (cursor from the body into a query param or the JSON body) and `header_cursor`
//!   (cursor from a response header) ([`cursor`]);
//! - `json_link` (next URL in the body; alias `json_response`) and `header_link`
//!   (`Link: <...>; rel="next"`) ([`link`]);
//! - `auto`, or no paginator at all: detected from the first response ([`detect`]).
//!
//! Stop rules: any one true signal ends paging. Every paginator reports the reference of the
//! next page ([`Advance::reference`]) so the session's [`Guard`] can fail on a repeated
//! cursor or URL instead of looping. Each kind's keys are a table in [`SPECS`], used by the
//! parser and by the JSON Schema.

mod cursor;
pub mod detect;
mod guard;
mod link;
pub use link::link_rel;
mod offset;
mod page_number;
mod values;

use serde_json::{Map, Value};

pub use cursor::{
    CursorConfig, CursorPaginator, CursorTarget, HeaderCursorConfig, HeaderCursorPaginator,
};
pub use guard::{DEFAULT_MAX_PAGES, Guard};
pub use link::{HeaderLinkPaginator, JsonLinkPaginator};
pub use offset::{OffsetConfig, OffsetPaginator};
pub use page_number::{PageNumberConfig, PageNumberPaginator};
pub(crate) use values::{
    body_path, has_more_at, number_at, param, path_opt, path_or_default, restore_number,
    restore_text, scalar_text, set_body,
};

use crate::config::spec::{ObjSpec, Ty, key};
use crate::config::walk::{self, Obj};
use crate::protocol::{Error, Notice};
use crate::selector::{Selected, Selector};

static AUTO: ObjSpec = ObjSpec {
    name: "auto",
    keys: &[key(
        "type",
        Ty::Tag,
        "detect the paginator from the first response",
    )],
    required: &["type"],
};
static SINGLE_PAGE: ObjSpec = ObjSpec {
    name: "single_page",
    keys: &[key("type", Ty::Tag, "one request, no pagination")],
    required: &["type"],
};

/// Every paginator kind with its keys; `type` names the kind.
pub static SPECS: &[&ObjSpec] = &[
    &AUTO,
    &SINGLE_PAGE,
    &offset::SPEC,
    &page_number::SPEC,
    &cursor::SPEC,
    &cursor::HEADER_SPEC,
    &link::JSON_SPEC,
    &link::JSON_RESPONSE_SPEC,
    &link::HEADER_SPEC,
];

/// The paginator types this connector implements, from [`SPECS`].
pub fn kinds() -> Vec<&'static str> {
    SPECS.iter().map(|s| s.name).collect()
}

/// A paginator as configured.
#[derive(Debug, Clone, PartialEq)]
pub enum PaginatorConfig {
    /// Detected from the first response.
    Auto,
    /// One request, no pagination.
    SinglePage,
    Offset(OffsetConfig),
    PageNumber(PageNumberConfig),
    Cursor(CursorConfig),
    HeaderCursor(HeaderCursorConfig),
    /// `next_url_path`.
    JsonLink(Selector),
    /// `links_next_key`.
    HeaderLink(String),
}

impl PaginatorConfig {
    /// Parses `{"type": ..., ...}` (or a bare type name) at `path`.
    pub fn parse(path: &str, value: &Value) -> Result<PaginatorConfig, Error> {
        let owned;
        let value = match value {
            Value::String(s) => {
                let mut m = Map::new();
                m.insert("type".into(), Value::String(s.clone()));
                owned = Value::Object(m);
                &owned
            }
            other => other,
        };
        let obj = Obj::new(path, value)?;
        let kind = obj.str_req("type")?;
        let Some(spec) = SPECS.iter().find(|s| s.name == kind) else {
            return Err(Error::config(
                obj.at("type"),
                format!(
                    "unknown paginator \"{kind}\" {}",
                    walk::expected_one_of(kind, &kinds())
                ),
            ));
        };
        obj.check(spec)?;
        Ok(match kind {
            "auto" => PaginatorConfig::Auto,
            "single_page" => PaginatorConfig::SinglePage,
            "offset" => PaginatorConfig::Offset(OffsetConfig::parse(obj)?),
            "page_number" => PaginatorConfig::PageNumber(PageNumberConfig::parse(obj)?),
            "cursor" => PaginatorConfig::Cursor(CursorConfig::parse(obj)?),
            "header_cursor" => PaginatorConfig::HeaderCursor(HeaderCursorConfig::parse(obj)?),
            "json_link" | "json_response" => PaginatorConfig::JsonLink(link::parse_json(obj)?),
            _ => PaginatorConfig::HeaderLink(link::parse_header(obj)?),
        })
    }

    /// The first key that makes this paginator write into the JSON body (`*_body_path`).
    pub fn body_key(&self) -> Option<&'static str> {
        match self {
            PaginatorConfig::Offset(c) if c.offset_body_path.is_some() => Some("offset_body_path"),
            PaginatorConfig::Offset(c) if c.limit_body_path.is_some() => Some("limit_body_path"),
            PaginatorConfig::PageNumber(c) if c.page_body_path.is_some() => Some("page_body_path"),
            PaginatorConfig::Cursor(c) if matches!(c.target, CursorTarget::Body(_)) => {
                Some("cursor_body_path")
            }
            _ => None,
        }
    }

    /// A fresh paginator at the first page.
    pub fn start(&self) -> Paginator {
        match self {
            PaginatorConfig::Auto => Paginator::Auto,
            PaginatorConfig::SinglePage => Paginator::SinglePage,
            PaginatorConfig::Offset(c) => Paginator::Offset(OffsetPaginator::new(c.clone())),
            PaginatorConfig::PageNumber(c) => {
                Paginator::PageNumber(PageNumberPaginator::new(c.clone()))
            }
            PaginatorConfig::Cursor(c) => Paginator::Cursor(CursorPaginator::new(c.clone())),
            PaginatorConfig::HeaderCursor(c) => {
                Paginator::HeaderCursor(HeaderCursorPaginator::new(c.clone()))
            }
            PaginatorConfig::JsonLink(p) => Paginator::JsonLink(JsonLinkPaginator::new(p.clone())),
            PaginatorConfig::HeaderLink(k) => {
                Paginator::HeaderLink(HeaderLinkPaginator::new(k.clone()))
            }
        }
    }
}

/// The parts of the next request a paginator may shape.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RequestParts {
    /// Query parameters, endpoint params first.
    pub query: Vec<(String, String)>,
    /// An absolute URL replacing the endpoint's URL and its params (a next link).
    pub url: Option<String>,
    /// The JSON request body, if any.
    pub body: Option<Value>,
}

impl RequestParts {
    /// Sets `key` to `value`, replacing an endpoint param of the same name in place.
    pub fn set(&mut self, key: &str, value: String) {
        match self.query.iter_mut().find(|(k, _)| k == key) {
            Some(slot) => slot.1 = value,
            None => self.query.push((key.to_string(), value)),
        }
    }

    /// Puts a number at `body` (a dotted path into the JSON body) when given, else into
    /// the query parameter `param` (dlt's `*_body_path` and `*_param`).
    pub fn put(&mut self, param: &str, body: Option<&[String]>, value: u64) {
        match body {
            Some(path) => set_body(&mut self.body, path, Value::from(value)),
            None => self.set(param, value.to_string()),
        }
    }
}

/// What a paginator sees of one response.
#[derive(Debug, Clone, Copy)]
pub struct PageView<'a> {
    pub status: u16,
    /// The URL of the request this response answers.
    pub url: &'a str,
    /// The parsed body (`null` when the body was empty).
    pub body: &'a Value,
    pub headers: &'a [(String, String)],
    /// Number of records selected from the body.
    pub count: usize,
}

impl PageView<'_> {
    /// The first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The single value at `path` in the body; `None` when missing or `null`.
    pub fn value(&self, path: &Selector) -> Option<&Value> {
        match path.select(self.body) {
            Selected::Records(r) if r.len() == 1 => Some(r[0]),
            _ => None,
        }
    }
}

/// The paginator's verdict on a response.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Advance {
    /// True when no further page follows.
    pub done: bool,
    pub notices: Vec<Notice>,
    /// The reference of the next page (cursor, next URL) when it comes from the server: a
    /// repeated one means the API loops.
    pub reference: Option<String>,
}

impl Advance {
    fn done() -> Advance {
        Advance {
            done: true,
            ..Advance::default()
        }
    }
}

/// The behaviour every paginator implements.
pub trait Paginate {
    /// Shapes the next request.
    fn prepare(&self, parts: &mut RequestParts);
    /// Takes the response to the last prepared request; says whether more pages follow.
    fn advance(&mut self, page: &PageView<'_>) -> Result<Advance, Error>;
    /// Progress as a JSON object, checkpointed by the host with each page.
    fn state(&self) -> Map<String, Value>;
    /// Continues from a position [`Paginate::state`] wrote; false when `state` is not one.
    fn restore(&mut self, state: &Map<String, Value>) -> bool;
    /// Moves on to the page after the one just prepared without its response, as if it
    /// came back full: a host may then send both at once. False (and unchanged) when the
    /// next page cannot be predicted (cursors, links, before the first response, or past a
    /// known end).
    fn skip_ahead(&mut self) -> bool {
        false
    }
    /// The number of records the API said the resource has, when it said so.
    fn records_total(&self) -> Option<u64> {
        None
    }
}

/// A running paginator.
#[derive(Debug, Clone, PartialEq)]
pub enum Paginator {
    /// Not detected yet: the first request goes out unchanged.
    Auto,
    SinglePage,
    Offset(OffsetPaginator),
    PageNumber(PageNumberPaginator),
    Cursor(CursorPaginator),
    HeaderCursor(HeaderCursorPaginator),
    JsonLink(JsonLinkPaginator),
    HeaderLink(HeaderLinkPaginator),
}

impl Paginate for Paginator {
    fn prepare(&self, parts: &mut RequestParts) {
        match self {
            Paginator::Auto | Paginator::SinglePage => {}
            Paginator::Offset(p) => p.prepare(parts),
            Paginator::PageNumber(p) => p.prepare(parts),
            Paginator::Cursor(p) => p.prepare(parts),
            Paginator::HeaderCursor(p) => p.prepare(parts),
            Paginator::JsonLink(p) => p.prepare(parts),
            Paginator::HeaderLink(p) => p.prepare(parts),
        }
    }

    /// `Auto` first becomes the detected paginator, which then reads the same response.
    fn advance(&mut self, page: &PageView<'_>) -> Result<Advance, Error> {
        let mut notices = Vec::new();
        if let Paginator::Auto = self {
            let (detected, why) = detect::detect(page);
            match (&detected, detect::unpaged_total(page.body, page.count)) {
                (Paginator::SinglePage, Some(total)) => notices.push(Notice::warn(format!(
                    "{why}; but the response says there are {total} records and {} arrived: set a paginator to load the rest",
                    page.count
                ))),
                _ => notices.push(Notice::info(why)),
            }
            *self = detected;
        }
        let mut advance = match self {
            Paginator::Auto | Paginator::SinglePage => Advance::done(),
            Paginator::Offset(p) => p.advance(page)?,
            Paginator::PageNumber(p) => p.advance(page)?,
            Paginator::Cursor(p) => p.advance(page)?,
            Paginator::HeaderCursor(p) => p.advance(page)?,
            Paginator::JsonLink(p) => p.advance(page)?,
            Paginator::HeaderLink(p) => p.advance(page)?,
        };
        notices.append(&mut advance.notices);
        advance.notices = notices;
        Ok(advance)
    }

    fn state(&self) -> Map<String, Value> {
        match self {
            Paginator::Auto | Paginator::SinglePage => Map::new(),
            Paginator::Offset(p) => p.state(),
            Paginator::PageNumber(p) => p.state(),
            Paginator::Cursor(p) => p.state(),
            Paginator::HeaderCursor(p) => p.state(),
            Paginator::JsonLink(p) => p.state(),
            Paginator::HeaderLink(p) => p.state(),
        }
    }

    fn skip_ahead(&mut self) -> bool {
        match self {
            Paginator::Offset(p) => p.skip_ahead(),
            Paginator::PageNumber(p) => p.skip_ahead(),
            _ => false,
        }
    }

    fn records_total(&self) -> Option<u64> {
        match self {
            Paginator::Offset(p) => p.records_total(),
            _ => None,
        }
    }

    /// `Auto` has no position to restore: its paginator is detected from a first response.
    fn restore(&mut self, state: &Map<String, Value>) -> bool {
        match self {
            Paginator::Auto | Paginator::SinglePage => false,
            Paginator::Offset(p) => p.restore(state),
            Paginator::PageNumber(p) => p.restore(state),
            Paginator::Cursor(p) => p.restore(state),
            Paginator::HeaderCursor(p) => p.restore(state),
            Paginator::JsonLink(p) => p.restore(state),
            Paginator::HeaderLink(p) => p.restore(state),
        }
    }
}

#[cfg(test)]
#[path = "mod_tests.rs"]
mod tests;
