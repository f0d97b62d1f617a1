//! Driving a connector: for each resource, plan (the connector), fetch (worker threads, up
//! to a window of requests in flight), select (the connector, answers taken in the order
//! planned) and hand each page to the write stage, which runs on its own thread.
//!
//! Resources are independent: one that fails does not stop the others. Every resource whose
//! parent succeeded is attempted; each ends `completed`, `failed` or `skipped` (its parent
//! failed or was skipped), in the ledger and in the summary.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use sluice_sink::{LoadId, TableSpec, Unfinished};
use sluice_transport::{Response, TransportError};

use crate::bindings::Planned;
use crate::fetch::{Fetched, Fetcher, Sent};
use crate::flight::Flight;
use crate::guest::{Guest, GuestError};
use crate::progress::Progress;
use crate::protocol::{Level, Notice, Page, ResourceInfo};
use crate::redact;
use crate::write::{End, WriteError, Writer};

/// Why a resource failed.
#[derive(Debug, thiserror::Error)]
pub enum ResourceError {
    #[error(transparent)]
    Guest(#[from] GuestError),
    #[error(transparent)]
    Transport(#[from] TransportError),
    #[error(transparent)]
    Write(#[from] WriteError),
    #[error("the connector asked for secret `{0}`, which the config does not reference")]
    UnreferencedSecret(String),
    #[error(
        "more than {max} pages: stopped by the host's page ceiling (raise it with --max-pages)"
    )]
    TooManyPages { max: u64 },
    #[error("the fetch stage stopped")]
    FetchStopped,
    #[error(
        "the connector returned a page of {size:.1} MiB of records, more than {max} MiB (--max-page-mb)"
    )]
    PageTooLarge { size: f64, max: usize },
    #[error("interrupted")]
    Interrupted,
    #[error(
        "the state to checkpoint after this page holds a secret value (the API echoed a credential, e.g. as a cursor or next-page token); it is not stored"
    )]
    SecretInState,
}

/// A failure that stops the whole run.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Open(GuestError),
    #[error("the database failed")]
    Write(#[source] WriteError),
    #[error("resource `{resource}` failed")]
    Resource {
        resource: String,
        #[source]
        source: Box<ResourceError>,
    },
}

/// Default of [`Runner::max_pages`].
pub const DEFAULT_MAX_PAGES: u64 = 1_000_000;

/// How a resource ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    Completed,
    /// With the whole cause chain, redacted.
    Failed(String),
    /// Not attempted, and why.
    Skipped(String),
    /// Stopped by an interrupt (Ctrl-C): the pages committed so far stay, and the next
    /// run continues after them.
    Interrupted,
}

impl Status {
    pub fn name(&self) -> &'static str {
        match self {
            Status::Completed => "completed",
            Status::Failed(_) => "failed",
            Status::Skipped(_) => "skipped",
            Status::Interrupted => "interrupted",
        }
    }
}

/// What one resource did.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceSummary {
    pub name: String,
    pub status: Status,
    /// The load in the ledger; `None` for a resource that is not selected (fetched only
    /// for its children, nothing written).
    pub load_id: Option<LoadId>,
    /// The page this run continued an unfinished load at.
    pub resumed_at: Option<u64>,
    pub pages: u64,
    pub records: u64,
    pub rows_written: u64,
    /// Rows written per table: the resource's table, then its child tables.
    pub tables: Vec<(String, u64)>,
    pub requests: u64,
    pub retries: u64,
    pub seconds: f64,
    /// Whether the warning about a secret in the records was shown (once per resource).
    secret_warned: bool,
}

impl ResourceSummary {
    fn new(name: &str, status: Status) -> Self {
        ResourceSummary {
            name: name.to_string(),
            status,
            load_id: None,
            resumed_at: None,
            pages: 0,
            records: 0,
            rows_written: 0,
            tables: Vec::new(),
            requests: 0,
            retries: 0,
            seconds: 0.0,
            secret_warned: false,
        }
    }
}

