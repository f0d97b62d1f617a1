//! Paginators: how to ask for the next page and when to stop.
//!
//! Each paginator is pure: it shapes the next request ([`Paginate::prepare`]) and learns from
//! each response ([`Paginate::advance`]). [`Paginator`] dispatches over the implemented kinds;
//! adding `page_number`, `cursor`, `json_link` or `header_link` means a module, a variant of
//! [`PaginatorConfig`] and [`Paginator`], and a name in [`KINDS`].

mod guard;
mod offset;

use serde_json::{Map, Value};

pub use guard::{DEFAULT_MAX_PAGES, Guard};
pub use offset::{OffsetConfig, OffsetPaginator};

use crate::config::walk::{self, Obj};
use crate::protocol::{Error, Notice};

/// The paginator types this connector implements.
pub const KINDS: &[&str] = &["offset", "single_page"];
/// dlt paginator types not implemented yet.
const LATER: &[&str] = &["auto", "page_number", "cursor", "json_link", "header_link"];

/// A paginator as configured.
#[derive(Debug, Clone, PartialEq)]
pub enum PaginatorConfig {
    /// One request, no pagination.
    SinglePage,
    Offset(OffsetConfig),
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
        match obj.str_req("type")? {
            "single_page" => {
                obj.deny_unknown(&["type"])?;
                Ok(PaginatorConfig::SinglePage)
            }
            "offset" => Ok(PaginatorConfig::Offset(OffsetConfig::parse(obj)?)),
            later if LATER.contains(&later) => Err(Error::config(
                obj.at("type"),
                format!(
                    "paginator \"{later}\" is not supported yet (supported: {})",
                    KINDS.join(", ")
                ),
            )),
            other => Err(Error::config(
                obj.at("type"),
                format!(
                    "unknown paginator \"{other}\" {}",
                    walk::expected_one_of(other, KINDS)
                ),
            )),
        }
    }

    /// A fresh paginator at the first page.
    pub fn start(&self) -> Paginator {
        match self {
            PaginatorConfig::SinglePage => Paginator::SinglePage,
            PaginatorConfig::Offset(c) => Paginator::Offset(OffsetPaginator::new(c.clone())),
        }
    }
}

/// The parts of the next request a paginator may shape.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RequestParts {
    /// Query parameters, endpoint params first.
    pub query: Vec<(String, String)>,
}

impl RequestParts {
    /// Sets `key` to `value`, replacing an endpoint param of the same name in place.
    pub fn set(&mut self, key: &str, value: String) {
        match self.query.iter_mut().find(|(k, _)| k == key) {
            Some(slot) => slot.1 = value,
            None => self.query.push((key.to_string(), value)),
        }
    }
}

/// What a paginator sees of one response.
#[derive(Debug, Clone, Copy)]
pub struct PageView<'a> {
    pub status: u16,
    /// The parsed body (`null` when the body was empty).
    pub body: &'a Value,
    pub headers: &'a [(String, String)],
    /// Number of records selected from the body.
    pub count: usize,
}

/// The paginator's verdict on a response.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Advance {
    /// True when no further page follows.
    pub done: bool,
    pub notices: Vec<Notice>,
}

/// The behaviour every paginator implements.
pub trait Paginate {
    /// Shapes the next request.
    fn prepare(&self, parts: &mut RequestParts);
    /// Takes the response to the last prepared request; says whether more pages follow.
    fn advance(&mut self, page: &PageView<'_>) -> Result<Advance, Error>;
    /// Progress as a JSON object, checkpointed by the host with each page.
    fn state(&self) -> Map<String, Value>;
}

/// A running paginator of one of the implemented kinds.
#[derive(Debug, Clone, PartialEq)]
pub enum Paginator {
    SinglePage,
    Offset(OffsetPaginator),
}

impl Paginate for Paginator {
    fn prepare(&self, parts: &mut RequestParts) {
        match self {
            Paginator::SinglePage => {}
            Paginator::Offset(p) => p.prepare(parts),
        }
    }

    fn advance(&mut self, page: &PageView<'_>) -> Result<Advance, Error> {
        match self {
            Paginator::SinglePage => Ok(Advance {
                done: true,
                notices: Vec::new(),
            }),
            Paginator::Offset(p) => p.advance(page),
        }
    }

    fn state(&self) -> Map<String, Value> {
        match self {
            Paginator::SinglePage => Map::new(),
            Paginator::Offset(p) => p.state(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unknown_type_suggests_near_miss() {
        let path = "resources[0].endpoint.paginator";
        let err =
            PaginatorConfig::parse(path, &json!({"type": "ofset", "limit": 100})).unwrap_err();
        assert_eq!(
            err.to_string(),
            "resources[0].endpoint.paginator.type: unknown paginator \"ofset\" (expected one of: offset, single_page; did you mean \"offset\"?)"
        );
    }

    #[test]
    fn later_types_are_named_unsupported() {
        let err = PaginatorConfig::parse("p", &json!("cursor")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "p.type: paginator \"cursor\" is not supported yet (supported: offset, single_page)"
        );
    }

    #[test]
    fn single_page_from_string_or_object() {
        assert_eq!(
            PaginatorConfig::parse("p", &json!("single_page")).unwrap(),
            PaginatorConfig::SinglePage
        );
        let err =
            PaginatorConfig::parse("p", &json!({"type": "single_page", "limit": 1})).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("p.limit: unknown key \"limit\""),
            "{err}"
        );
        let mut p = PaginatorConfig::SinglePage.start();
        let mut parts = RequestParts::default();
        p.prepare(&mut parts);
        assert!(parts.query.is_empty());
        let view = PageView {
            status: 200,
            body: &Value::Null,
            headers: &[],
            count: 5,
        };
        assert!(p.advance(&view).unwrap().done);
    }
}
