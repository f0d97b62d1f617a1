//! Bounded input: a server streaming a 2 GiB body is refused at `--max-response-mb`: up front
//! when it announces its length, while reading when it does not; the process's peak memory
//! stays far below the body (measured, not assumed).

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::json;

use crate::support::{ApiServer, Harness, RawListener, read_head};

const TWO_GIB: u64 = 2 << 30;

/// An HTTP server on 127.0.0.1 that answers every request with a 2 GiB JSON body, streamed,
/// and counts the bytes it got to send.
struct Stream {
    sent: Arc<AtomicU64>,
    listener: RawListener,
}

impl Stream {
    fn start() -> Stream {
        let sent = Arc::new(AtomicU64::new(0));
        let counter = Arc::clone(&sent);
        let listener = RawListener::start("127.0.0.1", move |mut conn, stopping| {
            let request = read_head(&mut conn).unwrap_or_default();
            // `/sized` announces its length; `/stream` only ends when the connection does.
            let framing = if request.starts_with("GET /sized") {
                format!("Content-Length: {TWO_GIB}")
            } else {
                "Connection: close".to_string()
            };
            let head =
                format!("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n{framing}\r\n\r\n");
            if conn.write_all(head.as_bytes()).is_err() {
                return;
            }
            let chunk = "{\"id\": 1, \"pad\": \"xxxxxxxxxxxxxxxx\"},".repeat(2048);
            let mut total = 0u64;
            let _ = conn.write_all(b"{\"data\": [");
            while total < TWO_GIB && !stopping.load(Ordering::SeqCst) {
                if conn.write_all(chunk.as_bytes()).is_err() {
                    break; // the client hung up
                }
                total += chunk.len() as u64;
            }
            counter.fetch_add(total, Ordering::SeqCst);
        });
        Stream { sent, listener }
    }
}

impl ApiServer for Stream {
    fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.listener.port)
    }
}

#[test]
fn a_2_gib_streamed_body_is_cut_off_at_the_limit_with_memory_bounded() {
    let env = Harness::with_server(Stream::start());
    let config = json!({
        "client": {"base_url": env.base_url()},
        "resources": [
            {"name": "sized", "endpoint": {"path": "/sized", "data_selector": "data",
                                           "paginator": "single_page"}},
            {"name": "stream", "endpoint": {"path": "/stream", "data_selector": "data",
                                            "paginator": "single_page"}},
        ]
    });
    let path = env.write_config("config.json", &config);
    for (args, limit_mib, bound_mib) in [
        (
            &["--max-response-mb", "8", "--max-attempts", "1"][..],
            8,
            160,
        ),
        (&["--max-attempts", "1"][..], 64, 320),
    ] {
        let (run, peak_kib) = env.run_measured(&path, args, &[]);
        assert_eq!(run.code, Some(1), "{}", run.output());
        for resource in ["sized", "stream"] {
            let line = run
                .stderr
                .lines()
                .find(|l| l.contains(&format!("resource `{resource}` failed")))
                .unwrap_or_else(|| panic!("{}", run.stderr));
            assert!(
                line.contains(&format!("larger than {limit_mib} MiB (--max-response-mb)")),
                "{line}"
            );
        }
        assert!(peak_kib > 4 << 10, "the peak was measured: {peak_kib} KiB");
        eprintln!("limit {limit_mib} MiB: peak {} MiB", peak_kib >> 10);
        assert!(
            peak_kib < bound_mib << 10,
            "peak memory {} MiB with a {limit_mib} MiB limit",
            peak_kib >> 10
        );
        assert!(!env.has_table("sized") && !env.has_table("stream"));
    }
    let sent = env.server.sent.load(Ordering::SeqCst);
    assert!(
        sent < 1 << 30,
        "the server was cut off: {sent} bytes sent of 2 GiB"
    );
}
