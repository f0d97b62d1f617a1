//! Cursor paginators: dlt's `JSONResponseCursorPaginator` (`cursor`) and
//! `HeaderCursorPaginator` (`header_cursor`).
//!
//! `cursor`: the cursor is read from the body at `cursor_path` (default "cursors.next") and
//! sent as the query parameter `cursor_param` (default "cursor"), or written into the JSON
//! request body at `cursor_body_path` (POST search APIs); not both. `header_cursor`: the
//! cursor is the response header `cursor_key` (default "next"), sent as `cursor_param`
//! (default "cursor"). The first request carries no cursor.
//!
//! Stops when no cursor comes back (missing, `null`, `""`) or on an empty page (a warning
//! says so when that page still carried a cursor). The cursor is reported as the page's
//! reference, so a repeated cursor fails in the guard instead of looping.

use serde_json::{Map, Value};

use super::{
    Advance, PageView, Paginate, RequestParts, body_path, param, path_or_default, scalar_text,
    set_body,
};
use crate::config::spec::{ObjSpec, Ty, key};
use crate::config::walk::Obj;
use crate::protocol::{Error, Notice};
use crate::selector::Selector;

/// The keys of the cursor paginator.
pub(crate) static SPEC: ObjSpec = ObjSpec {
    name: "cursor",
    keys: &[
        key("type", Ty::Tag, "cursor"),
        key(
            "cursor_path",
            Ty::Str,
            "JSONPath of the next cursor in the body (default cursors.next)",
        ),
        key(
            "cursor_param",
            Ty::Str,
            "query parameter of the cursor (default cursor)",
        ),
        key(
            "cursor_body_path",
            Ty::Str,
            "dotted path of the cursor in the JSON request body",
        ),
    ],
    required: &["type"],
};

/// The keys of the header cursor paginator.
pub(crate) static HEADER_SPEC: ObjSpec = ObjSpec {
    name: "header_cursor",
    keys: &[
        key("type", Ty::Tag, "header_cursor"),
        key(
            "cursor_key",
            Ty::Str,
            "response header of the next cursor (default next)",
        ),
        key(
            "cursor_param",
            Ty::Str,
            "query parameter of the cursor (default cursor)",
        ),
    ],
    required: &["type"],
};

/// Where the cursor goes in the next request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CursorTarget {
    Query(String),
    /// Dotted path into the JSON body.
    Body(Vec<String>),
}

/// The cursor paginator's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct CursorConfig {
    pub cursor_path: Selector,
    pub target: CursorTarget,
}

impl CursorConfig {
    pub(crate) fn parse(obj: Obj<'_>) -> Result<CursorConfig, Error> {
        let cursor_path = path_or_default(&obj, "cursor_path", "cursors.next")?
            .ok_or_else(|| Error::config(obj.at("cursor_path"), "must not be null"))?;
        let target = match body_path(&obj, "cursor_param", "cursor_body_path")? {
            Some(parts) => CursorTarget::Body(parts),
            None => CursorTarget::Query(param(&obj, "cursor_param", "cursor")?),
        };
        Ok(CursorConfig {
            cursor_path,
            target,
        })
    }

    /// A cursor paginator reading `path`, sending the cursor as the `cursor` query param.
    pub fn detected(path: Selector) -> CursorConfig {
        CursorConfig {
            cursor_path: path,
            target: CursorTarget::Query("cursor".into()),
        }
    }
}

/// Stop rule shared by the cursor and link paginators: no next reference, or an empty page.
pub(crate) fn verdict(
    cursor: Option<String>,
    count: usize,
    what: &str,
) -> (Option<String>, Advance) {
    let mut advance = Advance::default();
    match cursor {
        None => advance.done = true,
        Some(_) if count == 0 => {
            advance.done = true;
            advance.notices.push(Notice::warn(format!(
                "empty page with a next {what}: stopping (an empty page ends paging)"
            )));
        }
        Some(c) => {
            advance.reference = Some(c.clone());
            return (Some(c), advance);
        }
    }
    (None, advance)
}

/// A running cursor paginator.
#[derive(Debug, Clone, PartialEq)]
pub struct CursorPaginator {
    config: CursorConfig,
    cursor: Option<String>,
}

impl CursorPaginator {
    pub fn new(config: CursorConfig) -> Self {
        CursorPaginator {
            config,
            cursor: None,
        }
    }
}

impl Paginate for CursorPaginator {
    fn prepare(&self, parts: &mut RequestParts) {
        let Some(cursor) = &self.cursor else { return };
        match &self.config.target {
            CursorTarget::Query(p) => parts.set(p, cursor.clone()),
            CursorTarget::Body(path) => {
                set_body(&mut parts.body, path, Value::String(cursor.clone()));
            }
        }
    }

    fn advance(&mut self, page: &PageView<'_>) -> Result<Advance, Error> {
        let found = scalar_text(page.value(&self.config.cursor_path));
        let (cursor, advance) = verdict(found, page.count, "cursor");
        self.cursor = cursor;
        Ok(advance)
    }

    fn state(&self) -> Map<String, Value> {
        cursor_state(self.cursor.as_deref())
    }

    fn restore(&mut self, state: &Map<String, Value>) -> bool {
        super::restore_text(state, "cursor", &mut self.cursor)
    }
}

/// The header cursor paginator's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderCursorConfig {
    pub cursor_key: String,
    pub cursor_param: String,
}

impl HeaderCursorConfig {
    pub(crate) fn parse(obj: Obj<'_>) -> Result<HeaderCursorConfig, Error> {
        Ok(HeaderCursorConfig {
            cursor_key: param(&obj, "cursor_key", "next")?,
            cursor_param: param(&obj, "cursor_param", "cursor")?,
        })
    }
}

/// A running header cursor paginator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderCursorPaginator {
    config: HeaderCursorConfig,
    cursor: Option<String>,
}

impl HeaderCursorPaginator {
    pub fn new(config: HeaderCursorConfig) -> Self {
        HeaderCursorPaginator {
            config,
            cursor: None,
        }
    }
}

impl Paginate for HeaderCursorPaginator {
    fn prepare(&self, parts: &mut RequestParts) {
        if let Some(cursor) = &self.cursor {
            parts.set(&self.config.cursor_param, cursor.clone());
        }
    }

    fn advance(&mut self, page: &PageView<'_>) -> Result<Advance, Error> {
        let found = page
            .header(&self.config.cursor_key)
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string);
        let (cursor, advance) = verdict(found, page.count, "cursor header");
        self.cursor = cursor;
        Ok(advance)
    }

    fn state(&self) -> Map<String, Value> {
        cursor_state(self.cursor.as_deref())
    }

    fn restore(&mut self, state: &Map<String, Value>) -> bool {
        super::restore_text(state, "cursor", &mut self.cursor)
    }
}

/// The state both cursor paginators checkpoint: the next cursor, or null.
fn cursor_state(cursor: Option<&str>) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("cursor".into(), cursor.map_or(Value::Null, Value::from));
    m
}

#[cfg(test)]
#[path = "cursor_tests.rs"]
mod tests;
