use serde_json::{Value, json};

use super::*;
use crate::config::Config;
use crate::config::spec::Ty;

/// A small validator for the keywords the emitter uses; returns the first violation.
fn validate(schema: &Value, v: &Value, path: &str) -> Result<(), String> {
    let fail = |why: String| Err(format!("{path}: {why}"));
    if let Some(any) = schema.get("anyOf").and_then(Value::as_array) {
        let errs: Vec<String> = any
            .iter()
            .filter_map(|s| validate(s, v, path).err())
            .collect();
        return if errs.len() < any.len() {
            Ok(())
        } else {
            fail(format!("matches no alternative: {}", errs.join(" | ")))
        };
    }
    if let Some(c) = schema.get("const")
        && c != v
    {
        return fail(format!("expected {c}"));
    }
    if let Some(e) = schema.get("enum").and_then(Value::as_array)
        && !e.contains(v)
    {
        return fail(format!("{v} not in {e:?}"));
    }
    if let Some(t) = schema.get("type") {
        let types: Vec<&str> = match t {
            Value::String(s) => vec![s.as_str()],
            Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        let ok = types.iter().any(|t| match *t {
            "object" => v.is_object(),
            "array" => v.is_array(),
            "string" => v.is_string(),
            "integer" => v.is_u64() || v.is_i64(),
            "number" => v.is_number(),
            "boolean" => v.is_boolean(),
            "null" => v.is_null(),
            _ => false,
        });
        if !ok {
            return fail(format!("expected type {t}, found {v}"));
        }
    }
    if let Some(min) = schema.get("minimum").and_then(Value::as_i64)
        && v.as_i64().is_some_and(|n| n < min)
    {
        return fail(format!("below {min}"));
    }
    if let Value::Object(m) = v {
        let props = schema.get("properties").and_then(Value::as_object);
        for req in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(r) = req.as_str()
                && !m.contains_key(r)
            {
                return fail(format!("missing {r}"));
            }
        }
        for (k, val) in m {
            let p = format!("{path}.{k}");
            match (
                props.and_then(|p| p.get(k)),
                schema.get("additionalProperties"),
            ) {
                (Some(s), _) => validate(s, val, &p)?,
                (None, Some(Value::Bool(false))) => return fail(format!("unknown key {k}")),
                (None, Some(s @ Value::Object(_))) => validate(s, val, &p)?,
                (None, _) => {}
            }
        }
    }
    if let (Value::Array(items), Some(min)) = (v, schema.get("minItems").and_then(Value::as_u64))
        && (items.len() as u64) < min
    {
        return fail(format!("fewer than {min} items"));
    }
    if let (Value::Array(items), Some(s)) = (v, schema.get("items")) {
        for (i, item) in items.iter().enumerate() {
            validate(s, item, &format!("{path}[{i}]"))?;
        }
    }
    Ok(())
}

/// Configs in the forms dlt's documentation shows, plus the seed.
pub(crate) fn examples() -> Vec<Value> {
    vec![
        json!({
            "client": {"base_url": "https://api.example.com",
                "auth": {"type": "api_key", "name": "api_key", "api_key": {"secret": "api_key"}, "location": "query"}},
            "resource_defaults": {"primary_key": "id", "write_disposition": "merge"},
            "resources": [{"name": "inventory_items",
                "endpoint": {"path": "/v1/inventory", "data_selector": "data", "paginator": {"type": "offset", "limit": 100}}}]
        }),
        json!({
            "client": {"base_url": "https://api.github.com/repos/dlt-hub/dlt/",
                "auth": {"type": "bearer", "token": {"secret": "github_token"}}, "paginator": "header_link"},
            "resource_defaults": {"primary_key": "id", "write_disposition": "merge", "endpoint": {"params": {"per_page": 100}}},
            "resources": [{"name": "issues", "endpoint": {"path": "issues", "params": {"sort": "updated", "direction": "desc", "state": "open"}}}]
        }),
        json!({
            "client": {"base_url": "https://api.example.com"},
            "resources": [{"name": "posts", "endpoint": {"path": "posts", "data_selector": "$.results[*]",
                "paginator": {"type": "page_number", "base_page": 1, "page_param": "page", "total_path": "response.pages", "maximum_page": 50}}}]
        }),
        json!({
            "client": {"base_url": "https://api.example.com",
                "paginator": {"type": "cursor", "cursor_path": "cursors.next", "cursor_param": "cursor"}},
            "resources": ["users", {"name": "events", "endpoint": {"path": "events",
                "response_actions": [{"status_code": 404, "action": "ignore"}, {"content": "not found", "action": "ignore"}]}}]
        }),
        json!({
            "client": {"base_url": "https://api.notion.com/v1", "headers": {"Notion-Version": "2022-06-28"},
                "auth": {"type": "oauth2_client_credentials", "access_token_url": "https://auth.example.com/token",
                    "client_id": {"secret": "client_id"}, "client_secret": {"secret": "client_secret"},
                    "scopes": "read write", "access_token_request_data": {"audience": "api"}, "default_token_expiration": 3600}},
            "resource_defaults": {"primary_key": "id", "write_disposition": {"disposition": "merge", "strategy": "upsert"}, "endpoint": {"method": "POST"}},
            "resources": [{"name": "search", "primary_key": ["id"], "endpoint": {"path": "search", "json": {"query": "x", "page_size": 100},
                "data_selector": "results", "paginator": {"type": "cursor", "cursor_path": "next_cursor", "cursor_body_path": "start_cursor"}}}]
        }),
        json!({
            "client": {"base_url": "https://api.example.com", "auth": {"type": "http_basic", "username": "u", "password": {"secret": "pw"}}},
            "resources": [{"name": "a", "endpoint": {"paginator": {"type": "json_link", "next_url_path": "paging.next"}}},
                {"name": "b", "endpoint": {"paginator": {"type": "header_cursor", "cursor_key": "X-Next"}}},
                {"name": "c", "endpoint": {"paginator": {"type": "offset", "limit": 10, "total_path": null, "has_more_path": "more", "stop_after_empty_page": false}}},
                {"name": "d", "endpoint": "d"}]
        }),
    ]
}

