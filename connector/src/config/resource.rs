//! `resources[i]` and `resource_defaults`: name, primary key, write disposition, endpoint.

use serde_json::Value;

use super::Client;
use super::extras;
use super::merge::{deep_merge, normalize_resource};
use super::walk::{self, Obj};
use crate::incremental::IncrementalConfig;
use crate::paginator::PaginatorConfig;
use crate::protocol::{Error, Method, WriteDisposition};
use crate::selector::Selector;

const RESOURCE_KEYS: &[&str] = &[
    "name",
    "endpoint",
    "primary_key",
    "write_disposition",
    "include_from_parent",
    "selected",
    "max_table_nesting",
];
const ENDPOINT_KEYS: &[&str] = &[
    "path",
    "method",
    "params",
    "json",
    "headers",
    "data_selector",
    "paginator",
    "incremental",
];
const DISPOSITIONS: &[&str] = &["append", "replace", "merge"];

/// One resource to load: a table filled from one endpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct Resource {
    pub name: String,
    pub primary_key: Vec<String>,
    pub write_disposition: WriteDisposition,
    pub endpoint: Endpoint,
    /// Parent fields copied into each record as `_<parent>_<field>`.
    pub include_from_parent: Vec<String>,
    /// False when the resource only feeds its children.
    pub selected: bool,
    pub max_table_nesting: Option<u32>,
    /// The resource its placeholders name (set by `dependent::link`).
    pub parent: Option<String>,
    /// The parent fields its requests and records need (set by `dependent::link`).
    pub parent_fields: Vec<String>,
}

/// How to request a resource's pages.
#[derive(Debug, Clone, PartialEq)]
pub struct Endpoint {
    /// Path relative to `client.base_url`, or an absolute URL.
    pub path: String,
    pub method: Method,
    /// Query parameters, in config order.
    pub params: Vec<(String, String)>,
    /// Headers of the endpoint (client headers come first).
    pub headers: Vec<(String, String)>,
    /// JSON body text for POST.
    pub json: Option<String>,
    pub data_selector: Option<Selector>,
    pub paginator: PaginatorConfig,
    pub incremental: Option<IncrementalConfig>,
}

/// Validates `resource_defaults` on its own (so its errors name its own paths) and returns
/// it normalized, ready to merge into each resource.
pub(crate) fn parse_defaults(value: &Value, client: &Client) -> Result<Value, Error> {
    let path = "resource_defaults";
    let normalized = normalize_resource(path, value)?;
    let obj = Obj::new(path, &normalized)?;
    obj.deny_unknown(&RESOURCE_KEYS[1..])?;
    parse_fields(obj, "resource_defaults", client)?;
    Ok(normalized)
}

/// Parses `resources[i]`, with the defaults deep-merged into it.
pub(crate) fn parse_resource(
    path: &str,
    value: &Value,
    defaults: Option<&Value>,
    client: &Client,
) -> Result<Resource, Error> {
    let normalized = normalize_resource(path, value)?;
    let merged = match defaults {
        Some(d) => deep_merge(d, &normalized),
        None => normalized,
    };
    let obj = Obj::new(path, &merged)?;
    obj.deny_unknown(RESOURCE_KEYS)?;
    let name = obj.str_req("name")?;
    if name.trim().is_empty() {
        return Err(Error::config(obj.at("name"), "must not be empty"));
    }
    parse_fields(obj, name, client)
}

fn parse_fields(obj: Obj<'_>, name: &str, client: &Client) -> Result<Resource, Error> {
    let primary_key = match obj.get("primary_key") {
        None => Vec::new(),
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) => {
            let mut keys = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                match item {
                    Value::String(s) => keys.push(s.clone()),
                    other => {
                        let p = walk::index(&obj.at("primary_key"), i);
                        return Err(walk::wrong_type(&p, "a string", other));
                    }
                }
            }
            keys
        }
        Some(other) => {
            return Err(walk::wrong_type(
                &obj.at("primary_key"),
                "a string or a list of strings",
                other,
            ));
        }
    };
    let write_disposition = match obj.get("write_disposition") {
        None => WriteDisposition::Append,
        Some(v) => parse_disposition(&obj.at("write_disposition"), v)?,
    };
    let endpoint = match obj.get("endpoint") {
        None => Endpoint {
            path: name.to_string(),
            method: Method::Get,
            params: Vec::new(),
            headers: Vec::new(),
            json: None,
            data_selector: None,
            paginator: client
                .paginator
                .clone()
                .unwrap_or(PaginatorConfig::SinglePage),
            incremental: None,
        },
        Some(v) => parse_endpoint(Obj::new(&obj.at("endpoint"), v)?, name, client)?,
    };
    let (include_from_parent, selected, max_table_nesting) = extras::parse(&obj)?;
    Ok(Resource {
        name: name.to_string(),
        primary_key,
        write_disposition,
        endpoint,
        include_from_parent,
        selected,
        max_table_nesting,
        parent: None,
        parent_fields: Vec::new(),
    })
}

