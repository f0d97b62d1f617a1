//! The SQLite implementation of [`Sink`]. Everything dialect-specific lives here.

mod checkpoint;
mod ddl;
mod load;
mod merge;
mod merge_hints;
mod restart;
mod scd2;
mod statements;
mod write;

use std::collections::{HashMap, HashSet};
use std::path::Path;

use rusqlite::Connection;

use crate::error::{SinkError, db};
use crate::lease::{self, Lease};
use crate::normalize::Normalizer;
use crate::schema::TableSchema;
use crate::types::ColumnInfo;
use crate::{
    LoadId, LoadSummary, NormalizedPage, Outcome, PageText, SavedState, SchemaContract, Sink,
    TableSpec, Unfinished, WriteDisposition,
};

/// SQL for "now" as an RFC 3339 UTC timestamp with milliseconds.
const NOW: &str = "strftime('%Y-%m-%dT%H:%M:%fZ','now')";

const META: &str = r#"
CREATE TABLE IF NOT EXISTS "_sluice_loads" (
    load_id INTEGER PRIMARY KEY,
    resource TEXT NOT NULL,
    table_name TEXT NOT NULL,
    disposition TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    status TEXT NOT NULL,
    rows INTEGER NOT NULL DEFAULT 0,
    pages INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    pending_state TEXT,
    first_page INTEGER NOT NULL DEFAULT 1,
    fetched INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS "_sluice_state" (
    resource TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    load_id INTEGER,
    completed_state TEXT
);
CREATE TABLE IF NOT EXISTS "_sluice_lease" (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    pid INTEGER NOT NULL,
    host TEXT NOT NULL,
    started_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS "_sluice_columns" (
    table_name TEXT NOT NULL,
    column_name TEXT NOT NULL,
    data_type TEXT NOT NULL,
    nullable INTEGER NOT NULL,
    primary_key INTEGER NOT NULL,
    position INTEGER NOT NULL,
    PRIMARY KEY (table_name, column_name)
);
"#;

/// A load in progress.
#[derive(Debug)]
struct ActiveLoad {
    resource: String,
    /// The resource's own (root) table.
    table: String,
    disposition: WriteDisposition,
    /// Normalized primary key column names.
    primary_key: Vec<String>,
    /// The tables of the resource that exist (root and child tables), by final name, with the
    /// schema of the table pages go to (see [`ActiveLoad::target`]).
    tables: HashMap<String, TableSchema>,
    /// Rows written per table by this load, in first-written order.
    counts: Vec<(String, u64)>,
    /// Tables whose indexes this load has ensured (once per table, and when it gains columns).
    indexed: HashSet<String>,
    /// The `_dlt_load_id` of this load's records.
    load_id: String,
    /// Typed `columns` hints of the root table (created first, values converted to them).
    hinted: Vec<ColumnInfo>,
    /// Hints of child tables (`nested_hints`), by table name.
    children: HashMap<String, ChildHints>,
    /// Columns hinted `nullable: false`.
    not_null: Vec<String>,
    /// Columns hinted `unique`.
    unique: Vec<String>,
    /// Merge key columns (`merge_key` and `columns` hinted `merge_key`).
    merge_key: Vec<String>,
    /// Under merge, dlt's `write_disposition.strategy` (`None`: delete-insert).
    merge_strategy: Option<crate::MergeStrategy>,
    /// Under merge with the `scd2` strategy, its options: pages go to staging tables, and
    /// the load's versions are merged in when it completes (see `scd2`).
    scd2: Option<crate::Scd2>,
    /// Under merge, the column hinted `hard_delete` (the first, as in dlt).
    hard_delete: Option<String>,
    /// Under merge with a primary key, the column hinted `dedup_sort` (the first, as in dlt)
    /// and its order.
    dedup_sort: Option<(String, crate::SortOrder)>,
    /// The schema contract, when it is not all `evolve` and the table existed before this
    /// load (a table being created takes what comes, as in dlt).
    contract: Option<SchemaContract>,
    rows: u64,
    pages: u64,
    /// Flattens the load's pages; `None` once taken by [`Sink::normalizer`].
    normalizer: Option<Normalizer>,
    /// The text of the statements run page after page.
    statements: statements::Statements,
    /// While a page written in parts is open: the bookkeeping before it, and its records so
    /// far (see `write::write_parts`).
    open: Option<(Snapshot, u64)>,
    /// Records of the unfinished load it started over, deleted when it began.
    discarded: u64,
}

/// The hints of one child table of a load (dlt's `nested_hints`).
#[derive(Debug, Default)]
struct ChildHints {
    /// Typed columns (created first, values converted to them).
    hinted: Vec<ColumnInfo>,
    /// Columns hinted `nullable: false`.
    not_null: Vec<String>,
    /// Columns hinted `unique`.
    unique: Vec<String>,
    /// Its schema contract (its own or the resource's), when it applies (see
    /// [`ActiveLoad::contract`]).
    contract: Option<SchemaContract>,
}

impl ActiveLoad {
    /// A merge by primary key or merge key (every strategy but `scd2`).
    fn merges_by_key(&self) -> bool {
        self.disposition == WriteDisposition::Merge && self.scd2.is_none()
    }

    fn upserts(&self) -> bool {
        self.merges_by_key() && !self.primary_key.is_empty()
    }

    /// Whether pages go to staging tables, taken in when the load completes: `replace`
    /// swaps them in, `scd2` merges their versions in.
    fn staged(&self) -> bool {
        self.disposition == WriteDisposition::Replace || self.scd2.is_some()
    }

    /// `upsert` and `insert-only`: a record's `_dlt_id` is its key's hash, the same in every
    /// load (see `key_ids`).
    fn keys_ids(&self) -> bool {
        self.upserts()
            && self
                .merge_strategy
                .as_ref()
                .is_some_and(crate::MergeStrategy::keys_rows)
    }

    /// dlt's `insert-only`: stored records are never replaced nor deleted.
    fn inserts_only(&self) -> bool {
        self.upserts() && self.merge_strategy == Some(crate::MergeStrategy::InsertOnly)
    }

    fn contract(&self) -> Option<SchemaContract> {
        self.contract
    }

    /// What a page changes in the load's bookkeeping, to undo when its transaction rolls back.
    fn snapshot(&self) -> Snapshot {
        Snapshot {
            tables: self.tables.clone(),
            counts: self.counts.clone(),
            indexed: self.indexed.clone(),
            rows: self.rows,
            pages: self.pages,
        }
    }

    fn restore(&mut self, s: Snapshot) {
        (self.tables, self.counts, self.indexed) = (s.tables, s.counts, s.indexed);
        (self.rows, self.pages) = (s.rows, s.pages);
    }

    /// The table the rows of table `name` go to: itself, or its staging table (see
    /// [`ActiveLoad::staged`]).
    fn target(&self, name: &str) -> String {
        if self.staged() {
            load::staging(name)
        } else {
            name.to_owned()
        }
    }
}

/// See [`ActiveLoad::snapshot`].
#[derive(Debug)]
struct Snapshot {
    tables: HashMap<String, TableSchema>,
    counts: Vec<(String, u64)>,
    indexed: HashSet<String>,
    rows: u64,
    pages: u64,
}

/// A [`Sink`] writing into one SQLite database file (WAL mode, `synchronous=NORMAL`),
/// which it holds exclusively while it lives.
#[derive(Debug)]
pub struct SqliteSink {
    /// Dropped before `conn`: see [`checkpoint::Checkpointer`]'s `drop`.
    checkpointer: Option<checkpoint::Checkpointer>,
    conn: Connection,
    loads: HashMap<i64, ActiveLoad>,
    /// Loads a dead process left `running`, marked `interrupted` when this sink opened.
    reclaimed: u64,
    /// Dropped after `conn` (fields drop in order): see [`Lease`].
    _lease: Option<Lease>,
}

impl SqliteSink {
    /// Opens (or creates) the database file and its bookkeeping tables, and takes the
    /// database's lease: fails at once with [`SinkError::Busy`], naming the holder, while
    /// another live sink holds it. Loads left `running` by a dead process are marked
    /// `interrupted` ([`SqliteSink::reclaimed`]).
    pub fn open(path: &Path) -> Result<Self, SinkError> {
        let open_err = |source| SinkError::Open {
            path: path.to_owned(),
            source,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
            && !dir.is_dir()
        {
            return Err(SinkError::NoDirectory {
                dir: dir.to_owned(),
            });
        }
        let lease = Lease::acquire(path)
            .map_err(|source| SinkError::Lock {
                path: path.to_owned(),
                source,
            })?
            .ok_or_else(|| SinkError::Busy {
                path: path.to_owned(),
                holder: lease::holder(path),
            })?;
        let conn = Connection::open(path).map_err(open_err)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(open_err)?;
        conn.pragma_update(None, "wal_autocheckpoint", checkpoint::WRITER_PAGES)
            .map_err(open_err)?;
        let mut sink = Self::init(conn)?;
        sink.reclaimed = load::take_lease(&sink.conn)?;
        sink._lease = Some(lease);
        sink.checkpointer = checkpoint::Checkpointer::start(path);
        Ok(sink)
    }

    /// Loads a dead process had left `running`, marked `interrupted` by [`SqliteSink::open`].
    pub fn reclaimed(&self) -> u64 {
        self.reclaimed
    }

    /// An in-memory database, for tests and dry runs.
    pub fn open_in_memory() -> Result<Self, SinkError> {
        let conn = Connection::open_in_memory().map_err(|source| SinkError::Open {
            path: ":memory:".into(),
            source,
        })?;
        Self::init(conn)
    }

    fn init(conn: Connection) -> Result<Self, SinkError> {
        let err = || db("_sluice_loads", "initializing the database");
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(err())?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(err())?;
        conn.set_prepared_statement_cache_capacity(64);
        conn.execute_batch(META).map_err(err())?;
        ddl::migrate(&conn)?;
        Ok(SqliteSink {
            checkpointer: None,
            conn,
            loads: HashMap::new(),
            reclaimed: 0,
            _lease: None,
        })
    }

    /// Undoes the page of another load than `except` whose parts were being written: its
    /// last part can no longer come in order (its load failed between parts), and nothing
    /// else may run inside its transaction.
    fn settle(&mut self, except: Option<LoadId>) -> Result<(), SinkError> {
        for (id, active) in &mut self.loads {
            if Some(LoadId(*id)) != except {
                write::rollback(&self.conn, active)?;
            }
        }
        Ok(())
    }

    /// Tells the checkpoint thread that pages were written.
    fn committed(&self) {
        if let Some(c) = &self.checkpointer {
            c.poke();
        }
    }

    /// Column metadata of a loaded table, in column order (empty if the table is unknown).
    pub fn columns(&self, table: &str) -> Result<Vec<ColumnInfo>, SinkError> {
        ddl::load_columns(&self.conn, table)
    }
}

impl Sink for SqliteSink {
    fn states(&mut self) -> Result<Vec<SavedState>, SinkError> {
        self.settle(None)?;
        load::states(&self.conn)
    }

    fn begin(&mut self, spec: &TableSpec) -> Result<LoadId, SinkError> {
        self.settle(None)?;
        let (id, active) = load::begin(&mut self.conn, spec, load::Start::Fresh)?;
        self.loads.insert(id.0, active);
        Ok(id)
    }

    fn resume(&mut self, spec: &TableSpec, from: &Unfinished) -> Result<LoadId, SinkError> {
        self.settle(None)?;
        let (id, active) = load::begin(&mut self.conn, spec, load::Start::Continue(from))?;
        self.loads.insert(id.0, active);
        Ok(id)
    }

    fn restart(&mut self, spec: &TableSpec, over: &Unfinished) -> Result<LoadId, SinkError> {
        self.settle(None)?;
        let (id, active) = load::begin(&mut self.conn, spec, load::Start::Over(over))?;
        self.loads.insert(id.0, active);
        Ok(id)
    }

    fn skip(&mut self, spec: &TableSpec, reason: &str) -> Result<LoadId, SinkError> {
        self.settle(None)?;
        load::skip(&self.conn, spec, reason)
    }

    fn normalizer(&mut self, load: LoadId) -> Result<Normalizer, SinkError> {
        active(&mut self.loads, load)?
            .normalizer
            .take()
            .ok_or(SinkError::NormalizerTaken(load))
    }

    fn write_normalized(
        &mut self,
        load: LoadId,
        pages: &[NormalizedPage],
    ) -> Result<u64, (usize, SinkError)> {
        self.settle(Some(load)).map_err(|e| (0, e))?;
        let active = active(&mut self.loads, load).map_err(|e| (0, e))?;
        let written = write::write_normalized(&mut self.conn, active, load, pages);
        self.committed();
        written
    }

    fn write_pages_text(
        &mut self,
        load: LoadId,
        pages: &[PageText<'_>],
    ) -> Result<u64, (usize, SinkError)> {
        self.settle(Some(load)).map_err(|e| (0, e))?;
        let active = active(&mut self.loads, load).map_err(|e| (0, e))?;
        let written = write::write_pages_text(&mut self.conn, active, load, pages);
        self.committed();
        written
    }

    fn finish(&mut self, load: LoadId, outcome: Outcome<'_>) -> Result<LoadSummary, SinkError> {
        // A page whose last part never came is not written.
        self.settle(None)?;
        let active = self
            .loads
            .get_mut(&load.0)
            .ok_or(SinkError::UnknownLoad(load))?;
        let summary = load::finish(&mut self.conn, active, load, outcome)?;
        self.loads.remove(&load.0);
        Ok(summary)
    }
}

/// The running load `load` of a sink.
fn active(
    loads: &mut HashMap<i64, ActiveLoad>,
    load: LoadId,
) -> Result<&mut ActiveLoad, SinkError> {
    loads.get_mut(&load.0).ok_or(SinkError::UnknownLoad(load))
}
