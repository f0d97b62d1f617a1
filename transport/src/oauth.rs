//! OAuth2 client credentials: the token request body, the token response, and the cache of
//! tokens until they expire. The client ([`crate::Client`]) sends the token request itself,
//! through the same allow-list and retry policy as every other request.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::encode::percent_encode;
use crate::request::{ClientAuth, OAuth2, Response};
use crate::secret::Secret;

/// Lifetime assumed when the token response has no `expires_in` (dlt's default).
pub(crate) const DEFAULT_LIFETIME: Duration = Duration::from_secs(3600);
/// A token is refreshed this long before it expires (at most half its lifetime).
pub(crate) const REFRESH_EARLY: Duration = Duration::from_secs(60);

/// An access token and when it is to be refreshed.
#[derive(Clone)]
pub(crate) struct Token {
    pub value: Secret,
    pub refresh_at: Instant,
}

/// Tokens by the grant they were fetched with.
#[derive(Default)]
pub(crate) struct TokenCache {
    entries: Vec<(OAuth2, Token)>,
}

impl TokenCache {
    /// The cached token of `grant`, if it is not due for a refresh at `now`.
    pub(crate) fn get(&self, grant: &OAuth2, now: Instant) -> Option<&Secret> {
        self.entries
            .iter()
            .find(|(g, t)| g == grant && now < t.refresh_at)
            .map(|(_, t)| &t.value)
    }

    pub(crate) fn insert(&mut self, grant: &OAuth2, token: Token) {
        self.invalidate(grant);
        self.entries.push((grant.clone(), token));
    }

    pub(crate) fn invalidate(&mut self, grant: &OAuth2) {
        self.entries.retain(|(g, _)| g != grant);
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }
}

