//! A scenario server for the dlt-parity tests: [`HttpServer`] on 127.0.0.1 whose routes answer
//! from a closure over the request (method, path, query, headers, body), recording every
//! request for exact assertions (see scenario.rs for the harness around it).

use std::sync::{Arc, Mutex};

use sluice_mock_api::{HttpReply, HttpRequest, HttpServer};

use super::http::{Reply, Req, decode};

/// A running scenario server; dropping it stops it.
pub struct Server {
    http: HttpServer,
    log: Arc<Mutex<Vec<Req>>>,
}

impl Server {
    pub fn start(handler: impl Fn(&Req) -> Reply + Send + Sync + 'static) -> Server {
        let log = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&log);
        let answer = move |request: &HttpRequest| {
            let (path, query) = split_url(&request.target);
            let req = Req {
                method: request.method.to_uppercase(),
                path,
                query,
                headers: request.headers.clone(),
                body: String::from_utf8_lossy(&request.body).into_owned(),
            };
            seen.lock().unwrap().push(req.clone());
            let reply = handler(&req);
            HttpReply {
                status: reply.status,
                headers: reply.headers,
                body: reply.body,
                delay: reply.delay,
            }
        };
        let http =
            HttpServer::start(([127, 0, 0, 1], 0).into(), Arc::new(answer)).expect("server binds");
        Server { http, log }
    }

    /// `http://127.0.0.1:PORT` without a trailing slash.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.http.addr())
    }

    /// The most requests the server was answering at once.
    pub fn max_concurrent(&self) -> usize {
        self.http.max_concurrent()
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
