//! dlt's `PageNumberPaginator`: a page number query parameter.
//!
//! Defaults as dlt: `base_page` 0, `page` (the first page) = `base_page`, `page_param`
//! "page", `total_path` "total" (the number of PAGES; `null` disables it), `maximum_page`,
//! `stop_after_empty_page` true, `has_more_path`.
//!
//! Stops on the first of: an empty page, `has_more_path` false, the total number of pages
//! reached, `maximum_page` reached (as dlt: the next page number reaching it), or a short
//! page (fewer records than the page size the request asked for via a `per_page`-like
//! param) when neither a total nor `has_more` says more exist. A server that caps the page
//! size pages by its own size, so page numbers lose nothing; when a total says more exist
//! the short page is followed and a warning is logged once.

use serde_json::{Map, Value};

use super::{Advance, PageView, Paginate, RequestParts};
use super::{body_path, has_more_at, number_at, param, path_opt, path_or_default};
use crate::config::spec::{ObjSpec, Ty, key};
use crate::config::walk::Obj;
use crate::protocol::{Error, Notice};
use crate::selector::Selector;

/// The keys of the page number paginator.
pub(crate) static SPEC: ObjSpec = ObjSpec {
    name: "page_number",
    keys: &[
        key("type", Ty::Tag, "page_number"),
        key(
            "base_page",
            Ty::Int,
            "number of the first page of the API (default 0)",
        ),
        key("page", Ty::Int, "page to start from (default base_page)"),
        key(
            "page_param",
            Ty::Str,
            "query parameter of the page number (default page)",
        ),
        key(
            "page_body_path",
            Ty::Str,
            "dotted path in the JSON body for the page number, instead of page_param (POST)",
        ),
        key(
            "total_path",
            Ty::Str,
            "JSONPath of the total number of pages (default total; null: none)",
        ),
        key(
            "maximum_page",
            Ty::Int,
            "stop once the next page number reaches this",
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
    required: &["type"],
};

/// Query parameters that carry a page size.
const SIZE_PARAMS: &[&str] = &[
    "per_page",
    "perpage",
    "page_size",
    "pagesize",
    "limit",
    "size",
];

/// The page number paginator's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct PageNumberConfig {
    pub base_page: u64,
    pub page: u64,
    pub page_param: String,
    /// `page_body_path`: where in the JSON body the page number goes instead of the query.
    pub page_body_path: Option<Vec<String>>,
    pub total_path: Option<Selector>,
    /// True when `total_path` was written: a missing total is then an error (dlt).
    pub total_required: bool,
    pub maximum_page: Option<u64>,
    pub stop_after_empty_page: bool,
    pub has_more_path: Option<Selector>,
}

impl PageNumberConfig {
    pub(crate) fn parse(obj: Obj<'_>) -> Result<PageNumberConfig, Error> {
        let base_page = obj.u64_opt("base_page")?.unwrap_or(0);
        let page = obj.u64_opt("page")?.unwrap_or(base_page);
        if page < base_page {
            return Err(Error::config(
                obj.at("page"),
                format!("must not be below base_page ({base_page})"),
            ));
        }
        let config = PageNumberConfig {
            base_page,
            page,
            page_param: param(&obj, "page_param", "page")?,
            page_body_path: body_path(&obj, "page_param", "page_body_path")?,
            total_path: path_or_default(&obj, "total_path", "total")?,
            total_required: obj.get("total_path").is_some(),
            maximum_page: obj.u64_opt("maximum_page")?,
            stop_after_empty_page: obj.bool_opt("stop_after_empty_page")?.unwrap_or(true),
            has_more_path: path_opt(&obj, "has_more_path")?,
        };
        if config.total_path.is_none()
            && config.maximum_page.is_none()
            && !config.stop_after_empty_page
            && config.has_more_path.is_none()
        {
            return Err(Error::config(
                obj.path,
                "no stop rule: set total_path, maximum_page, has_more_path or stop_after_empty_page",
            ));
        }
        Ok(config)
    }
}

/// A running page number paginator.
#[derive(Debug, Clone, PartialEq)]
pub struct PageNumberPaginator {
    config: PageNumberConfig,
    page: u64,
    warned_capped: bool,
    /// Whether a response arrived (before it, the next page is not predicted).
    answered: bool,
    /// The total (pages) the last response gave, if any.
    total: Option<u64>,
}

impl PageNumberPaginator {
    pub fn new(config: PageNumberConfig) -> Self {
        PageNumberPaginator {
            page: config.page,
            config,
            warned_capped: false,
            answered: false,
            total: None,
        }
    }

    /// The page number of the next request.
    pub fn page(&self) -> u64 {
        self.page
    }
}

/// The page size a request URL asks for, from a `per_page`-like query parameter.
fn requested_size(url: &str) -> Option<u64> {
    let query = url.split_once('?')?.1;
    query.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        let k = k.to_ascii_lowercase().replace('-', "_");
        SIZE_PARAMS.contains(&k.as_str()).then(|| v.parse().ok())?
    })
}

impl Paginate for PageNumberPaginator {
    fn prepare(&self, parts: &mut RequestParts) {
        let c = &self.config;
        parts.put(&c.page_param, c.page_body_path.as_deref(), self.page);
    }

    fn advance(&mut self, page: &PageView<'_>) -> Result<Advance, Error> {
        let c = &self.config;
        let count = page.count as u64;
        let total = match &c.total_path {
            None => None,
            Some(path) => number_at(page, path, "total_path")?,
        };
        if total.is_none() && c.total_required && count > 0 {
            let path = c.total_path.as_ref().map_or("", |p| p.as_str());
            return Err(Error::response(
                page.status,
                format!("total_path \"{path}\" not found in the response"),
            ));
        }
        let has_more = has_more_at(page, &c.has_more_path)?;
        let next = self.page.saturating_add(1);
        let size = requested_size(page.url);
        let short = size.is_some_and(|s| count < s);
        let done = (count == 0 && c.stop_after_empty_page)
            || has_more == Some(false)
            || total.is_some_and(|t| next >= t.saturating_add(c.base_page))
            || c.maximum_page.is_some_and(|m| next >= m)
            || (short && total.is_none() && has_more.is_none());
        let mut notices = Vec::new();
        if !done && short && count > 0 && !self.warned_capped {
            self.warned_capped = true;
            notices.push(Notice::warn(format!(
                "API returned {count} records for a page size of {}: the API capped the page size; following the page numbers to the total",
                size.unwrap_or_default()
            )));
        }
        self.page = next;
        self.answered = true;
        self.total = total;
        Ok(Advance {
            done,
            notices,
            reference: None,
        })
    }

    fn state(&self) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("page".into(), Value::from(self.page));
        m
    }

    fn restore(&mut self, state: &Map<String, Value>) -> bool {
        super::restore_number(state, "page", &mut self.page)
    }

    fn skip_ahead(&mut self) -> bool {
        let c = &self.config;
        let next = self.page.saturating_add(1);
        let past_end = self
            .total
            .is_some_and(|t| next >= t.saturating_add(c.base_page))
            || c.maximum_page.is_some_and(|m| next >= m);
        // Without a total, only an empty page ends the pages: those asked past it come
        // back empty and are dropped.
        let ends = self.total.is_some() || c.stop_after_empty_page;
        if !self.answered || past_end || !ends {
            return false;
        }
        self.page = next;
        true
    }
}

#[cfg(test)]
#[path = "page_number_tests.rs"]
mod tests;
