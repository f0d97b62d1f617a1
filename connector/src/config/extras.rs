//! Resource keys of dependent and incremental loading: `include_from_parent`, `selected`,
//! `max_table_nesting`, `endpoint.incremental` and the object forms of `params`
//! (`{"type": "resolve", ...}` and `{"type": "incremental", ...}`).

use serde_json::Value;

use super::walk::{self, Obj};
use crate::incremental::IncrementalConfig;
use crate::protocol::Error;

/// `include_from_parent`, `selected` (default true) and `max_table_nesting` of a resource.
pub(crate) fn parse(obj: &Obj<'_>) -> Result<(Vec<String>, bool, Option<u32>), Error> {
    let include = match obj.get("include_from_parent") {
        None => Vec::new(),
        Some(Value::Array(items)) => {
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                let p = walk::index(&obj.at("include_from_parent"), i);
                match item {
                    Value::String(s) if crate::placeholder::valid_field(s) => out.push(s.clone()),
                    Value::String(s) => {
                        return Err(Error::config(
                            p,
                            format!(
                                "\"{s}\" is not a valid field path (expected names joined by dots)"
                            ),
                        ));
                    }
                    other => return Err(walk::wrong_type(&p, "a field name", other)),
                }
            }
            out
        }
        Some(other) => {
            return Err(walk::wrong_type(
                &obj.at("include_from_parent"),
                "a list of field names",
                other,
            ));
        }
    };
    let selected = obj.bool_opt("selected")?.unwrap_or(true);
    let nesting = match obj.u64_opt("max_table_nesting")? {
        None => None,
        Some(n) => Some(u32::try_from(n).map_err(|_| {
            Error::config(
                obj.at("max_table_nesting"),
                "expected a small non-negative integer",
            )
        })?),
    };
    Ok((include, selected, nesting))
}

/// The params of an endpoint: scalars become query parameters in key order (nulls are
/// skipped); a `resolve` object becomes the placeholder `{resources.R.F}` (its name is
/// returned, to bind `{name}` in the path); an `incremental` object becomes
/// `{incremental.start_value}` and is returned parsed.
#[allow(clippy::type_complexity)]
pub(crate) fn parse_params(
    obj: &Obj<'_>,
) -> Result<
    (
        Vec<(String, String)>,
        Vec<String>,
        Option<IncrementalConfig>,
    ),
    Error,
> {
    let (mut out, mut resolved, mut inc) = (Vec::new(), Vec::new(), None);
    let Some(v) = obj.get("params") else {
        return Ok((out, resolved, inc));
    };
    let path = obj.at("params");
    let params = Obj::new(&path, v)?;
    for (key, value) in params.map {
        let text = match value {
            Value::Null => continue,
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            Value::Object(_) => {
                let at = params.at(key);
                let o = Obj::new(&at, value)?;
                match o.str_req("type")? {
                    "resolve" => {
                        o.deny_unknown(&["type", "resource", "field"])?;
                        let resource = o.str_req("resource")?;
                        let field = o.str_req("field")?;
                        if !crate::placeholder::valid_field(field) {
                            return Err(Error::config(
                                o.at("field"),
                                format!("\"{field}\" is not a valid field path"),
                            ));
                        }
                        resolved.push(key.clone());
                        format!("{{resources.{resource}.{field}}}")
                    }
                    "incremental" => {
                        if inc.is_some() {
                            return Err(Error::config(
                                at,
                                "a second incremental param (one per endpoint)",
                            ));
                        }
                        inc = Some(IncrementalConfig::parse(o, true)?);
                        "{incremental.start_value}".to_string()
                    }
                    other => {
                        return Err(Error::config(
                            o.at("type"),
                            format!(
                                "unknown param type \"{other}\" {}",
                                walk::expected_one_of(other, &["resolve", "incremental"])
                            ),
                        ));
                    }
                }
            }
            other => {
                return Err(walk::wrong_type(
                    &params.at(key),
                    "a string, number, boolean, or a {\"type\": \"resolve\" | \"incremental\"} object",
                    other,
                ));
            }
        };
        out.push((key.clone(), text));
    }
    Ok((out, resolved, inc))
}

/// `endpoint.incremental`, or the one given in `params`; `start_param`/`end_param` add
/// params carrying the start and end values.
pub(crate) fn incremental(
    obj: &Obj<'_>,
    from_params: Option<IncrementalConfig>,
    params: &mut Vec<(String, String)>,
) -> Result<Option<IncrementalConfig>, Error> {
    let Some(v) = obj.get("incremental") else {
        return Ok(from_params);
    };
    let path = obj.at("incremental");
    if from_params.is_some() {
        return Err(Error::config(
            path,
            "incremental is given twice: here and as a params entry of type incremental",
        ));
    }
    let cfg = IncrementalConfig::parse(Obj::new(&path, v)?, false)?;
    for (param, hole) in [
        (&cfg.start_param, "{incremental.start_value}"),
        (&cfg.end_param, "{incremental.end_value}"),
    ] {
        if let Some(name) = param {
            match params.iter_mut().find(|(k, _)| k == name) {
                Some(slot) => slot.1 = hole.to_string(),
                None => params.push((name.clone(), hole.to_string())),
            }
        }
    }
    Ok(Some(cfg))
}