fn parse_disposition(path: &str, value: &Value) -> Result<WriteDisposition, Error> {
    let word = |path: &str, w: &str| match w {
        "append" => Ok(WriteDisposition::Append),
        "replace" => Ok(WriteDisposition::Replace),
        "merge" => Ok(WriteDisposition::Merge),
        other => Err(Error::config(
            path,
            format!(
                "unknown write disposition \"{other}\" {}",
                walk::expected_one_of(other, DISPOSITIONS)
            ),
        )),
    };
    match value {
        Value::String(s) => word(path, s),
        Value::Object(_) => {
            let obj = Obj::new(path, value)?;
            obj.deny_unknown(&["disposition", "strategy"])?;
            let disposition = word(&obj.at("disposition"), obj.str_req("disposition")?)?;
            if let Some(strategy) = obj.str_opt("strategy")? {
                let allowed: &[&str] = match disposition {
                    WriteDisposition::Merge => &["upsert", "delete-insert"],
                    WriteDisposition::Replace => &[
                        "truncate-and-insert",
                        "insert-from-staging",
                        "staging-optimized",
                    ],
                    WriteDisposition::Append => &[],
                };
                if allowed.is_empty() {
                    return Err(Error::config(
                        obj.at("strategy"),
                        "append takes no strategy",
                    ));
                }
                if !allowed.contains(&strategy) {
                    return Err(Error::config(
                        obj.at("strategy"),
                        format!(
                            "unsupported strategy \"{strategy}\" for {} {}",
                            obj.str_req("disposition")?,
                            walk::expected_one_of(strategy, allowed)
                        ),
                    ));
                }
            }
            Ok(disposition)
        }
        other => Err(walk::wrong_type(
            path,
            "a string or a {\"disposition\": ...} object",
            other,
        )),
    }
}

fn parse_endpoint(obj: Obj<'_>, name: &str, client: &Client) -> Result<Endpoint, Error> {
    obj.deny_unknown(ENDPOINT_KEYS)?;
    let mut path = obj.str_opt("path")?.unwrap_or(name).to_string();
    let method = match obj.str_opt("method")? {
        None => Method::Get,
        Some(m) if m.eq_ignore_ascii_case("get") => Method::Get,
        Some(m) if m.eq_ignore_ascii_case("post") => Method::Post,
        Some(other) => {
            return Err(Error::config(
                obj.at("method"),
                format!("unsupported method \"{other}\" (expected one of: GET, POST)"),
            ));
        }
    };
    let (mut params, resolved, param_inc) = extras::parse_params(&obj)?;
    crate::placeholder::bind_resolved(&mut path, &mut params, &resolved);
    let incremental = extras::incremental(&obj, param_inc, &mut params)?;
    let headers = obj.string_map("headers")?;
    let json = match obj.get("json") {
        None => None,
        Some(v @ (Value::Object(_) | Value::Array(_))) => Some(v.to_string()),
        Some(other) => {
            return Err(walk::wrong_type(
                &obj.at("json"),
                "an object or a list",
                other,
            ));
        }
    };
    let data_selector = match obj.str_opt("data_selector")? {
        None => None,
        Some(s) => Some(Selector::parse(&obj.at("data_selector"), s)?),
    };
    let paginator = match obj.get("paginator") {
        None => client
            .paginator
            .clone()
            .unwrap_or(PaginatorConfig::SinglePage),
        Some(v) => PaginatorConfig::parse(&obj.at("paginator"), v)?,
    };
    Ok(Endpoint {
        path,
        method,
        params,
        headers,
        json,
        data_selector,
        paginator,
        incremental,
    })
}
