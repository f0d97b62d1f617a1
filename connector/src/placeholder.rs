//! Placeholders in endpoint templates: `{resources.<parent>.<field>}` and
//! `{incremental.start_value}` (also `end_value`, `last_value`).
//!
//! Templates are the strings of `endpoint.path`, `params`, `headers` and `json`. A `{...}`
//! that is not one of these forms is kept as written (an unbound path parameter of dlt's
//! older `resolve` form is bound at parse time, see [`bind_resolved`]).

use serde_json::{Map, Value};

use crate::protocol::Error;

/// The incremental value a placeholder names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IncValue {
    Start,
    End,
    Last,
}

/// One recognised placeholder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placeholder {
    /// `{resources.<resource>.<field>}`: a field (dotted path) of the parent record.
    Parent { resource: String, field: String },
    /// `{incremental.<which>}`.
    Incremental(IncValue),
}

/// A piece of a template: literal text or a placeholder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece<'a> {
    Text(&'a str),
    Hole(Placeholder),
}

/// Splits `text` into literal text and placeholders; a bad `{resources...}` or
/// `{incremental...}` is an error at `path`.
pub fn pieces<'a>(path: &str, text: &'a str) -> Result<Vec<Piece<'a>>, Error> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        let Some(len) = rest[open..].find('}') else {
            break;
        };
        let inner = &rest[open + 1..open + len];
        match parse_inner(path, inner)? {
            Some(p) => {
                if open > 0 {
                    out.push(Piece::Text(&rest[..open]));
                }
                out.push(Piece::Hole(p));
            }
            None => out.push(Piece::Text(&rest[..=open + len])),
        }
        rest = &rest[open + len + 1..];
    }
    if !rest.is_empty() {
        out.push(Piece::Text(rest));
    }
    Ok(out)
}

/// The placeholders of `text`.
pub fn scan(path: &str, text: &str) -> Result<Vec<Placeholder>, Error> {
    Ok(pieces(path, text)?
        .into_iter()
        .filter_map(|p| match p {
            Piece::Hole(h) => Some(h),
            Piece::Text(_) => None,
        })
        .collect())
}

fn parse_inner(path: &str, inner: &str) -> Result<Option<Placeholder>, Error> {
    let inner = inner.trim();
    if let Some(rest) = inner.strip_prefix("resources.") {
        let Some((resource, field)) = rest.split_once('.') else {
            return Err(Error::config(
                path,
                format!("placeholder {{{inner}}}: expected {{resources.<parent>.<field>}}"),
            ));
        };
        if resource.is_empty() || !valid_field(field) {
            return Err(Error::config(
                path,
                format!(
                    "placeholder {{{inner}}}: \"{field}\" is not a valid field path (expected names joined by dots, e.g. user.id)"
                ),
            ));
        }
        return Ok(Some(Placeholder::Parent {
            resource: resource.to_string(),
            field: field.to_string(),
        }));
    }
    if let Some(which) = inner.strip_prefix("incremental.") {
        let v = match which {
            "start_value" => IncValue::Start,
            "end_value" => IncValue::End,
            "last_value" => IncValue::Last,
            other => {
                return Err(Error::config(
                    path,
                    format!(
                        "placeholder {{{inner}}}: unknown incremental value \"{other}\" {}",
                        crate::config::walk::expected_one_of(
                            other,
                            &["start_value", "end_value", "last_value"]
                        )
                    ),
                ));
            }
        };
        return Ok(Some(Placeholder::Incremental(v)));
    }
    Ok(None)
}

/// A field path: non-empty names joined by dots.
pub fn valid_field(field: &str) -> bool {
    !field.is_empty()
        && field.split('.').all(|part| {
            !part.is_empty()
                && !part
                    .chars()
                    .any(|c| c.is_whitespace() || matches!(c, '{' | '}' | '[' | ']'))
        })
}

/// The value at a dotted `field` path of `record`.
pub fn lookup<'a>(record: &'a Value, field: &str) -> Option<&'a Value> {
    field
        .split('.')
        .try_fold(record, |v, part| match v {
            Value::Object(m) => m.get(part),
            Value::Array(a) => part.parse::<usize>().ok().and_then(|i| a.get(i)),
            _ => None,
        })
        .filter(|v| !v.is_null())
}

/// How a placeholder value is written into its template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encode {
    /// Percent-encoded as one path segment.
    Path,
    /// Raw (query values are encoded when the URL is built; headers are raw).
    Raw,
}

/// A value as template text: strings bare, everything else as JSON.
pub fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Renders `text`, asking `value` for each placeholder. `Ok(None)` when a placeholder has no
/// value (the caller decides: a param is dropped, elsewhere it is an error).
pub fn render(
    path: &str,
    text: &str,
    encode: Encode,
    value: &dyn Fn(&Placeholder) -> Result<Option<Value>, Error>,
) -> Result<Option<String>, Error> {
    let mut out = String::with_capacity(text.len());
    for piece in pieces(path, text)? {
        match piece {
            Piece::Text(t) => out.push_str(t),
            Piece::Hole(h) => {
                let Some(v) = value(&h)? else {
                    return Ok(None);
                };
                let t = text_of(&v);
                match encode {
                    Encode::Path => out.push_str(&crate::url::percent_encode(&t)),
                    Encode::Raw => out.push_str(&t),
                }
            }
        }
    }
    Ok(Some(out))
}

/// Renders every string of a JSON body. A string that is exactly one placeholder takes the
/// value itself (a number stays a number); a missing value there becomes `null`.
pub fn render_json(
    path: &str,
    body: &Value,
    value: &dyn Fn(&Placeholder) -> Result<Option<Value>, Error>,
) -> Result<Value, Error> {
    Ok(match body {
        Value::String(s) => {
            let ps = pieces(path, s)?;
            if let [Piece::Hole(h)] = ps.as_slice() {
                value(h)?.unwrap_or(Value::Null)
            } else {
                match render(path, s, Encode::Raw, value)? {
                    Some(t) => Value::String(t),
                    None => Value::Null,
                }
            }
        }
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|v| render_json(path, v, value))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(m) => {
            let mut out = Map::with_capacity(m.len());
            for (k, v) in m {
                out.insert(k.clone(), render_json(path, v, value)?);
            }
            Value::Object(out)
        }
        other => other.clone(),
    })
}

/// Every string of a JSON value, for scanning its placeholders.
pub fn json_strings<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
    match v {
        Value::String(s) => out.push(s),
        Value::Array(a) => a.iter().for_each(|x| json_strings(x, out)),
        Value::Object(m) => m.values().for_each(|x| json_strings(x, out)),
        _ => {}
    }
}

/// dlt's older form: a param `{"type": "resolve", "resource": R, "field": F}` named N binds
/// `{N}` in the path when the path has it (the param then leaves the query); otherwise it
/// stays a query param. Both become the placeholder `{resources.R.F}`.
pub fn bind_resolved(path: &mut String, params: &mut Vec<(String, String)>, resolved: &[String]) {
    params.retain(|(name, template)| {
        if !resolved.contains(name) {
            return true;
        }
        let hole = format!("{{{name}}}");
        if path.contains(&hole) {
            *path = path.replace(&hole, template);
            false
        } else {
            true
        }
    });
}

#[cfg(test)]
#[path = "placeholder_tests.rs"]
mod tests;
