//! Shared helpers: a real SQLite file in a tempdir, inspected through a second connection.
#![allow(dead_code)]

use std::path::PathBuf;

use rusqlite::Connection;
use rusqlite::types::Value as Sql;
use serde_json::Value;
use sluice_sink::{
    ColumnHint, DataType, LoadId, Outcome, SavedState, Sink, SqliteSink, TableSpec,
    WriteDisposition,
};

pub struct Db {
    pub _dir: tempfile::TempDir,
    pub path: PathBuf,
    pub sink: SqliteSink,
}

impl Db {
    pub fn new() -> Db {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sluice.db");
        let sink = SqliteSink::open(&path).unwrap();
        Db {
            _dir: dir,
            path,
            sink,
        }
    }

    /// A second, independent connection to the same file.
    pub fn inspect(&self) -> Connection {
        Connection::open(&self.path).unwrap()
    }

    pub fn count(&self, table: &str) -> i64 {
        let sql = format!("SELECT COUNT(*) FROM \"{}\"", table.replace('"', "\"\""));
        self.inspect().query_row(&sql, [], |r| r.get(0)).unwrap()
    }

    pub fn table_exists(&self, table: &str) -> bool {
        self.inspect()
            .query_row(
                "SELECT COUNT(*) FROM sqlite_master WHERE type='table' AND name=?1",
                [table],
                |r| r.get::<_, i64>(0),
            )
            .unwrap()
            == 1
    }

    /// Every row of `sql`, as SQLite values.
    pub fn rows(&self, sql: &str) -> Vec<Vec<Sql>> {
        let conn = self.inspect();
        let mut stmt = conn.prepare(sql).unwrap();
        let n = stmt.column_count();
        stmt.query_map([], |r| (0..n).map(|i| r.get::<_, Sql>(i)).collect())
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    /// Runs one load of `pages` to completion and returns its id.
    pub fn load(&mut self, spec: &TableSpec, pages: &[Vec<Value>]) -> LoadId {
        let id = self.sink.begin(spec).unwrap();
        for (i, page) in pages.iter().enumerate() {
            let written = self
                .sink
                .write_page(id, page, &format!("{{\"page\":{i}}}"))
                .unwrap();
            assert_eq!(written, page.len() as u64);
        }
        self.sink.finish(id, Outcome::Completed).unwrap();
        id
    }
}

pub fn spec(name: &str, pk: &[&str], disposition: WriteDisposition) -> TableSpec {
    TableSpec {
        name: name.to_owned(),
        primary_key: pk.iter().map(|s| s.to_string()).collect(),
        disposition,
        max_table_nesting: None,
        hints: Default::default(),
    }
}

/// A column hint saying only its type (if any).
pub fn hint(name: &str, data_type: Option<DataType>) -> ColumnHint {
    ColumnHint {
        name: name.to_owned(),
        data_type,
        nullable: None,
        primary_key: false,
        merge_key: false,
        unique: false,
        hard_delete: false,
        dedup_sort: None,
    }
}

pub fn text(s: &str) -> Sql {
    Sql::Text(s.to_owned())
}

/// `(resource, latest state)` of each saved state.
pub fn latest(states: Vec<SavedState>) -> Vec<(String, String)> {
    states.into_iter().map(|s| (s.resource, s.latest)).collect()
}

/// An error and its causes, `a: b: c`, as the CLI prints them.
pub fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(&format!(": {s}"));
        source = s.source();
    }
    text
}
