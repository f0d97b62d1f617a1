//! The JSON Schema (draft 2020-12) of the config, for `sluice spec`.
//!
//! Generated from the key tables of [`crate::config::spec`] that the parser checks every
//! object against: the root, `client`, resources, endpoints, each paginator and auth type
//! and `response_actions`. There is no hand-written list of keys here.

use serde_json::{Map, Value, json};

use crate::config::ROOT_SPEC;
use crate::config::spec::{ObjSpec, Ty};

/// The config's JSON Schema.
pub fn config_schema() -> Value {
    let mut schema = object(&ROOT_SPEC);
    if let Value::Object(m) = &mut schema {
        m.insert(
            "$schema".into(),
            json!("https://json-schema.org/draft/2020-12/schema"),
        );
        m.insert("title".into(), json!("sluice rest_api config"));
    }
    schema
}

/// The schema of one object of `spec`: its keys, nothing else. An optional key may be
/// `null` (the parser reads `null` as absent, as dlt reads `None`).
fn object(spec: &ObjSpec) -> Value {
    let mut props = Map::new();
    for k in spec.keys {
        let mut s = of(k.ty, spec);
        if !spec.required.contains(&k.key) {
            nullable(&mut s);
        }
        if let Value::Object(m) = &mut s {
            m.insert("description".into(), json!(k.doc));
        }
        props.insert(k.key.into(), s);
    }
    json!({
        "type": "object",
        "properties": props,
        "required": spec.required,
        "additionalProperties": false,
    })
}

/// Lets `schema` also accept `null`.
fn nullable(schema: &mut Value) {
    let Value::Object(m) = schema else { return };
    if let Some(Value::Array(any)) = m.get_mut("anyOf") {
        any.push(json!({"type": "null"}));
    } else if let Some(Value::Array(values)) = m.get_mut("enum") {
        values.push(Value::Null);
    } else if let Some(t) = m.get_mut("type") {
        match t {
            Value::Array(types) if !types.contains(&json!("null")) => types.push(json!("null")),
            Value::String(one) => *t = json!([one.clone(), "null"]),
            _ => {}
        }
    }
}

/// The schema of a key of type `ty` in an object of `owner`.
fn of(ty: Ty, owner: &ObjSpec) -> Value {
    match ty {
        Ty::Str => json!({"type": "string"}),
        Ty::Int => json!({"type": "integer", "minimum": 0}),
        Ty::Number => json!({"type": "number", "minimum": 0}),
        Ty::Scalar => json!({"type": ["string", "number"]}),
        Ty::Bool => json!({"type": "boolean"}),
        Ty::Enum(values) => json!({"enum": values}),
        Ty::Tag => json!({"const": owner.name}),
        Ty::StrMap => json!({"type": "object", "additionalProperties": {"type": "string"}}),
        Ty::ScalarMap => json!({
            "type": "object",
            "additionalProperties": {"type": ["string", "number", "boolean", "null", "object"]}
        }),
        Ty::Json => json!({"type": ["object", "array"]}),
        Ty::Data => json!({"anyOf": [
            {"type": "string"},
            {
                "type": "object",
                "additionalProperties": {"anyOf": [
                    {"type": ["string", "number", "boolean", "null"]},
                    {"type": "array", "items": {"type": ["string", "number", "boolean", "null"]}}
                ]}
            }
        ]}),
        Ty::StrOrStrs => json!({
            "anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]
        }),
        Ty::Credential => json!({
            "anyOf": [
                {"type": "string", "description": "a literal value (discouraged)"},
                {
                    "type": "object",
                    "properties": {"secret": {"type": "string", "minLength": 1}},
                    "required": ["secret"],
                    "additionalProperties": false
                }
            ]
        }),
        Ty::Obj(spec) => object(spec),
        Ty::Map(spec) => json!({"type": "object", "additionalProperties": object(spec)}),
        Ty::StrOrObj(spec) => json!({"anyOf": [{"type": "string"}, object(spec)]}),
        Ty::ListOf(spec) => json!({"type": "array", "items": object(spec)}),
        Ty::Columns(spec) => json!({"anyOf": [
            {"type": "object", "additionalProperties": object(spec)},
            {"type": "array", "items": object(spec)}
        ]}),
        Ty::Resources(spec) => json!({
            "type": "array",
            "minItems": 1,
            "items": {"anyOf": [{"type": "string"}, object(spec)]}
        }),
        Ty::Tagged { specs, bare } => {
            let mut any: Vec<Value> = specs.iter().map(|s| object(s)).collect();
            if bare {
                let names: Vec<&str> = specs.iter().map(|s| s.name).collect();
                any.insert(0, json!({"enum": names}));
            }
            json!({"anyOf": any})
        }
    }
}

#[cfg(test)]
#[path = "schema_tests.rs"]
mod tests;
