//! One attempt: a request and the redirects it leads to, up to a complete response.

use std::error::Error as _;
use std::io::Read;

use reqwest::{StatusCode, Url};

use crate::allow::{AllowList, url_host};
use crate::compress::{self, Encoding};
use crate::error::TransportError;
use crate::inject::{Injection, headers, with_query};
use crate::request::{Method, Request, Response};

/// Redirects followed at most per attempt.
pub(crate) const MAX_REDIRECTS: u32 = 5;
/// Largest response body accepted by default (`ClientConfig::max_body`).
pub const MAX_BODY: u64 = 64 << 20;

/// How an attempt failed.
pub(crate) enum Failure {
    /// Retryable: could not connect, or the connection broke.
    Connect(String),
    /// Retryable: the request timed out.
    Timeout,
    /// Not retryable: the body exceeded the client's `max_body`.
    TooLarge,
    /// Retryable: a 2xx body that is not the JSON it should be (why, with the position).
    BadBody(String),
    /// Not retryable: reqwest could not build the request.
    Builder,
    /// Not retryable.
    Fatal(TransportError),
}

/// Everything an attempt needs; `url` is the planned URL (for messages), already redacted.
pub(crate) struct Exchange<'a> {
    pub http: &'a reqwest::blocking::Client,
    pub allow: &'a AllowList,
    pub request: &'a Request,
    pub planned: Url,
    pub injection: Option<Injection<'a>>,
    pub display_url: &'a str,
    /// Largest body read; a longer one fails while reading (the connection is dropped).
    pub max_body: u64,
}

impl Exchange<'_> {
    pub(crate) fn run(&self) -> Result<Response, Failure> {
        let origin = url_host(&self.planned);
        let mut url = self.planned.clone();
        let mut method = self.request.method;
        let mut body = self.request.body.clone();
        let mut strip_auth = false;
        let mut first = true;
        for hop in 0..=MAX_REDIRECTS {
            let target = match self.injection {
                Some(Injection::Query(name, value)) if first => {
                    with_query(url.as_str(), name, value)
                }
                _ => url.to_string(),
            };
            let target = Url::parse(&target).map_err(|e| self.fatal_url(e.to_string()))?;
            let mut map = headers(
                &self.request.headers,
                self.injection,
                strip_auth,
                self.display_url,
            )
            .map_err(Failure::Fatal)?;
            if !map.contains_key(reqwest::header::ACCEPT_ENCODING) {
                map.insert(
                    reqwest::header::ACCEPT_ENCODING,
                    reqwest::header::HeaderValue::from_static(compress::ACCEPT_ENCODING),
                );
            }
            let mut builder = match method {
                Method::Get => self.http.get(target),
                Method::Post => self.http.post(target),
            }
            .headers(map);
            if let Some(b) = &body {
                builder = builder.body(b.clone());
            }
            let response = builder.send().map_err(|e| classify(&e))?;
            let status = response.status();
            let location = response
                .headers()
                .get(reqwest::header::LOCATION)
                .map(|l| l.as_bytes().to_vec());
            if let Some(location) = location.filter(|_| is_redirect(status)) {
                if hop == MAX_REDIRECTS {
                    return Err(Failure::Fatal(TransportError::TooManyRedirects {
                        url: self.display_url.to_string(),
                        max: MAX_REDIRECTS,
                    }));
                }
                let location = String::from_utf8_lossy(&location).into_owned();
                let next = url
                    .join(&location)
                    .map_err(|e| self.fatal_url(format!("bad redirect location: {e}")))?;
                let host = url_host(&next).unwrap_or_else(|| next.scheme().to_string());
                if !self.allow.allows_url(&next) {
                    return Err(Failure::Fatal(TransportError::RedirectNotAllowed {
                        url: self.display_url.to_string(),
                        host,
                        allowed: self.allow.display().to_string(),
                    }));
                }
                strip_auth |= origin.as_deref() != Some(host.as_str());
                if status == StatusCode::SEE_OTHER
                    || (method == Method::Post && matches!(status.as_u16(), 301 | 302))
                {
                    method = Method::Get;
                    body = None;
                }
                url = next;
                first = false;
                continue;
            }
            return self.read_response(response);
        }
        Err(Failure::Fatal(TransportError::TooManyRedirects {
            url: self.display_url.to_string(),
            max: MAX_REDIRECTS,
        }))
    }

    /// The response, its body read whole (at most `max_body` bytes) and inflated if it came
    /// compressed (at most `max_body` bytes again).
    fn read_response(&self, response: reqwest::blocking::Response) -> Result<Response, Failure> {
        let status = response.status().as_u16();
        let mut headers: Vec<(String, String)> = response
            .headers()
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_ascii_lowercase(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let encoding = headers
            .iter()
            .find(|(n, _)| n == "content-encoding")
            .map(|(_, v)| v.as_str());
        let success = (200..300).contains(&status);
        let encoding = match Encoding::parse(encoding) {
            Ok(encoding) => encoding,
            // An error answer's body is only read for its message: the status says it all.
            Err(_) if !success => Encoding::Unknown,
            Err(value) => {
                return Err(Failure::Fatal(TransportError::Body {
                    url: self.display_url.to_string(),
                    message: format!(
                        "it is compressed as `{value}`, which sluice does not decode \
                         (it asks for {})",
                        compress::ACCEPT_ENCODING
                    ),
                }));
            }
        };
        let length = response.content_length();
        if length.is_some_and(|n| n > self.max_body) {
            return Err(Failure::TooLarge);
        }
        let body = read_capped(response, self.max_body, length)?;
        if encoding != Encoding::Identity {
            // The headers describe the body the connector gets: the inflated one.
            headers.retain(|(n, _)| n != "content-encoding" && n != "content-length");
        }
        let body = match compress::decode(encoding, body, self.max_body) {
            // An error answer's body is only read for its message: a garbled one is none.
            Err(Failure::BadBody(_)) if !success => Vec::new(),
            decoded => decoded?,
        };
        Ok(Response {
            status,
            headers,
            body,
        })
    }

    fn fatal_url(&self, message: String) -> Failure {
        Failure::Fatal(TransportError::InvalidUrl {
            url: self.display_url.to_string(),
            message,
        })
    }
}

