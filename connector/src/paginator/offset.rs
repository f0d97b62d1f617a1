//! dlt's `OffsetPaginator`: `offset` and `limit` query parameters.
//!
//! Stops on the first of: an empty page (`stop_after_empty_page`), a known total reached,
//! `has_more_path` false, `maximum_offset` reached, or a short page when no total is known.
//! Advances by the number of records received, so a server that caps its page size loses
//! nothing.

use serde_json::{Map, Value};

use super::{Advance, PageView, Paginate, RequestParts};
use super::{body_path, has_more_at, number_at, param, path_opt, path_or_default};
use crate::config::spec::{ObjSpec, Ty, key};
use crate::config::walk::{self, Obj};
use crate::protocol::{Error, Notice};
use crate::selector::Selector;

/// The keys of the offset paginator.
pub(crate) static SPEC: ObjSpec = ObjSpec {
    name: "offset",
    keys: &[
        key("type", Ty::Tag, "offset"),
        key("limit", Ty::Int, "records per page (required)"),
        key("offset", Ty::Int, "offset of the first page (default 0)"),
        key(
            "offset_param",
            Ty::Str,
            "query parameter of the offset (default offset)",
        ),
        key(
            "limit_param",
            Ty::Str,
            "query parameter of the limit (default limit)",
        ),
        key(
            "offset_body_path",
            Ty::Str,
            "dotted path in the JSON body for the offset, instead of offset_param (POST)",
        ),
        key(
            "limit_body_path",
            Ty::Str,
            "dotted path in the JSON body for the limit, instead of limit_param (POST)",
        ),
        key(
            "total_path",
            Ty::Str,
            "JSONPath of the total number of records (default total; null: none)",
        ),
        key(
            "maximum_offset",
            Ty::Int,
            "stop once the offset reaches this",
        ),
        key(
            "stop_after_empty_page",
            Ty::Bool,
            "stop on an empty page (default true)",
        ),
        key(
            "has_more_path",
            Ty::Str,
            "JSONPath of a boolean: false stops",
        ),
    ],
    required: &["type", "limit"],
};

/// The offset paginator's settings (dlt names and defaults).
#[derive(Debug, Clone, PartialEq)]
pub struct OffsetConfig {
    pub limit: u64,
    pub offset: u64,
    pub offset_param: String,
    pub limit_param: String,
    /// `offset_body_path` and `limit_body_path`: where in the JSON body the offset and the
    /// limit go instead of the query (a POST search API).
    pub offset_body_path: Option<Vec<String>>,
    pub limit_body_path: Option<Vec<String>>,
    /// Where the total number of records is; `None` when set to `null`.
    pub total_path: Option<Selector>,
    pub maximum_offset: Option<u64>,
    pub stop_after_empty_page: bool,
    pub has_more_path: Option<Selector>,
}

impl OffsetConfig {
    pub(crate) fn parse(obj: Obj<'_>) -> Result<OffsetConfig, Error> {
        obj.check(&SPEC)?;
        let limit = obj
            .u64_opt("limit")?
            .ok_or_else(|| walk::missing(&obj.at("limit")))?;
        if limit == 0 {
            return Err(Error::config(obj.at("limit"), "must be at least 1"));
        }
        let total_path = path_or_default(&obj, "total_path", "total")?;
        let has_more_path = path_opt(&obj, "has_more_path")?;
        Ok(OffsetConfig {
            limit,
            offset: obj.u64_opt("offset")?.unwrap_or(0),
            offset_param: param(&obj, "offset_param", "offset")?,
            limit_param: param(&obj, "limit_param", "limit")?,
            offset_body_path: body_path(&obj, "offset_param", "offset_body_path")?,
            limit_body_path: body_path(&obj, "limit_param", "limit_body_path")?,
            total_path,
            maximum_offset: obj.u64_opt("maximum_offset")?,
            stop_after_empty_page: obj.bool_opt("stop_after_empty_page")?.unwrap_or(true),
            has_more_path,
        })
    }
}

/// A running offset paginator.
#[derive(Debug, Clone, PartialEq)]
pub struct OffsetPaginator {
    config: OffsetConfig,
    offset: u64,
    warned_capped: bool,
    /// Set once a page came back full: the API serves `limit` records a page, so later
    /// pages are `limit` apart and can be requested before the earlier ones are answered.
    full_pages: bool,
    /// The total the last response gave, if any.
    total: Option<u64>,
}

impl OffsetPaginator {
    pub fn new(config: OffsetConfig) -> Self {
        OffsetPaginator {
            offset: config.offset,
            config,
            warned_capped: false,
            full_pages: false,
            total: None,
        }
    }

    /// The offset of the next request.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    fn total(&self, page: &PageView<'_>) -> Result<Option<u64>, Error> {
        match &self.config.total_path {
            None => Ok(None),
            Some(path) => number_at(page, path, "total_path"),
        }
    }
}

impl Paginate for OffsetPaginator {
    fn prepare(&self, parts: &mut RequestParts) {
        let c = &self.config;
        parts.put(&c.offset_param, c.offset_body_path.as_deref(), self.offset);
        parts.put(&c.limit_param, c.limit_body_path.as_deref(), c.limit);
    }

    fn advance(&mut self, page: &PageView<'_>) -> Result<Advance, Error> {
        let c = &self.config;
        let count = page.count as u64;
        let total = self.total(page)?;
        let has_more = has_more_at(page, &c.has_more_path)?;
        // Once the API served a full page, pages are `limit` apart (as in dlt), so that
        // pages requested ahead ([`Paginate::skip_ahead`]) are the pages that follow.
        self.full_pages |= count == c.limit;
        self.total = total;
        let step = if count > 0 && !self.full_pages {
            count
        } else {
            c.limit
        };
        let next = self.offset.saturating_add(step);
        let done = (count == 0 && c.stop_after_empty_page)
            || total.is_some_and(|t| next >= t)
            || has_more == Some(false)
            || c.maximum_offset.is_some_and(|m| next >= m)
            || (total.is_none() && has_more.is_none() && count < c.limit);
        let mut notices = Vec::new();
        if !done && count > 0 && count < c.limit && !self.warned_capped {
            self.warned_capped = true;
            notices.push(Notice::warn(format!(
                "API returned {count} records for limit {}: the API capped the page size; advancing by records received",
                c.limit
            )));
        }
        self.offset = next;
        Ok(Advance {
            done,
            notices,
            reference: None,
        })
    }

    fn state(&self) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("offset".into(), Value::from(self.offset));
        m
    }

    fn restore(&mut self, state: &Map<String, Value>) -> bool {
        super::restore_number(state, "offset", &mut self.offset)
    }

    fn records_total(&self) -> Option<u64> {
        self.total
    }

    fn skip_ahead(&mut self) -> bool {
        let c = &self.config;
        let next = self.offset.saturating_add(c.limit);
        let past_end =
            self.total.is_some_and(|t| next >= t) || c.maximum_offset.is_some_and(|m| next >= m);
        if !self.full_pages || past_end {
            return false;
        }
        self.offset = next;
        true
    }
}

#[cfg(test)]
#[path = "offset_tests.rs"]
mod tests;
