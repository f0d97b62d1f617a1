//! Loads JSON records into SQLite tables: schema inference, merge, append, replace.
//!
//! The crate knows nothing of WIT, wasm or HTTP: a caller hands it pages of
//! [`serde_json::Value`] records through the [`Sink`] trait. [`SqliteSink`] is the one
//! implementation today; PostgreSQL will come later behind the same trait, so everything
//! dialect-specific lives in the `sqlite` module and the pure stages (flattening, type
//! inference, schema evolution decisions, naming) are dialect-free.
//!
//! # Tables
//! One data table per resource, named [`normalize_identifier`]`(resource)`, plus three
//! bookkeeping tables: `_sluice_loads` (the ledger: one row per load with status
//! `running|completed|failed`, row and page counts, error text), `_sluice_state` (the
//! checkpointed state of each resource) and `_sluice_columns` (the inferred schema, the
//! authoritative column metadata). Resource names normalizing to a `_sluice_` prefix are
//! refused.
//!
//! # Schema inference (dlt-like)
//! - Nested objects are flattened into `parent__child` columns, recursively, down to
//!   [`TableSpec::max_table_nesting`] levels (dlt's `max_table_nesting`): an object deeper
//!   than the limit is stored whole as a `json` column (0 = no flattening at all, 1 = the
//!   record's own objects are flattened but objects inside them stay JSON, ...).
//! - **Lists are stored as a `json` column holding the JSON text.** dlt makes child tables
//!   for lists; sluice keeps them as JSON to stay one-table-per-resource.
//! - JSON integer -> `bigint`; float (or an integer beyond `i64`) -> `double`; bool ->
//!   `bool` (stored 0/1); a string that is an ISO-8601/RFC 3339 date-time or a plain date
//!   -> `timestamp` (stored as the text); any other string -> `text`; list -> `json`.
//! - `null` says nothing about a type. A column seen only with nulls in the page that
//!   creates the table is created as nullable `text`; a null-only field appearing in a
//!   later page is not created until a typed value appears (its rows are NULL anyway).
//! - Column names are normalized to snake_case like dlt (`updatedAt` -> `updated_at`).
//!
//! # Schema evolution
//! - A new field adds a column (`ALTER TABLE ADD COLUMN` plus a metadata row).
//! - `bigint` meeting `double` widens the column to `double`.
//! - Any other type conflict turns the column into `text`: the conflicting value is
//!   stored as text (a string as itself, anything else as its JSON text) and so is every
//!   later value. Existing values are converted by a table rebuild (bools become
//!   `true`/`false`), since SQLite cannot change a column's declared type in place.
//!
//! # Dispositions
//! - `Append`: plain inserts; duplicates are kept.
//! - `Merge`: upsert by primary key through a unique index; the row becomes exactly the
//!   latest record (fields the record omits are set to NULL); within one page the last
//!   duplicate wins. Merge with an empty primary key behaves as append.
//! - `Replace`: pages go to `<table>__staging`; `finish(Completed)` swaps it in within one
//!   transaction, `finish(Failed)` drops it and leaves the old table untouched. The state
//!   checkpoint of a replace load is kept in the ledger and published to `_sluice_state`
//!   only when the swap commits, so a failed replace does not advance the state. A
//!   completed replace with no rows empties the existing table.
//!
//! # Metadata and keys
//! `_sluice_columns` is the authoritative schema; SQLite's declared types (`BIGINT`,
//! `DOUBLE`, `BOOLEAN`, `TIMESTAMP`, `TEXT`, `JSON`) only set column affinities. Primary
//! key columns are `NOT NULL` when the table is created; a key column that first appears
//! on an existing table is added nullable in the DDL (SQLite cannot add a `NOT NULL`
//! column without a default) and the sink itself rejects records without it. Merging into
//! a table that already holds duplicate keys (e.g. after appends) fails when the unique
//! index is created, with an error naming the table.
//!
//! Tables are created lazily on the first non-empty page. Each `write_page` is one
//! transaction holding the rows, any DDL, the state checkpoint and the ledger counters.

mod error;
mod flatten;
mod flatten_json;
mod lease;
mod naming;
mod schema;
mod sqlite;
mod types;

