//! The SQLite file a run wrote: rows, ids, tables.

use rusqlite::Connection;
use rusqlite::types::FromSql;

use super::{ApiServer, Harness};

impl<S: ApiServer> Harness<S> {
    pub fn conn(&self) -> Connection {
        Connection::open(self.db()).expect("database opens")
    }

    pub fn count(&self, table: &str) -> i64 {
        self.conn()
            .query_row(&format!("SELECT count(*) FROM \"{table}\""), [], |r| {
                r.get(0)
            })
            .expect("count")
    }

    /// The distinct `id`s in `table`.
    pub fn distinct_ids(&self, table: &str) -> i64 {
        self.conn()
            .query_row(
                &format!("SELECT count(DISTINCT id) FROM \"{table}\""),
                [],
                |r| r.get(0),
            )
            .expect("count distinct ids")
    }

    /// Whether the database exists and has `table`.
    pub fn has_table(&self, table: &str) -> bool {
        self.db().exists()
            && self
                .conn()
                .query_row(
                    "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
                    [table],
                    |r| r.get::<_, i64>(0),
                )
                .expect("sqlite_master")
                > 0
    }

    /// The first column of every row `sql` selects.
    pub fn col<T: FromSql>(&self, sql: &str) -> Vec<T> {
        let conn = self.conn();
        let mut stmt = conn.prepare(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
        stmt.query_map([], |r| r.get::<_, T>(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    /// `id`s of `table` in order (empty when the table does not exist).
    pub fn ids(&self, table: &str) -> Vec<i64> {
        if !self.has_table(table) {
            return Vec::new();
        }
        self.col(&format!("SELECT id FROM \"{table}\" ORDER BY id"))
    }
}
