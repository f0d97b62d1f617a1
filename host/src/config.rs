//! Reading a config file (JSON, TOML or YAML) into the JSON text a connector takes, plus the
//! few facts the host itself must know without trusting the connector: which hosts may be
//! contacted and which secrets the config refers to.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::Value;

#[derive(Debug, thiserror::Error)]
pub enum ConfigFileError {
    #[error("cannot read config {path}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config {path} is not valid {format}: {message}")]
    Parse {
        path: PathBuf,
        format: &'static str,
        message: String,
    },
    #[error("config {path}: the top level must be an object (the dlt `rest_api` dict)")]
    NotAnObject { path: PathBuf },
}

/// A config as the host sees it.
#[derive(Debug, Clone)]
pub struct SourceConfig {
    /// The config as JSON text, handed to the connector unchanged.
    pub json: String,
    /// The directory of the config file, where `.dlt/secrets.toml` is looked up first.
    pub dir: Option<PathBuf>,
    /// `host:port` of `client.base_url`, and of `client.auth.access_token_url` (an OAuth2
    /// token endpoint) if the config has one: the only origins requests may go to.
    pub allowed_hosts: Vec<String>,
    /// Names of every `{"secret": NAME}` in the config: the only secrets the host will resolve.
    pub secrets: BTreeSet<String>,
    /// The resources marked `parallelized` (dlt's hint, on the resource or in
    /// `resource_defaults`): how the host schedules the loads is its own business, so it
    /// reads the hint itself, as it reads `client.base_url`.
    pub parallelized: BTreeSet<String>,
}

impl SourceConfig {
    /// Which addresses the config's hostnames may resolve to: the addresses its origins name
    /// literally (an IP `base_url`), loopback when one of them is `localhost`, any with
    /// `allow_private`; `resolve` fixes hostnames to addresses (like curl's `--resolve`).
    pub fn network_policy(
        &self,
        extra: &[String],
        allow_private: bool,
        resolve: &[(String, std::net::IpAddr)],
    ) -> sluice_transport::NetworkPolicy {
        let mut policy = sluice_transport::NetworkPolicy {
            allow_private,
            ..Default::default()
        };
        for entry in self.allow_list(extra) {
            let host = entry.split_once("://").map_or(entry.as_str(), |(_, h)| h);
            let host = match host.strip_prefix('[') {
                Some(v6) => v6.split_once(']').map_or(v6, |(h, _)| h),
                None => host.rsplit_once(':').map_or(host, |(h, _)| h),
            };
            if let Ok(ip) = host.parse() {
                policy.named.push(ip);
            }
            policy.loopback |= host.trim_end_matches('.').eq_ignore_ascii_case("localhost");
        }
        for (host, ip) in resolve {
            policy
                .overrides
                .entry(host.trim_end_matches('.').to_ascii_lowercase())
                .or_default()
                .push(*ip);
        }
        policy
    }

    /// Reads a config file; the format follows the extension (`.toml`, `.yaml`/`.yml`, else JSON).
    pub fn load(path: &Path) -> Result<SourceConfig, ConfigFileError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigFileError::Read {
            path: path.to_owned(),
            source,
        })?;
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("")
            .to_ascii_lowercase();
        let parse = |format: &'static str, message: String| ConfigFileError::Parse {
            path: path.to_owned(),
            format,
            message,
        };
        let value: Value = match ext.as_str() {
            "toml" => toml::from_str(&text).map_err(|e| parse("TOML", e.to_string()))?,
            "yaml" | "yml" => {
                serde_norway::from_str(&text).map_err(|e| parse("YAML", e.to_string()))?
            }
            _ => serde_json::from_str(&text).map_err(|e| parse("JSON", e.to_string()))?,
        };
        if !value.is_object() {
            return Err(ConfigFileError::NotAnObject {
                path: path.to_owned(),
            });
        }
        let dir = path.parent().map(|p| {
            if p.as_os_str().is_empty() {
                PathBuf::from(".")
            } else {
                p.to_owned()
            }
        });
        Ok(SourceConfig::from_value(value, dir))
    }

    /// A config given as a value (used by `sluice demo` and tests).
    pub fn from_value(value: Value, dir: Option<PathBuf>) -> SourceConfig {
        let allowed_hosts = allowed_hosts(&value);
        let mut secrets = BTreeSet::new();
        collect_secrets(&value, &mut secrets);
        SourceConfig {
            json: value.to_string(),
            dir,
            allowed_hosts,
            secrets,
            parallelized: parallelized(&value),
        }
    }
}

impl SourceConfig {
    /// The hosts requests may go to: the config's own origins plus `extra` (`--allow-host`).
    pub fn allow_list(&self, extra: &[String]) -> Vec<String> {
        let mut hosts = self.allowed_hosts.clone();
        for host in extra {
            if !hosts.contains(host) {
                hosts.push(host.clone());
            }
        }
        hosts
    }
}

/// The origins (`scheme://host:port`) the config itself names: `client.base_url` and the
/// OAuth2 token URLs of `client.auth` and of endpoint-level `auth`.
fn allowed_hosts(config: &Value) -> Vec<String> {
    let mut urls: Vec<&Value> = ["/client/base_url", "/client/auth/access_token_url"]
        .iter()
        .filter_map(|p| config.pointer(p))
        .collect();
    let endpoints = config
        .pointer("/resources")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .chain(config.pointer("/resource_defaults"));
    urls.extend(endpoints.filter_map(|r| r.pointer("/endpoint/auth/access_token_url")));
    let mut hosts: Vec<String> = Vec::new();
    for url in urls.into_iter().filter_map(Value::as_str) {
        let Some(host) = sluice_transport::host_of(url) else {
            continue;
        };
        // The origin, scheme included: `http://` to the API's `https://` host is refused.
        let scheme = url.split_once("://").map_or("https", |(s, _)| s);
        let origin = format!("{}://{host}", scheme.to_ascii_lowercase());
        if !hosts.contains(&origin) {
            hosts.push(origin);
        }
    }
    hosts
}