/// Drives one open connector session.
pub struct Runner<'a> {
    pub guest: Guest,
    /// Its workers bound the requests in flight (`--concurrency`).
    pub fetcher: Fetcher,
    pub progress: &'a mut dyn Progress,
    /// Hard ceiling on the pages of one resource, enforced whatever the connector says.
    pub max_pages: u64,
    /// Largest page of records (JSON text) a connector may return, in bytes.
    pub max_page_bytes: usize,
    /// Set (by Ctrl-C) to stop: no request is planned after it, the requests out are
    /// drained, and the load in progress ends `interrupted`.
    pub stop: Stop,
}

/// A flag that asks a run to stop at the next page.
#[derive(Debug, Clone, Default)]
pub struct Stop(Arc<AtomicBool>);

impl Stop {
    pub fn request(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    pub fn requested(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// Answers of one resource's requests, by seq.
type Answers = Flight<Result<Response, TransportError>>;

impl std::fmt::Debug for Runner<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runner").finish_non_exhaustive()
    }
}

/// One resource's load while it runs: begun lazily, at its first page, because only that
/// page tells whether the connector continued an unfinished load or started over.
struct Load<'w> {
    writer: &'w Writer,
    spec: TableSpec,
    unfinished: Option<Unfinished>,
    id: Option<LoadId>,
    resumed_at: Option<u64>,
}

impl Load<'_> {
    fn id_for(&mut self, page: Option<&Page>) -> Result<LoadId, WriteError> {
        if let Some(id) = self.id {
            return Ok(id);
        }
        // The connector continued the unfinished load when its first page is the one after
        // the pages committed; otherwise the load starts over (a staged replace is dropped).
        let from = self.unfinished.take().filter(|u| match page {
            None => true,
            Some(p) => page_number(&p.state) == Some(u.pages + 1),
        });
        if page.is_some() {
            self.resumed_at = from.as_ref().map(|u| u.pages + 1);
        }
        let id = self.writer.begin(&self.spec, from.as_ref())?;
        self.id = Some(id);
        Ok(id)
    }
}

/// The `pages` a page's state reports (the pages of its load so far), if it does.
fn page_number(state: &str) -> Option<u64> {
    state_number(state, "pages")
}

/// A number at the top of a page's state (`pages`, `records_total`).
fn state_number(state: &str, key: &str) -> Option<u64> {
    let v: serde_json::Value = serde_json::from_str(state).ok()?;
    v.get(key)?.as_u64()
}