pub use error::SinkError;
pub use naming::normalize_identifier;
pub use sqlite::SqliteSink;
pub use types::{ColumnInfo, DataType};

/// How a load writes into its table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WriteDisposition {
    /// Insert every record.
    Append,
    /// Replace the whole table when the load completes.
    Replace,
    /// Upsert by primary key.
    Merge,
}

/// The table a load writes: resource name, primary key fields and disposition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableSpec {
    /// Resource name; the table is its normalized form.
    pub name: String,
    /// Primary key field names (a nested field as `parent.child` or `parent__child`).
    pub primary_key: Vec<String>,
    pub disposition: WriteDisposition,
    /// Levels of nested objects flattened into columns; deeper objects are stored as JSON.
    /// `None`: no limit.
    pub max_table_nesting: Option<u32>,
}

/// Identifies one load in the `_sluice_loads` ledger.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoadId(pub i64);

/// How a load ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome<'a> {
    Completed,
    Failed {
        error: &'a str,
    },
    /// Stopped on purpose (Ctrl-C) before its end; the next run resumes it.
    Interrupted,
}

/// The saved state of one resource.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SavedState {
    pub resource: String,
    /// The state committed with the resource's last page.
    pub latest: String,
    /// The state the last completed load ended with (what `--restart` starts from).
    pub completed: Option<String>,
    /// Set when `latest` belongs to a load that did not complete: the next load resumes it.
    pub unfinished: Option<Unfinished>,
}

/// A load that stopped before its end (failed, interrupted, or left running by a dead process).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unfinished {
    /// The load that committed the latest state.
    pub load_id: LoadId,
    /// Pages committed by the unfinished load and the loads it resumed.
    pub pages: u64,
}

/// What a finished load wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadSummary {
    pub load_id: LoadId,
    pub resource: String,
    pub rows: u64,
    pub pages: u64,
    /// `completed`, `failed` or `interrupted`.
    pub status: String,
}

/// The seam between loading and storage.
///
/// A sink holds its database exclusively while it lives (one writer per database): opening
/// a second one on the same database fails at once, naming the holder.
pub trait Sink {
    /// Saved state of every resource.
    fn states(&mut self) -> Result<Vec<SavedState>, SinkError>;
    /// Starts a load: writes a `_sluice_loads` row with status "running". Creates no data table yet.
    fn begin(&mut self, spec: &TableSpec) -> Result<LoadId, SinkError>;
    /// Starts a load that continues `from` (the pages it committed stay; a replace load keeps
    /// writing into the same staging table).
    fn resume(&mut self, spec: &TableSpec, from: &Unfinished) -> Result<LoadId, SinkError>;
    /// Records in the ledger that a resource was not attempted, and why.
    fn skip(&mut self, spec: &TableSpec, reason: &str) -> Result<LoadId, SinkError>;
    /// Writes one page and its checkpointed state in ONE transaction. Returns rows written.
    fn write_page(
        &mut self,
        load: LoadId,
        records: &[serde_json::Value],
        state: &str,
    ) -> Result<u64, SinkError>;
    /// Writes one page given as the JSON array text of its `count` records (as a connector
    /// returns it), with its state, in ONE transaction. The default parses the records and
    /// calls [`Sink::write_page`]; a sink may flatten the text directly instead.
    fn write_page_text(
        &mut self,
        load: LoadId,
        records: &str,
        count: u32,
        state: &str,
    ) -> Result<u64, SinkError> {
        let parsed: Vec<serde_json::Value> =
            serde_json::from_str(records).map_err(|e| SinkError::Records {
                expected: count,
                message: e.to_string(),
            })?;
        if parsed.len() != count as usize {
            return Err(SinkError::Records {
                expected: count,
                message: format!("it holds {}", parsed.len()),
            });
        }
        self.write_page(load, &parsed, state)
    }
    /// Ends a load. Completed: for Replace, swap the staged table in (atomically); ledger -> "completed".
    /// Failed: for Replace, drop the staged data (old table untouched); ledger -> "failed" with the error text.
    fn finish(&mut self, load: LoadId, outcome: Outcome<'_>) -> Result<LoadSummary, SinkError>;
}
