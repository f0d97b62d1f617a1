//! What a run tells its user while it works. Every text that reaches the terminal passes the
//! redactor first.
//!
//! On a terminal each resource gets a live bar (indicatif): records loaded, records/s, and
//! the percentage and ETA when the API announced a total; notices and retries print above
//! it. Elsewhere (a pipe, a log file) only plain lines are written: a resource's start and
//! end, its notices and retries, and a progress line every `--progress-every` seconds.

use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::protocol::{Level, Notice};
use crate::redact::redact;
use crate::run::Status;

/// Observes a run.
pub trait Progress {
    fn resource_started(&mut self, resource: &str);
    /// `total`: the records the API announced for the resource, when it did.
    fn page(&mut self, resource: &str, pages: u64, records: u64, total: Option<u64>);
    fn retry(&mut self, resource: &str, attempt: u32, reason: &str, wait: Duration, url: &str);
    fn notice(&mut self, resource: &str, notice: &Notice);
    /// How it ended: completed, failed or interrupted (never skipped: that is
    /// [`Progress::resource_skipped`]).
    fn resource_finished(&mut self, resource: &str, pages: u64, records: u64, status: &Status);
    /// A resource was not attempted (its parent failed).
    fn resource_skipped(&mut self, resource: &str, reason: &str);
}

/// Writes progress to stderr: a live line on a terminal, plain lines otherwise.
#[derive(Debug)]
pub struct TerminalProgress {
    live: bool,
    quiet: bool,
    verbose: bool,
    /// On a terminal: the bars of the resources loading now (several with
    /// `--parallel-resources`), drawn together.
    multi: MultiProgress,
    bars: HashMap<String, ProgressBar>,
    /// Off a terminal: time between two plain progress lines of a resource (zero: none).
    plain_every: Duration,
    /// Off a terminal: when each resource loading now started, and when its last plain
    /// progress line was printed.
    plain: HashMap<String, (Instant, Instant)>,
}

/// Bar templates: without and with a known total.
const COUNTING: &str = "{spinner} {prefix}: {human_pos} records, {msg} ({elapsed})";
const MEASURED: &str =
    "{prefix}: [{bar:30}] {human_pos}/{human_len} records, {msg} ({percent}%, ETA {eta})";

impl TerminalProgress {
    pub fn new(quiet: bool, verbose: bool) -> Self {
        TerminalProgress {
            live: std::io::stderr().is_terminal(),
            quiet,
            verbose,
            multi: MultiProgress::with_draw_target(ProgressDrawTarget::stderr()),
            bars: HashMap::new(),
            plain_every: Duration::ZERO,
            plain: HashMap::new(),
        }
    }

    /// Off a terminal, prints a plain progress line of the resource loading now every
    /// `every` (none when zero): records, pages, records/s and the share of the total.
    #[must_use]
    pub fn plain_every(mut self, every: Duration) -> Self {
        self.plain_every = every;
        self
    }

    fn line(&self, text: &str) {
        let text = redact(text);
        if self.bars.is_empty() {
            let _ = writeln!(std::io::stderr().lock(), "{text}");
        } else {
            let _ = self.multi.println(text);
        }
    }

    /// Off a terminal: the plain progress line of a resource, when one is due.
    fn plain_line(&mut self, resource: &str, pages: u64, records: u64, total: Option<u64>) {
        let Some((started, last)) = self.plain.get_mut(resource) else {
            return;
        };
        if self.plain_every.is_zero() || last.elapsed() < self.plain_every {
            return;
        }
        *last = Instant::now();
        let text = progress_line(resource, pages, records, total, started.elapsed());
        self.line(&text);
    }

    fn style(template: &str) -> ProgressStyle {
        ProgressStyle::with_template(template)
            .unwrap_or_else(|_| ProgressStyle::default_spinner())
            .progress_chars("=> ")
    }
}

impl Progress for TerminalProgress {
    fn resource_started(&mut self, resource: &str) {
        if self.quiet {
            return;
        }
        if !self.live {
            self.line(&format!("{resource}: loading"));
            let now = Instant::now();
            self.plain.insert(resource.to_string(), (now, now));
            return;
        }
        let bar = ProgressBar::new_spinner()
            .with_style(Self::style(COUNTING))
            .with_prefix(redact(resource))
            .with_message("0 pages");
        let bar = self.multi.add(bar);
        bar.enable_steady_tick(Duration::from_millis(120));
        self.bars.insert(resource.to_string(), bar);
    }

