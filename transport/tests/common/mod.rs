//! A scripted HTTP server on 127.0.0.1 that records what it receives.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use sluice_mock_api::{HttpReply, HttpRequest, HttpServer};

use sluice_transport::{Client, ClientConfig, Event, RetryPolicy, SecretResolver};

/// One scripted reply.
#[derive(Clone, Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
    pub delay: Duration,
}

pub fn reply(status: u16) -> Reply {
    Reply {
        status,
        headers: Vec::new(),
        body: format!("{{\"status\":{status}}}"),
        delay: Duration::ZERO,
    }
}

impl Reply {
    pub fn body(mut self, body: &str) -> Reply {
        self.body = body.to_string();
        self
    }
    pub fn header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }
    pub fn delay(mut self, d: Duration) -> Reply {
        self.delay = d;
        self
    }
}

/// What the server saw of one request.
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

pub struct TestServer {
    server: HttpServer,
    pub port: u16,
    pub seen: Arc<Mutex<Vec<Seen>>>,
}

impl TestServer {
    /// Serves `script` in order; the last reply repeats.
    pub fn start(script: Vec<Reply>) -> TestServer {
        TestServer::serve(move |_, n| script[(n - 1).min(script.len() - 1)].clone())
    }

    /// Answers each request with `handler(request, how many requests so far, this one included)`.
    pub fn serve(handler: impl Fn(&Seen, usize) -> Reply + Send + Sync + 'static) -> TestServer {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        let answer = move |rq: &HttpRequest| {
            let this = Seen {
                method: rq.method.clone(),
                url: rq.target.clone(),
                headers: rq.headers.clone(),
                body: String::from_utf8_lossy(&rq.body).into_owned(),
            };
            let n = {
                let mut log = log.lock().unwrap();
                log.push(this.clone());
                log.len()
            };
            let r = handler(&this, n);
            HttpReply {
                status: r.status,
                headers: r.headers,
                body: r.body.into_bytes(),
                delay: r.delay,
            }
        };
        let server = HttpServer::start(([127, 0, 0, 1], 0).into(), Arc::new(answer)).unwrap();
        TestServer {
            port: server.addr().port(),
            server,
            seen,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

/// A fast policy: 10ms, 20ms, ... no jitter.
pub fn fast_policy(max_attempts: u32) -> RetryPolicy {
    RetryPolicy {
        max_attempts,
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(200),
        jitter: 0.0,
        ..RetryPolicy::default()
    }
}

pub fn client(allowed: &[String], max_attempts: u32, env: &[(&str, &str)]) -> Client {
    client_with_timeout(allowed, max_attempts, env, Duration::from_millis(500))
}

/// [`client`] with another timeout per attempt (for tests that load the machine).
pub fn client_with_timeout(
    allowed: &[String],
    max_attempts: u32,
    env: &[(&str, &str)],
    timeout: Duration,
) -> Client {
    client_with(allowed, env, |c| {
        c.policy = fast_policy(max_attempts);
        c.timeout = timeout;
    })
}

/// A client for `allowed` hosts with the secrets of `env`, its config set by `tune`
/// (from 3 fast attempts and a 500 ms timeout).
pub fn client_with(
    allowed: &[String],
    env: &[(&str, &str)],
    tune: impl FnOnce(&mut ClientConfig),
) -> Client {
    let vars: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let dir = std::env::temp_dir().join("sluice-transport-tests-nonexistent");
    let resolver = SecretResolver::new(None, dir)
        .with_env(move |name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()));
    let mut config = ClientConfig {
        policy: fast_policy(3),
        timeout: Duration::from_millis(500),
        allowed_hosts: allowed.to_vec(),
        user_agent: "sluice-test".into(),
        max_body: sluice_transport::MAX_BODY,
        network: Default::default(),
        // Straight to the servers on 127.0.0.1, whatever proxy the machine names.
        env_proxy: false,
        ..ClientConfig::default()
    };
    tune(&mut config);
    Client::new(config, resolver).unwrap()
}

/// Collects retry events as `(attempt, reason, wait)`.
pub fn recorder(events: &mut Vec<(u32, String, Duration)>) -> impl FnMut(Event<'_>) + '_ {
    move |e| match e {
        Event::Retry {
            attempt,
            reason,
            wait,
            ..
        } => events.push((attempt, reason, wait)),
    }
}
