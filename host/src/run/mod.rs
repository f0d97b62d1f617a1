//! Driving a connector: for each resource, plan (the connector), fetch (worker threads, up
//! to a window of requests in flight), select (the connector, answers taken in the order
//! planned) and hand each page to the write stage, which runs on its own thread.
//!
//! Resources are independent: one that fails does not stop the others. Every resource whose
//! parent succeeded is attempted; each ends `completed`, `failed` or `skipped` (its parent
//! failed or was skipped), in the ledger and in the summary.

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use sluice_sink::{LoadId, TableSpec};
use sluice_transport::{Cancel, Response, TransportError};

use crate::fetch::{Fetcher, Sent};
use crate::flight::Flight;
use crate::guest::{Guest, GuestError};
use crate::progress::Progress;
use crate::protocol::{Level, Notice, Page, ResourceInfo};
use crate::redact;
use crate::write::{End, Start, WriteError, Writer};

mod error;
mod pump;
mod summary;

pub use error::{Chain, ResourceError, RunError, anyhow_like};
pub use summary::{ResourceSummary, Status};

/// Default of [`Runner::max_pages`].
pub const DEFAULT_MAX_PAGES: u64 = 1_000_000;

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

/// A flag that asks a run to stop at the next page. It also cancels the HTTP client's
/// retries (see [`Stop::cancel`]): a request waiting to try again gives up at once, so a
/// stop is not held up by a long `Retry-After`.
#[derive(Debug, Clone, Default)]
pub struct Stop(Cancel);

impl Stop {
    pub fn request(&self) {
        self.0.cancel();
    }

    pub fn requested(&self) -> bool {
        self.0.is_cancelled()
    }

    /// What the HTTP client watches (`ClientConfig::cancel`).
    pub fn cancel(&self) -> Cancel {
        self.0.clone()
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
    /// The resource's unfinished load: to continue if the connector does, or to start over.
    unfinished: Option<Start>,
    /// The unfinished load's every page committed: it is only finished, nothing is fetched.
    finish_only: bool,
    id: Option<LoadId>,
    resumed_at: Option<u64>,
}

impl Load<'_> {
    fn id_for(&mut self, page: Option<&Page>) -> Result<LoadId, WriteError> {
        if let Some(id) = self.id {
            return Ok(id);
        }
        // The connector continued the unfinished load when its first page is the one after
        // the pages committed. Otherwise the load is new (a staged replace is dropped); or,
        // when the connector says it started the unfinished load over from where it began
        // (or `--restart` did), what that load inserted goes first.
        let start = match self.unfinished.take() {
            None => Start::Fresh,
            Some(Start::Continue(u)) => match page {
                None => Start::Continue(u),
                Some(p) if page_number(&p.state) == Some(u.pages + 1) => Start::Continue(u),
                Some(p) if started_over(&p.state) => Start::Over(u),
                Some(_) => Start::Fresh,
            },
            Some(other) => other,
        };
        if (page.is_some() || self.finish_only)
            && let Start::Continue(u) = &start
        {
            self.resumed_at = Some(u.pages + 1);
        }
        let id = self.writer.begin(&self.spec, start)?;
        self.id = Some(id);
        Ok(id)
    }
}

/// The `pages` a page's state reports (the pages of its load so far), if it does.
fn page_number(state: &str) -> Option<u64> {
    state_number(state, "pages")
}

/// Whether a page's state says its load began again from page 1 over an unfinished load it
/// could not continue, from where that load began (`"restarted": true`).
fn started_over(state: &str) -> bool {
    state_field(state, "restarted").and_then(|v| v.as_bool()) == Some(true)
}

/// A number at the top of a page's state (`pages`, `records_total`).
fn state_number(state: &str, key: &str) -> Option<u64> {
    state_field(state, key)?.as_u64()
}

/// A field at the top of a page's state.
fn state_field(state: &str, key: &str) -> Option<serde_json::Value> {
    let mut v: serde_json::Value = serde_json::from_str(state).ok()?;
    v.get_mut(key).map(serde_json::Value::take)
}

impl Runner<'_> {
    /// Loads every resource in order, each independent of the others but its parent.
    /// `unfinished`: the loads to continue, by resource. Fails only when the write stage
    /// itself fails.
    pub fn run(
        &mut self,
        writer: &Writer,
        unfinished: &HashMap<String, Start>,
    ) -> Result<Vec<ResourceSummary>, RunError> {
        self.run_only(writer, unfinished, None)
    }

    /// [`Runner::run`] of the resources named in `only` (all when `None`): one group of
    /// resources loaded on its own while others load beside it (`--parallel-resources`).
    pub fn run_only(
        &mut self,
        writer: &Writer,
        unfinished: &HashMap<String, Start>,
        only: Option<&[String]>,
    ) -> Result<Vec<ResourceSummary>, RunError> {
        let resources = self.guest.resources().map_err(RunError::Open)?;
        let mut names = HashSet::new();
        if let Some(twice) = resources.iter().find(|r| !names.insert(&r.name)) {
            return Err(RunError::Open(GuestError::Connector(
                crate::protocol::ConnectorError::Protocol(format!(
                    "it lists resource `{}` twice",
                    twice.name
                )),
            )));
        }
        let mut summaries = Vec::with_capacity(resources.len());
        let mut broken: HashSet<String> = HashSet::new();
        let chosen = |name: &String| only.is_none_or(|names| names.contains(name));
        let parents: HashSet<String> = resources.iter().filter_map(|r| r.parent.clone()).collect();
        for info in resources.into_iter().filter(|r| chosen(&r.name)) {
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
            // A load whose every page committed is only finished (its children, if it has
            // any, need its records again: it starts over for them).
            let unfinished = unfinished.get(&info.name).cloned();
            let finish_only = matches!(&unfinished, Some(Start::Continue(u)) if u.fetched)
                && !parents.contains(&info.name);
            let mut load = info.selected.then_some(Load {
                writer,
                spec,
                unfinished,
                finish_only,
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
        let result = match load.as_deref().is_some_and(|l| l.finish_only) {
            // The process running it ended after its last page committed: a replace's swap,
            // scd2's merge and the ledger are left, with no request.
            true => {
                let notice = Notice {
                    level: Level::Info,
                    message: "every page of the interrupted load was committed: finishing it"
                        .into(),
                };
                self.progress.notice(&info.name, &notice);
                Ok(())
            }
            false => self.load(&info.name, load.as_deref_mut(), &mut summary, &mut sent),
        };
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
            let finished = load.writer.finish(id, end).map_err(RunError::Write)?;
            // What the run loaded: pages handed on after one that could not be written
            // are not (the summary must not count them).
            summary.pages = finished.pages;
            summary.records = finished.records;
            let ended = match finished.load {
                Ok(written) => {
                    summary.rows_written = written.rows;
                    summary.tables = written.tables;
                    summary.discarded = written.discarded;
                    finished.page_error.map_or(Ok(()), Err)
                }
                Err(e) => Err(finished.page_error.unwrap_or(e)),
            };
            // A page that could not be written fails the resource with that cause.
            if let Err(e) = ended
                && failure.is_none()
            {
                summary.status = Status::Failed(redact::redact(&format!(
                    "{}",
                    anyhow_like(&ResourceError::Write(e))
                )));
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
