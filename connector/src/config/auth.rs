//! `client.auth`: api_key, bearer, http_basic and oauth2_client_credentials, naming
//! credentials the host injects. Each type's keys are a table in [`AUTH_SPECS`].

use serde_json::Value;

use super::spec::{ObjSpec, Ty, key};
use super::walk::{self, Obj};
use crate::protocol::{
    Auth, BasicCredentials, ClientAuth, Credential, Error, NamedCredential, OAuth2ClientCredentials,
};

const LOCATIONS: &[&str] = &["header", "query", "cookie"];
const CLIENT_AUTHS: &[&str] = &["client_secret_basic", "client_secret_post", "basic", "body"];

static API_KEY: ObjSpec = ObjSpec {
    name: "api_key",
    keys: &[
        key("type", Ty::Tag, "api_key"),
        key(
            "name",
            Ty::Str,
            "header, query parameter or cookie name (default Authorization)",
        ),
        key("api_key", Ty::Credential, "the key"),
        key(
            "location",
            Ty::Enum(LOCATIONS),
            "where the key goes (default header)",
        ),
    ],
    required: &["type", "api_key"],
};
static BEARER: ObjSpec = ObjSpec {
    name: "bearer",
    keys: &[
        key("type", Ty::Tag, "bearer"),
        key("token", Ty::Credential, "the bearer token"),
    ],
    // dlt reads an auth without `type` as bearer (`auth_config.get("type", "bearer")`).
    required: &["token"],
};
static HTTP_BASIC: ObjSpec = ObjSpec {
    name: "http_basic",
    keys: &[
        key("type", Ty::Tag, "http_basic"),
        key("username", Ty::Credential, "user name"),
        key("password", Ty::Credential, "password"),
    ],
    required: &["type", "username", "password"],
};
static OAUTH2: ObjSpec = ObjSpec {
    name: "oauth2_client_credentials",
    keys: &[
        key("type", Ty::Tag, "oauth2_client_credentials"),
        key("access_token_url", Ty::Str, "the token endpoint"),
        key("client_id", Ty::Credential, "OAuth2 client id"),
        key("client_secret", Ty::Credential, "OAuth2 client secret"),
        key(
            "scopes",
            Ty::StrOrStrs,
            "a list or a space-separated string",
        ),
        key(
            "default_token_expiration",
            Ty::Int,
            "seconds a token lives when the token response says nothing (default 3600)",
        ),
        key(
            "access_token_request_data",
            Ty::ScalarMap,
            "extra form fields of the token request",
        ),
        key(
            "client_auth",
            Ty::Enum(CLIENT_AUTHS),
            "how the client authenticates at the token endpoint (default client_secret_post: id and secret in the form body, as dlt sends them)",
        ),
        key(
            "auth_method",
            Ty::Enum(CLIENT_AUTHS),
            "alias of client_auth",
        ),
    ],
    required: &["type", "access_token_url", "client_id", "client_secret"],
};

/// The auth types, one key table each.
pub static AUTH_SPECS: &[&ObjSpec] = &[&API_KEY, &BEARER, &HTTP_BASIC, &OAUTH2];

/// Parses an auth object at `path`.
pub(crate) fn parse_auth(path: &str, value: &Value) -> Result<Auth, Error> {
    let obj = Obj::new(path, value)?;
    // dlt's default: an auth object without `type` is a bearer token.
    let kind = match obj.str_opt("type")? {
        Some(kind) => kind,
        None if obj.get("token").is_some() => "bearer",
        None => {
            return Err(Error::config(
                obj.at("type"),
                "missing required key (without `type`, dlt reads auth as bearer, which needs `token`)",
            ));
        }
    };
    let Some(spec) = AUTH_SPECS.iter().find(|s| s.name == kind) else {
        let names: Vec<&str> = AUTH_SPECS.iter().map(|s| s.name).collect();
        return Err(Error::config(
            obj.at("type"),
            format!(
                "unknown auth type \"{kind}\" {}",
                walk::expected_one_of(kind, &names)
            ),
        ));
    };
    obj.check(spec)?;
    match kind {
        "api_key" => {
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
        "bearer" => Ok(Auth::Bearer(credential(&obj, "token")?)),
        "http_basic" => Ok(Auth::Basic(BasicCredentials {
            username: credential(&obj, "username")?,
            password: credential(&obj, "password")?,
        })),
        _ => parse_oauth2(&obj).map(Auth::OAuth2),
    }
}

/// dlt's `OAuth2ClientCredentials`. `default_token_expiration` is validated only: the host
/// reads `expires_in` from the token response.
fn parse_oauth2(obj: &Obj<'_>) -> Result<OAuth2ClientCredentials, Error> {
    let token_url = obj.str_req("access_token_url")?;
    if !(token_url.starts_with("http://") || token_url.starts_with("https://")) {
        return Err(Error::config(
            obj.at("access_token_url"),
            "expected an absolute http:// or https:// URL",
        ));
    }
    let scopes = match obj.get("scopes") {
        None => Vec::new(),
        Some(Value::String(s)) => s.split_whitespace().map(str::to_string).collect(),
        Some(Value::Array(items)) => {
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                match item {
                    Value::String(s) => out.push(s.clone()),
                    other => {
                        let p = walk::index(&obj.at("scopes"), i);
                        return Err(walk::wrong_type(&p, "a string", other));
                    }
                }
            }
            out
        }
        Some(other) => {
            return Err(walk::wrong_type(
                &obj.at("scopes"),
                "a string or a list of strings",
                other,
            ));
        }
    };
    let mut extra_params = Vec::new();
    if let Some(v) = obj.get("access_token_request_data") {
        let path = obj.at("access_token_request_data");
        let data = Obj::new(&path, v)?;
        for (k, v) in data.map {
            let text = match v {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                other => {
                    return Err(walk::wrong_type(
                        &data.at(k),
                        "a string, number or boolean",
                        other,
                    ));
                }
            };
            extra_params.push((k.clone(), text));
        }
    }
    if obj.get("client_auth").is_some() && obj.get("auth_method").is_some() {
        return Err(Error::config(
            obj.at("auth_method"),
            "set either client_auth or auth_method, not both",
        ));
    }
    let method_key = if obj.get("auth_method").is_some() {
        "auth_method"
    } else {
        "client_auth"
    };
    let client_auth = match obj.str_opt(method_key)?.unwrap_or("client_secret_post") {
        "client_secret_basic" | "basic" => ClientAuth::Basic,
        "client_secret_post" | "body" => ClientAuth::Body,
        other => {
            return Err(Error::config(
                obj.at(method_key),
                format!(
                    "unknown client auth \"{other}\" {}",
                    walk::expected_one_of(other, CLIENT_AUTHS)
                ),
            ));
        }
    };
    if obj.u64_opt("default_token_expiration")? == Some(0) {
        return Err(Error::config(
            obj.at("default_token_expiration"),
            "must be at least 1",
        ));
    }
    Ok(OAuth2ClientCredentials {
        token_url: token_url.to_string(),
        client_id: credential(obj, "client_id")?,
        client_secret: credential(obj, "client_secret")?,
        scopes,
        client_auth,
        extra_params,
    })
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
