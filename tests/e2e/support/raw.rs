//! [`RawListener`]: a plain TCP listener on a loopback address whose thread hands each
//! accepted connection to a closure, stopped (and joined) when the handle drops: for the
//! servers the hyper test server cannot play (a canary, a 2 GiB stream).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;

pub struct RawListener {
    pub port: u16,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl RawListener {
    /// Listens on `ip` (a loopback address), port chosen by the system; `serve` gets every
    /// connection, and whether the listener is stopping.
    pub fn start(
        ip: &str,
        mut serve: impl FnMut(TcpStream, &AtomicBool) + Send + 'static,
    ) -> RawListener {
        let listener = TcpListener::bind((ip, 0)).unwrap_or_else(|e| panic!("bind {ip}: {e}"));
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            while !stopping.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((conn, _)) => {
                        conn.set_nonblocking(false).unwrap();
                        serve(conn, &stopping);
                    }
                    Err(_) => std::thread::sleep(std::time::Duration::from_millis(5)),
                }
            }
        });
        RawListener {
            port,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for RawListener {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Reads an HTTP request's head (up to the blank line) from `conn`; `None` when the
/// connection ends or fails first.
pub fn read_head(conn: &mut impl Read) -> Option<String> {
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = conn.read(&mut buf).ok().filter(|n| *n > 0)?;
        head.extend_from_slice(&buf[..n]);
    }
    Some(String::from_utf8_lossy(&head).into_owned())
}

/// Answers `body` as JSON on `conn` (200, with its length, closing the connection after it).
pub fn write_json_reply(conn: &mut impl Write, body: &serde_json::Value) -> Option<()> {
    let body = body.to_string();
    let reply = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    );
    conn.write_all(reply.as_bytes()).ok()
}
