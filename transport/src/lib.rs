//! The HTTP edge of the sluice host: sends the requests a connector planned, with retries,
//! backoff, `Retry-After`, timeouts and a host allow-list; credentials are injected at send
//! time and redacted from everything printed. Knows nothing of WIT or wasm.
//!
//! OAuth2 client credentials ([`Auth::OAuth2`]) are performed by the client: it fetches the
//! access token from the token URL (allow-listed and retried like any request), caches it
//! until shortly before it expires, sends it as a bearer token, and on a 401 refreshes it
//! once and resends. The token and the client secret are added to the [`Redactor`].
//!
//! The retry policy ([`RetryPolicy::decide`]) is a pure function; [`Client`] runs it.

mod allow;
mod cancel;
mod client;
mod compress;
mod dns;
mod encode;
mod error;
mod exchange;
mod inject;
mod oauth;
mod proxy;
mod request;
mod retry;
mod secret;
mod tls;

pub use allow::{host_of, url_allowed};
pub use cancel::Cancel;
pub use client::{Client, ClientConfig, Event};
pub use dns::{NetworkPolicy, PrivateAddress, special_range};
pub use error::TransportError;
pub use exchange::MAX_BODY;
pub use request::{Auth, ClientAuth, Credential, Method, OAuth2, Request, Response};
pub use retry::{Attempt, Decision, RetryPolicy, parse_retry_after};
pub use secret::{Redactor, Secret, SecretError, SecretResolver, env_var_name};
pub use tls::TrustedCerts;

#[cfg(test)]
mod redaction_props;
