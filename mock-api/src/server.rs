//! The HTTP server: the mock API's handler on [`crate::http::HttpServer`] at 127.0.0.1.

use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

pub use crate::handler::RecordedRequest;
use crate::handler::{Answer, State};
use crate::http::{HttpReply, HttpRequest, HttpServer};
use crate::query::split_target;
use crate::{Fault, MockConfig};

/// A running mock inventory API. Dropping it stops the server.
pub struct MockServer {
    http: HttpServer,
    state: Arc<Mutex<State>>,
}

impl std::fmt::Debug for MockServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockServer")
            .field("addr", &self.http.addr())
            .finish_non_exhaustive()
    }
}

impl MockServer {
    /// Binds 127.0.0.1:`config.port` (0 = any free port) and starts serving.
    pub fn start(config: MockConfig) -> io::Result<MockServer> {
        let addr = SocketAddr::from(([127, 0, 0, 1], config.port));
        let state = Arc::new(Mutex::new(State::new(config)));
        let shared = Arc::clone(&state);
        let http = HttpServer::start(addr, Arc::new(move |rq: &HttpRequest| respond(rq, &shared)))?;
        Ok(MockServer { http, state })
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.http.addr())
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.http.addr()
    }

    /// The most requests the server was answering at once so far.
    pub fn max_concurrent(&self) -> usize {
        self.http.max_concurrent()
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
    pub fn wait(self) {
        self.http.wait();
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn respond(request: &HttpRequest, state: &Mutex<State>) -> HttpReply {
    let (path, query) = split_target(&request.target);
    // Decide and record under one lock, before answering: a client that has read its
    // response always finds its request in the log.
    let (answer, delay): (Answer, _) = {
        let mut state = state.lock().unwrap_or_else(PoisonError::into_inner);
        let delay = state.config.latency;
        let answer = state.handle(
            request.method.clone(),
            path,
            query,
            request.headers.clone(),
            request.concurrent,
        );
        (answer, delay)
    };
    let mut headers = vec![("content-type".to_string(), "application/json".to_string())];
    if let Some(value) = answer.retry_after {
        headers.push(("retry-after".to_string(), value));
    }
    HttpReply {
        status: answer.status,
        headers,
        body: answer.body.into_bytes(),
        delay,
    }
}
