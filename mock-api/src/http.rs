//! A small HTTP/1.1 server on hyper for the mock API and the test servers: keep-alive,
//! every connection served concurrently (a slow answer holds no thread), `TCP_NODELAY` on
//! every connection, and a count of the requests in progress at once.
//!
//! The handler is a plain function of the request, run on the server's runtime; the reply
//! can ask to be sent after a delay (a slow API) without blocking other connections.

use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::sync::watch;

/// A request as the handler sees it. Header names are lowercase.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRequest {
    pub method: String,
    /// Path and query, as sent (`/v1/items?offset=0`).
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Requests the server was answering when this one arrived, this one included.
    pub concurrent: usize,
}

/// The answer to a request.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HttpReply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Wait this long before answering.
    pub delay: Duration,
}

/// What a server calls for each request.
pub type Handler = dyn Fn(&HttpRequest) -> HttpReply + Send + Sync;

/// Requests in progress now and the most seen at once.
#[derive(Debug, Default)]
struct Concurrency {
    now: AtomicUsize,
    max: AtomicUsize,
}

/// A running server. Dropping it stops it: the listener closes and open connections drop.
#[derive(Debug)]
pub struct HttpServer {
    addr: SocketAddr,
    stop: Option<watch::Sender<bool>>,
    thread: Option<JoinHandle<()>>,
    concurrency: Arc<Concurrency>,
}

impl HttpServer {
    /// Binds `addr` (port 0: any free port) and serves `handler` on a thread of its own.
    pub fn start(addr: SocketAddr, handler: Arc<Handler>) -> io::Result<HttpServer> {
        let listener = std::net::TcpListener::bind(addr)?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("sluice-http-server")
            .enable_all()
            .build()?;
        let (stop, stopped) = watch::channel(false);
        let concurrency = Arc::new(Concurrency::default());
        let count = Arc::clone(&concurrency);
        let thread = std::thread::Builder::new()
            .name("sluice-http-accept".into())
            .spawn(move || {
                runtime.block_on(accept(listener, handler, count, stopped));
                // Open connections are dropped with the runtime.
                runtime.shutdown_background();
            })?;
        Ok(HttpServer {
            addr,
            stop: Some(stop),
            thread: Some(thread),
            concurrency,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The most requests that were in progress at once so far.
    pub fn max_concurrent(&self) -> usize {
        self.concurrency.max.load(Ordering::SeqCst)
    }

    /// Waits until the server stops (it runs until dropped, so: forever).
    pub fn wait(mut self) {
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(true);
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

async fn accept(
    listener: std::net::TcpListener,
    handler: Arc<Handler>,
    count: Arc<Concurrency>,
    mut stopped: watch::Receiver<bool>,
) {
    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
        return;
    };
    loop {
        let accepted = tokio::select! {
            _ = stopped.changed() => return,
            accepted = listener.accept() => accepted,
        };
        let Ok((stream, _)) = accepted else {
            continue;
        };
        // Answers go out at once, not after the client's delayed ACK (~40 ms on Linux).
        let _ = stream.set_nodelay(true);
        let (handler, count) = (Arc::clone(&handler), Arc::clone(&count));
        let mut stop = stopped.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request| {
                let (handler, count) = (Arc::clone(&handler), Arc::clone(&count));
                async move { Ok::<_, Infallible>(answer(request, &*handler, &count).await) }
            });
            let connection = http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), service);
            tokio::select! {
                _ = connection => {}
                _ = stop.changed() => {}
            }
        });
    }
}

async fn answer(
    request: hyper::Request<Incoming>,
    handler: &Handler,
    count: &Concurrency,
) -> hyper::Response<Full<Bytes>> {
    let now = count.now.fetch_add(1, Ordering::SeqCst) + 1;
    count.max.fetch_max(now, Ordering::SeqCst);
    let (parts, body) = request.into_parts();
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes().to_vec())
        .unwrap_or_default();
    let request = HttpRequest {
        method: parts.method.as_str().to_string(),
        target: parts
            .uri
            .path_and_query()
            .map_or_else(|| parts.uri.path().to_string(), |p| p.as_str().to_string()),
        headers: parts
            .headers
            .iter()
            .map(|(n, v)| {
                let value = String::from_utf8_lossy(v.as_bytes()).into_owned();
                (n.as_str().to_string(), value)
            })
            .collect(),
        body,
        concurrent: now,
    };
    let reply = handler(&request);
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    count.now.fetch_sub(1, Ordering::SeqCst);
    let mut response = hyper::Response::new(Full::new(Bytes::from(reply.body)));
    *response.status_mut() =
        hyper::StatusCode::from_u16(reply.status).unwrap_or(hyper::StatusCode::OK);
    for (name, value) in reply.headers {
        if let (Ok(n), Ok(v)) = (
            hyper::header::HeaderName::from_bytes(name.as_bytes()),
            hyper::header::HeaderValue::from_str(&value),
        ) {
            response.headers_mut().append(n, v);
        }
    }
    response
}