impl Runner<'_> {
    /// Loads every resource in order, each independent of the others but its parent.
    /// `unfinished`: the loads to continue, by resource. Fails only when the write stage
    /// itself fails.
    pub fn run(
        &mut self,
        writer: &Writer,
        unfinished: &HashMap<String, Unfinished>,
    ) -> Result<Vec<ResourceSummary>, RunError> {
        let resources = self.guest.resources().map_err(RunError::Open)?;
        let mut summaries = Vec::with_capacity(resources.len());
        let mut broken: HashSet<String> = HashSet::new();
        for info in resources {
            let spec = spec_of(&info);
            let skip = if self.stop.requested() {
                Some("the run was interrupted".to_string())
            } else {
                let parent = info.parent.as_ref().filter(|p| broken.contains(*p));
                parent.map(|p| format!("parent `{p}` did not complete"))
            };
            if let Some(reason) = skip {
                let load = info
                    .selected
                    .then(|| writer.skip(&spec, &reason))
                    .transpose()
                    .map_err(RunError::Write)?;
                self.progress.resource_skipped(&info.name, &reason);
                let mut summary = ResourceSummary::new(&info.name, Status::Skipped(reason));
                summary.load_id = load;
                broken.insert(info.name.clone());
                summaries.push(summary);
                continue;
            }
            let mut load = info.selected.then(|| Load {
                writer,
                spec,
                unfinished: unfinished.get(&info.name).cloned(),
                id: None,
                resumed_at: None,
            });
            let summary = self.run_resource(&info, load.as_mut())?;
            if summary.status != Status::Completed {
                broken.insert(info.name.clone());
            }
            summaries.push(summary);
        }
        Ok(summaries)
    }

    fn run_resource(
        &mut self,
        info: &ResourceInfo,
        mut load: Option<&mut Load<'_>>,
    ) -> Result<ResourceSummary, RunError> {
        self.progress.resource_started(&info.name);
        let mut summary = ResourceSummary::new(&info.name, Status::Completed);
        let started = Instant::now();
        let mut sent = Sent::default();
        let result = self.load(&info.name, load.as_deref_mut(), &mut summary, &mut sent);
        summary.requests = sent.requests;
        summary.retries = sent.retries;
        summary.seconds = started.elapsed().as_secs_f64();
        if let Err(ResourceError::Guest(GuestError::Trap { detail, .. })) = &result {
            let detail = Notice {
                level: Level::Debug,
                message: format!("the connector's error in full:\n{detail}"),
            };
            self.progress.notice(&info.name, &detail);
        }
        let interrupted = matches!(result, Err(ResourceError::Interrupted));
        let failure = match &result {
            Ok(()) | Err(ResourceError::Interrupted) => None,
            Err(e) => Some(redact::redact(&anyhow_like(e).to_string())),
        };
        if interrupted {
            summary.status = Status::Interrupted;
        }
        if let Some(load) = load {
            let id = load.id_for(None).map_err(RunError::Write)?;
            let end = match &failure {
                _ if interrupted => End::Interrupted,
                Some(f) => End::Failed(f.clone()),
                None => End::Completed,
            };
            summary.load_id = Some(id);
            summary.resumed_at = load.resumed_at;
            match load.writer.finish(id, end) {
                Ok(written) => {
                    summary.rows_written = written.rows;
                    summary.tables = written.tables;
                }
                Err(WriteError::Stopped) => return Err(RunError::Write(WriteError::Stopped)),
                // A page that could not be written fails the resource with that cause.
                Err(e) if failure.is_none() => {
                    summary.status = Status::Failed(redact::redact(&format!(
                        "{}",
                        anyhow_like(&ResourceError::Write(e))
                    )));
                }
                Err(_) => {}
            }
        }
        if let Some(f) = failure {
            summary.status = Status::Failed(f);
        }
        self.progress.resource_finished(
            &info.name,
            summary.pages,
            summary.records,
            &summary.status,
        );
        Ok(summary)
    }

    fn load(
        &mut self,
        resource: &str,
        load: Option<&mut Load<'_>>,
        summary: &mut ResourceSummary,
        sent: &mut Sent,
    ) -> Result<(), ResourceError> {
        let mut flight = Flight::new(self.fetcher.workers());
        let result = self.pump(resource, load, summary, sent, &mut flight);
        // Requests still out (pages asked past the end, or after a failure) are waited
        // for and dropped, not abandoned.
        self.drain(resource, &mut flight, sent);
        result
    }

    /// Keeps the window full of planned requests and hands the answers, in planned order,
    /// to the connector and its pages to the write stage, until a page says `done` or
    /// nothing is left to plan.
    fn pump(
        &mut self,
        resource: &str,
        mut load: Option<&mut Load<'_>>,
        summary: &mut ResourceSummary,
        sent: &mut Sent,
        flight: &mut Answers,
    ) -> Result<(), ResourceError> {
        loop {
            // After a stop request nothing more is planned; the pages in flight are still
            // answered and committed.
            while flight.has_room() && !self.stop.requested() {
                let at_ceiling = summary.pages + flight.len() >= self.max_pages;
                if at_ceiling && !flight.is_empty() {
                    break; // the pages in flight may end the resource
                }
                let planned = self.guest.next_requests(resource)?;
                if planned.is_empty() {
                    break;
                }
                if at_ceiling {
                    return Err(ResourceError::TooManyPages {
                        max: self.max_pages,
                    });
                }
                for p in planned {
                    let seq = p.seq;
                    self.fetcher.submit(p)?;
                    flight.sent(seq);
                }
            }
            if flight.is_empty() {
                if self.stop.requested() {
                    return Err(ResourceError::Interrupted);
                }
                // Every request was answered and the connector plans none: finished (e.g.
                // a dependent resource whose parent yielded no records).
                return Ok(());
            }
            self.receive(resource, flight, sent)?;
            while let Some((seq, answer)) = flight.next_in_order() {
                let response = answer?;
                sent.requests += 1;
                flight.answered();
                let page = self.select(resource, seq, response)?;
                if redact::contains(&page.state) {
                    return Err(ResourceError::SecretInState);
                }
                if !summary.secret_warned
                    && let Some(place) = crate::echo::secret_in_records(&page.records)
                {
                    summary.secret_warned = true;
                    let warning = Notice {
                        level: Level::Warn,
                        message: format!(
                            "a record holds a secret value, at {place}: it is stored as the API sent it (records are your data); check what the API echoes"
                        ),
                    };
                    self.progress.notice(resource, &warning);
                }
                summary.pages += 1;
                summary.records += u64::from(page.count);
                let done = page.done;
                let total = state_number(&page.state, "records_total");
                if let Some(load) = load.as_deref_mut() {
                    let id = load.id_for(Some(&page))?;
                    load.writer.page(id, page)?;
                    if let Some(e) = load.writer.failed(id) {
                        return Err(e.into());
                    }
                }
                self.progress
                    .page(resource, summary.pages, summary.records, total);
                if done {
                    return Ok(());
                }
            }
        }
    }

    /// Waits for the next word from the fetch stage: a retry (reported; a throttled one
    /// halves the window) or an answer.
    fn receive(
        &mut self,
        resource: &str,
        flight: &mut Answers,
        sent: &mut Sent,
    ) -> Result<(), ResourceError> {
        match self.fetcher.next()? {
            Fetched::Retry {
                attempt,
                reason,
                wait,
                url,
                throttled,
                ..
            } => {
                sent.retries += 1;
                if throttled {
                    flight.throttled();
                }
                self.progress.retry(resource, attempt, &reason, wait, &url);
            }
            Fetched::Done { seq, result } => flight.arrived(seq, result),
        }
        Ok(())
    }

    fn drain(&mut self, resource: &str, flight: &mut Answers, sent: &mut Sent) {
        loop {
            while let Some((_, answer)) = flight.next_in_order() {
                sent.requests += u64::from(answer.is_ok());
            }
            if flight.is_empty() || self.receive(resource, flight, sent).is_err() {
                return;
            }
        }
    }

    /// Hands one response to the connector.
    fn select(
        &mut self,
        resource: &str,
        seq: u64,
        response: Response,
    ) -> Result<Page, ResourceError> {
        let page = self.guest.on_response(resource, seq, response)?;
        if page.records.len() > self.max_page_bytes {
            return Err(ResourceError::PageTooLarge {
                size: page.records.len() as f64 / f64::from(1 << 20),
                max: self.max_page_bytes >> 20,
            });
        }
        for notice in &page.notices {
            self.progress.notice(resource, notice);
        }
        Ok(page)
    }

    /// Fetches one planned request and returns its page (`check`).
    pub(crate) fn fetch(
        &mut self,
        resource: &str,
        planned: Planned,
    ) -> Result<Page, ResourceError> {
        let seq = planned.seq;
        let mut flight = Flight::new(1);
        self.fetcher.submit(planned)?;
        flight.sent(seq);
        let mut sent = Sent::default();
        let answer = loop {
            self.receive(resource, &mut flight, &mut sent)?;
            if let Some((_, answer)) = flight.next_in_order() {
                break answer;
            }
        };
        self.select(resource, seq, answer?)
    }
}

/// The table a resource loads into.
fn spec_of(info: &ResourceInfo) -> TableSpec {
    TableSpec {
        name: info.name.clone(),
        primary_key: info.primary_key.clone(),
        disposition: info.write_disposition,
        max_table_nesting: info.max_table_nesting,
        hints: info.hints.clone(),
    }
}

/// Formats an error with its whole cause chain, `a: b: c`.
pub fn anyhow_like<'a>(e: &'a (dyn std::error::Error + 'static)) -> Chain<'a> {
    Chain(e)
}

/// Display of an error and its sources joined by `: `.
#[derive(Debug)]
pub struct Chain<'a>(&'a (dyn std::error::Error + 'static));

impl std::fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(s) = source {
            write!(f, ": {s}")?;
            source = s.source();
        }
        Ok(())
    }
}
