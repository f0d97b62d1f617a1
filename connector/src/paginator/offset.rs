//! dlt's `OffsetPaginator`: `offset` and `limit` query parameters.
//!
//! Stops on the first of: an empty page (`stop_after_empty_page`), a known total reached,
//! `has_more_path` false, `maximum_offset` reached, or a short page when no total is known.
//! Advances by the number of records received, so a server that caps its page size loses
//! nothing.

use serde_json::{Map, Value};

use super::{Advance, PageView, Paginate, RequestParts};
use crate::config::walk::{self, Obj};
use crate::protocol::{Error, Notice};
use crate::selector::{Selected, Selector};

const KEYS: &[&str] = &[
    "type",
    "limit",
    "offset",
    "offset_param",
    "limit_param",
    "total_path",
    "maximum_offset",
    "stop_after_empty_page",
    "has_more_path",
];

/// The offset paginator's settings (dlt names and defaults).
#[derive(Debug, Clone, PartialEq)]
pub struct OffsetConfig {
    pub limit: u64,
    pub offset: u64,
    pub offset_param: String,
    pub limit_param: String,
    /// Where the total number of records is; `None` when set to `null`.
    pub total_path: Option<Selector>,
    pub maximum_offset: Option<u64>,
    pub stop_after_empty_page: bool,
    pub has_more_path: Option<Selector>,
}

impl OffsetConfig {
    pub(crate) fn parse(obj: Obj<'_>) -> Result<OffsetConfig, Error> {
        obj.deny_unknown(KEYS)?;
        let limit = obj
            .u64_opt("limit")?
            .ok_or_else(|| walk::missing(&obj.at("limit")))?;
        if limit == 0 {
            return Err(Error::config(obj.at("limit"), "must be at least 1"));
        }
        let param = |key: &str, default: &str| -> Result<String, Error> {
            let p = obj.str_opt(key)?.unwrap_or(default);
            if p.is_empty() {
                return Err(Error::config(obj.at(key), "must not be empty"));
            }
            Ok(p.to_string())
        };
        let total_path = match obj.map.get("total_path") {
            Some(Value::Null) => None,
            None => Some(Selector::parse(&obj.at("total_path"), "total")?),
            Some(_) => {
                let text = obj.str_req("total_path")?;
                Some(Selector::parse(&obj.at("total_path"), text)?)
            }
        };
        let has_more_path = match obj.str_opt("has_more_path")? {
            None => None,
            Some(text) => Some(Selector::parse(&obj.at("has_more_path"), text)?),
        };
        Ok(OffsetConfig {
            limit,
            offset: obj.u64_opt("offset")?.unwrap_or(0),
            offset_param: param("offset_param", "offset")?,
            limit_param: param("limit_param", "limit")?,
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
}

impl OffsetPaginator {
    pub fn new(config: OffsetConfig) -> Self {
        OffsetPaginator {
            offset: config.offset,
            config,
            warned_capped: false,
        }
    }

    /// The offset of the next request.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    fn total(&self, page: &PageView<'_>) -> Result<Option<u64>, Error> {
        let Some(path) = &self.config.total_path else {
            return Ok(None);
        };
        let value = match path.select(page.body) {
            Selected::Records(r) if r.len() == 1 => r[0],
            _ => return Ok(None),
        };
        let total = match value {
            Value::Number(n) => n
                .as_u64()
                .or_else(|| n.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64)),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        };
        total.map(Some).ok_or_else(|| {
            Error::response(
                page.status,
                format!(
                    "total_path \"{}\" is not a non-negative number: found {}",
                    path.as_str(),
                    walk::kind(value)
                ),
            )
        })
    }

    fn has_more(&self, page: &PageView<'_>) -> Result<Option<bool>, Error> {
        let Some(path) = &self.config.has_more_path else {
            return Ok(None);
        };
        match path.select(page.body) {
            Selected::Records(r) if r.len() == 1 && r[0].is_boolean() => Ok(r[0].as_bool()),
            Selected::Nothing => Err(Error::response(
                page.status,
                format!(
                    "has_more_path \"{}\" not found in the response",
                    path.as_str()
                ),
            )),
            _ => Err(Error::response(
                page.status,
                format!("has_more_path \"{}\" is not a boolean", path.as_str()),
            )),
        }
    }
}

impl Paginate for OffsetPaginator {
    fn prepare(&self, parts: &mut RequestParts) {
        parts.set(&self.config.offset_param, self.offset.to_string());
        parts.set(&self.config.limit_param, self.config.limit.to_string());
    }

    fn advance(&mut self, page: &PageView<'_>) -> Result<Advance, Error> {
        let c = &self.config;
        let count = page.count as u64;
        let total = self.total(page)?;
        let has_more = self.has_more(page)?;
        let step = if count > 0 { count } else { c.limit };
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
                "API returned {count} records for limit {}: advancing by records received",
                c.limit
            )));
        }
        self.offset = next;
        Ok(Advance { done, notices })
    }

    fn state(&self) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("offset".into(), Value::from(self.offset));
        m
    }
}

#[cfg(test)]
#[path = "offset_tests.rs"]
mod tests;
