//! Turning one response into records: status, JSON, `data_selector`, error payloads.

use serde_json::Value;

use crate::protocol::{Error, Method, Notice, Response};
use crate::selector::{Selected, Selector};

/// The records of one response.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Extracted {
    /// The parsed body; `null` for an empty body or a 204.
    pub body: Value,
    /// The selected records as one JSON array text.
    pub records: String,
    pub count: usize,
    pub notices: Vec<Notice>,
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
    let selected = match selector {
        Some(sel) => sel.select(&body),
        None => auto_select(&body, &mut notices),
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
    })
}

/// No `data_selector`: a list body is the records; else the one top-level list field.
fn auto_select<'a>(body: &'a Value, notices: &mut Vec<Notice>) -> Selected<'a> {
    match body {
        Value::Array(items) => Selected::Records(items.iter().collect()),
        Value::Object(map) => {
            let lists: Vec<(&String, &'a Vec<Value>)> = map
                .iter()
                .filter(|(k, _)| k.as_str() != "error" && k.as_str() != "errors")
                .filter_map(|(k, v)| v.as_array().map(|a| (k, a)))
                .collect();
            if let [(field, items)] = lists.as_slice() {
                notices.push(Notice::info(format!(
                    "data_selector not set: using `{field}`"
                )));
                return Selected::Records(items.iter().collect());
            }
            if error_payload(body).is_none() {
                let fields: Vec<&str> = lists.iter().map(|(k, _)| k.as_str()).collect();
                notices.push(Notice::warn(format!(
                    "data_selector not set and the response has {} top-level list fields ({}): page treated as empty; set data_selector",
                    fields.len(),
                    fields.join(", ")
                )));
            }
            Selected::Nothing
        }
        _ => {
            notices.push(Notice::warn(
                "data_selector not set and the response is neither a list nor an object: page treated as empty",
            ));
            Selected::Nothing
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
