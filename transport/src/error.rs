//! Transport errors. Every message names the request's URL as planned (before secret injection)
//! and has gone through the redactor; no reqwest error (whose Display includes the injected URL)
//! is kept as a source.

use std::time::Duration;

use crate::secret::{Redactor, SecretError};

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error("request to host `{host}` refused: not in the allow-list (allowed: {allowed})")]
    NotAllowed {
        url: String,
        host: String,
        allowed: String,
    },
    #[error(
        "redirect from {url} to host `{host}` refused: not in the allow-list (allowed: {allowed})"
    )]
    RedirectNotAllowed {
        url: String,
        host: String,
        allowed: String,
    },
    #[error("too many redirects (more than {max}) from {url}")]
    TooManyRedirects { url: String, max: u32 },
    #[error("{url}: gave up after {}, last: {last}", counted(*.attempts))]
    RetriesExhausted {
        attempts: u32,
        last: String,
        url: String,
    },
    #[error("{url}: not retried, the run is stopping (after {}, last: {last})", counted(*.attempts))]
    Cancelled {
        attempts: u32,
        last: String,
        url: String,
    },
    #[error("{url}: timed out after {}s ({})", .timeout.as_secs_f64(), counted(*.attempts))]
    Timeout {
        url: String,
        attempts: u32,
        timeout: Duration,
    },
    #[error("{url}: {message} ({})", counted(*.attempts))]
    Connect {
        url: String,
        attempts: u32,
        message: String,
    },
    #[error(transparent)]
    Secret(#[from] SecretError),
    #[error("invalid URL `{url}`: {message}")]
    InvalidUrl { url: String, message: String },
    #[error("{url}: invalid header `{name}`")]
    InvalidHeader { url: String, name: String },
    #[error("{url}: cannot read the response body: {message}")]
    Body { url: String, message: String },
    /// The TLS handshake failed (the server's certificate): not retried.
    #[error("{url}: {message}")]
    Tls { url: String, message: String },
    /// The address a hostname resolves to is refused (see `NetworkPolicy`).
    #[error("{url}: {message}")]
    Egress { url: String, message: String },
    #[error("{url}: {message}")]
    Http { url: String, message: String },
    /// The OAuth2 token endpoint failed: its status and OAuth error code, never a value.
    #[error("OAuth2 token request to {url} failed: {message}")]
    Token { url: String, message: String },
    #[error("cannot build the HTTP client: {message}")]
    Build { message: String },
}

impl TransportError {
    /// Whether the attempts ran out on a retryable outcome (status, connection error or timeout).
    pub fn is_retries_exhausted(&self) -> bool {
        matches!(self, TransportError::RetriesExhausted { .. })
            || matches!(self, TransportError::Timeout { attempts, .. } | TransportError::Connect { attempts, .. } if *attempts > 1)
    }

    /// Passes every string of the error through `redactor` (defence in depth).
    pub(crate) fn scrubbed(self, redactor: &Redactor) -> TransportError {
        let r = |s: String| redactor.redact(&s);
        match self {
            TransportError::Connect {
                url,
                attempts,
                message,
            } => TransportError::Connect {
                url: r(url),
                attempts,
                message: r(message),
            },
            TransportError::Body { url, message } => TransportError::Body {
                url: r(url),
                message: r(message),
            },
            TransportError::Tls { url, message } => TransportError::Tls {
                url: r(url),
                message: r(message),
            },
            TransportError::Egress { url, message } => TransportError::Egress {
                url: r(url),
                message: r(message),
            },
            TransportError::Http { url, message } => TransportError::Http {
                url: r(url),
                message: r(message),
            },
            TransportError::InvalidUrl { url, message } => TransportError::InvalidUrl {
                url: r(url),
                message: r(message),
            },
            TransportError::RedirectNotAllowed { url, host, allowed } => {
                TransportError::RedirectNotAllowed {
                    url: r(url),
                    host: r(host),
                    allowed,
                }
            }
            TransportError::Token { url, message } => TransportError::Token {
                url: r(url),
                message: r(message),
            },
            TransportError::Cancelled {
                attempts,
                last,
                url,
            } => TransportError::Cancelled {
                attempts,
                last: r(last),
                url: r(url),
            },
            other => other,
        }
    }
}

/// `1 attempt`, `3 attempts`.
pub(crate) fn counted(attempts: u32) -> String {
    if attempts == 1 {
        "1 attempt".into()
    } else {
        format!("{attempts} attempts")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_attempt_is_not_plural() {
        let error = |attempts| TransportError::RetriesExhausted {
            attempts,
            last: "HTTP 502".into(),
            url: "http://127.0.0.1:1/items".into(),
        };
        assert_eq!(
            error(1).to_string(),
            "http://127.0.0.1:1/items: gave up after 1 attempt, last: HTTP 502"
        );
        assert_eq!(
            error(3).to_string(),
            "http://127.0.0.1:1/items: gave up after 3 attempts, last: HTTP 502"
        );
    }
}
