//! The crate's own mirror of the WIT types of `wit/types.wit`.
//!
//! Only `bindings` (wasm32) converts between these and the generated types, so the rest of
//! the crate and its native tests never touch generated code.

use std::fmt;

/// HTTP method of a planned request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
}

impl Method {
    /// The method as written in an HTTP request line.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A credential the connector names but never holds.
#[derive(Clone, PartialEq, Eq)]
pub enum Credential {
    /// A secret resolved by the host by name (e.g. `api_key` -> env `API_KEY`).
    Secret(String),
    /// A literal value written in the config. Discouraged: it passes through the guest.
    Literal(String),
}

impl Credential {
    /// True for a literal value written in the config.
    pub fn is_literal(&self) -> bool {
        matches!(self, Credential::Literal(_))
    }
}

/// Never prints a literal value: only secret names are shown.
impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credential::Secret(name) => f.debug_tuple("Secret").field(name).finish(),
            Credential::Literal(_) => f.write_str("Literal(<redacted>)"),
        }
    }
}

/// A credential placed under a name (query parameter, header or cookie name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedCredential {
    pub name: String,
    pub value: Credential,
}

/// User name and password for HTTP basic auth.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BasicCredentials {
    pub username: Credential,
    pub password: Credential,
}

/// Where the host injects a credential when it sends a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    Query(NamedCredential),
    Header(NamedCredential),
    Cookie(NamedCredential),
    Bearer(Credential),
    Basic(BasicCredentials),
    OAuth2(OAuth2ClientCredentials),
}

/// How an OAuth2 client authenticates at the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuth {
    /// `client_secret_basic`: HTTP basic auth with client id and secret.
    Basic,
    /// `client_secret_post`: id and secret in the form body.
    Body,
}

/// The OAuth2 client credentials grant; the host fetches and caches the token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuth2ClientCredentials {
    pub token_url: String,
    pub client_id: Credential,
    pub client_secret: Credential,
    pub scopes: Vec<String>,
    pub client_auth: ClientAuth,
    pub extra_params: Vec<(String, String)>,
}

impl Auth {
    /// The config key (under `auth`) of a secret written literally in the config, if any.
    /// A user name or an OAuth2 client id is not a secret and may be written as it is.
    pub fn literal_secret(&self) -> Option<&'static str> {
        match self {
            Auth::Query(n) | Auth::Header(n) | Auth::Cookie(n) if n.value.is_literal() => {
                Some("api_key")
            }
            Auth::Bearer(c) if c.is_literal() => Some("token"),
            Auth::Basic(b) if b.password.is_literal() => Some("password"),
            Auth::OAuth2(o) if o.client_secret.is_literal() => Some("client_secret"),
            _ => None,
        }
    }
}

/// One HTTP request the host should send on the connector's behalf.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// Identifies this request within its resource; echoed in the response.
    pub seq: u64,
    pub method: Method,
    /// Absolute URL without credentials.
    pub url: String,
    pub headers: Vec<(String, String)>,
    /// Request body (JSON text) for POST.
    pub body: Option<String>,
    /// Credential to inject, if the endpoint is authenticated.
    pub auth: Option<Auth>,
}

/// The final response to a request, after the host's retries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub seq: u64,
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

#[cfg(test)]
impl Response {
    /// A 200 response to request `seq` with `body` as its JSON, no headers.
    pub(crate) fn json(seq: u64, body: &serde_json::Value) -> Response {
        Response {
            seq,
            status: 200,
            headers: vec![],
            body: body.to_string().into_bytes(),
        }
    }
}

/// How the host loads a resource's records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteDisposition {
    Append,
    Replace,
    Merge,
}

/// dlt's merge strategies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MergeStrategy {
    DeleteInsert,
    Upsert,
    InsertOnly,
    Scd2(Scd2),
}

/// The options of the `scd2` strategy, checked (timestamps in RFC 3339, UTC).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scd2 {
    pub valid_from: String,
    pub valid_to: String,
    pub active_record_timestamp: Option<String>,
    pub boundary_timestamp: Option<String>,
    pub row_version_column: Option<String>,
}

