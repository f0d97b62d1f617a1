//! `client.auth`: api_key, bearer and http_basic, naming credentials the host injects.

use serde_json::Value;

use super::walk::{self, Obj};
use crate::protocol::{Auth, BasicCredentials, Credential, Error, NamedCredential};

const AUTH_TYPES: &[&str] = &["api_key", "bearer", "http_basic"];
const LOCATIONS: &[&str] = &["header", "query", "cookie"];

/// Parses an auth object at `path`.
pub(crate) fn parse_auth(path: &str, value: &Value) -> Result<Auth, Error> {
    let obj = Obj::new(path, value)?;
    let kind = obj.str_req("type")?;
    match kind {
        "api_key" => {
            obj.deny_unknown(&["type", "name", "api_key", "location"])?;
            let name = obj.str_opt("name")?.unwrap_or("Authorization").to_string();
            if name.is_empty() {
                return Err(Error::config(obj.at("name"), "must not be empty"));
            }
            let value = credential(&obj, "api_key")?;
            let named = NamedCredential { name, value };
            match obj.str_opt("location")?.unwrap_or("header") {
                "header" => Ok(Auth::Header(named)),
                "query" => Ok(Auth::Query(named)),
                "cookie" => Ok(Auth::Cookie(named)),
                other => Err(Error::config(
                    obj.at("location"),
                    format!(
                        "unknown location \"{other}\" {}",
                        walk::expected_one_of(other, LOCATIONS)
                    ),
                )),
            }
        }
        "bearer" => {
            obj.deny_unknown(&["type", "token"])?;
            Ok(Auth::Bearer(credential(&obj, "token")?))
        }
        "http_basic" => {
            obj.deny_unknown(&["type", "username", "password"])?;
            Ok(Auth::Basic(BasicCredentials {
                username: credential(&obj, "username")?,
                password: credential(&obj, "password")?,
            }))
        }
        other => Err(Error::config(
            obj.at("type"),
            format!(
                "unknown auth type \"{other}\" {}",
                walk::expected_one_of(other, AUTH_TYPES)
            ),
        )),
    }
}

/// `{"secret": "name"}` names a host secret; a plain string is a literal (dlt compatibility).
/// Error messages never include the value.
fn credential(obj: &Obj<'_>, key: &str) -> Result<Credential, Error> {
    let path = obj.at(key);
    match obj.get(key) {
        None => Err(walk::missing(&path)),
        Some(Value::String(s)) => Ok(Credential::Literal(s.clone())),
        Some(v @ Value::Object(_)) => {
            let inner = Obj::new(&path, v)?;
            inner.deny_unknown(&["secret"])?;
            let name = inner.str_req("secret")?;
            if name.is_empty() {
                return Err(Error::config(inner.at("secret"), "must not be empty"));
            }
            Ok(Credential::Secret(name.to_string()))
        }
        Some(other) => Err(walk::wrong_type(
            &path,
            "a {\"secret\": NAME} object or a string",
            other,
        )),
    }
}