fn is_redirect(status: StatusCode) -> bool {
    matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308)
}

/// Reads `reader` to the end, failing once more than `cap` bytes arrive. `length`: the
/// announced length, read into a buffer of that size at once rather than one that grows
/// from nothing (fewer reads, no copies); up to [`PRESIZED`], so that a length a server
/// announces but does not send reserves no more.
pub(crate) fn read_capped(
    reader: impl Read,
    cap: u64,
    length: Option<u64>,
) -> Result<Vec<u8>, Failure> {
    let announced = length.unwrap_or(0).min(cap).min(PRESIZED);
    // One byte more: `read_to_end` then sees the end without growing the buffer.
    let mut body = Vec::with_capacity(usize::try_from(announced).map_or(0, |n| n + 1));
    match reader.take(cap.saturating_add(1)).read_to_end(&mut body) {
        Ok(_) if body.len() as u64 > cap => Err(Failure::TooLarge),
        Ok(_) => Ok(body),
        Err(e) if is_timeout_io(&e) => Err(Failure::Timeout),
        Err(e) => Err(Failure::Connect(format!(
            "connection lost while reading the body ({})",
            e.kind()
        ))),
    }
}

/// The largest buffer reserved for a body before it arrives.
const PRESIZED: u64 = 8 << 20;

fn is_timeout_io(e: &std::io::Error) -> bool {
    if e.kind() == std::io::ErrorKind::TimedOut {
        return true;
    }
    let mut source = e.get_ref().map(|s| s as &(dyn std::error::Error + 'static));
    while let Some(s) = source {
        if let Some(r) = s.downcast_ref::<reqwest::Error>()
            && r.is_timeout()
        {
            return true;
        }
        if s.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::TimedOut)
        {
            return true;
        }
        source = s.source();
    }
    false
}

/// Sorts a reqwest error into retryable or not, keeping none of its text that could hold the URL.
fn classify(e: &reqwest::Error) -> Failure {
    if e.is_timeout() {
        return Failure::Timeout;
    }
    if e.is_builder() {
        return Failure::Builder;
    }
    let host = e.url().and_then(|u| u.host_str().map(str::to_string));
    let mut source = e.source();
    let mut dns = false;
    while let Some(s) = source {
        // The address policy refused where the name leads: final, not transient.
        if let Some(refused) = s.downcast_ref::<crate::dns::PrivateAddress>() {
            return Failure::Fatal(TransportError::Egress {
                url: e.url().map(|u| u.to_string()).unwrap_or_default(),
                message: refused.to_string(),
            });
        }
        // hyper-util reports a failed lookup as "dns error" around an uncategorized io error.
        dns |= s.to_string().starts_with("dns error");
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            // A handshake that failed on TLS itself (the server's certificate): final.
            if let Some(tls) = crate::tls::find(io) {
                return Failure::Fatal(TransportError::Tls {
                    url: e.url().map(|u| u.to_string()).unwrap_or_default(),
                    message: crate::tls::describe(tls),
                });
            }
            if io.kind() == std::io::ErrorKind::TimedOut {
                return Failure::Timeout;
            }
            return Failure::Connect(io_reason(io, dns, host.as_deref()));
        }
        source = s.source();
    }
    if e.is_connect() {
        Failure::Connect("connection failed".into())
    } else {
        Failure::Connect("connection error".into())
    }
}

/// What an I/O failure while connecting to `host` means, in words.
fn io_reason(io: &std::io::Error, dns: bool, host: Option<&str>) -> String {
    let lookup = dns || io.to_string().contains("failed to lookup address");
    match io.kind() {
        _ if lookup => format!("cannot resolve host \"{}\"", host.unwrap_or("?")),
        std::io::ErrorKind::ConnectionRefused => "connection refused".to_string(),
        std::io::ErrorKind::ConnectionReset => "connection reset".to_string(),
        kind => format!("connection failed ({kind}: {io})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_lookup_names_the_host() {
        let io = std::io::Error::other(
            "failed to lookup address information: Name or service not known",
        );
        assert_eq!(
            io_reason(&io, false, Some("no-such-host.invalid")),
            "cannot resolve host \"no-such-host.invalid\""
        );
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        assert_eq!(io_reason(&refused, false, Some("h")), "connection refused");
    }

    #[test]
    fn body_over_the_cap_is_refused() {
        for announced in [None, Some(5), Some(3), Some(1 << 40)] {
            assert_eq!(
                read_capped(&b"12345"[..], 5, announced).ok(),
                Some(b"12345".to_vec()),
                "{announced:?}"
            );
            assert!(matches!(
                read_capped(&b"123456"[..], 5, announced),
                Err(Failure::TooLarge)
            ));
        }
        assert_eq!(MAX_BODY, 64 * 1024 * 1024);
    }

    #[test]
    fn only_real_redirect_statuses_redirect() {
        for s in [301, 302, 303, 307, 308] {
            assert!(is_redirect(StatusCode::from_u16(s).unwrap()));
        }
        for s in [200, 300, 304, 305, 404] {
            assert!(!is_redirect(StatusCode::from_u16(s).unwrap()));
        }
    }
}
