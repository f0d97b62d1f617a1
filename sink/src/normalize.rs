//! The normalize stage of a load: a page's JSON text flattened into the rows of the
//! resource's tables (dlt's relational normalization), apart from the database. A
//! [`Normalizer`] owns the flattening state of one load and can run on its own thread, so a
//! page is parsed while the one before it is written; the sink writes the
//! [`NormalizedPage`]s it makes ([`crate::Sink::write_normalized`]).

use foldhash::{HashSet, HashSetExt};
use std::fmt;
use std::sync::Arc;

use crate::error::SinkError;
use crate::flatten::{Flattener, PageRows};
use crate::flatten_json::{self, PageError};
use crate::types::DataType;

self_cell::self_cell!(
    /// A page's text and the rows flattened from it (their strings borrow the text).
    struct PageCell {
        owner: String,
        #[covariant]
        dependent: PageRows,
    }
);

/// A page flattened into rows, ready to be written: the rows of each table (the resource's
/// own first), the number of records and the state to checkpoint with them.
pub struct NormalizedPage {
    rows: PageCell,
    /// Names of the tables the rows go to, by the table index of [`PageRows::tables`].
    names: Vec<Arc<str>>,
    /// For each table, the columns its rows have values in and the types of those values.
    kinds: Vec<Kinds>,
    count: u32,
    state: String,
}

impl NormalizedPage {
    /// Number of records (rows of the resource's own table).
    pub fn count(&self) -> u32 {
        self.count
    }

    /// The state to checkpoint with the page.
    pub fn state(&self) -> &str {
        &self.state
    }

    /// Bytes of the records' JSON text the page holds (its rows take several times more):
    /// what a caller can bound the pages it queues by.
    pub fn text_len(&self) -> usize {
        self.rows.borrow_owner().len()
    }

    pub(crate) fn rows(&self) -> &PageRows<'_> {
        self.rows.borrow_dependent()
    }

    /// The name of table `t` of [`NormalizedPage::rows`].
    pub(crate) fn table_name(&self, t: usize) -> &Arc<str> {
        &self.names[t]
    }

    /// The `(column, type)` pairs of the values of table `t`'s rows.
    pub(crate) fn kinds(&self, t: usize) -> &Kinds {
        &self.kinds[t]
    }
}

/// The distinct `(column, type)` pairs of a table's values in a page (nulls aside): what the
/// write stage checks against the table's columns to see that the page changes nothing in
/// them without looking at every value again.
pub(crate) type Kinds = Vec<(Arc<str>, DataType)>;

/// The [`Kinds`] of each table of `page`. Rows of a table name their cells with shared
/// names, mostly in the same order: a cell like the one at its position in the row before
/// is passed over (by pointer), and any other is looked up by its name's text. (Not by
/// pointer: a row whose fields shift position names them anew, so a page of 100,000 records
/// with optional fields would gather as many pairs and compare each with all of them.)
fn kinds_of(page: &PageRows<'_>) -> Vec<Kinds> {
    page.tables
        .iter()
        .map(|rows| {
            let mut kinds: Kinds = Vec::new();
            let mut seen: HashSet<(&str, DataType)> = HashSet::new();
            let mut previous: Vec<Option<(*const str, DataType)>> = Vec::new();
            for row in rows {
                for (j, (name, cell)) in row.cells.iter().enumerate() {
                    let Some(t) = cell.data_type() else { continue };
                    let here = Some((Arc::as_ptr(name), t));
                    if previous.len() <= j {
                        previous.resize(j + 1, None);
                    }
                    if previous[j] == here {
                        continue;
                    }
                    previous[j] = here;
                    if seen.insert((&**name, t)) {
                        kinds.push((Arc::clone(name), t));
                    }
                }
            }
            kinds
        })
        .collect()
}

impl fmt::Debug for NormalizedPage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rows: Vec<(&str, usize)> = self
            .rows()
            .tables
            .iter()
            .enumerate()
            .map(|(t, rows)| (&*self.names[t], rows.len()))
            .collect();
        f.debug_struct("NormalizedPage")
            .field("count", &self.count)
            .field("rows", &rows)
            .finish_non_exhaustive()
    }
}

/// Flattens the pages of one load, in order (the rows' `_dlt_id`s increase page after page).
/// Made by the sink when a load begins ([`crate::Sink::normalizer`]).
#[derive(Debug)]
pub struct Normalizer {
    flattener: Flattener,
    /// The resource's own table, for errors.
    table: String,
}

impl Normalizer {
    pub(crate) fn new(flattener: Flattener, table: String) -> Self {
        Normalizer { flattener, table }
    }

    /// Flattens `records`, the JSON array text of `count` records. Fails, naming the record,
    /// when the text is not such an array, a record is not an object, or two keys of a
    /// record become one column.
    pub fn normalize(
        &mut self,
        records: String,
        count: u32,
        state: String,
    ) -> Result<NormalizedPage, SinkError> {
        if self.flattener.hashes_rows() {
            // A page that does not parse gets no hashes: flattening it names the problem.
            let hashes = crate::row_hash::of_page(&records).unwrap_or_default();
            self.flattener.set_row_hashes(hashes);
        }
        let (flattener, table) = (&mut self.flattener, &self.table);
        let rows = PageCell::try_new(records, |text| {
            flatten_json::flatten_page(flattener, text).map_err(|e| match e {
                PageError::NotAnObject { index, found } => SinkError::NotAnObject {
                    table: table.clone(),
                    index,
                    found,
                },
                PageError::Collision { index, collision } => SinkError::Collision {
                    table: table.clone(),
                    index,
                    column: collision.column,
                    key: collision.key,
                },
                PageError::Json(message) => SinkError::Records {
                    expected: count,
                    message,
                },
                PageError::TooDeep { line, column } => SinkError::TooDeep {
                    table: table.clone(),
                    max: flatten_json::MAX_RECORD_DEPTH,
                    line,
                    column,
                },
            })
        })?;
        let found = rows.borrow_dependent().roots().len();
        if found != count as usize {
            return Err(SinkError::Records {
                expected: count,
                message: format!("it holds {found}"),
            });
        }
        let names = (0..rows.borrow_dependent().tables.len())
            .map(|t| Arc::clone(self.flattener.table_name(t)))
            .collect();
        let kinds = kinds_of(rows.borrow_dependent());
        Ok(NormalizedPage {
            rows,
            names,
            kinds,
            count,
            state,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_name_each_column_and_type_once_however_the_fields_shift() {
        // Optional fields shift the others' positions from record to record.
        let records: Vec<String> = (0..3000)
            .map(|i| match i % 3 {
                0 => format!(r#"{{"a":{i},"b":"x","c":true}}"#),
                1 => r#"{"b":"y","c":false,"d":1.5}"#.to_string(),
                _ => format!(r#"{{"c":true,"a":{i},"b":null}}"#),
            })
            .collect();
        let text = format!("[{}]", records.join(","));
        let mut n = Normalizer::new(Flattener::new("t", None, false, "1"), "t".into());
        let page = n.normalize(text, 3000, "{}".into()).unwrap();
        let kinds: Vec<(&str, DataType)> = page.kinds(0).iter().map(|(n, t)| (&**n, *t)).collect();
        let distinct: HashSet<_> = kinds.iter().collect();
        assert_eq!(kinds.len(), distinct.len(), "a pair twice: {kinds:?}");
        for pair in [
            ("a", DataType::Bigint),
            ("b", DataType::Text),
            ("c", DataType::Bool),
            ("d", DataType::Double),
        ] {
            assert!(kinds.contains(&pair), "{pair:?} missing from {kinds:?}");
        }
    }
}