#[test]
fn every_example_parses_and_validates_against_the_schema() {
    let schema = config_schema();
    let examples = examples();
    for (i, ex) in examples.iter().enumerate() {
        Config::from_value(ex).unwrap_or_else(|e| panic!("example {i}: {e}"));
        validate(&schema, ex, "$").unwrap_or_else(|e| panic!("example {i}: {e}"));
    }
    let inventory = include_str!("../../examples/inventory.json");
    let v: Value = serde_json::from_str(inventory).unwrap();
    validate(&schema, &v, "$").unwrap();
}

#[test]
fn the_schema_rejects_what_the_parser_rejects() {
    let schema = config_schema();
    let bad = [
        json!({"client": {"base_url": "https://a.io", "heders": {}}, "resources": ["a"]}),
        json!({"client": {"base_url": "https://a.io"}, "resources": [{"name": "a", "endpoint": {"paginator": {"type": "ofset"}}}]}),
        json!({"client": {"base_url": "https://a.io"}, "resources": [{"name": "a", "endpoint": {"paginator": {"type": "cursor", "limit": 3}}}]}),
        json!({"client": {"base_url": "https://a.io", "auth": {"type": "bearer"}}, "resources": ["a"]}),
        json!({"client": {"base_url": "https://a.io"}, "resources": [{"name": "a", "endpoint": {"response_actions": [{"status_code": 404, "action": "retry"}]}}]}),
        json!({"client": {"base_url": "https://a.io"}, "resources": []}),
    ];
    for (i, b) in bad.iter().enumerate() {
        assert!(Config::from_value(b).is_err(), "parser accepts bad {i}");
        assert!(validate(&schema, b, "$").is_err(), "schema accepts bad {i}");
    }
}

/// Every key of every table the parser checks appears in the schema at its place.
#[test]
fn every_table_key_is_in_the_schema() {
    fn walk(spec: &crate::config::spec::ObjSpec, schema: &Value, seen: &mut usize) {
        let props = schema["properties"]
            .as_object()
            .unwrap_or_else(|| panic!("{}: {schema}", spec.name));
        assert_eq!(props.len(), spec.keys.len(), "{}", spec.name);
        for k in spec.keys {
            *seen += 1;
            let s = &props[k.key];
            assert_eq!(s["description"], k.doc, "{}.{}", spec.name, k.key);
            match k.ty {
                Ty::Obj(inner) => walk(inner, s, seen),
                Ty::StrOrObj(inner) | Ty::Resources(inner) => {
                    let obj = if matches!(k.ty, Ty::Resources(_)) {
                        &s["items"]["anyOf"][1]
                    } else {
                        &s["anyOf"][1]
                    };
                    walk(inner, obj, seen);
                }
                Ty::ListOf(inner) => walk(inner, &s["items"], seen),
                Ty::Tagged { specs, bare } => {
                    let alts = s["anyOf"].as_array().unwrap();
                    let offset = usize::from(bare);
                    assert_eq!(alts.len(), specs.len() + offset + 1, "and null");
                    if bare {
                        let names: Vec<&str> = specs.iter().map(|s| s.name).collect();
                        assert_eq!(alts[0]["enum"], json!(names));
                    }
                    for (i, inner) in specs.iter().enumerate() {
                        assert_eq!(alts[i + offset]["properties"]["type"]["const"], inner.name);
                        walk(inner, &alts[i + offset], seen);
                    }
                }
                _ => {}
            }
        }
    }
    let schema = config_schema();
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    let mut seen = 0;
    walk(&crate::config::ROOT_SPEC, &schema, &mut seen);
    assert!(seen > 60, "{seen} keys");
    let paginators = &schema["properties"]["client"]["properties"]["paginator"]["anyOf"][0]["enum"];
    assert_eq!(paginators, &json!(crate::paginator::kinds()));
}
