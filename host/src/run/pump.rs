//! The loop of one resource: keep the window of requests full, take the answers in the
//! order planned, hand each to the connector and its page to the write stage.

use std::collections::{HashSet, VecDeque};

use sluice_transport::{Response, TransportError};

use super::{Answers, Load, ResourceError, ResourceSummary, Runner, state_number};
use crate::bindings::Planned;
use crate::fetch::{Fetched, Sent};
use crate::flight::Flight;
use crate::protocol::{Level, Notice, Page};
use crate::redact;

impl Runner<'_> {
    /// Keeps the window full of planned requests and hands the answers, in planned order,
    /// to the connector and its pages to the write stage, until a page says `done` or
    /// nothing is left to plan.
    pub(super) fn pump(
        &mut self,
        resource: &str,
        mut load: Option<&mut Load<'_>>,
        summary: &mut ResourceSummary,
        sent: &mut Sent,
        flight: &mut Answers,
    ) -> Result<(), ResourceError> {
        // Requests planned and not sent yet: a connector may plan more at once than the
        // window holds. They go out as it opens, and never past the page ceiling.
        let mut queued: VecDeque<Planned> = VecDeque::new();
        loop {
            // After a stop request nothing more is planned; the pages in flight are still
            // answered and committed.
            while flight.has_room() && !self.stop.requested() {
                let at_ceiling = summary.pages + flight.len() >= self.max_pages;
                if at_ceiling && !flight.is_empty() {
                    break; // the pages in flight may end the resource
                }
                if queued.is_empty() {
                    let planned = self.guest.next_requests(resource)?;
                    if planned.is_empty() {
                        break;
                    }
                    check_seqs(&planned, flight)?;
                    queued.extend(planned);
                }
                if at_ceiling {
                    return Err(ResourceError::TooManyPages {
                        max: self.max_pages,
                    });
                }
                if let Some(p) = queued.pop_front() {
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
                // A request that was waiting to retry when the run was asked to stop.
                let response = answer.map_err(|e| match e {
                    TransportError::Cancelled { .. } => ResourceError::Interrupted,
                    e => e.into(),
                })?;
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

    /// Waits for the next word from the fetch stage: a retry (reported; it halves the
    /// window) or an answer.
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
                ..
            } => {
                sent.retries += 1;
                // A 429, a 5xx, a timeout: the server is struggling or asks to slow down.
                // Fewer requests in flight help it, and leave fewer answers to drop (and ask
                // again next run) when this request runs out of attempts.
                flight.throttled();
                self.progress.retry(resource, attempt, &reason, wait, &url);
            }
            Fetched::Done { seq, result } => flight.arrived(seq, result),
        }
        Ok(())
    }

    pub(super) fn drain(&mut self, resource: &str, flight: &mut Answers, sent: &mut Sent) {
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
        // The state is written with every page: one a connector makes as large as a page of
        // records would be written over and over.
        if page.state.len() > self.max_page_bytes {
            return Err(ResourceError::StateTooLarge {
                size: page.state.len() as f64 / f64::from(1 << 20),
                max: self.max_page_bytes >> 20,
            });
        }
        for notice in page.notices.iter().take(MAX_NOTICES) {
            self.progress.notice(resource, &clipped(notice));
        }
        let hidden = page.notices.get(MAX_NOTICES..).unwrap_or_default();
        if let Some(level) = hidden.iter().map(|n| n.level).max() {
            let more = Notice {
                level,
                message: format!(
                    "{} more notices of the connector with this page are not shown",
                    hidden.len()
                ),
            };
            self.progress.notice(resource, &more);
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

/// A request's seq names its answer: one the connector plans twice (in one list, or while
/// the first is in flight) would leave the host waiting for an answer that never comes.
fn check_seqs(planned: &[Planned], flight: &Answers) -> Result<(), ResourceError> {
    let mut seen = HashSet::with_capacity(planned.len());
    match planned
        .iter()
        .find(|p| !seen.insert(p.seq) || flight.holds(p.seq))
    {
        Some(p) => Err(ResourceError::SeqTwice(p.seq)),
        None => Ok(()),
    }
}

/// Notices of one page that are printed: a connector's words on its pages, not a log of its
/// records (a flood of them would bury the rest).
const MAX_NOTICES: usize = 10;

/// Characters of one notice that are printed.
const MAX_NOTICE_CHARS: usize = 2000;

/// `notice`, its message cut at [`MAX_NOTICE_CHARS`].
fn clipped(notice: &Notice) -> Notice {
    match notice.message.char_indices().nth(MAX_NOTICE_CHARS) {
        None => notice.clone(),
        Some((end, _)) => Notice {
            level: notice.level,
            message: format!(
                "{}... ({} characters in all)",
                &notice.message[..end],
                notice.message.chars().count()
            ),
        },
    }
}
