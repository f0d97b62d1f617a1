//! The client: allow-list check, secret resolution, injection, and the retry loop.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};
use std::time::{Duration, Instant, SystemTime};

use reqwest::Url;

use crate::allow::{AllowList, url_host};
use crate::cancel::Cancel;
use crate::dns::{CheckedResolver, NetworkPolicy};
use crate::error::TransportError;
use crate::exchange::{Exchange, Failure, MAX_BODY};
use crate::inject::{Injection, basic_value};
use crate::oauth::{self, TokenCache};
use crate::request::{Auth, ClientAuth, Credential, Method, OAuth2, Request, Response};
use crate::retry::{Attempt, Decision, RetryPolicy};
use crate::secret::{Redactor, Secret, SecretResolver};
use crate::tls::TrustedCerts;

/// How the client behaves.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    pub policy: RetryPolicy,
    /// Per attempt: the longest wait for the response's head, and then for each read of its
    /// body (a body that keeps coming may take longer in all), as `requests`' read timeout
    /// in dlt.
    pub timeout: Duration,
    /// `host:port` entries, or `host` for any port.
    pub allowed_hosts: Vec<String>,
    pub user_agent: String,
    /// Largest response body, in bytes ([`MAX_BODY`] by default); a longer one fails the
    /// request while it is read, without holding more of it in memory.
    pub max_body: u64,
    /// Which addresses a hostname may resolve to (see [`NetworkPolicy`]).
    pub network: NetworkPolicy,
    /// Once cancelled, a request waiting to retry fails with
    /// [`TransportError::Cancelled`] instead of trying again.
    pub cancel: Cancel,
    /// Certificate authorities trusted besides the built-in roots (`--ca-cert`).
    pub trusted: TrustedCerts,
    /// Send through the proxy the environment names (`HTTP_PROXY`, `HTTPS_PROXY`,
    /// `ALL_PROXY`, but not to `NO_PROXY` hosts), as curl does. On by default.
    pub env_proxy: bool,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            policy: RetryPolicy::default(),
            timeout: Duration::from_secs(60),
            allowed_hosts: Vec::new(),
            user_agent: format!("sluice-transport/{}", env!("CARGO_PKG_VERSION")),
            max_body: MAX_BODY,
            network: NetworkPolicy::default(),
            cancel: Cancel::default(),
            trusted: TrustedCerts::default(),
            env_proxy: true,
        }
    }
}

/// What happened while sending, for progress reporting.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event<'a> {
    /// Attempt `attempt` failed with `reason` ("HTTP 503", "connection refused", "timeout");
    /// the client waits `wait` before the next one. `url` is the planned URL, redacted.
    Retry {
        attempt: u32,
        reason: String,
        wait: Duration,
        url: &'a str,
        /// The server asked to slow down: HTTP 429, or a `Retry-After` header.
        throttled: bool,
    },
}

/// Sends planned requests over HTTP. Shared by every thread that sends (`&self`): the
/// secrets, the redactor and the OAuth2 tokens sit behind their own locks, and one token
/// serves every thread (the first to need it fetches it while the others wait for it).
pub struct Client {
    http: reqwest::blocking::Client,
    config: ClientConfig,
    allow: AllowList,
    resolver: SecretResolver,
    secrets: RwLock<HashMap<String, Secret>>,
    redactor: RwLock<Redactor>,
    tokens: Mutex<TokenCache>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("config", &self.config)
            .field("resolver", &self.resolver)
            .field("secrets", &read(&self.secrets).len())
            .field("tokens", &lock(&self.tokens).len())
            .finish_non_exhaustive()
    }
}

impl Client {
    pub fn new(config: ClientConfig, resolver: SecretResolver) -> Result<Client, TransportError> {
        let mut builder = reqwest::blocking::Client::builder();
        let mut network = config.network.clone();
        match config.env_proxy {
            true => network.proxies.extend(crate::proxy::env_proxy_hosts()),
            false => builder = builder.no_proxy(),
        }
        for cert in config.trusted.certificates() {
            builder = builder.add_root_certificate(cert);
        }
        let http = builder
            .timeout(config.timeout)
            .user_agent(config.user_agent.clone())
            // Redirects are followed by hand, to check the allow-list and strip credentials.
            .redirect(reqwest::redirect::Policy::none())
            // Every hostname (of every hop) resolves through the address policy.
            .dns_resolver(Arc::new(CheckedResolver {
                policy: Arc::new(network),
            }))
            .build()
            .map_err(|e| TransportError::Build {
                message: e.without_url().to_string(),
            })?;
        let allow = AllowList::new(&config.allowed_hosts);
        Ok(Client {
            http,
            config,
            allow,
            resolver,
            secrets: RwLock::default(),
            redactor: RwLock::default(),
            tokens: Mutex::default(),
        })
    }

