//! The client: allow-list check, secret resolution, injection, and the retry loop.

use std::collections::HashMap;
use std::fmt;
use std::time::{Duration, Instant, SystemTime};

use reqwest::Url;

use crate::allow::{AllowList, url_host};
use crate::error::TransportError;
use crate::exchange::{Exchange, Failure, MAX_BODY};
use crate::inject::{Injection, basic_value};
use crate::oauth::{self, TokenCache};
use crate::request::{Auth, ClientAuth, Credential, Method, OAuth2, Request, Response};
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
    tokens: TokenCache,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("config", &self.config)
            .field("resolver", &self.resolver)
            .field("secrets", &self.secrets.len())
            .field("tokens", &self.tokens.len())
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
            tokens: TokenCache::default(),
        })
    }

    /// Resolves (and caches) every secret `auth` names, so a missing secret fails before any
    /// request. Sends nothing: an OAuth2 token is fetched by the first [`Client::send`].
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
        let pair = match auth {
            Auth::Basic { username, password } => Some((username, password)),
            Auth::OAuth2(o) if o.client_auth == ClientAuth::Basic => {
                Some((&o.client_id, &o.client_secret))
            }
            _ => None,
        };
        if let Some((user, password)) = pair {
            let pair = basic_value(self.value(user), self.value(password));
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
            // `send` injects the access token itself; this is never sent.
            Auth::OAuth2(_) => Injection::Bearer(""),
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
        &mut self,
        request: &Request,
        on_event: &mut dyn FnMut(Event<'_>),
    ) -> Result<Response, TransportError> {
        let planned = self.check(request)?;
        if let Some(auth) = &request.auth {
            self.prepare(auth)?;
        }
        let display_url = self.redactor.redact(&request.url);
        let Some(Auth::OAuth2(grant)) = &request.auth else {
            let injection = request.auth.as_ref().map(|a| self.injection(a));
            return self.attempts(request, planned, injection, &display_url, on_event);
        };
        let token = self.token(grant, on_event)?;
        let injection = Some(Injection::Bearer(token.expose()));
        let response =
            self.attempts(request, planned.clone(), injection, &display_url, on_event)?;
        if response.status != 401 {
            return Ok(response);
        }
        self.tokens.invalidate(grant);
        let token = self.token(grant, on_event)?;
        let injection = Some(Injection::Bearer(token.expose()));
        self.attempts(request, planned, injection, &display_url, on_event)
    }

    /// The access token of `grant`: cached, or fetched from its token URL.
    fn token(
        &mut self,
        grant: &OAuth2,
        on_event: &mut dyn FnMut(Event<'_>),
    ) -> Result<Secret, TransportError> {
        if let Some(token) = self.tokens.get(grant, Instant::now()) {
            return Ok(token.clone());
        }
        let id = self.value(&grant.client_id).to_string();
        let secret = self.value(&grant.client_secret).to_string();
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
            body: Some(oauth::form_body(grant, &id, &secret)),
            auth: None,
        };
        let planned = self.check(&request)?;
        let display_url = self.redactor.redact(&grant.token_url);
        let injection = match grant.client_auth {
            ClientAuth::Basic => Some(Injection::Basic(&id, &secret)),
            ClientAuth::Body => None,
        };
        let response = self.attempts(&request, planned, injection, &display_url, on_event)?;
        let token = oauth::parse_token(&response, Instant::now()).map_err(|message| {
            TransportError::Token {
                url: display_url.clone(),
                message,
            }
            .scrubbed(&self.redactor)
        })?;
        self.redactor.add(&token.value);
        let value = token.value.clone();
        self.tokens.insert(grant, token);
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
                        url: display_url,
                    });
                    std::thread::sleep(wait);
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
        Err(error.scrubbed(&self.redactor))
    }
}
