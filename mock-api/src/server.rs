//! The HTTP server: tiny_http on 127.0.0.1 with a few worker threads.

use std::io;
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tiny_http::{Header, Request, Response, Server};

pub use crate::handler::RecordedRequest;
use crate::handler::{Answer, State};
use crate::query::split_target;
use crate::{Fault, MockConfig};

const WORKERS: usize = 4;

/// A running mock inventory API. Dropping it stops the server and its threads.
pub struct MockServer {
    addr: SocketAddr,
    /// `None` only while dropping.
    http: Option<Arc<Server>>,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
    workers: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for MockServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockServer")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl MockServer {
    /// Binds 127.0.0.1:`config.port` (0 = any free port) and starts serving.
    pub fn start(config: MockConfig) -> io::Result<MockServer> {
        let http = listen(SocketAddr::from(([127, 0, 0, 1], config.port)))?;
        let addr = http
            .server_addr()
            .to_ip()
            .ok_or_else(|| io::Error::other("server is not listening on an IP address"))?;
        let http = Arc::new(http);
        let state = Arc::new(Mutex::new(State::new(config)));
        let stop = Arc::new(AtomicBool::new(false));
        let mut workers = Vec::with_capacity(WORKERS);
        for n in 0..WORKERS {
            let (w_http, w_state, w_stop) =
                (Arc::clone(&http), Arc::clone(&state), Arc::clone(&stop));
            let spawned = std::thread::Builder::new()
                .name(format!("sluice-mock-api-{n}"))
                .spawn(move || serve(&w_http, &w_state, &w_stop));
            match spawned {
                Ok(handle) => workers.push(handle),
                Err(err) => {
                    // Stop the workers already started before failing.
                    drop(MockServer {
                        addr,
                        http: Some(http),
                        state,
                        stop,
                        workers,
                    });
                    return Err(err);
                }
            }
        }
        Ok(MockServer {
            addr,
            http: Some(http),
            state,
            stop,
            workers,
        })
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Every request received so far, in order, with the status answered.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.lock().requests.clone()
    }

    /// Forgets the recorded requests.
    pub fn clear_requests(&self) {
        self.lock().requests.clear();
    }

    /// Changes the items "upstream"; see [`crate::item`].
    pub fn set_generation(&self, generation: u64) {
        self.lock().config.generation = generation;
    }

    /// The current generation.
    pub fn generation(&self) -> u64 {
        self.lock().config.generation
    }

    /// Queues more faults, after those already pending.
    pub fn add_faults(&self, faults: impl IntoIterator<Item = Fault>) {
        let mut state = self.lock();
        state
            .config
            .faults
            .extend(faults.into_iter().filter(|f| f.times > 0));
    }

    /// The faults not yet used up, with their remaining `times`.
    pub fn pending_faults(&self) -> Vec<Fault> {
        self.lock().config.faults.clone()
    }

    /// Blocks the calling thread while the server runs (for `sluice mock-api`).
    pub fn wait(mut self) {
        for worker in std::mem::take(&mut self.workers) {
            let _ = worker.join();
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let Some(http) = self.http.take() else {
            return;
        };
        for _ in 0..self.workers.len() {
            http.unblock();
        }
        for worker in self.workers.drain(..) {
            let _ = worker.join();
        }
        if let Ok(http) = Arc::try_unwrap(http) {
            drop(http);
            wait_until_closed(self.addr);
        }
    }
}

/// tiny_http closes its listener from a detached accept thread shortly after the
/// `Server` is dropped; wait (briefly) for that so the port is free when drop returns.
fn wait_until_closed(addr: SocketAddr) {
    let deadline = Instant::now() + Duration::from_secs(2);
    while Instant::now() < deadline {
        match TcpStream::connect_timeout(&addr, Duration::from_millis(200)) {
            Ok(_) => std::thread::sleep(Duration::from_millis(5)),
            Err(_) => return,
        }
    }
}

/// A tiny_http server on `addr` whose connections send each write at once (`TCP_NODELAY`,
/// inherited by accepted sockets): tiny_http writes a response's head and body separately,
/// and with Nagle's algorithm the body then waits for the client's delayed ACK (~40 ms a
/// request on Linux loopback).
pub fn listen(addr: SocketAddr) -> io::Result<Server> {
    let socket = socket2::Socket::new(
        socket2::Domain::for_address(addr),
        socket2::Type::STREAM,
        Some(socket2::Protocol::TCP),
    )?;
    socket.set_reuse_address(true)?;
    socket.set_tcp_nodelay(true)?;
    socket.bind(&addr.into())?;
    socket.listen(128)?;
    let listener: std::net::TcpListener = socket.into();
    Server::from_listener(listener, None).map_err(io::Error::other)
}

fn serve(http: &Server, state: &Mutex<State>, stop: &AtomicBool) {
    while !stop.load(Ordering::SeqCst) {
        match http.recv() {
            Ok(request) => {
                let latency = state
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .config
                    .latency;
                if !latency.is_zero() {
                    std::thread::sleep(latency);
                }
                respond(request, state);
            }
            Err(_) => continue,
        }
    }
}

fn respond(request: Request, state: &Mutex<State>) {
    let (path, query) = split_target(request.url());
    let headers = request
        .headers()
        .iter()
        .map(|h| (h.field.as_str().to_string(), h.value.as_str().to_string()))
        .collect();
    let method = request.method().as_str().to_string();
    // Decide and record under one lock, before answering: a client that has read its
    // response always finds its request in the log.
    let answer: Answer = state
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .handle(method, path, query, headers);
    // Always a Content-Length body (never chunked), whatever the page size.
    let mut response = Response::from_string(answer.body)
        .with_status_code(answer.status)
        .with_chunked_threshold(usize::MAX);
    if let Ok(h) = Header::from_bytes(&b"Content-Type"[..], &b"application/json"[..]) {
        response.add_header(h);
    }
    if let Some(value) = answer.retry_after
        && let Ok(h) = Header::from_bytes(&b"Retry-After"[..], value.as_bytes())
    {
        response.add_header(h);
    }
    // The client may have gone away; nothing to do about it.
    let _ = request.respond(response);
}