    /// Resolves (and caches) every secret `auth` names, so a missing secret fails before any
    /// request. Sends nothing: an OAuth2 token is fetched by the first [`Client::send`].
    pub fn prepare(&self, auth: &Auth) -> Result<(), TransportError> {
        let known = |name: &str| read(&self.secrets).contains_key(name);
        let literal = |value: &str| read(&self.redactor).covers(value);
        let ready = auth.credentials().iter().all(|c| match c {
            Credential::Secret(name) => known(name),
            Credential::Literal(value) => literal(value),
        });
        if ready {
            return Ok(());
        }
        for credential in auth.credentials() {
            match credential {
                Credential::Secret(name) => {
                    if !known(name) {
                        let secret = self.resolver.resolve(name)?;
                        write(&self.redactor).add(&secret);
                        write(&self.secrets).insert(name.clone(), secret);
                    }
                }
                Credential::Literal(value) => {
                    write(&self.redactor).add(&Secret::new(value.clone()));
                }
            }
        }
        let pair = match auth {
            Auth::Basic { username, password } => Some((username, password)),
            Auth::OAuth2(o) if o.client_auth == ClientAuth::Basic => {
                Some((&o.client_id, &o.client_secret))
            }
            _ => None,
        };
        if let Some((user, password)) = pair {
            let pair = basic_value(self.value(user).expose(), self.value(password).expose());
            let mut redactor = write(&self.redactor);
            redactor.add_pattern(pair.trim_end_matches('=').to_string());
            redactor.add_pattern(pair);
        }
        Ok(())
    }

    /// Every secret resolved so far and every literal credential seen.
    pub fn redactor(&self) -> Redactor {
        read(&self.redactor).clone()
    }

    fn value(&self, credential: &Credential) -> Secret {
        match credential {
            Credential::Secret(name) => read(&self.secrets)
                .get(name)
                .cloned()
                .unwrap_or_else(|| Secret::new(String::new())),
            Credential::Literal(value) => Secret::new(value.clone()),
        }
    }