    fn page(&mut self, resource: &str, pages: u64, records: u64, total: Option<u64>) {
        let Some(bar) = self.bars.get(resource) else {
            self.plain_line(resource, pages, records, total);
            return;
        };
        if let Some(total) = total
            && bar.length() != Some(total.max(records))
        {
            bar.set_length(total.max(records));
            bar.set_style(Self::style(MEASURED));
        }
        bar.set_position(records);
        let rate = records as f64 / bar.elapsed().as_secs_f64().max(1e-3);
        bar.set_message(format!("{}, {rate:.0} records/s", counted(pages, "page")));
    }

    fn retry(&mut self, resource: &str, attempt: u32, reason: &str, wait: Duration, url: &str) {
        self.line(&format!(
            "{resource}: {reason} from {url}; retry {attempt} in {:.1}s",
            wait.as_secs_f64()
        ));
    }

    fn notice(&mut self, resource: &str, notice: &Notice) {
        // Quiet: the summary and problems only (warnings stay); debug only when verbose.
        let shown = match notice.level {
            Level::Warn => true,
            Level::Info => !self.quiet,
            Level::Debug => self.verbose,
        };
        if !shown {
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

    fn resource_finished(&mut self, resource: &str, pages: u64, records: u64, status: &Status) {
        self.plain.remove(resource);
        if let Some(bar) = self.bars.remove(resource) {
            bar.finish_and_clear();
            self.multi.remove(&bar);
        }
        if !self.quiet || *status != Status::Completed {
            self.line(&finished_line(resource, pages, records, status));
        }
    }
}

/// A plain progress line: `items: 12000 records, 120 pages, 3400 records/s (45% of 26600)`.
fn progress_line(
    resource: &str,
    pages: u64,
    records: u64,
    total: Option<u64>,
    elapsed: Duration,
) -> String {
    let rate = records as f64 / elapsed.as_secs_f64().max(1e-3);
    let share = match total {
        Some(t) if t > 0 => format!(" ({}% of {t})", (records.min(t) * 100) / t),
        _ => String::new(),
    };
    format!(
        "{resource}: {}, {}, {rate:.0} records/s{share}",
        counted(records, "record"),
        counted(pages, "page"),
    )
}

/// The line that ends a resource: `done`, `failed` or `interrupted`, with what it loaded.
fn finished_line(resource: &str, pages: u64, records: u64, status: &Status) -> String {
    let word = match status {
        Status::Completed => "done",
        other => other.name(),
    };
    format!(
        "{resource}: {word} ({}, {})",
        counted(pages, "page"),
        counted(records, "record")
    )
}

/// `1 page`, `2 pages`.
fn counted(n: u64, noun: &str) -> String {
    match n {
        1 => format!("1 {noun}"),
        _ => format!("{n} {noun}s"),
    }
}

/// Records nothing; for embedding and tests.
#[derive(Debug, Default)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn resource_started(&mut self, _: &str) {}
    fn page(&mut self, _: &str, _: u64, _: u64, _: Option<u64>) {}
    fn retry(&mut self, _: &str, _: u32, _: &str, _: Duration, _: &str) {}
    fn notice(&mut self, _: &str, _: &Notice) {}
    fn resource_finished(&mut self, _: &str, _: u64, _: u64, _: &Status) {}
    fn resource_skipped(&mut self, _: &str, _: &str) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_progress_line_says_how_far_a_resource_got() {
        let line = |total| progress_line("items", 120, 12_000, total, Duration::from_secs(4));
        assert_eq!(
            line(Some(26_600)),
            "items: 12000 records, 120 pages, 3000 records/s (45% of 26600)"
        );
        assert_eq!(
            line(None),
            "items: 12000 records, 120 pages, 3000 records/s"
        );
        assert_eq!(
            progress_line("items", 1, 1, Some(0), Duration::from_secs(1)),
            "items: 1 record, 1 page, 1 records/s"
        );
    }

    #[test]
    fn the_last_line_of_a_resource_says_how_it_ended() {
        let line = |status| finished_line("items", 3, 250, &status);
        assert_eq!(
            line(Status::Completed),
            "items: done (3 pages, 250 records)"
        );
        assert_eq!(
            line(Status::Failed("HTTP 500".into())),
            "items: failed (3 pages, 250 records)"
        );
        assert_eq!(
            line(Status::Interrupted),
            "items: interrupted (3 pages, 250 records)"
        );
        assert_eq!(
            finished_line("items", 1, 1, &Status::Completed),
            "items: done (1 page, 1 record)"
        );
    }
}
