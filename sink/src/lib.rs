//! Loads JSON records into SQLite tables: schema inference, merge, append, replace.
//!
//! The crate knows nothing of WIT, wasm or HTTP: a caller hands it pages of records (the JSON
//! text of each page, or [`serde_json::Value`]s) through the [`Sink`] trait. A load's
//! [`Normalizer`] flattens pages into rows apart from the database, so a caller can run it on
//! a thread of its own and hand the sink [`NormalizedPage`]s. [`SqliteSink`] is the one
//! implementation today; PostgreSQL will come later behind the same trait, so everything
//! dialect-specific lives in the `sqlite` module and the pure stages (flattening, type
//! inference, schema evolution decisions, naming) are dialect-free.
//!
//! # Tables (dlt's relational normalization)
//! One data table per resource, named [`normalize_identifier`]`(resource)`, plus a child
//! table per list, and four bookkeeping tables: `_sluice_loads` (the ledger: one row per
//! load with status `running|completed|failed|interrupted|skipped`, row and page counts,
//! error text), `_sluice_state` (the checkpointed state of each resource), `_sluice_lease`
//! (the one writer) and `_sluice_columns` (the inferred schema, the authoritative column
//! metadata). Resource names normalizing to a `_sluice_` prefix are refused.
//!
//! - Nested objects are flattened into `parent__child` columns, recursively.
//! - Lists become child tables `<table>__<field>` (recursively: `<table>__<field>__<sub>`):
//!   a list of objects gives one flattened row per element, a list of scalars one row per
//!   element with the element in `value`, a list inside a list a row standing for it whose
//!   elements go to `<table>__<field>__list`. An empty list gives no rows.
//! - Every row gets `_dlt_id` (unique, 14 characters like dlt's, increasing within a load:
//!   see `flatten::sortable_id`);
//!   root rows get `_dlt_load_id` (the ledger's load id); child rows get `_dlt_parent_id`,
//!   `_dlt_list_idx` (0-based) and, under merge, `_dlt_root_id`.
//! - [`TableSpec::max_table_nesting`] is dlt's `max_table_nesting`: objects and lists at that
//!   level stay JSON columns (0: the record's own objects and lists stay JSON).
//! - Names follow dlt's `snake_case` convention exactly (see [`normalize_identifier`]). Two
//!   keys of one object that normalize to one name fail the page instead of one silently
//!   overwriting the other.
//!
//! # Types
//! JSON integer -> `bigint`; float (or an integer beyond `i64`) -> `double`; bool -> `bool`
//! (stored 0/1); an ISO-8601 date or date-time string -> `timestamp` (stored as the text);
//! any other string -> `text`; an object or list kept whole -> `json`. `null` says nothing
//! about a type: a field seen only as null gets no column. A field's first typed value sets
//! its column's type; a later value is converted as dlt converts it (`"12"` into a bigint
//! column, `2.0` into bigint, `1` into bool, anything into text), and one that does not
//! convert goes into a variant column `<column>__v_<type>` (`price__v_text`) as in dlt. A
//! column never changes its type, so no table is ever rebuilt.
//!
//! # Dispositions
//! - `Append`: plain inserts; duplicates are kept.
//! - `Merge`: upsert of the records by primary key through a unique index; the row becomes
//!   exactly the latest record (fields the record omits are set to NULL); within one page
//!   the last duplicate wins. The child rows of a merged record are deleted (by
//!   `_dlt_root_id`) and written again in the same transaction, so lists that grow, shrink or
//!   empty leave no stale rows. Merge with an empty primary key behaves as append.
//! - `Replace`: pages go to `_sluice_staging__<table>` (and its child tables);
//!   `finish(Completed)` swaps every table in within one transaction (a child table that got
//!   no rows is emptied), `finish(Failed)` keeps the staged pages for a resume and leaves the
//!   old tables untouched. The state checkpoint of a replace load is kept in the ledger and
//!   published to `_sluice_state` only when the swap commits.
//!
//! # Metadata and keys
//! `_sluice_columns` is the authoritative schema; SQLite's declared types (`BIGINT`,
//! `DOUBLE`, `BOOLEAN`, `TIMESTAMP`, `TEXT`, `JSON`) only set column affinities. Primary
//! key columns and dlt's columns are `NOT NULL` when the table is created; a key column
//! that first appears on an existing table is added nullable in the DDL (SQLite cannot add
//! a `NOT NULL` column without a default) and the sink itself rejects records without it.
//!
//! Tables are created on the first page with rows for them. Each `write_page` is one
//! transaction holding the rows of every table, any DDL, the state checkpoint and the
//! ledger counters.

mod coerce;
mod contract;
mod error;
mod flatten;
mod flatten_json;
#[cfg(fuzzing)]
#[doc(hidden)]
pub mod fuzzing;
mod hints;
mod key_ids;
mod lease;
mod naming;
mod normalize;
mod row_hash;
mod schema;
mod sqlite;
mod types;

pub use error::SinkError;
pub use hints::{
    ColumnHint, ContractMode, MergeStrategy, NestedHints, Scd2, SchemaContract, SortOrder,
    TableHints,
};
pub use naming::{normalize_identifier, shorten};
pub use normalize::{NormalizedPage, Normalizer, PART_BYTES, Parts};
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

