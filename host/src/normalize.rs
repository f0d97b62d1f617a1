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
        crate::write::Start,
        Reply<(LoadId, Normalizer)>,
    ),
    Skip(sluice_sink::TableSpec, String, Reply<LoadId>),
    Rows(LoadId, Result<NormalizedPage, WriteError>),
    Finish(LoadId, crate::write::End, Reply<crate::write::Finished>),
}

/// Most bytes of normalized pages (their text and rows, [`NormalizedPage::heap_size`])
/// handed to the write stage and not yet back. Pages of the usual size never reach it (the
/// channels bound them first); a page of megabytes goes in parts of ~6 MiB
/// ([`sluice_sink::PART_BYTES`] of text), a few at a time.
const MAX_QUEUED_BYTES: usize = 24 << 20;

/// Runs the stage until the driver's side of `rx` closes; `tx` goes to the write stage.
/// Every page handed to the write stage comes back through `written` once it is written
/// (or dropped), to be freed here, off the write stage's thread (freeing a page's rows costs
/// about a tenth of writing them); what is out is bounded by [`MAX_QUEUED_BYTES`]. A page
/// larger than [`sluice_sink::PART_BYTES`] goes as parts, flattened one at a time, so its
/// rows never all exist at once.
pub(crate) fn serve(
    rx: &Receiver<Command>,
    tx: &SyncSender<Job>,
    written: &Receiver<Vec<NormalizedPage>>,
    failures: &Failures,
) {
    let mut normalizers: HashMap<LoadId, Normalizer> = HashMap::new();
    let mut out = Outstanding::new(MAX_QUEUED_BYTES);
    while let Ok(command) = rx.recv() {
        while let Ok(pages) = written.try_recv() {
            out.back(&pages);
        }
        let job = match command {
            Command::States(reply) => Job::States(reply),
            Command::Skip(spec, reason, reply) => Job::Skip(spec, reason, reply),
            Command::Begin(spec, start, reply) => {
                let (inner, answer) = sync_channel(1);
                if tx.send(Job::Begin(spec, start, inner)).is_err() {
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
                let Some(normalizer) = normalizers.get_mut(&load) else {
                    if tx.send(Job::Rows(load, Err(WriteError::Stopped))).is_err() {
                        return;
                    }
                    continue;
                };
                // A large page goes in parts: the next part is flattened only once the one
                // before it found room and went out.
                let done = page.done;
                for part in normalizer.parts(page.records, page.count, page.state) {
                    let rows = part.map_err(sink_error).map(|mut part| {
                        if done {
                            part.set_last(); // its last part: the load's last page
                        }
                        part
                    });
                    let failed = rows.is_err();
                    if let Ok(part) = &rows {
                        out.wait_for_room(part.heap_size(), written);
                    }
                    if tx.send(Job::Rows(load, rows)).is_err() {
                        return;
                    }
                    if failed || failures.of(load).is_some() {
                        break; // the page's later parts are not flattened
                    }
                }
                continue;
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

/// Bytes of the pages handed to the write stage and not back yet, and the most there may be.
#[derive(Debug)]
struct Outstanding {
    bytes: usize,
    max: usize,
}

impl Outstanding {
    fn new(max: usize) -> Self {
        Outstanding { bytes: 0, max }
    }

    /// Pages came back from the write stage: they are freed here.
    fn back(&mut self, pages: &[NormalizedPage]) {
        let bytes: usize = pages.iter().map(NormalizedPage::heap_size).sum();
        self.bytes = self.bytes.saturating_sub(bytes);
    }

    /// Waits (freeing the pages that come back) until a page of `bytes` may go out: when
    /// nothing is out, or it fits within the most. Then counts it out.
    fn wait_for_room(&mut self, bytes: usize, written: &Receiver<Vec<NormalizedPage>>) {
        while self.bytes > 0 && self.bytes + bytes > self.max {
            match written.recv() {
                Ok(pages) => self.back(&pages),
                Err(_) => break, // the write stage is gone: the send will fail
            }
        }
        self.bytes += bytes;
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, mpsc};
    use std::time::Duration;

    use sluice_sink::{Sink, SqliteSink, TableSpec, WriteDisposition};

    use super::*;

    fn pages(n: usize) -> Vec<NormalizedPage> {
        let mut sink = SqliteSink::open_in_memory().unwrap();
        let spec = TableSpec {
            name: "t".into(),
            primary_key: Vec::new(),
            disposition: WriteDisposition::Append,
            max_table_nesting: None,
            hints: Default::default(),
        };
        let load = sink.begin(&spec).unwrap();
        let mut normalizer = sink.normalizer(load).unwrap();
        (0..n)
            .map(|i| {
                let text = format!(r#"[{{"id":{i},"pad":"{}"}}]"#, "x".repeat(40));
                normalizer.normalize(text, 1, "{}".into()).unwrap()
            })
            .collect()
    }

    #[test]
    fn pages_wait_until_those_out_come_back_within_the_bound() {
        let mut all = pages(3);
        let size = all[0].heap_size();
        let mut out = Outstanding::new(size * 2);
        let (back, written) = mpsc::channel();
        // Two fit; nothing out lets any page go.
        out.wait_for_room(size, &written);
        out.wait_for_room(size, &written);
        assert_eq!(out.bytes, size * 2);
        // A third waits until one comes back.
        let returned = Arc::new(AtomicBool::new(false));
        let first = all.remove(0);
        let sender = {
            let returned = Arc::clone(&returned);
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(50));
                returned.store(true, Ordering::SeqCst);
                back.send(vec![first]).unwrap();
                back // dropped after the test's last wait
            })
        };
        out.wait_for_room(size, &written);
        assert!(
            returned.load(Ordering::SeqCst),
            "went out before room was made"
        );
        assert_eq!(out.bytes, size * 2);
        // The write stage gone: no waiting for pages that will not come back.
        drop(sender.join().unwrap());
        out.wait_for_room(size, &written);
        assert_eq!(out.bytes, size * 3);
    }
}
