//! The client: allow-list check, secret resolution, injection, and the retry loop.

use std::collections::HashMap;
use std::fmt;
use std::time::{Duration, SystemTime};

use reqwest::Url;

use crate::allow::{AllowList, url_host};
use crate::error::TransportError;
use crate::exchange::{Exchange, Failure, MAX_BODY};
use crate::inject::{Injection, basic_value};
use crate::request::{Auth, Credential, Request, Response};
use crate::retry::{Attempt, Decision, RetryPolicy};
use crate::secret::{Redactor, Secret, SecretResolver};

/// How the client behaves.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    pub policy: RetryPolicy,
    /// Per attempt, from connecting to the end of the body.
    pub timeout: Duration,
    /// `host:port` entries, or `host` for any port.
    pub allowed_hosts: Vec<String>,
    pub user_agent: String,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            policy: RetryPolicy::default(),
            timeout: Duration::from_secs(30),
            allowed_hosts: Vec::new(),
            user_agent: format!("sluice-transport/{}", env!("CARGO_PKG_VERSION")),
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
    },
}

/// Sends planned requests over HTTP.
pub struct Client {
    http: reqwest::blocking::Client,
    config: ClientConfig,
    allow: AllowList,
    resolver: SecretResolver,
    secrets: HashMap<String, Secret>,
    redactor: Redactor,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("config", &self.config)
            .field("resolver", &self.resolver)
            .field("secrets", &self.secrets.len())
            .finish_non_exhaustive()
    }
}

impl Client {
    pub fn new(config: ClientConfig, resolver: SecretResolver) -> Result<Client, TransportError> {
        let http = reqwest::blocking::Client::builder()
            .timeout(config.timeout)
            .user_agent(config.user_agent.clone())
            // Redirects are followed by hand, to check the allow-list and strip credentials.
            .redirect(reqwest::redirect::Policy::none())
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
            secrets: HashMap::new(),
            redactor: Redactor::default(),
        })
    }

    /// Resolves (and caches) every secret `auth` names, so a missing secret fails before any request.
    pub fn prepare(&mut self, auth: &Auth) -> Result<(), TransportError> {
        for credential in auth.credentials() {
            match credential {
                Credential::Secret(name) => {
                    if !self.secrets.contains_key(name) {
                        let secret = self.resolver.resolve(name)?;
                        self.redactor.add(&secret);
                        self.secrets.insert(name.clone(), secret);
                    }
                }
                Credential::Literal(value) => self.redactor.add(&Secret::new(value.clone())),
            }
        }
        if matches!(auth, Auth::OAuth2(_)) {
            return Err(TransportError::Build {
                message: "oauth2_client_credentials is not supported by this host yet".into(),
            });
        }
        if let Auth::Basic { username, password } = auth {
            let pair = basic_value(self.value(username), self.value(password));
            self.redactor
                .add_pattern(pair.trim_end_matches('=').to_string());
            self.redactor.add_pattern(pair);
        }
        Ok(())
    }

    /// Every secret resolved so far and every literal credential seen.
    pub fn redactor(&self) -> &Redactor {
        &self.redactor
    }

    fn value<'a>(&'a self, credential: &'a Credential) -> &'a str {
        match credential {
            Credential::Secret(name) => self.secrets.get(name).map_or("", Secret::expose),
            Credential::Literal(value) => value,
        }
    }

    fn injection<'a>(&'a self, auth: &'a Auth) -> Injection<'a> {
        match auth {
            Auth::Query { name, value } => Injection::Query(name, self.value(value)),
            Auth::Header { name, value } => Injection::Header(name, self.value(value)),
            Auth::Cookie { name, value } => Injection::Cookie(name, self.value(value)),
            Auth::Bearer(value) => Injection::Bearer(self.value(value)),
            Auth::Basic { username, password } => {
                Injection::Basic(self.value(username), self.value(password))
            }
            // `prepare` refuses OAuth2 until the token flow exists, so this is never sent.
            Auth::OAuth2(_) => Injection::Bearer(""),
        }
    }

    /// Sends `request` with retries. Returns the final response for any status that is not
    /// retryable (the caller decides what a 4xx means); retryable statuses, connection errors
    /// and timeouts are retried per the policy, then fail with `RetriesExhausted`, `Connect`
    /// or `Timeout`.
    pub fn send(
        &mut self,
        request: &Request,
        on_event: &mut dyn FnMut(Event<'_>),
    ) -> Result<Response, TransportError> {
        let planned = self.check(request)?;
        if let Some(auth) = &request.auth {
            self.prepare(auth)?;
        }
        let display_url = self.redactor.redact(&request.url);
        let exchange = Exchange {
            http: &self.http,
            allow: &self.allow,
            request,
            planned,
            injection: request.auth.as_ref().map(|a| self.injection(a)),
            display_url: &display_url,
        };
        let policy = &self.config.policy;
        let mut rng = rand::rng();
        let mut attempt = 1u32;
        loop {
            let outcome = exchange.run();
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
                Err(_) => (Decision::Done, String::new()),
            };
            match decision {
                Decision::RetryAfter(wait) => {
                    on_event(Event::Retry {
                        attempt,
                        reason,
                        wait,
                        url: &display_url,
                    });
                    std::thread::sleep(wait);
                    attempt += 1;
                }
                Decision::Done | Decision::GiveUp => {
                    let gave_up = decision == Decision::GiveUp;
                    return self.finish(outcome, gave_up, attempt, reason, &display_url);
                }
            }
        }
    }

    /// The planned URL, parsed and checked against the allow-list.
    fn check(&self, request: &Request) -> Result<Url, TransportError> {
        let display = || self.redactor.redact(&request.url);
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
        if !self.allow.allows(&host) {
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
                message: format!("larger than {MAX_BODY} bytes"),
            },
            Err(Failure::Builder) => TransportError::Http {
                url,
                message: "cannot build the request".into(),
            },
            Err(Failure::Fatal(e)) => e,
        };
        Err(self.scrub(error))
    }

    /// Passes every string of `e` through the redactor (defence in depth).
    fn scrub(&self, e: TransportError) -> TransportError {
        let r = |s: String| self.redactor.redact(&s);
        match e {
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
            other => other,
        }
    }
}
