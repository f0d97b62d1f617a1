//! The request a connector planned and the response handed back to it.

use std::fmt;

/// HTTP method of a planned request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
}

/// A credential the connector names (`Secret`) or, discouraged, carries (`Literal`).
#[derive(Clone, PartialEq, Eq)]
pub enum Credential {
    /// Resolved by name through the [`crate::SecretResolver`].
    Secret(String),
    /// A value written in the config; treated as a secret (redacted) all the same.
    Literal(String),
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credential::Secret(name) => f.debug_tuple("Secret").field(name).finish(),
            Credential::Literal(_) => f
                .debug_tuple("Literal")
                .field(&crate::secret::REDACTED)
                .finish(),
        }
    }
}

/// Where a credential is injected at send time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Auth {
    /// `?name=<percent-encoded value>` appended to the URL.
    Query { name: String, value: Credential },
    /// A request header `name: value`.
    Header { name: String, value: Credential },
    /// `Cookie: name=value`, appended to an existing `Cookie` header.
    Cookie { name: String, value: Credential },
    /// `Authorization: Bearer value`.
    Bearer(Credential),
    /// `Authorization: Basic base64(username:password)`.
    Basic {
        username: Credential,
        password: Credential,
    },
    /// OAuth2 client credentials: the client fetches a token and sends it as a bearer token.
    OAuth2(OAuth2),
}

/// How an OAuth2 client authenticates at the token endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientAuth {
    /// `client_secret_basic`.
    Basic,
    /// `client_secret_post`: id and secret in the form body.
    Body,
}

/// The OAuth2 client credentials grant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OAuth2 {
    pub token_url: String,
    pub client_id: Credential,
    pub client_secret: Credential,
    pub scopes: Vec<String>,
    pub client_auth: ClientAuth,
    pub extra_params: Vec<(String, String)>,
}

impl Auth {
    /// Every credential this auth uses.
    pub fn credentials(&self) -> Vec<&Credential> {
        match self {
            Auth::Query { value, .. } | Auth::Header { value, .. } | Auth::Cookie { value, .. } => {
                vec![value]
            }
            Auth::Bearer(value) => vec![value],
            Auth::Basic { username, password } => vec![username, password],
            Auth::OAuth2(o) => vec![&o.client_id, &o.client_secret],
        }
    }
}

/// One request planned by a connector: the URL carries no credentials.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    pub method: Method,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
    pub auth: Option<Auth>,
}

/// The final response (after redirects and retries). Header names are lowercase.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}
