//! The request chains of a dependent resource: one per parent record, each with its own
//! paginator, several in flight at once.
//!
//! The chain in progress (the *current* one) lives in the resource's run; the chains of the
//! next parent records may start while it is in flight, as [`Lane`]s. A lane's pages are
//! selected as they are answered but its records are *held* (the host gets a page without
//! records that keeps the position where it was) until every chain before it is complete;
//! then they go out with the page that completed the chain before it. Records are thus
//! committed chain by chain, in parent order, and the saved position ("the first N parent
//! records are done, chain N+1 stands at page k") stays exact, whatever was fetched ahead.
//!
//! Memory is bounded: at most [`MAX_HELD`] pages are held or asked for by lanes, and their
//! records (held, and those asked for, reckoned at the largest page so far) stay within
//! [`MAX_HELD_BYTES`]. So the page that hands held records over is at most that much larger
//! than a page of the API, and pages too large to hold leave the chains one at a time.

use std::collections::VecDeque;

use serde_json::Value;

use crate::dependent::Row;
use crate::paginator::{Guard, Paginator};
use crate::placeholder::lookup;

/// Pages that chains running ahead may hold or have in flight, together.
pub const MAX_HELD: usize = 32;

/// Bytes of records that chains running ahead may hold, together with those of their pages
/// in flight (each reckoned at the largest page seen).
pub const MAX_HELD_BYTES: usize = 16 << 20;

/// The chain progress of a child resource.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Chains {
    /// Parent rows whose chains have not started.
    pub queue: VecDeque<Row>,
    /// The row of the chain in progress.
    pub current: Option<Row>,
    /// Whether a page of the current chain was answered (its paginator stands after it).
    pub answered: bool,
    /// Chains started after the current one, in parent order.
    pub lanes: VecDeque<Lane>,
    /// Parent rows seen so far.
    pub rows_seen: u64,
    /// Number of the last parent row whose chain is complete (0: none yet). Chains complete
    /// in parent order, so the first `finished` parent rows are done.
    pub finished: u64,
    /// The next chain continues a resumed one: keep the restored paginator.
    pub continue_current: bool,
    /// Bytes of the largest page of records answered so far (0: none yet).
    pub largest_page: usize,
}

impl Chains {
    /// Takes the needed fields of each parent record into the queue.
    pub fn feed(&mut self, records: &[Value], fields: &[String], status: u16) {
        for record in records {
            self.rows_seen += 1;
            let values = fields
                .iter()
                .map(|f| (f.clone(), lookup(record, f).cloned()))
                .collect();
            self.queue.push_back(Row {
                values,
                status,
                number: self.rows_seen,
            });
        }
    }

    /// Whether a lane may ask for one more page: a page was answered (its size is known),
    /// and the held pages and bytes, with those in flight and this one, stay in bounds.
    pub fn may_hold_more(&self, waiting: impl Fn(u64) -> bool) -> bool {
        if self.largest_page == 0 {
            return false;
        }
        let in_flight = self.lanes.iter().filter(|l| waiting(l.row.number)).count();
        let held_pages: usize = self.lanes.iter().map(|l| l.pages).sum();
        let held_bytes: usize = self.lanes.iter().map(|l| l.records.text.len()).sum();
        let asked = (in_flight + 1).saturating_mul(self.largest_page);
        held_pages + in_flight < MAX_HELD && held_bytes.saturating_add(asked) <= MAX_HELD_BYTES
    }

    /// Notes the size of an answered page of records.
    pub fn answered_page(&mut self, bytes: usize) {
        self.largest_page = self.largest_page.max(bytes.max(1));
    }

    /// The first lane that may ask for its next page, if any.
    pub fn ready_lane(&self, waiting: impl Fn(u64) -> bool) -> Option<usize> {
        self.lanes
            .iter()
            .position(|l| !l.done && !waiting(l.row.number))
    }

    /// The lane of parent row `number`, if that chain runs ahead.
    pub fn lane_of(&self, number: u64) -> Option<usize> {
        self.lanes.iter().position(|l| l.row.number == number)
    }

    /// Ends the current chain: the lanes after it that are complete hand over their held
    /// records into `out`, and the first that is not becomes the current chain, with its
    /// paginator and guard moved into `paginator` and `guard`.
    pub fn complete_current(
        &mut self,
        paginator: &mut Paginator,
        guard: &mut Guard,
        out: &mut Records,
    ) {
        if let Some(row) = self.current.take() {
            self.finished = row.number;
        }
        self.answered = false;
        while let Some(lane) = self.lanes.pop_front() {
            out.append(&lane.records);
            if lane.done {
                self.finished = lane.row.number;
                continue;
            }
            self.answered = lane.pages > 0;
            self.current = Some(lane.row);
            *paginator = lane.paginator;
            *guard = lane.guard;
            break;
        }
    }
}

/// A chain started while the chain of an earlier parent record is in progress.
#[derive(Debug, Clone, PartialEq)]
pub struct Lane {
    pub row: Row,
    /// Stands after the last answered page.
    pub paginator: Paginator,
    pub guard: Guard,
    /// Its records so far, held until the chains before it are complete.
    pub records: Records,
    /// Pages answered.
    pub pages: usize,
    /// Its last page was answered.
    pub done: bool,
}

impl Lane {
    pub fn new(row: Row, paginator: Paginator, guard: Guard) -> Self {
        Lane {
            row,
            paginator,
            guard,
            records: Records::default(),
            pages: 0,
            done: false,
        }
    }

    /// Holds the records of an answered page.
    pub fn hold(&mut self, records: Records, chain_done: bool) {
        if self.records.count == 0 {
            self.records = records;
        } else {
            self.records.append(&records);
        }
        self.pages += 1;
        self.done = chain_done;
    }
}

/// Records as one JSON array text.
#[derive(Debug, Clone, PartialEq)]
pub struct Records {
    pub text: String,
    pub count: usize,
}

impl Default for Records {
    fn default() -> Self {
        Records {
            text: "[]".into(),
            count: 0,
        }
    }
}

impl Records {
    /// Appends the records of `other` after these.
    pub fn append(&mut self, other: &Records) {
        if other.count == 0 {
            return;
        }
        if self.count == 0 {
            self.text.clone_from(&other.text);
        } else {
            let inner = other.text.trim();
            let inner = inner.strip_prefix('[').unwrap_or(inner);
            let inner = inner.strip_suffix(']').unwrap_or(inner);
            let end = self.text.trim_end().len();
            self.text.truncate(end.saturating_sub(1)); // the closing `]`
            self.text.push(',');
            self.text.push_str(inner);
            self.text.push(']');
        }
        self.count += other.count;
    }
}

#[cfg(test)]
#[path = "chains_tests.rs"]
mod tests;
