//! `resources[i]` and `resource_defaults`: name, primary key, write disposition, endpoint.

use serde_json::Value;

use super::Client;
use super::extras;
use super::merge::{deep_merge, normalize_resource};
use super::spec::{KeySpec, ObjSpec, Ty, key};
use super::walk::{self, Obj};
use crate::actions::ResponseAction;
use crate::form::Data;
use crate::incremental::IncrementalConfig;
use crate::paginator::PaginatorConfig;
use crate::protocol::{Auth, Error, MergeStrategy, Method, WriteDisposition};
use crate::selector::Selector;

/// The keys of `resources[i]`; `name` first (`resource_defaults` takes all but `name`).
static RESOURCE_KEYS: &[KeySpec] = &[
    key("name", Ty::Str, "the resource (and table) name"),
    key(
        "endpoint",
        Ty::StrOrObj(&ENDPOINT_SPEC),
        "a path, or the endpoint object",
    ),
    key(
        "primary_key",
        Ty::StrOrStrs,
        "a column or a list of columns",
    ),
    key(
        "write_disposition",
        Ty::StrOrObj(&DISPOSITION_SPEC),
        "append, replace, merge, or {\"disposition\": ..., \"strategy\": ...}",
    ),
    key(
        "include_from_parent",
        Ty::StrOrStrs,
        "parent fields copied into each record as _<parent>_<field>",
    ),
    key(
        "selected",
        Ty::Bool,
        "false: only fetched to feed dependent resources, not loaded",
    ),
    key(
        "max_table_nesting",
        Ty::Int,
        "levels of nesting flattened into columns and child tables; deeper values stay JSON",
    ),
    key(
        "table_name",
        Ty::Str,
        "the table to load into (default: the resource name)",
    ),
    key(
        "columns",
        Ty::Columns(&super::hints::COLUMN_SPEC),
        "column hints: {\"name\": {\"data_type\": ..., \"nullable\": ...}} or a list",
    ),
    key(
        "merge_key",
        Ty::StrOrStrs,
        "merge: stored rows sharing a loaded record's merge key are replaced",
    ),
    key(
        "schema_contract",
        Ty::StrOrObj(&super::hints::CONTRACT_SPEC),
        "evolve, freeze, discard_row, discard_value, or one per tables/columns/data_type",
    ),
    key(
        "nested_hints",
        Ty::Map(&super::nested::NESTED_SPEC),
        "hints of child tables by nested field: {\"tags\": {\"columns\": ...}}",
    ),
    key(
        "references",
        Ty::ListOf(&super::hints::REFERENCE_SPEC),
        "table references (dlt's annotations; accepted, not used by SQLite)",
    ),
    key(
        "table_format",
        Ty::Enum(super::hints::TABLE_FORMATS),
        "a lakehouse table format (accepted as in dlt; not used by SQLite)",
    ),
    key(
        "file_format",
        Ty::Enum(super::hints::FILE_FORMATS),
        "dlt's load file format (accepted as in dlt; not used by SQLite)",
    ),
    // Read by the host, which schedules the loads; the connector only checks its type.
    key(
        "parallelized",
        Ty::Bool,
        "true: loads beside the other resources (dlt's extract workers)",
    ),
];
/// `resources[i]` objects.
pub static RESOURCE_SPEC: ObjSpec = ObjSpec {
    name: "resource",
    keys: RESOURCE_KEYS,
    required: &["name"],
};
/// `resource_defaults`: every resource key but `name`.
pub static DEFAULTS_SPEC: ObjSpec = ObjSpec {
    name: "resource_defaults",
    keys: RESOURCE_KEYS.split_at(1).1,
    required: &[],
};
/// The keys of an endpoint object.
pub static ENDPOINT_SPEC: ObjSpec = ObjSpec {
    name: "endpoint",
    keys: &[
        key(
            "path",
            Ty::Str,
            "path relative to client.base_url, or an absolute URL",
        ),
        key(
            "method",
            Ty::Enum(&["GET", "POST", "get", "post"]),
            "HTTP method (default GET)",
        ),
        key("params", Ty::ScalarMap, "query parameters"),
        key("json", Ty::Json, "JSON request body"),
        key(
            "data",
            Ty::Data,
            "request body that is not JSON: an object is sent as a form, a string as it is (not with json)",
        ),
        key("headers", Ty::StrMap, "headers of this endpoint"),
        key(
            "data_selector",
            Ty::Str,
            "JSONPath of the records in a response",
        ),
        key(
            "paginator",
            Ty::Tagged {
                specs: crate::paginator::SPECS,
                bare: true,
            },
            "how to request the next page (detected when omitted)",
        ),
        key(
            "response_actions",
            Ty::ListOf(&crate::actions::ACTION_SPEC),
            "responses to ignore, by status code and/or content",
        ),
        key(
            "incremental",
            Ty::Obj(&crate::incremental::INCREMENTAL_SPEC),
            "load only records past the last run's cursor value",
        ),
        key(
            "auth",
            Ty::Tagged {
                specs: super::auth::AUTH_SPECS,
                bare: false,
            },
            "credentials of this endpoint instead of client.auth (null: none)",
        ),
    ],
    required: &[],
};
static DISPOSITION_SPEC: ObjSpec = ObjSpec {
    name: "write_disposition",
    keys: &[
        key(
            "disposition",
            Ty::Enum(DISPOSITIONS),
            "append, replace or merge",
        ),
        key(
            "strategy",
            Ty::Str,
            "merge: delete-insert, upsert, insert-only, scd2; replace: truncate-and-insert, ...",
        ),
        key(
            "deduplicated",
            Ty::Bool,
            "merge: the data repeats no primary key (accepted as in dlt; sluice deduplicates anyway)",
        ),
        key(
            "validity_column_names",
            Ty::StrOrStrs,
            "scd2: the columns a version is valid from and to (default [\"_dlt_valid_from\", \"_dlt_valid_to\"])",
        ),
        key(
            "active_record_timestamp",
            Ty::Scalar,
            "scd2: what the valid-to column holds while a version is active (null: NULL)",
        ),
        key(
            "boundary_timestamp",
            Ty::Scalar,
            "scd2: when the load's versions begin and the ones it retires end (default: when the load begins)",
        ),
        key(
            "row_version_column_name",
            Ty::Str,
            "scd2: the column that tells versions apart (default: _dlt_id, a hash of the record)",
        ),
    ],
    required: &["disposition"],
};
const DISPOSITIONS: &[&str] = &["append", "replace", "merge"];

