//! What a run reports of each resource: how it ended and what it loaded.

use sluice_sink::LoadId;

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
    /// Records of an unfinished load this run started over, deleted first (it fetched them
    /// again).
    pub discarded: u64,
    pub pages: u64,
    pub records: u64,
    pub rows_written: u64,
    /// Rows written per table: the resource's table, then its child tables.
    pub tables: Vec<(String, u64)>,
    pub requests: u64,
    pub retries: u64,
    pub seconds: f64,
    /// Whether the warning about a secret in the records was shown (once per resource).
    pub(super) secret_warned: bool,
}

impl ResourceSummary {
    pub(super) fn new(name: &str, status: Status) -> Self {
        ResourceSummary {
            name: name.to_string(),
            status,
            load_id: None,
            resumed_at: None,
            discarded: 0,
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