/// The tables a load writes: resource name, primary key fields and disposition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableSpec {
    /// Resource name; the table is its normalized form.
    pub name: String,
    /// Primary key field names (a nested field as `parent.child` or `parent__child`).
    pub primary_key: Vec<String>,
    pub disposition: WriteDisposition,
    /// dlt's `max_table_nesting`: objects and lists at this level are stored as JSON.
    /// `None`: no limit.
    pub max_table_nesting: Option<u32>,
    /// `table_name`, `columns`, `merge_key` and `schema_contract`.
    pub hints: TableHints,
}

impl TableSpec {
    /// The resource's own table: its `table_name` hint or its name, normalized.
    pub fn table(&self) -> String {
        normalize_identifier(self.hints.table_name.as_deref().unwrap_or(&self.name))
    }
}

/// Identifies one load in the `_sluice_loads` ledger.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
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
    /// Its last page committed ([`NormalizedPage::set_last`]): only finishing it was left
    /// (a replace's swap, scd2's merge, the ledger), which a next load that continues it
    /// does without fetching anything ([`Sink::resume`], then [`Sink::finish`]).
    pub fetched: bool,
}

/// What a finished load wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadSummary {
    pub load_id: LoadId,
    pub resource: String,
    pub rows: u64,
    pub pages: u64,
    /// Rows written per table (the resource's table first, then its child tables).
    pub tables: Vec<(String, u64)>,
    /// `completed`, `failed` or `interrupted`.
    pub status: String,
    /// Records of the unfinished load it started over that were deleted first
    /// ([`Sink::restart`]): it fetched them again.
    pub discarded: u64,
}

/// One page as a connector returned it: the JSON array text of its `count` records and the
/// state to checkpoint with them.
#[derive(Clone, Copy, Debug)]
pub struct PageText<'a> {
    pub records: &'a str,
    pub count: u32,
    pub state: &'a str,
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
    /// Starts a load over the unfinished load `over` instead of continuing it: the new load
    /// fetches again from where `over` began, so what `over` inserted is deleted first, with
    /// its state, in the same transaction as the new ledger row (the resource's table then
    /// holds no row twice, and a failure before the new load's first page leaves nothing to
    /// resume). Loads whose rows a key replaces (merge by primary or merge key) keep them,
    /// and a staged load's tables are dropped, as by [`Sink::begin`].
    fn restart(&mut self, spec: &TableSpec, over: &Unfinished) -> Result<LoadId, SinkError>;
    /// Records in the ledger that a resource was not attempted, and why.
    fn skip(&mut self, spec: &TableSpec, reason: &str) -> Result<LoadId, SinkError>;
    /// The normalizer of `load`: it flattens the load's pages into rows and may run on
    /// another thread than the sink, so a page is parsed while the one before it is written
    /// ([`Sink::write_normalized`]). A load has one normalizer, taken once; after that,
    /// [`Sink::write_pages_text`] refuses the load's pages.
    fn normalizer(&mut self, load: LoadId) -> Result<Normalizer, SinkError>;
    /// Writes consecutive normalized pages of one load, each with its state, in as few
    /// transactions as the sink likes (a group commit): every page commits whole or not at
    /// all, in order. When page `k` fails, the pages before it are written and `(k, error)`
    /// is returned. Returns the records written.
    ///
    /// The parts of a large page ([`Normalizer::parts`]) come in order, in calls holding
    /// nothing but parts of that page: the page commits with its last part, and its
    /// transaction stays open between the calls until then. A part that fails, a `finish`
    /// before the last part, or any call for another load undoes the whole page.
    fn write_normalized(
        &mut self,
        load: LoadId,
        pages: &[NormalizedPage],
    ) -> Result<u64, (usize, SinkError)>;
    /// [`Sink::write_normalized`] for pages given as the JSON array text of their records
    /// (as a connector returns them), normalized by the load's own normalizer.
    fn write_pages_text(
        &mut self,
        load: LoadId,
        pages: &[PageText<'_>],
    ) -> Result<u64, (usize, SinkError)>;
    /// Writes one page given as the JSON array text of its `count` records, with its state,
    /// in ONE transaction. Returns rows written.
    fn write_page_text(
        &mut self,
        load: LoadId,
        records: &str,
        count: u32,
        state: &str,
    ) -> Result<u64, SinkError> {
        let page = PageText {
            records,
            count,
            state,
        };
        self.write_pages_text(load, &[page]).map_err(|(_, e)| e)
    }
    /// Writes one page of records and its checkpointed state in ONE transaction. Returns
    /// rows written.
    fn write_page(
        &mut self,
        load: LoadId,
        records: &[serde_json::Value],
        state: &str,
    ) -> Result<u64, SinkError> {
        let count = u32::try_from(records.len()).unwrap_or(u32::MAX);
        let text = serde_json::to_string(records).map_err(|e| SinkError::Records {
            expected: count,
            message: e.to_string(),
        })?;
        self.write_page_text(load, &text, count, state)
    }
    /// Ends a load. Completed: for Replace, swap the staged tables in (atomically); ledger ->
    /// "completed". Failed or Interrupted: the pages committed so far stay (for Replace, in
    /// the staging tables, the old tables untouched) for the next load to resume or drop;
    /// ledger -> "failed" with the error text, or "interrupted".
    fn finish(&mut self, load: LoadId, outcome: Outcome<'_>) -> Result<LoadSummary, SinkError>;
}
