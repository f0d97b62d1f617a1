//! The write stage: a thread that owns the [`Sink`] and writes each page's records (the JSON
//! text the connector returned, flattened by the sink as it parses it) with the page's
//! state, in the order the pages come. Pages of a load that queued up while the previous
//! write ran are written together in one transaction (a group commit): when writing is the
//! bottleneck, commits get fewer instead of pages waiting longer.
//!
//! Pages reach it through a bounded channel ([`PAGES_IN_FLIGHT`]), so selecting the next
//! page overlaps writing this one and memory stays bounded: a full channel makes the
//! sender wait. Page writes are not answered one by one; the first failure of a load is
//! kept and reported by [`Writer::finish`], and [`Writer::failed`] lets the sender stop
//! early. Everything else (begin, resume, skip, finish) is a request with a reply.

use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;

use serde_json::Value;
use sluice_sink::{
    LoadId, LoadSummary, Outcome, PageText, SavedState, Sink, SinkError, TableSpec, Unfinished,
};

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

type Reply<T> = SyncSender<Result<T, WriteError>>;

enum Command {
    States(Reply<Vec<SavedState>>),
    Begin(TableSpec, Option<Unfinished>, Reply<LoadId>),
    Skip(TableSpec, String, Reply<LoadId>),
    Page(LoadId, Page),
    Finish(LoadId, End, Reply<LoadSummary>),
}

/// The handle of the write thread.
#[derive(Debug)]
pub struct Writer {
    tx: Option<SyncSender<Command>>,
    failed: Arc<Mutex<Option<(LoadId, WriteError)>>>,
    thread: Option<JoinHandle<()>>,
}

impl Writer {
    /// Starts the write thread with `sink`.
    pub fn start(sink: SendSink) -> std::io::Result<Writer> {
        let (tx, rx) = sync_channel(PAGES_IN_FLIGHT);
        let failed = Arc::new(Mutex::new(None));
        let slot = Arc::clone(&failed);
        let thread = std::thread::Builder::new()
            .name("sluice-write".into())
            .spawn(move || serve(sink, &rx, &slot))?;
        Ok(Writer {
            tx: Some(tx),
            failed,
            thread: Some(thread),
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

    /// Starts a load, continuing `from` when given.
    pub fn begin(&self, spec: &TableSpec, from: Option<&Unfinished>) -> Result<LoadId, WriteError> {
        self.ask(|r| Command::Begin(spec.clone(), from.cloned(), r))
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
        failure_of(&self.failed, load)
    }

    /// Ends `load` once its queued pages are written. A page that failed turns a completed
    /// end into a failed one, and is the error returned.
    pub fn finish(&self, load: LoadId, end: End) -> Result<LoadSummary, WriteError> {
        self.ask(|r| Command::Finish(load, end, r))
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        drop(self.tx.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve(mut sink: SendSink, rx: &Receiver<Command>, failed: &Mutex<Option<(LoadId, WriteError)>>) {
    let sink_err = |e: SinkError| WriteError::Sink(format!("{:#}", crate::run::anyhow_like(&e)));
    let fail = |load: LoadId, e: WriteError| {
        *failed.lock().unwrap_or_else(PoisonError::into_inner) = Some((load, e));
    };
    let failure = |load: LoadId| failure_of(failed, load);
    let mut next: Option<Command> = None;
    loop {
        let command = match next.take() {
            Some(c) => c,
            None => match rx.recv() {
                Ok(c) => c,
                Err(_) => return,
            },
        };
        match command {
            Command::States(reply) => {
                let _ = reply.send(sink.states().map_err(sink_err));
            }
            Command::Begin(spec, from, reply) => {
                let started = match &from {
                    None => sink.begin(&spec),
                    Some(f) => sink.resume(&spec, f),
                };
                let _ = reply.send(started.map_err(sink_err));
            }
            Command::Skip(spec, reason, reply) => {
                let _ = reply.send(sink.skip(&spec, &reason).map_err(sink_err));
            }
            Command::Page(load, page) => {
                if failure(load).is_some() {
                    continue; // the load failed: its later pages are dropped
                }
                // Group commit: the pages of this load already queued go in one transaction.
                let mut batch = vec![page];
                while batch.len() < MAX_BATCH {
                    match rx.try_recv() {
                        Ok(Command::Page(l, p)) if l == load => batch.push(p),
                        Ok(other) => {
                            next = Some(other);
                            break;
                        }
                        Err(_) => break,
                    }
                }
                let pages: Vec<PageText<'_>> = batch
                    .iter()
                    .map(|p| PageText {
                        records: &p.records,
                        count: p.count,
                        state: &p.state,
                    })
                    .collect();
                // The sink flattens the records straight from the pages' text.
                if let Err((_, e)) = sink.write_pages_text(load, &pages) {
                    fail(
                        load,
                        match e {
                            SinkError::Records { expected, message } => {
                                WriteError::Records { expected, message }
                            }
                            other => sink_err(other),
                        },
                    );
                }
            }
            Command::Finish(load, end, reply) => {
                let page_error = failure(load);
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
                let finished = sink.finish(load, outcome).map_err(sink_err);
                let _ = reply.send(match page_error {
                    Some(e) => Err(e),
                    None => finished,
                });
            }
        }
    }
}

/// The write failure recorded for `load`, if any.
fn failure_of(slot: &Mutex<Option<(LoadId, WriteError)>>, load: LoadId) -> Option<WriteError> {
    let slot = slot.lock().unwrap_or_else(PoisonError::into_inner);
    slot.as_ref()
        .filter(|(l, _)| *l == load)
        .map(|(_, e)| e.clone())
}

/// The records of a page, checked to be a JSON array of `count` items.
pub fn parse_records(page: &Page) -> Result<Vec<Value>, WriteError> {
    let records: Vec<Value> =
        serde_json::from_str(&page.records).map_err(|e| WriteError::Records {
            expected: page.count,
            message: e.to_string(),
        })?;
    if records.len() != page.count as usize {
        return Err(WriteError::Records {
            expected: page.count,
            message: format!("it holds {}", records.len()),
        });
    }
    Ok(records)
}
