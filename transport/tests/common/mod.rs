//! A scripted HTTP server on 127.0.0.1 that records what it receives.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

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
    server: Arc<tiny_http::Server>,
    pub port: u16,
    pub seen: Arc<Mutex<Vec<Seen>>>,
    thread: Option<JoinHandle<()>>,
}

impl TestServer {
    /// Serves `script` in order; the last reply repeats.
    pub fn start(script: Vec<Reply>) -> TestServer {
        TestServer::serve(move |_, n| script[(n - 1).min(script.len() - 1)].clone())
    }

    /// Answers each request with `handler(request, how many requests so far, this one included)`.
    pub fn serve(handler: impl Fn(&Seen, usize) -> Reply + Send + 'static) -> TestServer {
        let server = Arc::new(listen_nodelay());
        let port = server.server_addr().to_ip().unwrap().port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (srv, log) = (server.clone(), seen.clone());
        let thread = std::thread::spawn(move || {
            while let Ok(mut rq) = srv.recv() {
                let mut body = String::new();
                let _ = rq.as_reader().read_to_string(&mut body);
                let headers = rq
                    .headers()
                    .iter()
                    .map(|h| (h.field.as_str().to_string(), h.value.as_str().to_string()))
                    .collect();
                let this = Seen {
                    method: rq.method().to_string(),
                    url: rq.url().to_string(),
                    headers,
                    body,
                };
                let n = {
                    let mut log = log.lock().unwrap();
                    log.push(this.clone());
                    log.len()
                };
                let r = handler(&this, n);
                std::thread::sleep(r.delay);
                let mut response =
                    tiny_http::Response::from_string(r.body.clone()).with_status_code(r.status);
                for (name, value) in &r.headers {
                    response = response.with_header(
                        tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes()).unwrap(),
                    );
                }
                let _ = rq.respond(response);
            }
        });
        TestServer {
            server,
            port,
            seen,
            thread: Some(thread),
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

impl Drop for TestServer {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
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
    let vars: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let dir = std::env::temp_dir().join("sluice-transport-tests-nonexistent");
    let resolver = SecretResolver::new(None, dir)
        .with_env(move |name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()));
    let config = ClientConfig {
        policy: fast_policy(max_attempts),
        timeout: Duration::from_millis(500),
        allowed_hosts: allowed.to_vec(),
        user_agent: "sluice-test".into(),
    };
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

/// tiny_http on a free loopback port whose connections send each write at once
/// (`TCP_NODELAY`, inherited by accepted sockets), so no answer waits ~40 ms for a delayed ACK.
pub fn listen_nodelay() -> tiny_http::Server {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    socket.set_tcp_nodelay(true).unwrap();
    let addr: std::net::SocketAddr = ([127, 0, 0, 1], 0).into();
    socket.bind(&addr.into()).unwrap();
    socket.listen(64).unwrap();
    tiny_http::Server::from_listener(std::net::TcpListener::from(socket), None).unwrap()
}