/// The names of the resources whose `parallelized` is true, on the resource itself or else
/// in `resource_defaults` (a resource given as a bare name takes the default).
fn parallelized(config: &Value) -> BTreeSet<String> {
    let default = config.pointer("/resource_defaults/parallelized") == Some(&Value::Bool(true));
    let resources = config.get("resources").and_then(Value::as_array);
    resources
        .into_iter()
        .flatten()
        .filter_map(|r| match r {
            Value::String(name) => default.then(|| name.clone()),
            Value::Object(o) => {
                let marked = o.get("parallelized").and_then(Value::as_bool);
                let name = o.get("name").and_then(Value::as_str)?;
                marked.unwrap_or(default).then(|| name.to_string())
            }
            _ => None,
        })
        .collect()
}

fn collect_secrets(value: &Value, out: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            if map.len() == 1
                && let Some(Value::String(name)) = map.get("secret")
            {
                out.insert(name.clone());
                return;
            }
            map.values().for_each(|v| collect_secrets(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| collect_secrets(v, out)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_origin_and_secret_references() {
        let v = serde_json::json!({
            "client": {"base_url": "http://127.0.0.1:8080/api",
                       "auth": {"type": "api_key", "api_key": {"secret": "api_key"}}},
            "resources": [{"name": "a", "endpoint": {"headers": {"X": {"secret": "other"}}}}]
        });
        let c = SourceConfig::from_value(v, None);
        assert_eq!(c.allowed_hosts, vec!["http://127.0.0.1:8080".to_string()]);
        assert_eq!(
            c.secrets.into_iter().collect::<Vec<_>>(),
            vec!["api_key", "other"]
        );
    }

    #[test]
    fn parallelized_resources_from_the_resource_or_its_defaults() {
        let names = |v: Value| {
            let c = SourceConfig::from_value(v, None);
            c.parallelized.into_iter().collect::<Vec<_>>()
        };
        let resources = serde_json::json!([
            "bare",
            {"name": "marked", "parallelized": true},
            {"name": "unmarked", "parallelized": false},
            {"name": "plain"},
        ]);
        assert_eq!(
            names(serde_json::json!({"resources": resources})),
            ["marked"]
        );
        let v = serde_json::json!({
            "resource_defaults": {"parallelized": true},
            "resources": resources,
        });
        assert_eq!(names(v), ["bare", "marked", "plain"]);
        assert!(names(serde_json::json!({"resources": "items"})).is_empty());
    }

    #[test]
    fn allow_list_is_the_base_url_plus_the_oauth2_token_url() {
        let v = serde_json::json!({
            "client": {"base_url": "https://api.example.com/v1",
                       "auth": {"type": "oauth2_client_credentials",
                                "access_token_url": "https://auth.example.com:8443/oauth/token",
                                "client_id": "my-client",
                                "client_secret": {"secret": "client_secret"}}},
            "resources": ["items"]
        });
        let c = SourceConfig::from_value(v, None);
        assert_eq!(
            c.allowed_hosts,
            [
                "https://api.example.com:443",
                "https://auth.example.com:8443"
            ]
        );
        assert_eq!(c.secrets.into_iter().collect::<Vec<_>>(), ["client_secret"]);

        // A token URL on the API's own origin adds nothing; one elsewhere in the config
        // (not `client.auth`) is not trusted.
        let v = serde_json::json!({
            "client": {"base_url": "http://127.0.0.1:9/",
                       "auth": {"access_token_url": "http://127.0.0.1:9/token"}},
            "resources": [{"name": "x", "endpoint": {"access_token_url": "http://evil.example/"}}]
        });
        let c = SourceConfig::from_value(v, None);
        assert_eq!(c.allowed_hosts, ["http://127.0.0.1:9"]);

        assert_eq!(
            c.allow_list(&["example.org".into(), "http://127.0.0.1:9".into()]),
            ["http://127.0.0.1:9", "example.org"]
        );

        let v = serde_json::json!({"client": {"auth": {"access_token_url": 5}}});
        assert!(SourceConfig::from_value(v, None).allowed_hosts.is_empty());
    }

    #[test]
    fn reads_toml_and_yaml_like_json() {
        let dir = tempfile::tempdir().unwrap();
        let toml_path = dir.path().join("c.toml");
        std::fs::write(
            &toml_path,
            "[client]\nbase_url = \"http://h:1\"\n[[resources]]\nname = \"x\"\n",
        )
        .unwrap();
        let yaml_path = dir.path().join("c.yaml");
        std::fs::write(
            &yaml_path,
            "client:\n  base_url: http://h:1\nresources:\n  - name: x\n",
        )
        .unwrap();
        let a: Value = serde_json::from_str(&SourceConfig::load(&toml_path).unwrap().json).unwrap();
        let b: Value = serde_json::from_str(&SourceConfig::load(&yaml_path).unwrap().json).unwrap();
        assert_eq!(a, b);
        assert_eq!(a["resources"][0]["name"], "x");
    }

    #[test]
    fn parse_errors_name_the_file_and_format() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("bad.json");
        std::fs::write(&p, "{\"client\": ").unwrap();
        let e = SourceConfig::load(&p).unwrap_err().to_string();
        assert!(
            e.contains("bad.json") && e.contains("not valid JSON"),
            "{e}"
        );
    }
}
