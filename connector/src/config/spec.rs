//! The key tables of every config object: the single source of truth for which keys an
//! object accepts and of what type.
//!
//! The parser checks each object against its [`ObjSpec`] ([`Obj::check`]: unknown keys with
//! "did you mean", wrong types of scalar keys) before reading it, and [`crate::schema`]
//! emits the JSON Schema from the same tables. A key added to a table is therefore accepted
//! by the parser and appears in the schema; there is no second list.

use serde_json::Value;

use super::walk::{self, Obj};
use crate::protocol::Error;

/// The type of a config key.
#[derive(Debug, Clone, Copy)]
pub enum Ty {
    Str,
    /// A non-negative integer.
    Int,
    /// A non-negative number (`incremental.lag`).
    Number,
    /// A string or a number (cursor values).
    Scalar,
    Bool,
    /// One of fixed strings.
    Enum(&'static [&'static str]),
    /// The `type` key of a tagged object: the object's own [`ObjSpec::name`].
    Tag,
    /// An object of string values (headers).
    StrMap,
    /// Query params: scalar values, or dlt's `{"type": "resolve" | "incremental", ...}` objects.
    ScalarMap,
    /// Any object or list (a JSON request body).
    Json,
    /// A string or a list of strings.
    StrOrStrs,
    /// A request body that is not JSON: a string, or an object of form fields.
    Data,
    /// A credential: `{"secret": NAME}` or a literal string.
    Credential,
    /// A nested object.
    Obj(&'static ObjSpec),
    /// A string or a nested object.
    StrOrObj(&'static ObjSpec),
    /// A list of nested objects.
    ListOf(&'static ObjSpec),
    /// An object of nested objects by name (`nested_hints`).
    Map(&'static ObjSpec),
    /// Column hints: an object of nested objects by name, or a list of them.
    Columns(&'static ObjSpec),
    /// A list of resources: names or objects.
    Resources(&'static ObjSpec),
    /// Exactly one of tagged objects, or the bare tag as a string when `bare` is true.
    Tagged {
        specs: &'static [&'static ObjSpec],
        bare: bool,
    },
}

/// One key of a config object.
#[derive(Debug, Clone, Copy)]
pub struct KeySpec {
    pub key: &'static str,
    pub ty: Ty,
    pub doc: &'static str,
}

/// The keys of one config object.
#[derive(Debug)]
pub struct ObjSpec {
    /// The object's name; for tagged objects (paginators, auth) the value of `type`.
    pub name: &'static str,
    pub keys: &'static [KeySpec],
    pub required: &'static [&'static str],
}

/// Shorthand for table entries.
pub const fn key(key: &'static str, ty: Ty, doc: &'static str) -> KeySpec {
    KeySpec { key, ty, doc }
}

impl ObjSpec {
    /// The key names, in table order.
    pub fn names(&self) -> Vec<&'static str> {
        self.keys.iter().map(|k| k.key).collect()
    }

    /// The spec of `key`.
    pub fn get(&self, key: &str) -> Option<&'static KeySpec> {
        // `keys` is 'static: the reference outlives `self`.
        let keys: &'static [KeySpec] = self.keys;
        keys.iter().find(|k| k.key == key)
    }
}

impl Obj<'_> {
    /// Checks this object against `spec`: no unknown keys, required keys present, scalar keys
    /// of the right type. Nested objects are checked by their own parsers.
    pub fn check(&self, spec: &ObjSpec) -> Result<(), Error> {
        self.deny_unknown(&spec.names())?;
        for req in spec.required {
            if self.get(req).is_none() {
                return Err(walk::missing(&self.at(req)));
            }
        }
        for (k, v) in self.map {
            if v.is_null() {
                continue;
            }
            if let Some(ks) = spec.get(k) {
                check_scalar(&self.at(k), ks.ty, v)?;
            }
        }
        Ok(())
    }
}

fn check_scalar(path: &str, ty: Ty, v: &Value) -> Result<(), Error> {
    let ok = match ty {
        Ty::Str | Ty::Enum(_) | Ty::Tag => v.is_string(),
        Ty::Int => v.is_u64(),
        Ty::Number => v.as_f64().is_some_and(|n| n >= 0.0),
        Ty::Scalar => v.is_string() || v.is_number(),
        Ty::Bool => v.is_boolean(),
        Ty::StrMap | Ty::ScalarMap | Ty::Obj(_) | Ty::Map(_) => v.is_object(),
        Ty::Json | Ty::Columns(_) => v.is_object() || v.is_array(),
        Ty::StrOrStrs => v.is_string() || v.is_array(),
        Ty::Data => v.is_string() || v.is_object(),
        Ty::Credential | Ty::StrOrObj(_) | Ty::Tagged { .. } => v.is_string() || v.is_object(),
        Ty::ListOf(_) | Ty::Resources(_) => v.is_array(),
    };
    if ok {
        return Ok(());
    }
    Err(walk::wrong_type(path, expected(ty), v))
}

/// "a string", ... for the wrong-type message of `ty`.
fn expected(ty: Ty) -> &'static str {
    match ty {
        Ty::Str | Ty::Enum(_) | Ty::Tag => "a string",
        Ty::Int => "a non-negative integer",
        Ty::Number => "a non-negative number",
        Ty::Scalar => "a string or a number",
        Ty::Bool => "a boolean",
        Ty::StrMap | Ty::ScalarMap | Ty::Obj(_) | Ty::Map(_) => "an object",
        Ty::Json | Ty::Columns(_) => "an object or a list",
        Ty::StrOrStrs => "a string or a list of strings",
        Ty::Data => "a string (a raw body) or an object (form fields)",
        Ty::Credential => "a {\"secret\": NAME} object or a string",
        Ty::StrOrObj(_) | Ty::Tagged { .. } => "a string or an object",
        Ty::ListOf(_) | Ty::Resources(_) => "a list",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    static INNER: ObjSpec = ObjSpec {
        name: "inner",
        keys: &[key("n", Ty::Int, "a number")],
        required: &[],
    };
    static SPEC: ObjSpec = ObjSpec {
        name: "t",
        keys: &[
            key("path", Ty::Str, "a path"),
            key("limit", Ty::Int, "a limit"),
            key("inner", Ty::Obj(&INNER), "nested"),
        ],
        required: &["path"],
    };

    #[test]
    fn checks_unknown_required_and_types_with_paths() {
        let check = |v: Value| {
            Obj::new("x", &v)
                .unwrap()
                .check(&SPEC)
                .map_err(|e| e.to_string())
        };
        assert!(check(json!({"path": "a", "limit": 3, "inner": {}})).is_ok());
        assert_eq!(
            check(json!({"path": "a", "limt": 3})).unwrap_err(),
            "x.limt: unknown key \"limt\" (expected one of: path, limit, inner; did you mean \"limit\"?)"
        );
        assert_eq!(
            check(json!({})).unwrap_err(),
            "x.path: missing required key"
        );
        assert_eq!(
            check(json!({"path": "a", "limit": -1})).unwrap_err(),
            "x.limit: expected a non-negative integer, found a number"
        );
        assert_eq!(
            check(json!({"path": "a", "inner": [1]})).unwrap_err(),
            "x.inner: expected an object, found a list"
        );
        assert!(
            check(json!({"path": "a", "limit": null})).is_ok(),
            "null = absent"
        );
    }
}
