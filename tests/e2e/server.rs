//! A scenario server for the dlt-parity tests: tiny_http on 127.0.0.1 whose routes answer
//! from a closure over the request (method, path, query, headers, body), recording every
//! request for exact assertions (see env.rs for the scenario harness around it).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use serde_json::Value;

/// One request as the server saw it (query decoded, header names lower-cased).
#[derive(Debug, Clone)]
pub struct Req {
    pub method: String,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Req {
    pub fn q(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// A query parameter parsed as a number (0 when absent or not a number).
    pub fn qn(&self, name: &str) -> usize {
        self.q(name).and_then(|v| v.parse().ok()).unwrap_or(0)
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }

    /// `METHOD /path?a=1&b=2 {body}`: query sorted by name, JSON body with sorted keys.
    pub fn line(&self) -> String {
        let mut query = self.query.clone();
        query.sort();
        let mut line = format!("{} {}", self.method, self.path);
        if !query.is_empty() {
            let q: Vec<String> = query.iter().map(|(k, v)| format!("{k}={v}")).collect();
            line.push('?');
            line.push_str(&q.join("&"));
        }
        if !self.body.is_empty() {
            line.push(' ');
            match serde_json::from_str::<Value>(&self.body) {
                Ok(v) => line.push_str(&canonical(&v)),
                Err(_) => line.push_str(&self.body),
            }
        }
        line
    }
}

/// JSON text with object keys sorted, recursively.
pub fn canonical(value: &Value) -> String {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let fields: Vec<String> = keys
                .iter()
                .map(|k| format!("{}:{}", Value::String((*k).clone()), canonical(&map[*k])))
                .collect();
            format!("{{{}}}", fields.join(","))
        }
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(canonical).collect();
            format!("[{}]", items.join(","))
        }
        other => other.to_string(),
    }
}

/// What a route answers.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(value: Value) -> Reply {
        Reply {
            status: 200,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: value.to_string().into_bytes(),
        }
    }

    pub fn status(status: u16, body: &str) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: body.as_bytes().to_vec(),
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.into(), value.into()));
        self
    }
}

pub type Handler = dyn Fn(&Req) -> Reply + Send + Sync;

/// A running scenario server; dropping it stops it.
pub struct Server {
    addr: SocketAddr,
    http: Arc<tiny_http::Server>,
    log: Arc<Mutex<Vec<Req>>>,
    stop: Arc<AtomicBool>,
    workers: Vec<JoinHandle<()>>,
}

impl Server {
    pub fn start(handler: impl Fn(&Req) -> Reply + Send + Sync + 'static) -> Server {
        let http = Arc::new(tiny_http::Server::http("127.0.0.1:0").expect("server binds"));
        let addr = http.server_addr().to_ip().expect("an IP address");
        let handler: Arc<Handler> = Arc::new(handler);
        let log = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let workers = (0..4)
            .map(|_| {
                let (http, handler, log, stop) = (
                    Arc::clone(&http),
                    Arc::clone(&handler),
                    Arc::clone(&log),
                    Arc::clone(&stop),
                );
                std::thread::spawn(move || serve(&http, &*handler, &log, &stop))
            })
            .collect();
        Server {
            addr,
            http,
            log,
            stop,
            workers,
        }
    }

    /// `http://127.0.0.1:PORT` without a trailing slash.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn requests(&self) -> Vec<Req> {
        self.log.lock().unwrap().clone()
    }

    /// Every request as a `line()`, in the order received.
    pub fn lines(&self) -> Vec<String> {
        self.requests().iter().map(Req::line).collect()
    }

    /// Every request as a `line()`, sorted (for requests that may be sent concurrently).
    pub fn sorted_lines(&self) -> Vec<String> {
        let mut lines = self.lines();
        lines.sort();
        lines
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        self.http.unblock();
        for worker in self.workers.drain(..) {
            let _ = worker.join();
        }
    }
}

fn serve(http: &tiny_http::Server, handler: &Handler, log: &Mutex<Vec<Req>>, stop: &AtomicBool) {
    while !stop.load(Ordering::SeqCst) {
        let mut request = match http.recv_timeout(Duration::from_millis(50)) {
            Ok(Some(request)) => request,
            Ok(None) => continue,
            Err(_) => return,
        };
        let mut body = String::new();
        let _ = request.as_reader().read_to_string(&mut body);
        let (path, query) = split_url(request.url());
        let req = Req {
            method: request.method().to_string().to_uppercase(),
            path,
            query,
            headers: request
                .headers()
                .iter()
                .map(|h| {
                    (
                        h.field.as_str().as_str().to_ascii_lowercase(),
                        h.value.as_str().to_string(),
                    )
                })
                .collect(),
            body,
        };
        log.lock().unwrap().push(req.clone());
        let reply = handler(&req);
        let mut response =
            tiny_http::Response::from_data(reply.body).with_status_code(reply.status);
        for (name, value) in &reply.headers {
            if let Ok(h) = tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes()) {
                response.add_header(h);
            }
        }
        let _ = request.respond(response);
    }
}

fn split_url(url: &str) -> (String, Vec<(String, String)>) {
    let (path, query) = url.split_once('?').unwrap_or((url, ""));
    let pairs = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect();
    (decode(path), pairs)
}

/// Percent-decoding (and `+` as space) of a URL component.
pub fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
