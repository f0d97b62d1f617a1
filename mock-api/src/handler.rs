//! Deciding the answer to one request, independently of the HTTP library.

use std::collections::HashMap;
use std::fmt;

use serde_json::{Value, json};

use crate::fault::Fault;
use crate::items::{MOVEMENTS_PER_PAGE, item, movements};
use crate::query::first;
use crate::{DEFAULT_LIMIT, INVENTORY_PATH, MockConfig};

/// A request the server received, with the status it answered. `Debug` redacts the
/// values of the `api_key` parameter and of credential headers.
#[derive(Clone)]
pub struct RecordedRequest {
    pub method: String,
    /// The path without the query string, as sent.
    pub path: String,
    /// The query pairs, percent-decoded, in order.
    pub query: Vec<(String, String)>,
    /// The headers as received (names as sent).
    pub headers: Vec<(String, String)>,
    pub status: u16,
    /// Requests the server was answering when this one arrived, this one included.
    pub concurrent: usize,
}

impl RecordedRequest {
    /// The first value of query parameter `name`.
    pub fn query_param(&self, name: &str) -> Option<&str> {
        first(&self.query, name)
    }

    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

const SECRET_HEADERS: [&str; 4] = [
    "x-api-key",
    "authorization",
    "proxy-authorization",
    "cookie",
];

impl fmt::Debug for RecordedRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redact = |pairs: &[(String, String)], secret: &dyn Fn(&str) -> bool| {
            pairs
                .iter()
                .map(|(n, v)| {
                    let v = if secret(n) { "<redacted>" } else { v.as_str() };
                    (n.clone(), v.to_string())
                })
                .collect::<Vec<_>>()
        };
        let query = redact(&self.query, &|n| n == "api_key");
        let headers = redact(&self.headers, &|n| {
            SECRET_HEADERS.iter().any(|s| n.eq_ignore_ascii_case(s))
        });
        f.debug_struct("RecordedRequest")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("query", &query)
            .field("headers", &headers)
            .field("status", &self.status)
            .finish()
    }
}

/// What to send back.
#[derive(Debug, PartialEq)]
pub(crate) struct Answer {
    pub status: u16,
    pub body: String,
    pub retry_after: Option<String>,
}

impl Answer {
    fn json(status: u16, body: &Value) -> Answer {
        Answer {
            status,
            body: body.to_string(),
            retry_after: None,
        }
    }

    fn error(status: u16, message: &str) -> Answer {
        Answer::json(status, &json!({ "error": message }))
    }
}

/// The server's mutable state, behind one lock so that fault consumption and the
/// request log follow the same order.
#[derive(Debug)]
pub(crate) struct State {
    pub config: MockConfig,
    pub requests: Vec<RecordedRequest>,
    /// xorshift state for [`MockConfig::fault_rate`]: the same faults on every run.
    random: u64,
    /// Pages already rendered, by what they depend on, so a page asked again (benchmarks,
    /// reruns) costs the server almost nothing: the client is what is measured.
    pages: HashMap<PageKey, String>,
    cached_bytes: usize,
}

/// Everything a page's body depends on: offset, limit, generation, items, total included.
type PageKey = (usize, usize, u64, usize, bool);

/// At most this much rendered page text is kept.
const CACHE_BYTES: usize = 256 << 20;

/// The statuses a [`MockConfig::fault_rate`] fault answers with.
const TRANSIENT: [u16; 5] = [429, 500, 502, 503, 504];

impl State {
    pub(crate) fn new(config: MockConfig) -> State {
        State {
            config,
            requests: Vec::new(),
            random: 0x9e37_79b9_7f4a_7c15,
            pages: HashMap::new(),
            cached_bytes: 0,
        }
    }

    /// A transient status for this request, with probability `fault_rate`.
    fn random_fault(&mut self) -> Option<u16> {
        if self.config.fault_rate <= 0.0 {
            return None;
        }
        let mut x = self.random;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.random = x;
        let draw = (x % 1_000_000) as f64 / 1_000_000.0;
        (draw < self.config.fault_rate).then(|| TRANSIENT[((x >> 32) % 5) as usize])
    }

    /// Answers a request and records it.
    pub(crate) fn handle(
        &mut self,
        method: String,
        path: String,
        query: Vec<(String, String)>,
        headers: Vec<(String, String)>,
        concurrent: usize,
    ) -> Answer {
        let answer = self.answer(&method, &path, &query, &headers);
        self.requests.push(RecordedRequest {
            method,
            path,
            query,
            headers,
            status: answer.status,
            concurrent,
        });
        answer
    }

