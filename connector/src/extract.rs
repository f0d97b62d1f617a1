//! Turning one response into records: status, JSON, `data_selector`, error payloads.
//!
//! Without a `data_selector` the records are found as dlt's `find_response_page_data`
//! does: a list body is the records; else the first list (depth first, up to three keys
//! deep) under a record-like key (`data`, `items`, `results`, ...); else the first list;
//! else the object itself is one record. The chosen path is reported (Info, or Warn when
//! other lists were passed over) and returned, so the session keeps it for later pages. A
//! null/missing data path, a 204 or an empty body is an empty page; an `error`/`errors`
//! payload without data is an error, not zero rows.

use serde_json::{Map, Value};

use crate::protocol::{Error, Method, Notice, Response};
use crate::selector::{Selected, Selector};

/// The records of one response.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Extracted {
    /// The parsed body (`null` for an empty body or a 204), without the records when they
    /// were found by a key path ([`crate::raw`]).
    pub body: Value,
    /// The selected records as one JSON array text.
    pub records: String,
    pub count: usize,
    pub notices: Vec<Notice>,
    /// The path chosen when no selector was given.
    pub detected: Option<Selector>,
}

/// The first `n` characters of a body, for error messages.
fn snippet(body: &[u8], n: usize) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    let mut s: String = text.chars().take(n).collect();
    if text.chars().nth(n).is_some() {
        s.push('…');
    }
    s
}

/// Selects the records of `response` to the request `method url`.
pub(crate) fn extract(
    method: Method,
    url: &str,
    response: &Response,
    selector: Option<&Selector>,
) -> Result<Extracted, Error> {
    let status = response.status;
    if !(200..300).contains(&status) {
        return Err(Error::response(
            status,
            format!(
                "HTTP {status} from {method} {url}: {}",
                snippet(&response.body, 200)
            ),
        ));
    }
    if status == 204 || response.body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Extracted {
            body: Value::Null,
            records: "[]".into(),
            count: 0,
            notices: Vec::new(),
            detected: None,
        });
    }
    if let Some(keys) = selector.and_then(Selector::keys)
        && let Some(found) = crate::raw::find(&response.body, &keys)
    {
        return Ok(Extracted {
            records: found.records,
            count: found.count,
            notices: Vec::new(),
            body: found.view,
            detected: None,
        });
    }
    let body: Value = serde_json::from_slice(&response.body).map_err(|e| {
        Error::response(
            status,
            format!(
                "HTTP {status} from {method} {url} is not JSON ({e}): {}",
                snippet(&response.body, 200)
            ),
        )
    })?;
    let mut notices = Vec::new();
    let mut detected = None;
    let selected = match selector {
        Some(sel)
            if sel.steps().is_empty() && body.is_object() && error_payload(&body).is_some() =>
        {
            Selected::Nothing
        }
        Some(sel) => sel.select(&body),
        None => {
            let (sel, found) = auto_select(&body, &mut notices);
            detected = sel;
            found
        }
    };
    let records = match selected {
        Selected::Records(r) => r,
        Selected::Nothing => {
            if let Some(text) = error_payload(&body) {
                return Err(Error::response(
                    status,
                    format!("HTTP {status} from {method} {url} carries an error: {text}"),
                ));
            }
            Vec::new()
        }
    };
    let text = serde_json::to_string(&records)
        .map_err(|e| Error::response(status, format!("cannot serialize records: {e}")))?;
    let count = records.len();
    Ok(Extracted {
        records: text,
        count,
        notices,
        body,
        detected,
    })
}

/// dlt's record-like keys, preferred when looking for the records.
const RECORD_KEYS: &[&str] = &[
    "data", "items", "results", "entries", "records", "rows", "entities", "payload", "content",
    "objects", "values",
];

/// Every list of `map` up to three keys deep, depth first, skipping `error`/`errors`.
fn find_lists<'a>(
    map: &'a Map<String, Value>,
    path: &mut Vec<String>,
    out: &mut Vec<(Vec<String>, &'a Vec<Value>)>,
) {
    if path.len() > 2 {
        return;
    }
    for (k, v) in map {
        if path.is_empty() && (k == "error" || k == "errors") {
            continue;
        }
        match v {
            Value::Array(a) => {
                let mut p = path.clone();
                p.push(k.clone());
                out.push((p, a));
            }
            Value::Object(inner) => {
                path.push(k.clone());
                find_lists(inner, path, out);
                path.pop();
            }
            _ => {}
        }
    }
}

/// No `data_selector`: finds the records as dlt does; returns the chosen path.
fn auto_select<'a>(body: &'a Value, notices: &mut Vec<Notice>) -> (Option<Selector>, Selected<'a>) {
    match body {
        Value::Array(items) => (
            Selector::parse("", "$").ok(),
            Selected::Records(items.iter().collect()),
        ),
        Value::Object(map) => {
            let mut lists = Vec::new();
            find_lists(map, &mut Vec::new(), &mut lists);
            let preferred = lists
                .iter()
                .position(|(p, _)| p.last().is_some_and(|k| RECORD_KEYS.contains(&k.as_str())));
            let chosen = preferred.or(if lists.is_empty() { None } else { Some(0) });
            if let Some(i) = chosen {
                let (path, items) = &lists[i];
                let sel = crate::paginator::detect::key_path_selector(path);
                let shown = sel
                    .as_ref()
                    .map_or_else(|| path.join("."), |s| s.as_str().to_string());
                if preferred.is_none() && lists.len() > 1 {
                    let others: Vec<String> = lists[1..].iter().map(|(p, _)| p.join(".")).collect();
                    notices.push(Notice::warn(format!(
                        "data_selector not set: using `{shown}`, the first of {} lists (also {}); set data_selector if that is wrong",
                        lists.len(),
                        others.join(", ")
                    )));
                } else {
                    notices.push(Notice::info(format!(
                        "data_selector not set: using `{shown}`"
                    )));
                }
                return (sel, Selected::Records(items.iter().collect()));
            }
            if map.is_empty() || error_payload(body).is_some() {
                return (None, Selected::Nothing);
            }
            notices.push(Notice::info(
                "data_selector not set and the response has no list: using `$` (the response object is one record)",
            ));
            (Selector::parse("", "$").ok(), Selected::Records(vec![body]))
        }
        _ => {
            notices.push(Notice::warn(
                "data_selector not set and the response is neither a list nor an object: page treated as empty",
            ));
            (None, Selected::Nothing)
        }
    }
}

/// The text of a top-level `error`/`errors` key of an object body, when it says something.
fn error_payload(body: &Value) -> Option<String> {
    let map = body.as_object()?;
    let v = map.get("error").or_else(|| map.get("errors"))?;
    let text = match v {
        Value::Null | Value::Bool(false) => return None,
        Value::Array(a) if a.is_empty() => return None,
        Value::Object(o) if o.is_empty() => return None,
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    Some(snippet(text.as_bytes(), 200))
}

#[cfg(test)]
#[path = "extract_tests.rs"]
mod tests;
