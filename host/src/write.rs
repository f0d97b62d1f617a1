//! The write stage: a thread that owns the [`Sink`] and writes each page's rows (flattened by
//! the [`crate::normalize`] stage in front of it) with the page's state, in the order the
//! pages come. Pages of a load that queued up while the previous write ran are written
//! together in one transaction (a group commit): when writing is the bottleneck, commits get
//! fewer instead of pages waiting longer.
//!
//! [`Writer`] is the driver's handle on both stages. Pages reach them through bounded
//! channels ([`PAGES_IN_FLIGHT`] each), so selecting, normalizing and writing overlap and
//! memory stays bounded: a full channel makes the sender wait. Page writes are not
//! answered one by one; the first failure of a load is kept and reported by
//! [`Writer::finish`], and [`Writer::failed`] lets the sender stop early. Everything else
//! (begin, resume, skip, finish) is a request with a reply.

use std::collections::HashMap;
use std::sync::mpsc::{Receiver, Sender, SyncSender, sync_channel};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;

use sluice_sink::{
    LoadId, LoadSummary, NormalizedPage, Outcome, SavedState, Sink, SinkError, TableSpec,
    Unfinished,
};

use crate::normalize::{self, Job};
use crate::protocol::Page;

/// Pages queued between selecting and writing.
pub const PAGES_IN_FLIGHT: usize = 4;

/// Most queued pages of a load written in one transaction.
const MAX_BATCH: usize = 16;

/// Why a page could not be written.
#[derive(Debug, Clone, thiserror::Error)]
pub enum WriteError {
    #[error(
        "the connector returned records that are not a JSON array of {expected} items: {message}"
    )]
    Records { expected: u32, message: String },
    #[error("cannot load the page: {0}")]
    Sink(String),
    #[error("the write stage stopped")]
    Stopped,
}

/// A sink that can move to the write thread.
pub type SendSink = Box<dyn Sink + Send>;

/// How a load ends, as the driver sees it.
#[derive(Debug, Clone)]
pub enum End {
    Completed,
    Failed(String),
    Interrupted,
}

pub(crate) type Reply<T> = SyncSender<Result<T, WriteError>>;

/// The driver's requests, as the normalize stage receives them.
pub(crate) enum Command {
    States(Reply<Vec<SavedState>>),
    Begin(TableSpec, Start, Reply<LoadId>),
    Skip(TableSpec, String, Reply<LoadId>),
    Page(LoadId, Page),
    Finish(LoadId, End, Reply<Finished>),
}

/// How a load starts ([`Writer::begin`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Start {
    /// From the resource's saved state.
    Fresh,
    /// Continuing an unfinished load: its pages stay ([`sluice_sink::Sink::resume`]).
    Continue(Unfinished),
    /// Over an unfinished load, fetching again from where it began: what it inserted goes
    /// ([`sluice_sink::Sink::restart`]).
    Over(Unfinished),
}

/// How the write stage ended a load.
#[derive(Debug)]
pub struct Finished {
    /// The ledger's account of the load, or why ending it failed.
    pub load: Result<LoadSummary, WriteError>,
    /// Pages of this run committed: all of them, or those before the page that failed.
    pub pages: u64,
    /// Records of those pages (as the connector returned them).
    pub records: u64,
    /// The first page that could not be written, which failed the load.
    pub page_error: Option<WriteError>,
}

/// The handle of the write thread.
#[derive(Debug)]
pub struct Writer {
    tx: Option<SyncSender<Command>>,
    failed: Failures,
    /// The normalize stage, then the write stage (joined in this order).
    threads: Vec<JoinHandle<()>>,
}

/// The first page failure of a load, shared by the stages and the driver.
#[derive(Debug, Clone, Default)]
pub(crate) struct Failures(Arc<Mutex<Option<(LoadId, WriteError)>>>);

impl Failures {
    /// The write failure recorded for `load`, if any.
    pub(crate) fn of(&self, load: LoadId) -> Option<WriteError> {
        let slot = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        slot.as_ref()
            .filter(|(l, _)| *l == load)
            .map(|(_, e)| e.clone())
    }

    fn set(&self, load: LoadId, e: WriteError) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = Some((load, e));
    }
}

/// A sink error as the driver reports it (the whole cause chain).
pub(crate) fn sink_error(e: SinkError) -> WriteError {
    match e {
        SinkError::Records { expected, message } => WriteError::Records { expected, message },
        other => WriteError::Sink(format!("{:#}", crate::run::anyhow_like(&other))),
    }
}

impl Writer {
    /// Starts the normalize and write threads with `sink`.
    pub fn start(sink: SendSink) -> std::io::Result<Writer> {
        let (tx, rx) = sync_channel(PAGES_IN_FLIGHT);
        let (jobs, queued) = sync_channel(PAGES_IN_FLIGHT);
        // Unbounded, but never holds more than the pages between the two stages.
        let (done, written) = std::sync::mpsc::channel();
        let failed = Failures::default();
        let (n, w) = (failed.clone(), failed.clone());
        let write = std::thread::Builder::new()
            .name("sluice-write".into())
            .spawn(move || serve(sink, &queued, &done, &w))?;
        let normalize = std::thread::Builder::new()
            .name("sluice-normalize".into())
            .spawn(move || normalize::serve(&rx, &jobs, &written, &n))?;
        Ok(Writer {
            tx: Some(tx),
            failed,
            threads: vec![normalize, write],
        })
    }