    fn answer(
        &mut self,
        method: &str,
        path: &str,
        query: &[(String, String)],
        headers: &[(String, String)],
    ) -> Answer {
        let trimmed = path.strip_suffix('/').unwrap_or(path);
        let movements_of = trimmed
            .strip_prefix(INVENTORY_PATH)
            .and_then(|rest| rest.strip_prefix('/'))
            .and_then(|rest| rest.strip_suffix("/movements"));
        if trimmed != INVENTORY_PATH && movements_of.is_none() {
            return Answer::error(404, "not found");
        }
        if method != "GET" {
            return Answer::error(405, "method not allowed");
        }
        let offset = parse_count(first(query, "offset"), 0);
        // Faults at an offset are the inventory's; the others apply to every request.
        let at = offset
            .as_ref()
            .ok()
            .copied()
            .filter(|_| movements_of.is_none());
        if let Some(refused) = self.refusal(at, query, headers) {
            return refused;
        }
        if let Some(id) = movements_of {
            return self.movements(id, query);
        }
        let limit = parse_count(first(query, "limit"), DEFAULT_LIMIT);
        let Ok(offset) = offset else {
            return Answer::error(400, "invalid offset: expected a non-negative integer");
        };
        let Ok(mut limit) = limit else {
            return Answer::error(400, "invalid limit: expected a non-negative integer");
        };
        if let Some(max) = self.config.max_page_size {
            limit = limit.min(max);
        }
        let total = self.config.items;
        let generation = self.config.generation;
        let key = (offset, limit, generation, total, self.config.include_total);
        if let Some(body) = self.pages.get(&key) {
            return Answer {
                status: 200,
                body: body.clone(),
                retry_after: None,
            };
        }
        let end = offset.saturating_add(limit).min(total);
        let data: Vec<Value> = (offset.min(end)..end)
            .map(|index| item(index as u64 + 1, generation))
            .collect();
        let mut body = serde_json::Map::new();
        body.insert("data".into(), Value::Array(data));
        if self.config.include_total {
            body.insert("total".into(), json!(total));
        }
        let answer = Answer::json(200, &Value::Object(body));
        if self.cached_bytes + answer.body.len() <= CACHE_BYTES {
            self.cached_bytes += answer.body.len();
            self.pages.insert(key, answer.body.clone());
        }
        answer
    }

    /// An injected fault or a missing key, before any answer.
    fn refusal(
        &mut self,
        offset: Option<usize>,
        query: &[(String, String)],
        headers: &[(String, String)],
    ) -> Option<Answer> {
        if let Some(fault) = self.take_fault(offset) {
            return Some(Answer {
                retry_after: fault.retry_after,
                ..Answer::error(fault.status, "injected")
            });
        }
        if let Some(status) = self.random_fault() {
            return Some(Answer::error(status, "injected (fault rate)"));
        }
        (!self.authorized(query, headers)).then(|| Answer::error(401, "invalid api key"))
    }

    /// A page (`page`, from 1) of the stock movements of item `id`, with `total_pages`.
    fn movements(&self, id: &str, query: &[(String, String)]) -> Answer {
        let id = match id.parse::<u64>() {
            Ok(id) if (1..=self.config.items as u64).contains(&id) => id,
            _ => return Answer::error(404, "no such item"),
        };
        let page = match first(query, "page").map_or(Ok(1), |p| p.trim().parse::<usize>()) {
            Ok(page) if page >= 1 => page,
            _ => return Answer::error(400, "invalid page: expected an integer from 1"),
        };
        let all = movements(id);
        let data: Vec<Value> = all
            .into_iter()
            .skip((page - 1).saturating_mul(MOVEMENTS_PER_PAGE))
            .take(MOVEMENTS_PER_PAGE)
            .collect();
        let total_pages = (id % 12).div_ceil(MOVEMENTS_PER_PAGE as u64).max(1);
        Answer::json(
            200,
            &json!({"data": data, "page": page, "total_pages": total_pages}),
        )
    }

    /// Consumes one use of the first fault matching this offset.
    fn take_fault(&mut self, offset: Option<usize>) -> Option<Fault> {
        let faults = &mut self.config.faults;
        let index = faults.iter().position(|f| f.matches(offset))?;
        let fault = faults[index].clone();
        faults[index].times -= 1;
        if faults[index].times == 0 {
            faults.remove(index);
        }
        Some(fault)
    }

    fn authorized(&self, query: &[(String, String)], headers: &[(String, String)]) -> bool {
        let key = self.config.api_key.as_str();
        let in_query = query.iter().any(|(n, v)| n == "api_key" && v == key);
        let in_header = headers
            .iter()
            .any(|(n, v)| n.eq_ignore_ascii_case("x-api-key") && v.trim() == key);
        in_query || in_header
    }
}

/// Parses an optional non-negative integer parameter.
fn parse_count(value: Option<&str>, default: usize) -> Result<usize, ()> {
    match value {
        None => Ok(default),
        Some(text) => text.trim().parse::<usize>().map_err(|_| ()),
    }
}

#[cfg(test)]
#[path = "handler_tests.rs"]
mod tests;
