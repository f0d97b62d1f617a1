//! The normalize stage: a thread between selecting and writing that flattens each page's
//! records (the JSON text the connector returned) into the rows of the resource's tables with
//! the load's [`Normalizer`], so a page is parsed while the one before it is written.
//!
//! Every request to the write stage passes through it, in order, so a load's `finish`
//! cannot overtake its pages. It takes a load's normalizer from the sink when the load
//! begins and drops it when the load finishes. A page that does not normalize is passed on
//! as its error, in its place: the write stage writes the pages before it and reports it.

use std::collections::HashMap;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use sluice_sink::{LoadId, NormalizedPage, Normalizer};

use crate::write::{Command, Failures, Reply, WriteError, sink_error};

/// What the write stage is asked to do: the driver's requests, with pages normalized.
pub(crate) enum Job {
    States(Reply<Vec<sluice_sink::SavedState>>),
    /// Begins (or resumes) a load and hands back its normalizer.
    Begin(
        sluice_sink::TableSpec,
        Option<sluice_sink::Unfinished>,
        Reply<(LoadId, Normalizer)>,
    ),
    Skip(sluice_sink::TableSpec, String, Reply<LoadId>),
    Rows(LoadId, Result<NormalizedPage, WriteError>),
    Finish(LoadId, crate::write::End, Reply<sluice_sink::LoadSummary>),
}

/// Runs the stage until the driver's side of `rx` closes; `tx` goes to the write stage.
/// Pages the write stage is done with come back through `written` to be freed here, off the
/// write stage's thread (freeing a page's rows costs about a tenth of writing them).
pub(crate) fn serve(
    rx: &Receiver<Command>,
    tx: &SyncSender<Job>,
    written: &Receiver<Vec<NormalizedPage>>,
    failures: &Failures,
) {
    let mut normalizers: HashMap<LoadId, Normalizer> = HashMap::new();
    while let Ok(command) = rx.recv() {
        while written.try_recv().is_ok() {}
        let job = match command {
            Command::States(reply) => Job::States(reply),
            Command::Skip(spec, reason, reply) => Job::Skip(spec, reason, reply),
            Command::Begin(spec, from, reply) => {
                let (inner, answer) = sync_channel(1);
                if tx.send(Job::Begin(spec, from, inner)).is_err() {
                    let _ = reply.send(Err(WriteError::Stopped));
                    return;
                }
                let begun = answer.recv().unwrap_or(Err(WriteError::Stopped));
                let _ = reply.send(begun.map(|(load, normalizer)| {
                    normalizers.insert(load, normalizer);
                    load
                }));
                continue;
            }
            Command::Page(load, page) => {
                if failures.of(load).is_some() {
                    continue; // the load failed: its later pages are dropped
                }
                let rows = match normalizers.get_mut(&load) {
                    Some(n) => n
                        .normalize(page.records, page.count, page.state)
                        .map_err(sink_error),
                    None => Err(WriteError::Stopped),
                };
                Job::Rows(load, rows)
            }
            Command::Finish(load, end, reply) => {
                normalizers.remove(&load);
                Job::Finish(load, end, reply)
            }
        };
        if tx.send(job).is_err() {
            return;
        }
    }
}