/// One resource to load: a table filled from one endpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct Resource {
    pub name: String,
    pub primary_key: Vec<String>,
    pub write_disposition: WriteDisposition,
    /// Under merge, `write_disposition.strategy` (`None`: dlt's default, delete-insert).
    pub merge_strategy: Option<MergeStrategy>,
    pub endpoint: Endpoint,
    /// Parent fields copied into each record as `_<parent>_<field>`.
    pub include_from_parent: Vec<String>,
    /// False when the resource only feeds its children.
    pub selected: bool,
    pub max_table_nesting: Option<u32>,
    /// `table_name`, `columns`, `merge_key`, `schema_contract`.
    pub hints: super::hints::Hints,
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
    /// dlt's `data`: a form or a raw body (never with `json`).
    pub data: Option<Data>,
    pub data_selector: Option<Selector>,
    pub paginator: PaginatorConfig,
    /// Responses that yield no records and end the chain.
    pub response_actions: Vec<ResponseAction>,
    pub incremental: Option<IncrementalConfig>,
    /// The credentials of the endpoint's requests: its own `auth`, none when `auth` is null,
    /// else `client.auth` (as dlt's `endpoint.get("auth", client auth)`).
    pub auth: Option<Auth>,
    /// True when the endpoint names its own `auth` (or `null`).
    pub own_auth: bool,
}

/// Validates `resource_defaults` on its own (so its errors name its own paths) and returns
/// it normalized, ready to merge into each resource.
pub(crate) fn parse_defaults(value: &Value, client: &Client) -> Result<Value, Error> {
    let path = "resource_defaults";
    let normalized = normalize_resource(path, value)?;
    let obj = Obj::new(path, &normalized)?;
    obj.check(&DEFAULTS_SPEC)?;
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
    obj.check(&RESOURCE_SPEC)?;
    let name = obj.str_req("name")?;
    if name.trim().is_empty() {
        return Err(Error::config(obj.at("name"), "must not be empty"));
    }
    parse_fields(obj, name, client)
}

