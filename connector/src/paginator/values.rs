//! Reading paginator settings and response values shared by the paginators.

use serde_json::{Map, Value};

use super::PageView;
use crate::config::walk::{self, Obj};
use crate::protocol::Error;
use crate::selector::Selector;

/// A JSON path key of a paginator: `default` when absent, `None` when set to `null`.
pub(crate) fn path_or_default(
    obj: &Obj<'_>,
    key: &str,
    default: &str,
) -> Result<Option<Selector>, Error> {
    match obj.map.get(key) {
        Some(Value::Null) => Ok(None),
        None => Ok(Some(Selector::parse(&obj.at(key), default)?)),
        Some(_) => Ok(Some(Selector::parse(&obj.at(key), obj.str_req(key)?)?)),
    }
}

/// An optional JSON path key.
pub(crate) fn path_opt(obj: &Obj<'_>, key: &str) -> Result<Option<Selector>, Error> {
    obj.str_opt(key)?
        .map(|t| Selector::parse(&obj.at(key), t))
        .transpose()
}

/// A non-empty parameter name, `default` when absent.
pub(crate) fn param(obj: &Obj<'_>, key: &str, default: &str) -> Result<String, Error> {
    let p = obj.str_opt(key)?.unwrap_or(default);
    if p.is_empty() {
        return Err(Error::config(obj.at(key), "must not be empty"));
    }
    Ok(p.to_string())
}

/// dlt's `*_body_path` (`body_key`): the dotted path into the JSON request body where a
/// paginator puts its value instead of the query parameter `param_key`; `None`: the query.
/// Not both.
pub(crate) fn body_path(
    obj: &Obj<'_>,
    param_key: &str,
    body_key: &str,
) -> Result<Option<Vec<String>>, Error> {
    let Some(body) = obj.str_opt(body_key)? else {
        return Ok(None);
    };
    if obj.get(param_key).is_some_and(|v| !v.is_null()) {
        return Err(Error::config(
            obj.at(body_key),
            format!("set either {param_key} or {body_key}, not both"),
        ));
    }
    let body = body.strip_prefix("$.").unwrap_or(body);
    let parts: Vec<String> = body.split('.').map(str::to_string).collect();
    if parts.iter().any(String::is_empty) {
        return Err(Error::config(
            obj.at(body_key),
            format!("invalid path \"{body}\": expected dotted keys like a.b"),
        ));
    }
    Ok(Some(parts))
}

/// Sets `value` at the dotted `path` of `body`, creating objects on the way.
pub(crate) fn set_body(body: &mut Option<Value>, path: &[String], value: Value) {
    let mut cur = body.get_or_insert_with(|| Value::Object(Map::new()));
    for (i, k) in path.iter().enumerate() {
        if !cur.is_object() {
            *cur = Value::Object(Map::new());
        }
        let Value::Object(m) = cur else { return };
        if i + 1 == path.len() {
            m.insert(k.clone(), value);
            return;
        }
        cur = m
            .entry(k.clone())
            .or_insert_with(|| Value::Object(Map::new()));
    }
}

/// The non-negative integer at `path` (a number or a numeric string); `Ok(None)` when
/// missing; an error naming `what` when it is something else.
pub(crate) fn number_at(
    page: &PageView<'_>,
    path: &Selector,
    what: &str,
) -> Result<Option<u64>, Error> {
    let Some(value) = page.value(path) else {
        return Ok(None);
    };
    let n = match value {
        Value::Number(n) => n.as_u64().or_else(|| {
            n.as_f64()
                .filter(|f| *f >= 0.0 && f.fract() == 0.0)
                .map(|f| f as u64)
        }),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    };
    n.map(Some).ok_or_else(|| {
        Error::response(
            page.status,
            format!(
                "{what} \"{}\" is not a non-negative number: found {}",
                path.as_str(),
                walk::kind(value)
            ),
        )
    })
}

/// The boolean at `has_more_path` (`true`/`false` or their strings); an error when it is
/// missing or something else (dlt).
pub(crate) fn has_more_at(
    page: &PageView<'_>,
    path: &Option<Selector>,
) -> Result<Option<bool>, Error> {
    let Some(path) = path else {
        return Ok(None);
    };
    match page.value(path) {
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Ok(Some(true)),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => Ok(Some(false)),
        None => Err(Error::response(
            page.status,
            format!(
                "has_more_path \"{}\" not found in the response",
                path.as_str()
            ),
        )),
        Some(_) => Err(Error::response(
            page.status,
            format!("has_more_path \"{}\" is not a boolean", path.as_str()),
        )),
    }
}

/// A scalar reference (cursor, URL) as text; `None` for `null`, `""` and non-scalars.
pub(crate) fn scalar_text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Sets `slot` to the string at `key` of `state` (the next cursor or URL); false when
/// there is none: a position without a next page is not one to continue from.
pub(crate) fn restore_text(
    state: &Map<String, Value>,
    key: &str,
    slot: &mut Option<String>,
) -> bool {
    match state.get(key).and_then(Value::as_str) {
        Some(text) => {
            *slot = Some(text.to_string());
            true
        }
        None => false,
    }
}

/// Sets `slot` to the number at `key` of `state` (the next offset or page); false when
/// there is none.
pub(crate) fn restore_number(state: &Map<String, Value>, key: &str, slot: &mut u64) -> bool {
    match state.get(key).and_then(Value::as_u64) {
        Some(n) => {
            *slot = n;
            true
        }
        None => false,
    }
}
