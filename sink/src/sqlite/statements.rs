//! The SQL text of the statements a load runs page after page (multi-row inserts and
//! upserts), built once for each shape instead of formatted for every page.

use std::cell::RefCell;
use std::sync::Arc;

/// What a statement's text depends on.
#[derive(Debug, PartialEq, Eq)]
struct Shape {
    kind: &'static str,
    table: String,
    /// Columns of the table (they only ever grow, so this tells the column list).
    width: usize,
    /// Rows (or records) the statement carries.
    rows: usize,
}

/// The statements built so far for one load.
#[derive(Debug, Default)]
pub(super) struct Statements {
    built: RefCell<Vec<(Shape, Arc<str>)>>,
}

impl Statements {
    /// The text of the `kind` statement for `table` of `width` columns and `rows` rows,
    /// made by `build` the first time.
    pub(super) fn get(
        &self,
        kind: &'static str,
        table: &str,
        width: usize,
        rows: usize,
        build: impl FnOnce() -> String,
    ) -> Arc<str> {
        let mut built = self.built.borrow_mut();
        let found = built.iter().find(|(s, _)| {
            s.kind == kind && s.width == width && s.rows == rows && s.table == table
        });
        if let Some((_, sql)) = found {
            return Arc::clone(sql);
        }
        let sql: Arc<str> = build().into();
        let shape = Shape {
            kind,
            table: table.to_owned(),
            width,
            rows,
        };
        built.push((shape, Arc::clone(&sql)));
        sql
    }
}