/// What the host needs to know to load a resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceInfo {
    pub name: String,
    pub primary_key: Vec<String>,
    pub write_disposition: WriteDisposition,
    /// Under merge, its strategy (`None`: delete-insert).
    pub merge_strategy: Option<MergeStrategy>,
    /// The resource whose records this one's requests are made from.
    pub parent: Option<String>,
    /// False when the resource only feeds its children and is not loaded.
    pub selected: bool,
    /// Depth below which nested objects are flattened; deeper values stay JSON.
    pub max_table_nesting: Option<u32>,
    /// dlt's table hints: `table_name`, `columns`, `merge_key`, `schema_contract`.
    pub table_name: Option<String>,
    pub columns: Vec<ColumnHint>,
    pub merge_key: Vec<String>,
    pub schema_contract: SchemaContract,
    /// dlt's `nested_hints`: hints of child tables.
    pub nested_hints: Vec<NestedHint>,
}

/// The hints of one child table (dlt's `nested_hints` entry).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NestedHint {
    /// The fields from the record to the list (`["tags"]`).
    pub path: Vec<String>,
    pub columns: Vec<ColumnHint>,
    /// Its own `schema_contract`; `None`: the resource's.
    pub schema_contract: Option<SchemaContract>,
}

/// dlt's column data types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataType {
    Text,
    Bigint,
    Double,
    Bool,
    Timestamp,
    Date,
    Decimal,
    Json,
    Binary,
}

/// A hint of one column (dlt's column schema).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnHint {
    pub name: String,
    pub data_type: Option<DataType>,
    pub nullable: Option<bool>,
    pub primary_key: bool,
    pub merge_key: bool,
    pub unique: bool,
    /// dlt's `hard_delete`: under merge, a record marked so deletes the stored one.
    pub hard_delete: bool,
    /// dlt's `dedup_sort`: which of a load's records sharing a primary key is kept.
    pub dedup_sort: Option<SortOrder>,
}

/// An order of values (dlt's `asc` / `desc`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortOrder {
    Asc,
    Desc,
}

/// What a load may do when its data would change the schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ContractMode {
    #[default]
    Evolve,
    Freeze,
    DiscardRow,
    DiscardValue,
}

/// dlt's `schema_contract`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SchemaContract {
    pub tables: ContractMode,
    pub columns: ContractMode,
    pub data_type: ContractMode,
}

/// Severity of a [`Notice`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Debug,
    Info,
    Warn,
}

/// A message for the host's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub level: Level,
    pub message: String,
}

impl Notice {
    pub fn info(message: impl Into<String>) -> Self {
        Notice {
            level: Level::Info,
            message: message.into(),
        }
    }

    pub fn warn(message: impl Into<String>) -> Self {
        Notice {
            level: Level::Warn,
            message: message.into(),
        }
    }
}

/// The records of one response, selected by the connector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// The selected records as one JSON array text.
    pub records: String,
    /// Number of records in `records`.
    pub count: u32,
    /// State of the resource to checkpoint with this page (a JSON object text).
    pub state: String,
    /// True when no further request of this resource will follow.
    pub done: bool,
    pub notices: Vec<Notice>,
}

/// Everything that can go wrong in the connector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// A bad key of the config, at `path` (e.g. `resources[0].endpoint.paginator.type`).
    Config { path: String, message: String },
    /// A response the connector could not use.
    Response { status: u16, message: String },
    /// Saved state that cannot be read.
    State(String),
    /// The host broke the protocol (unknown resource, unknown request seq, ...).
    Protocol(String),
}

impl Error {
    pub(crate) fn config(path: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Config {
            path: path.into(),
            message: message.into(),
        }
    }

    pub(crate) fn response(status: u16, message: impl Into<String>) -> Self {
        Error::Response {
            status,
            message: message.into(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Config { path, message } if path.is_empty() => f.write_str(message),
            Error::Config { path, message } => write!(f, "{path}: {message}"),
            Error::Response { message, .. } => f.write_str(message),
            Error::State(message) => write!(f, "bad saved state: {message}"),
            Error::Protocol(message) => write!(f, "protocol error: {message}"),
        }
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_error_displays_path_then_message() {
        let e = Error::config("client.base_url", "missing required key");
        assert_eq!(e.to_string(), "client.base_url: missing required key");
    }

    #[test]
    fn literal_credential_is_redacted_in_debug() {
        let auth = Auth::Bearer(Credential::Literal("hunter2-token".into()));
        let shown = format!("{auth:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("redacted"));
        assert_eq!(auth.literal_secret(), Some("token"));
        let named = format!("{:?}", Credential::Secret("api_key".into()));
        assert_eq!(named, "Secret(\"api_key\")");
    }
}
