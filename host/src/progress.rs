//! What a run tells its user while it works. Every text that reaches the terminal passes the
//! redactor first.

use std::io::{IsTerminal, Write};
use std::time::Duration;

use crate::protocol::{Level, Notice};
use crate::redact::redact;

/// Observes a run.
pub trait Progress {
    fn resource_started(&mut self, resource: &str);
    fn page(&mut self, resource: &str, pages: u64, records: u64);
    fn retry(&mut self, resource: &str, attempt: u32, reason: &str, wait: Duration, url: &str);
    fn notice(&mut self, resource: &str, notice: &Notice);
    fn resource_finished(&mut self, resource: &str, pages: u64, records: u64, ok: bool);
    /// A resource was not attempted (its parent failed).
    fn resource_skipped(&mut self, resource: &str, reason: &str);
}

/// Writes progress to stderr: a live line on a terminal, plain lines otherwise.
#[derive(Debug)]
pub struct TerminalProgress {
    live: bool,
    quiet: bool,
}

impl TerminalProgress {
    pub fn new(quiet: bool) -> Self {
        TerminalProgress {
            live: std::io::stderr().is_terminal(),
            quiet,
        }
    }

    fn line(&self, text: &str) {
        let mut err = std::io::stderr().lock();
        let clear = if self.live { "\r\x1b[2K" } else { "" };
        let _ = writeln!(err, "{clear}{}", redact(text));
    }
}

impl Progress for TerminalProgress {
    fn resource_started(&mut self, resource: &str) {
        if !self.quiet {
            self.line(&format!("{resource}: loading"));
        }
    }

    fn page(&mut self, resource: &str, pages: u64, records: u64) {
        if self.live && !self.quiet {
            let mut err = std::io::stderr().lock();
            let _ = write!(
                err,
                "\r\x1b[2K{}: {pages} pages, {records} records",
                redact(resource)
            );
            let _ = err.flush();
        }
    }

    fn retry(&mut self, resource: &str, attempt: u32, reason: &str, wait: Duration, url: &str) {
        self.line(&format!(
            "{resource}: {reason} from {url}; retry {attempt} in {:.1}s",
            wait.as_secs_f64()
        ));
    }

    fn notice(&mut self, resource: &str, notice: &Notice) {
        if notice.level == Level::Debug && self.quiet {
            return;
        }
        let level = match notice.level {
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warn => "warning",
        };
        self.line(&format!("{resource}: {level}: {}", notice.message));
    }

    fn resource_skipped(&mut self, resource: &str, reason: &str) {
        self.line(&format!("{resource}: skipped: {reason}"));
    }

    fn resource_finished(&mut self, resource: &str, pages: u64, records: u64, ok: bool) {
        if !self.quiet || !ok {
            let status = if ok { "done" } else { "failed" };
            self.line(&format!(
                "{resource}: {status} ({pages} pages, {records} records)"
            ));
        }
    }
}

/// Records nothing; for embedding and tests.
#[derive(Debug, Default)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn resource_started(&mut self, _: &str) {}
    fn page(&mut self, _: &str, _: u64, _: u64) {}
    fn retry(&mut self, _: &str, _: u32, _: &str, _: Duration, _: &str) {}
    fn notice(&mut self, _: &str, _: &Notice) {}
    fn resource_finished(&mut self, _: &str, _: u64, _: u64, _: bool) {}
    fn resource_skipped(&mut self, _: &str, _: &str) {}
}
