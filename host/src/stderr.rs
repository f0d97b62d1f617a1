//! The connector's stderr: the last 16 KiB it wrote, kept in memory (never printed as it
//! comes) so that a failure can say why, e.g. with the message of a panic.

use std::collections::VecDeque;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use tokio::io::AsyncWrite;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};

/// How much of the connector's stderr is kept.
const KEEP: usize = 16 << 10;

/// The tail of what a connector wrote to stderr.
#[derive(Debug, Clone, Default)]
pub(crate) struct StderrTail(Arc<Mutex<VecDeque<u8>>>);

impl StderrTail {
    /// What was kept, redacted like every other text.
    pub(crate) fn text(&self) -> String {
        let mut buf = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        crate::redact::redact(&String::from_utf8_lossy(buf.make_contiguous()))
    }

    /// The message of the last Rust panic written (`thread '..' panicked at FILE:LINE:COL:`
    /// then the message, up to the `note:` line), if any.
    pub(crate) fn panic_message(&self) -> Option<String> {
        panic_message(&self.text())
    }
}

fn panic_message(text: &str) -> Option<String> {
    let at = text.rfind("panicked at")?;
    let (_, message) = text[at..].split_once('\n')?;
    let lines: Vec<&str> = message
        .lines()
        .take_while(|l| !l.starts_with("note:"))
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    (!lines.is_empty()).then(|| lines.join(" "))
}

impl AsyncWrite for StderrTail {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let mut buf = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        buf.extend(data);
        let excess = buf.len().saturating_sub(KEEP);
        buf.drain(..excess);
        Poll::Ready(Ok(data.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

impl IsTerminal for StderrTail {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for StderrTail {
    fn async_stream(&self) -> Box<dyn AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_last_panic_message() {
        let text = "log line\n\nthread '<unnamed>' panicked at src/lib.rs:12:9:\nno more pages: gave up\nafter 3 tries\nnote: run with `RUST_BACKTRACE=1` to display a backtrace\n";
        assert_eq!(
            panic_message(text).as_deref(),
            Some("no more pages: gave up after 3 tries")
        );
        assert_eq!(panic_message("nothing to see"), None);
    }

    #[test]
    fn keeps_only_the_tail() {
        let tail = StderrTail::default();
        let mut pinned = tail.clone();
        let waker = std::task::Waker::noop();
        let mut cx = Context::from_waker(waker);
        for _ in 0..100 {
            let line = [b'x'; 1000];
            let written = Pin::new(&mut pinned).poll_write(&mut cx, &line);
            assert!(matches!(written, Poll::Ready(Ok(1000))));
        }
        let _ = Pin::new(&mut pinned).poll_write(&mut cx, b"END");
        let text = tail.text();
        assert_eq!(text.len(), KEEP);
        assert!(text.ends_with("END"));
    }
}