    fn ask<T>(&self, make: impl FnOnce(Reply<T>) -> Command) -> Result<T, WriteError> {
        let (reply, answer) = sync_channel(1);
        let tx = self.tx.as_ref().ok_or(WriteError::Stopped)?;
        tx.send(make(reply)).map_err(|_| WriteError::Stopped)?;
        answer.recv().map_err(|_| WriteError::Stopped)?
    }

    pub fn states(&self) -> Result<Vec<SavedState>, WriteError> {
        self.ask(Command::States)
    }

    /// Starts a load as `start` says.
    pub fn begin(&self, spec: &TableSpec, start: Start) -> Result<LoadId, WriteError> {
        self.ask(|r| Command::Begin(spec.clone(), start, r))
    }

    pub fn skip(&self, spec: &TableSpec, reason: &str) -> Result<LoadId, WriteError> {
        self.ask(|r| Command::Skip(spec.clone(), reason.to_string(), r))
    }

    /// Queues a page; waits while [`PAGES_IN_FLIGHT`] pages are queued.
    pub fn page(&self, load: LoadId, page: Page) -> Result<(), WriteError> {
        let tx = self.tx.as_ref().ok_or(WriteError::Stopped)?;
        tx.send(Command::Page(load, page))
            .map_err(|_| WriteError::Stopped)
    }

    /// The first page of `load` that could not be written, if any.
    pub fn failed(&self, load: LoadId) -> Option<WriteError> {
        self.failed.of(load)
    }

    /// Ends `load` once its queued pages are written. A page that failed turns a completed
    /// end into a failed one, and is the [`Finished::page_error`].
    pub fn finish(&self, load: LoadId, end: End) -> Result<Finished, WriteError> {
        self.ask(|r| Command::Finish(load, end, r))
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        drop(self.tx.take());
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

fn serve(
    mut sink: SendSink,
    rx: &Receiver<Job>,
    done: &Sender<Vec<NormalizedPage>>,
    failures: &Failures,
) {
    let mut next: Option<Job> = None;
    // Pages and records committed, by load.
    let mut committed: HashMap<LoadId, (u64, u64)> = HashMap::new();
    // Records of the parts written so far of a page whose last part has not come.
    let mut open_records: u64 = 0;
    loop {
        let job = match next.take() {
            Some(j) => j,
            None => match rx.recv() {
                Ok(j) => j,
                Err(_) => return,
            },
        };
        match job {
            Job::States(reply) => {
                let _ = reply.send(sink.states().map_err(sink_error));
            }
            Job::Begin(spec, start, reply) => {
                let started = match &start {
                    Start::Fresh => sink.begin(&spec),
                    Start::Continue(from) => sink.resume(&spec, from),
                    Start::Over(over) => sink.restart(&spec, over),
                };
                let begun = started.and_then(|load| Ok((load, sink.normalizer(load)?)));
                let _ = reply.send(begun.map_err(sink_error));
            }
            Job::Skip(spec, reason, reply) => {
                let _ = reply.send(sink.skip(&spec, &reason).map_err(sink_error));
            }
            Job::Rows(load, rows) => {
                if failures.of(load).is_some() {
                    // The load failed: its later pages are dropped (and freed back there).
                    let _ = done.send(rows.into_iter().collect());
                    continue;
                }
                // Group commit: the pages of this load already queued go in one transaction.
                // The parts of a page go on their own (they share their page's transaction).
                let mut batch: Vec<NormalizedPage> = Vec::new();
                let mut bad = None;
                let mut rows = Some(rows);
                while let Some(r) = rows.take() {
                    match r {
                        Ok(page) => {
                            if batch.first().is_some_and(|b| b.is_part() != page.is_part()) {
                                next = Some(Job::Rows(load, Ok(page)));
                                break;
                            }
                            batch.push(page);
                        }
                        Err(e) => {
                            bad = Some(e); // written after the pages before it
                            break;
                        }
                    }
                    let page_ended = batch.last().is_some_and(|p| p.is_part() && !p.continues());
                    if batch.len() < MAX_BATCH && !page_ended {
                        match rx.try_recv() {
                            Ok(Job::Rows(l, r)) if l == load => rows = Some(r),
                            Ok(other) => next = Some(other),
                            Err(_) => {}
                        }
                    }
                }
                let written = if batch.is_empty() {
                    0
                } else {
                    match sink.write_normalized(load, &batch) {
                        Ok(_) => batch.len(),
                        Err((k, e)) => {
                            bad = Some(sink_error(e));
                            k // the pages before it are written
                        }
                    }
                };
                // A page counts once written whole: with its last part.
                let tally = committed.entry(load).or_default();
                for page in &batch[..written] {
                    open_records += u64::from(page.count());
                    if !page.continues() {
                        tally.0 += 1;
                        tally.1 += std::mem::take(&mut open_records);
                    }
                }
                if let Some(e) = bad {
                    open_records = 0; // the parts written so far were rolled back
                    failures.set(load, e);
                }
                let _ = done.send(batch); // freed by the normalize stage
            }
            Job::Finish(load, end, reply) => {
                let page_error = failures.of(load);
                let text;
                let outcome = match (&page_error, &end) {
                    (Some(e), _) => {
                        text = e.to_string();
                        Outcome::Failed { error: &text }
                    }
                    (None, End::Completed) => Outcome::Completed,
                    (None, End::Failed(error)) => Outcome::Failed { error },
                    (None, End::Interrupted) => Outcome::Interrupted,
                };
                let (pages, records) = committed.remove(&load).unwrap_or_default();
                let _ = reply.send(Ok(Finished {
                    load: sink.finish(load, outcome).map_err(sink_error),
                    pages,
                    records,
                    page_error,
                }));
            }
        }
    }
}