/// The `application/x-www-form-urlencoded` token request body: `grant_type`, `scope`
/// (space-joined) if any, the extra params, and with `client_secret_post` the client id and
/// secret.
pub(crate) fn form_body(grant: &OAuth2, client_id: &str, client_secret: &str) -> String {
    let mut fields: Vec<(&str, String)> = vec![("grant_type", "client_credentials".to_string())];
    if !grant.scopes.is_empty() {
        fields.push(("scope", grant.scopes.join(" ")));
    }
    for (name, value) in &grant.extra_params {
        fields.push((name, value.clone()));
    }
    if grant.client_auth == ClientAuth::Body {
        fields.push(("client_id", client_id.to_string()));
        fields.push(("client_secret", client_secret.to_string()));
    }
    fields
        .iter()
        .map(|(n, v)| format!("{}={}", percent_encode(n), percent_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// How long a token of `expires_in` seconds is used: its lifetime less [`REFRESH_EARLY`]
/// (or less half of it, for tokens shorter than two minutes).
pub(crate) fn usable_for(expires_in: Option<f64>) -> Duration {
    let lifetime = expires_in
        .filter(|s| s.is_finite() && *s >= 0.0)
        .and_then(|s| Duration::try_from_secs_f64(s).ok())
        .unwrap_or(DEFAULT_LIFETIME);
    lifetime.saturating_sub(REFRESH_EARLY.min(lifetime / 2))
}

/// Reads the token endpoint's response. The error says what was wrong, never a value of the
/// body (which may hold the token): only the status and the OAuth `error` code.
pub(crate) fn parse_token(response: &Response, now: Instant) -> Result<Token, String> {
    let json: Option<Value> = serde_json::from_slice(&response.body).ok();
    if !(200..300).contains(&response.status) {
        let code = json.as_ref().and_then(error_code);
        return Err(match code {
            Some(code) => format!("HTTP {} ({code})", response.status),
            None => format!("HTTP {}", response.status),
        });
    }
    let Some(json) = json else {
        return Err(format!(
            "HTTP {}: the response is not JSON",
            response.status
        ));
    };
    let token = match json.get("access_token") {
        Some(Value::String(t)) if !t.is_empty() => t.clone(),
        Some(_) => return Err("`access_token` is not a non-empty string".into()),
        None => {
            return Err(match error_code(&json) {
                Some(code) => format!("no `access_token` in the response ({code})"),
                None => "no `access_token` in the response".into(),
            });
        }
    };
    let expires_in = match json.get("expires_in") {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => n.as_f64(),
        Some(Value::String(s)) => s.trim().parse::<f64>().ok(),
        Some(_) => None,
    };
    Ok(Token {
        value: Secret::new(token),
        refresh_at: now + usable_for(expires_in),
    })
}

/// The OAuth `error` code of an error response, if it looks like one (a short identifier).
fn error_code(json: &Value) -> Option<String> {
    let code = json.get("error")?.as_str()?;
    let ok = !code.is_empty()
        && code.len() <= 64
        && code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
    ok.then(|| code.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::Credential;

    fn grant(client_auth: ClientAuth) -> OAuth2 {
        OAuth2 {
            token_url: "http://h/token".into(),
            client_id: Credential::Literal("id".into()),
            client_secret: Credential::Secret("s".into()),
            scopes: vec!["read".into(), "write all".into()],
            client_auth,
            extra_params: vec![("audience".into(), "https://api".into())],
        }
    }

    fn response(status: u16, body: &str) -> Response {
        Response {
            status,
            headers: Vec::new(),
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn form_body_per_client_auth() {
        assert_eq!(
            form_body(&grant(ClientAuth::Basic), "id", "p&w"),
            "grant_type=client_credentials&scope=read%20write%20all&audience=https%3A%2F%2Fapi"
        );
        assert_eq!(
            form_body(&grant(ClientAuth::Body), "id", "p&w"),
            "grant_type=client_credentials&scope=read%20write%20all&audience=https%3A%2F%2Fapi\
             &client_id=id&client_secret=p%26w"
        );
    }

    #[test]
    fn lifetimes() {
        assert_eq!(usable_for(None), Duration::from_secs(3540));
        assert_eq!(usable_for(Some(600.0)), Duration::from_secs(540));
        assert_eq!(usable_for(Some(1.0)), Duration::from_millis(500));
        assert_eq!(usable_for(Some(-5.0)), Duration::from_secs(3540));
    }

    #[test]
    fn parses_tokens_and_errors_without_values() {
        let now = Instant::now();
        let t = parse_token(
            &response(200, r#"{"access_token":"tok","expires_in":"120"}"#),
            now,
        )
        .unwrap();
        assert_eq!(t.value.expose(), "tok");
        assert_eq!(t.refresh_at, now + Duration::from_secs(60));
        let e = parse_token(
            &response(401, r#"{"error":"invalid_client","secret":"x"}"#),
            now,
        )
        .err()
        .unwrap();
        assert_eq!(e, "HTTP 401 (invalid_client)");
        let e = parse_token(&response(400, r#"{"error":"bad secret s3cr3t!"}"#), now)
            .err()
            .unwrap();
        assert_eq!(e, "HTTP 400");
        let e = parse_token(&response(200, "tok-in-plain-text"), now)
            .err()
            .unwrap();
        assert!(!e.contains("tok"), "{e}");
        let e = parse_token(&response(200, r#"{"token":"t"}"#), now)
            .err()
            .unwrap();
        assert!(e.contains("access_token"), "{e}");
    }

    #[test]
    fn cache_expires_and_invalidates() {
        let now = Instant::now();
        let g = grant(ClientAuth::Basic);
        let mut cache = TokenCache::default();
        cache.insert(
            &g,
            Token {
                value: Secret::new("t".into()),
                refresh_at: now + Duration::from_secs(10),
            },
        );
        assert_eq!(cache.get(&g, now).map(Secret::expose), Some("t"));
        assert!(cache.get(&g, now + Duration::from_secs(10)).is_none());
        assert!(cache.get(&grant(ClientAuth::Body), now).is_none());
        cache.invalidate(&g);
        assert!(cache.get(&g, now).is_none());
        assert_eq!(cache.len(), 0);
    }
}
