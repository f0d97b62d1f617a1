//! A scenario server for the dlt-parity tests: tiny_http on 127.0.0.1 whose routes answer
//! from a closure over the request (method, path, query, headers, body), recording every
//! request for exact assertions (see scenario.rs for the harness around it).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use super::http::{Reply, Req, decode};

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
        // TCP_NODELAY: answers go out at once, not after the client's delayed ACK.
        let http =
            Arc::new(sluice_mock_api::listen(([127, 0, 0, 1], 0).into()).expect("server binds"));
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