    /// Sends `request` with retries. Returns the final response for any status that is not
    /// retryable (the caller decides what a 4xx means); retryable statuses, connection errors
    /// and timeouts are retried per the policy, then fail with `RetriesExhausted`, `Connect`
    /// or `Timeout`.
    ///
    /// With OAuth2 auth, the access token is fetched (or taken from the cache) first and sent
    /// as a bearer token; on a 401 the token is refreshed once and the request resent, and a
    /// second 401 is returned like any other response.
    pub fn send(
        &self,
        request: &Request,
        on_event: &mut dyn FnMut(Event<'_>),
    ) -> Result<Response, TransportError> {
        let planned = self.check(request)?;
        if let Some(auth) = &request.auth {
            self.prepare(auth)?;
        }
        let display_url = read(&self.redactor).redact(&request.url);
        let Some(Auth::OAuth2(grant)) = &request.auth else {
            let values: Vec<Secret> = request
                .auth
                .iter()
                .flat_map(Auth::credentials)
                .map(|c| self.value(c))
                .collect();
            let injection = request.auth.as_ref().map(|a| injection(a, &values));
            return self.attempts(request, planned, injection, &display_url, on_event);
        };
        let token = self.token(grant, None, on_event)?;
        let injection = Some(Injection::Bearer(token.expose()));
        let response =
            self.attempts(request, planned.clone(), injection, &display_url, on_event)?;
        if response.status != 401 {
            return Ok(response);
        }
        let token = self.token(grant, Some(&token), on_event)?;
        let injection = Some(Injection::Bearer(token.expose()));
        self.attempts(request, planned, injection, &display_url, on_event)
    }

    /// The access token of `grant`: cached, or fetched from its token URL. `rejected`: a
    /// token the API answered 401 to, fetched again unless another thread already did.
    fn token(
        &self,
        grant: &OAuth2,
        rejected: Option<&Secret>,
        on_event: &mut dyn FnMut(Event<'_>),
    ) -> Result<Secret, TransportError> {
        // Held while fetching: the other threads wait for this token instead of each
        // fetching one.
        let mut tokens = lock(&self.tokens);
        if let Some(token) = tokens.get(grant, Instant::now())
            && rejected.is_none_or(|r| r.expose() != token.expose())
        {
            return Ok(token.clone());
        }
        let id = self.value(&grant.client_id);
        let secret = self.value(&grant.client_secret);
        let (id, secret) = (id.expose(), secret.expose());
        let request = Request {
            method: Method::Post,
            url: grant.token_url.clone(),
            headers: vec![
                (
                    "Content-Type".into(),
                    "application/x-www-form-urlencoded".into(),
                ),
                ("Accept".into(), "application/json".into()),
            ],
            body: Some(oauth::form_body(grant, id, secret)),
            auth: None,
        };
        let planned = self.check(&request)?;
        let display_url = read(&self.redactor).redact(&grant.token_url);
        let injection = match grant.client_auth {
            ClientAuth::Basic => Some(Injection::Basic(id, secret)),
            ClientAuth::Body => None,
        };
        let response = self.attempts(&request, planned, injection, &display_url, on_event)?;
        let token = oauth::parse_token(&response, Instant::now()).map_err(|message| {
            TransportError::Token {
                url: display_url.clone(),
                message,
            }
            .scrubbed(&read(&self.redactor))
        })?;
        write(&self.redactor).add(&token.value);
        let value = token.value.clone();
        tokens.insert(grant, token);
        Ok(value)
    }

    /// The retry loop around one planned request with its credential injection.
    fn attempts(
        &self,
        request: &Request,
        planned: Url,
        injection: Option<Injection<'_>>,
        display_url: &str,
        on_event: &mut dyn FnMut(Event<'_>),
    ) -> Result<Response, TransportError> {
        let exchange = Exchange {
            http: &self.http,
            allow: &self.allow,
            request,
            planned,
            injection,
            display_url,
            max_body: self.config.max_body,
        };
        let policy = &self.config.policy;
        let mut rng = rand::rng();
        let mut attempt = 1u32;
        loop {
            let outcome = exchange.run().and_then(|r| match broken_json(&r) {
                Some(why) => Err(Failure::BadBody(why)),
                None => Ok(r),
            });
            let throttled = outcome
                .as_ref()
                .is_ok_and(|r| r.status == 429 || r.header("retry-after").is_some());
            let (decision, reason) = match &outcome {
                Ok(r) => {
                    let retry_after = r.header("retry-after");
                    let kind = Attempt::Status {
                        status: r.status,
                        retry_after,
                    };
                    (
                        policy.decide(attempt, &kind, SystemTime::now(), &mut rng),
                        format!("HTTP {}", r.status),
                    )
                }
                Err(Failure::Connect(reason)) => (
                    policy.decide(attempt, &Attempt::ConnectError, SystemTime::now(), &mut rng),
                    reason.clone(),
                ),
                Err(Failure::Timeout) => (
                    policy.decide(attempt, &Attempt::Timeout, SystemTime::now(), &mut rng),
                    "timeout".to_string(),
                ),
                // A cut-off or garbled body: a proxy or a dropped connection, so transient.
                Err(Failure::BadBody(why)) => (
                    policy.decide(attempt, &Attempt::ConnectError, SystemTime::now(), &mut rng),
                    why.clone(),
                ),
                Err(_) => (Decision::Done, String::new()),
            };
            match decision {
                Decision::RetryAfter(wait) => {
                    let cancel = &self.config.cancel;
                    let cancelled = || {
                        TransportError::Cancelled {
                            url: display_url.to_string(),
                            attempts: attempt,
                            last: reason.clone(),
                        }
                        .scrubbed(&read(&self.redactor))
                    };
                    if cancel.is_cancelled() {
                        return Err(cancelled());
                    }
                    on_event(Event::Retry {
                        attempt,
                        reason: reason.clone(),
                        wait,
                        url: display_url,
                        throttled,
                    });
                    if cancel.sleep(wait) {
                        return Err(cancelled());
                    }
                    attempt += 1;
                }
                Decision::Done | Decision::GiveUp => {
                    let gave_up = decision == Decision::GiveUp;
                    return self.finish(outcome, gave_up, attempt, reason, display_url);
                }
            }
        }
    }

    /// The planned URL, parsed and checked against the allow-list.
    fn check(&self, request: &Request) -> Result<Url, TransportError> {
        let display = || read(&self.redactor).redact(&request.url);
        let url = Url::parse(&request.url).map_err(|e| TransportError::InvalidUrl {
            url: display(),
            message: e.to_string(),
        })?;
        let Some(host) = url_host(&url) else {
            return Err(TransportError::InvalidUrl {
                url: display(),
                message: "not an http(s) URL with a host".into(),
            });
        };
        if !self.allow.allows_url(&url) {
            return Err(TransportError::NotAllowed {
                url: display(),
                host,
                allowed: self.allow.display().to_string(),
            });
        }
        Ok(url)
    }

    fn finish(
        &self,
        outcome: Result<Response, Failure>,
        gave_up: bool,
        attempts: u32,
        reason: String,
        url: &str,
    ) -> Result<Response, TransportError> {
        let url = url.to_string();
        let error = match outcome {
            Ok(_) if gave_up => TransportError::RetriesExhausted {
                attempts,
                last: reason,
                url,
            },
            Ok(response) => return Ok(response),
            Err(Failure::Timeout) => TransportError::Timeout {
                url,
                attempts,
                timeout: self.config.timeout,
            },
            Err(Failure::Connect(message)) => TransportError::Connect {
                url,
                attempts,
                message,
            },
            Err(Failure::TooLarge) => TransportError::Body {
                url,
                message: format!(
                    "it is larger than {} MiB (--max-response-mb)",
                    self.config.max_body >> 20
                ),
            },
            Err(Failure::BadBody(why)) => TransportError::Body {
                url,
                message: format!("after {}, {why}", crate::error::counted(attempts)),
            },
            Err(Failure::Builder) => TransportError::Http {
                url,
                message: "cannot build the request".into(),
            },
            Err(Failure::Fatal(e)) => e,
        };
        Err(error.scrubbed(&read(&self.redactor)))
    }
}

/// Why a 2xx response's body is not the JSON it should be (cut off, or a proxy's HTML page),
/// naming the parse position; `None` when it parses, is empty, or is not meant to be JSON
/// (a plain-text body is the connector's to judge, e.g. by a `response_actions` content
/// match). Runs on the fetch worker that read the body.
fn broken_json(r: &Response) -> Option<String> {
    // An empty body is an empty page (as in dlt), not a broken one.
    if !(200..300).contains(&r.status) || r.body.iter().all(u8::is_ascii_whitespace) {
        return None;
    }
    let content_type = r.header("content-type").unwrap_or("").to_ascii_lowercase();
    let json = content_type.is_empty() || content_type.contains("json");
    if !json && !content_type.contains("html") {
        return None;
    }
    serde_json::from_slice::<serde::de::IgnoredAny>(&r.body)
        .err()
        .map(|e| format!("the body is not valid JSON: {e}"))
}

/// The injection of `auth` with its credentials' `values`, in [`Auth::credentials`] order.
fn injection<'a>(auth: &'a Auth, values: &'a [Secret]) -> Injection<'a> {
    let at = |i: usize| values.get(i).map_or("", Secret::expose);
    match auth {
        Auth::Query { name, .. } => Injection::Query(name, at(0)),
        Auth::Header { name, .. } => Injection::Header(name, at(0)),
        Auth::Cookie { name, .. } => Injection::Cookie(name, at(0)),
        Auth::Bearer(_) => Injection::Bearer(at(0)),
        Auth::Basic { .. } => Injection::Basic(at(0), at(1)),
        // `send` injects the access token itself; this is never sent.
        Auth::OAuth2(_) => Injection::Bearer(""),
    }
}

fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(PoisonError::into_inner)
}

fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(PoisonError::into_inner)
}

fn lock<T>(lock: &Mutex<T>) -> MutexGuard<'_, T> {
    lock.lock().unwrap_or_else(PoisonError::into_inner)
}
