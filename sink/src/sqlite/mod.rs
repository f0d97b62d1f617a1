//! The SQLite implementation of [`Sink`]. Everything dialect-specific lives here.

mod ddl;
mod load;
mod write;

use std::collections::HashMap;
use std::path::Path;

use rusqlite::Connection;

use crate::error::{SinkError, db};
use crate::flatten::Flattener;
use crate::schema::TableSchema;
use crate::types::ColumnInfo;
use crate::{LoadId, LoadSummary, Outcome, Sink, TableSpec, WriteDisposition};

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
    pending_state TEXT
);
CREATE TABLE IF NOT EXISTS "_sluice_state" (
    resource TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    load_id INTEGER
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
    /// The final table name.
    table: String,
    /// The table pages go to: `table`, or `<table>__staging` for replace.
    target: String,
    disposition: WriteDisposition,
    /// Normalized primary key column names.
    primary_key: Vec<String>,
    /// Schema of `target`; `None` until the table exists.
    schema: Option<TableSchema>,
    rows: u64,
    pages: u64,
    flattener: Flattener,
}

impl ActiveLoad {
    fn upserts(&self) -> bool {
        self.disposition == WriteDisposition::Merge && !self.primary_key.is_empty()
    }
}

/// A [`Sink`] writing into one SQLite database file (WAL mode, `synchronous=NORMAL`).
#[derive(Debug)]
pub struct SqliteSink {
    conn: Connection,
    loads: HashMap<i64, ActiveLoad>,
}

impl SqliteSink {
    /// Opens (or creates) the database file and its bookkeeping tables.
    pub fn open(path: &Path) -> Result<Self, SinkError> {
        let open_err = |source| SinkError::Open {
            path: path.to_owned(),
            source,
        };
        let conn = Connection::open(path).map_err(open_err)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(open_err)?;
        Self::init(conn)
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
        Ok(SqliteSink {
            conn,
            loads: HashMap::new(),
        })
    }

    /// Column metadata of a loaded table, in column order (empty if the table is unknown).
    pub fn columns(&self, table: &str) -> Result<Vec<ColumnInfo>, SinkError> {
        ddl::load_columns(&self.conn, table)
    }
}

impl Sink for SqliteSink {
    fn states(&mut self) -> Result<Vec<(String, String)>, SinkError> {
        let err = || db("_sluice_state", "reading states");
        let mut stmt = self
            .conn
            .prepare_cached(r#"SELECT resource, state FROM "_sluice_state" ORDER BY resource"#)
            .map_err(err())?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(err())?;
        rows.collect::<Result<Vec<_>, _>>().map_err(err())
    }

    fn begin(&mut self, spec: &TableSpec) -> Result<LoadId, SinkError> {
        let (id, active) = load::begin(&mut self.conn, spec)?;
        self.loads.insert(id.0, active);
        Ok(id)
    }

    fn write_page(
        &mut self,
        load: LoadId,
        records: &[serde_json::Value],
        state: &str,
    ) -> Result<u64, SinkError> {
        let active = self
            .loads
            .get_mut(&load.0)
            .ok_or(SinkError::UnknownLoad(load))?;
        write::write_page(&mut self.conn, active, load, records, state)
    }

    fn finish(&mut self, load: LoadId, outcome: Outcome<'_>) -> Result<LoadSummary, SinkError> {
        let active = self
            .loads
            .get_mut(&load.0)
            .ok_or(SinkError::UnknownLoad(load))?;
        let summary = load::finish(&mut self.conn, active, load, outcome)?;
        self.loads.remove(&load.0);
        Ok(summary)
    }
}