fn parse_fields(obj: Obj<'_>, name: &str, client: &Client) -> Result<Resource, Error> {
    let primary_key = obj.strings("primary_key")?;
    let (write_disposition, merge_strategy) = match obj.get("write_disposition") {
        None => (WriteDisposition::Append, None),
        Some(v) => parse_disposition(&obj.at("write_disposition"), v)?,
    };
    let endpoint = match obj.get("endpoint") {
        None => Endpoint {
            path: name.to_string(),
            method: Method::Get,
            params: Vec::new(),
            headers: Vec::new(),
            json: None,
            data: None,
            data_selector: None,
            paginator: client.paginator.clone().unwrap_or(PaginatorConfig::Auto),
            response_actions: Vec::new(),
            incremental: None,
            auth: client.auth.clone(),
            own_auth: false,
        },
        Some(v) => parse_endpoint(Obj::new(&obj.at("endpoint"), v)?, name, client)?,
    };
    let (include_from_parent, selected, max_table_nesting) = extras::parse(&obj)?;
    let hints = super::hints::parse(&obj)?;
    if let Some(strategy @ (MergeStrategy::Upsert | MergeStrategy::InsertOnly)) = &merge_strategy {
        let word = if *strategy == MergeStrategy::Upsert {
            "upsert"
        } else {
            "insert-only"
        };
        let keyed = !primary_key.is_empty() || hints.columns.iter().any(|c| c.primary_key);
        // A resource that is not loaded (`selected: false`) makes no table to key.
        if !keyed && selected {
            return Err(Error::config(
                obj.at("write_disposition"),
                format!("the {word} strategy needs a primary_key (as in dlt)"),
            ));
        }
        if !hints.merge_key.is_empty() || hints.columns.iter().any(|c| c.merge_key) {
            return Err(Error::config(
                obj.at("merge_key"),
                format!("the {word} strategy takes no merge_key (as in dlt)"),
            ));
        }
    }
    Ok(Resource {
        name: name.to_string(),
        primary_key,
        write_disposition,
        merge_strategy,
        endpoint,
        include_from_parent,
        selected,
        max_table_nesting,
        hints,
        parent: None,
        parent_fields: Vec::new(),
    })
}

fn parse_disposition(
    path: &str,
    value: &Value,
) -> Result<(WriteDisposition, Option<MergeStrategy>), Error> {
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
        Value::String(s) => Ok((word(path, s)?, None)),
        Value::Object(_) => {
            let obj = Obj::new(path, value)?;
            obj.check(&DISPOSITION_SPEC)?;
            let disposition = word(&obj.at("disposition"), obj.str_req("disposition")?)?;
            let Some(strategy) = obj.str_opt("strategy")? else {
                return Ok((disposition, None));
            };
            let allowed: &[&str] = match disposition {
                WriteDisposition::Merge => &["delete-insert", "upsert", "insert-only", "scd2"],
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
            let merge = match strategy {
                "delete-insert" => Some(MergeStrategy::DeleteInsert),
                "upsert" => Some(MergeStrategy::Upsert),
                "insert-only" => Some(MergeStrategy::InsertOnly),
                "scd2" => Some(MergeStrategy::Scd2(super::scd2::parse(&obj)?)),
                // Replace strategies all load as one (staging tables swapped in).
                _ => None,
            };
            Ok((disposition, merge))
        }
        other => Err(walk::wrong_type(
            path,
            "a string or a {\"disposition\": ...} object",
            other,
        )),
    }
}

fn parse_endpoint(obj: Obj<'_>, name: &str, client: &Client) -> Result<Endpoint, Error> {
    obj.check(&ENDPOINT_SPEC)?;
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
    let data = match obj.get("data") {
        None => None,
        Some(_) if json.is_some() => {
            return Err(Error::config(
                obj.at("data"),
                "set either json or data, not both (json for a JSON body, data for a form or a raw body)",
            ));
        }
        Some(v) => Some(Data::parse(&obj.at("data"), v)?),
    };
    let data_selector = match obj.str_opt("data_selector")? {
        None => None,
        Some(s) => Some(Selector::parse(&obj.at("data_selector"), s)?),
    };
    let paginator = match obj.get("paginator") {
        None => client.paginator.clone().unwrap_or(PaginatorConfig::Auto),
        Some(v) => PaginatorConfig::parse(&obj.at("paginator"), v)?,
    };
    if data.is_some()
        && let Some(key) = paginator.body_key()
    {
        return Err(Error::config(
            obj.at("data"),
            format!(
                "the paginator's {key} writes into a JSON body; data sends a form or a raw body (use json)"
            ),
        ));
    }
    let own_auth = obj.map.contains_key("auth");
    let auth = match obj.map.get("auth") {
        None => client.auth.clone(),
        Some(Value::Null) => None,
        Some(v) => Some(super::auth::parse_auth(&obj.at("auth"), v)?),
    };
    let response_actions = match obj.get("response_actions") {
        None => Vec::new(),
        Some(v) => ResponseAction::parse_list(&obj.at("response_actions"), v)?,
    };
    Ok(Endpoint {
        path,
        method,
        params,
        headers,
        json,
        data,
        data_selector,
        paginator,
        response_actions,
        incremental,
        auth,
        own_auth,
    })
}
