//! Progress from the threads that load resources side by side (`--parallel-resources`),
//! relayed to the run's one [`Progress`]: each thread reports to a [`Relay`], and the thread
//! that owns the display applies the events in the order they came ([`Event::apply`]).

use std::sync::mpsc::Sender;
use std::time::Duration;

use crate::progress::Progress;
use crate::protocol::Notice;
use crate::run::Status;

/// One call of [`Progress`], by value.
#[derive(Debug)]
pub enum Event {
    Started(String),
    Page(String, u64, u64, Option<u64>),
    Retry(String, u32, String, Duration, String),
    Notice(String, Notice),
    Finished(String, u64, u64, Status),
    Skipped(String, String),
}

impl Event {
    /// Makes the call this event stands for on `progress`.
    pub fn apply(self, progress: &mut dyn Progress) {
        match self {
            Event::Started(r) => progress.resource_started(&r),
            Event::Page(r, pages, records, total) => progress.page(&r, pages, records, total),
            Event::Retry(r, attempt, reason, wait, url) => {
                progress.retry(&r, attempt, &reason, wait, &url);
            }
            Event::Notice(r, notice) => progress.notice(&r, &notice),
            Event::Finished(r, pages, records, status) => {
                progress.resource_finished(&r, pages, records, &status);
            }
            Event::Skipped(r, reason) => progress.resource_skipped(&r, &reason),
        }
    }
}

/// A [`Progress`] that sends each call to the thread owning the display. A call made after
/// that thread stopped listening is dropped (the run is ending).
#[derive(Debug, Clone)]
pub struct Relay(pub Sender<Event>);

impl Relay {
    fn send(&self, event: Event) {
        let _ = self.0.send(event);
    }
}

impl Progress for Relay {
    fn resource_started(&mut self, resource: &str) {
        self.send(Event::Started(resource.into()));
    }

    fn page(&mut self, resource: &str, pages: u64, records: u64, total: Option<u64>) {
        self.send(Event::Page(resource.into(), pages, records, total));
    }

    fn retry(&mut self, resource: &str, attempt: u32, reason: &str, wait: Duration, url: &str) {
        let event = Event::Retry(resource.into(), attempt, reason.into(), wait, url.into());
        self.send(event);
    }

    fn notice(&mut self, resource: &str, notice: &Notice) {
        self.send(Event::Notice(resource.into(), notice.clone()));
    }

    fn resource_finished(&mut self, resource: &str, pages: u64, records: u64, status: &Status) {
        let event = Event::Finished(resource.into(), pages, records, status.clone());
        self.send(event);
    }

    fn resource_skipped(&mut self, resource: &str, reason: &str) {
        self.send(Event::Skipped(resource.into(), reason.into()));
    }
}
