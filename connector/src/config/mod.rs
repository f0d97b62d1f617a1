//! Parsing and validation of the dlt `rest_api` config.
//!
//! The config is hand-walked from a `serde_json::Value` with a key path, so every error
//! names the key it is about (`resources[0].endpoint.paginator.type: ...`). Unknown keys
//! are errors, with a "did you mean" for near misses.

mod auth;
mod extras;
mod hints;
mod merge;
mod nested;
mod resource;
mod scd2;
pub mod spec;
pub(crate) mod walk;

use serde_json::Value;

pub use resource::{Endpoint, Resource};

use crate::paginator::PaginatorConfig;
use crate::protocol::{Auth, Error};
use spec::{ObjSpec, Ty, key};
use walk::Obj;

/// The keys of the config's top level.
pub static ROOT_SPEC: ObjSpec = ObjSpec {
    name: "rest_api",
    keys: &[
        key(
            "client",
            Ty::Obj(&CLIENT_SPEC),
            "what every request of every resource shares",
        ),
        key(
            "resource_defaults",
            Ty::Obj(&resource::DEFAULTS_SPEC),
            "deep-merged into each resource (the resource wins)",
        ),
        key(
            "resources",
            Ty::Resources(&resource::RESOURCE_SPEC),
            "the resources to load: names or objects",
        ),
    ],
    required: &["client", "resources"],
};

/// The keys of `client`.
pub static CLIENT_SPEC: ObjSpec = ObjSpec {
    name: "client",
    keys: &[
        key(
            "base_url",
            Ty::Str,
            "absolute http(s) URL every path is relative to",
        ),
        key("headers", Ty::StrMap, "headers of every request"),
        key(
            "auth",
            Ty::Tagged {
                specs: auth::AUTH_SPECS,
                bare: false,
            },
            "credentials the host injects",
        ),
        key(
            "paginator",
            Ty::Tagged {
                specs: crate::paginator::SPECS,
                bare: true,
            },
            "default paginator of every endpoint",
        ),
    ],
    required: &["base_url"],
};

/// The `client` section: what every request of every resource shares.
#[derive(Debug, Clone, PartialEq)]
pub struct Client {
    pub base_url: String,
    pub headers: Vec<(String, String)>,
    pub auth: Option<Auth>,
    /// The default paginator of every endpoint that sets none.
    pub paginator: Option<PaginatorConfig>,
}

/// A parsed and validated config.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub client: Client,
    /// The resources, parents before their children, otherwise in config order.
    pub resources: Vec<Resource>,
}

impl Config {
    /// Parses a config from JSON text.
    pub fn parse(text: &str) -> Result<Config, Error> {
        let value: Value = serde_json::from_str(text)
            .map_err(|e| Error::config("", format!("config is not valid JSON: {e}")))?;
        Config::from_value(&value)
    }

    /// Parses a config from a JSON value.
    pub fn from_value(value: &Value) -> Result<Config, Error> {
        let root = Obj::new("", value).map_err(|_| {
            Error::config(
                "",
                format!("expected an object, found {}", walk::kind(value)),
            )
        })?;
        root.check(&ROOT_SPEC)?;

        let client_value = root.get("client").ok_or_else(|| walk::missing("client"))?;
        let client = parse_client(Obj::new("client", client_value)?)?;

        let defaults = match root.get("resource_defaults") {
            None => None,
            Some(v) => Some(resource::parse_defaults(v, &client)?),
        };

        let list = match root.get("resources") {
            None => return Err(walk::missing("resources")),
            Some(Value::Array(list)) => list,
            Some(other) => return Err(walk::wrong_type("resources", "a list", other)),
        };
        if list.is_empty() {
            return Err(Error::config("resources", "expected at least one resource"));
        }
        let mut resources: Vec<Resource> = Vec::with_capacity(list.len());
        for (i, item) in list.iter().enumerate() {
            let path = walk::index("resources", i);
            let r = resource::parse_resource(&path, item, defaults.as_ref(), &client)?;
            if resources.iter().any(|other| other.name == r.name) {
                return Err(Error::config(
                    walk::join(&path, "name"),
                    format!("duplicate resource name \"{}\"", r.name),
                ));
            }
            resources.push(r);
        }
        let resources = crate::dependent::link(resources)?;
        Ok(Config { client, resources })
    }

    /// The key path of a secret written literally in the config (`client.auth.token`), if any.
    pub fn literal_secret(&self) -> Option<String> {
        if let Some(key) = self.client.auth.as_ref().and_then(Auth::literal_secret) {
            return Some(format!("client.auth.{key}"));
        }
        self.resources.iter().find_map(|r| {
            let key = r
                .endpoint
                .auth
                .as_ref()
                .filter(|_| r.endpoint.own_auth)?
                .literal_secret()?;
            Some(format!("resources[\"{}\"].endpoint.auth.{key}", r.name))
        })
    }

    /// The resource named `name`.
    pub fn resource(&self, name: &str) -> Option<&Resource> {
        self.resources.iter().find(|r| r.name == name)
    }
}

fn parse_client(obj: Obj<'_>) -> Result<Client, Error> {
    obj.check(&CLIENT_SPEC)?;
    let base_url = obj.str_req("base_url")?;
    if !(base_url.starts_with("http://") || base_url.starts_with("https://")) {
        return Err(Error::config(
            obj.at("base_url"),
            "expected an absolute http:// or https:// URL",
        ));
    }
    if base_url.contains('#') {
        return Err(Error::config(
            obj.at("base_url"),
            "must not contain a fragment (#)",
        ));
    }
    let headers = obj.string_map("headers")?;
    let auth = match obj.get("auth") {
        None => None,
        Some(v) => Some(auth::parse_auth(&obj.at("auth"), v)?),
    };
    let paginator = match obj.get("paginator") {
        None => None,
        Some(v) => Some(PaginatorConfig::parse(&obj.at("paginator"), v)?),
    };
    Ok(Client {
        base_url: base_url.to_string(),
        headers,
        auth,
        paginator,
    })
}

#[cfg(test)]
mod tests;
