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
///
/// A page too large to flatten at once comes in parts ([`Normalizer::parts`]), each a
/// `NormalizedPage` of some of its records: the parts but the last [`continue`] the page (they
/// carry no state), and a sink writes all of a page's parts in one transaction.
///
/// [`continue`]: NormalizedPage::continues
pub struct NormalizedPage {
    rows: PageCell,
    /// Names of the tables the rows go to, by the table index of [`PageRows::tables`].
    names: Vec<Arc<str>>,
    /// For each table, the columns its rows have values in and the types of those values.
    kinds: Vec<Kinds>,
    count: u32,
    state: String,
    /// The index in its page of the first record (0 but for the second part on).
    first: usize,
    /// More parts of the page follow.
    continues: bool,
    /// The last page of its load: no page follows it (see [`NormalizedPage::set_last`]).
    last: bool,
    /// Bytes of memory the rows take (see [`NormalizedPage::heap_size`]).
    rows_size: usize,
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

    /// Bytes of the records' JSON text the page holds (its rows take several times more).
    pub fn text_len(&self) -> usize {
        self.rows.borrow_owner().len()
    }

    /// About the bytes of memory the page holds, its text and its rows: what a caller can
    /// bound the pages it queues by.
    pub fn heap_size(&self) -> usize {
        self.text_len() + self.rows_size
    }

    /// The index in its page of this part's first record: 0 for a whole page.
    pub fn first(&self) -> usize {
        self.first
    }

    /// Whether more parts of this page follow: its state is the last part's.
    pub fn continues(&self) -> bool {
        self.continues
    }

    /// Whether this is a part of a page rather than a whole page.
    pub fn is_part(&self) -> bool {
        self.continues || self.first > 0
    }

    /// Marks the page (its last part) as the last of its load: the connector said no page
    /// follows. A sink records that with the page, so a load whose every page committed is
    /// finished by the next run (`Unfinished::fetched`) rather than fetched again.
    pub fn set_last(&mut self) {
        self.last = !self.continues;
    }

    /// Whether the page is the last of its load ([`NormalizedPage::set_last`]).
    pub fn is_last(&self) -> bool {
        self.last
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

/// About the bytes of memory the rows of `page` take: their cells and the tables' rows.
fn rows_size(page: &PageRows<'_>) -> usize {
    let cell = std::mem::size_of::<(Arc<str>, crate::types::Cell<'static>)>();
    let row = std::mem::size_of::<crate::flatten::Row<'static>>();
    (page.tables.iter())
        .map(|t| t.capacity() * row + t.iter().map(|r| r.cells.capacity() * cell).sum::<usize>())
        .sum()
}

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
        self.normalize_part(records, count, state, Place::whole(count), &|at| at)
    }

    /// [`Normalizer::normalize`] of a page in parts of about [`PART_BYTES`] of text each,
    /// flattened one at a time as the iterator is advanced, so a page's rows never all exist
    /// at once. A page that is not larger, or not an array of `count` records, is one whole
    /// part (flattening it names the problem).
    pub fn parts(&mut self, records: String, count: u32, state: String) -> Parts<'_> {
        self.parts_of(records, count, state, PART_BYTES)
    }

    /// [`Normalizer::parts`] in parts of about `part_bytes`.
    pub(crate) fn parts_of(
        &mut self,
        records: String,
        count: u32,
        state: String,
        part_bytes: usize,
    ) -> Parts<'_> {
        let bounds = if records.len() > part_bytes {
            part_bounds(&records, count, part_bytes)
        } else {
            None
        };
        let bounds = bounds.unwrap_or_else(|| vec![(0, count as usize, 0..records.len())]);
        Parts {
            normalizer: self,
            text: records,
            count,
            bounds: bounds.into_iter(),
            state: Some(state),
        }
    }

    /// Flattens `records`, the records of a page at `place`; `in_page` turns a line and
    /// column in `records` into the page's.
    fn normalize_part(
        &mut self,
        records: String,
        count: u32,
        state: String,
        place: Place,
        in_page: &dyn Fn((usize, usize)) -> (usize, usize),
    ) -> Result<NormalizedPage, SinkError> {
        let Place {
            first,
            continues,
            page_count,
        } = place;
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
                    index: first + index,
                    found,
                },
                PageError::Collision { index, collision } => SinkError::Collision {
                    table: table.clone(),
                    index: first + index,
                    column: collision.column,
                    key: collision.key,
                },
                PageError::Json {
                    message,
                    line,
                    column,
                } => SinkError::Records {
                    expected: page_count,
                    message: match line {
                        0 => message,
                        _ => {
                            let (line, column) = in_page((line, column));
                            format!("{message} at line {line} column {column}")
                        }
                    },
                },
                PageError::TooDeep { line, column } => {
                    let (line, column) = in_page((line, column));
                    SinkError::TooDeep {
                        table: table.clone(),
                        max: flatten_json::MAX_RECORD_DEPTH,
                        line,
                        column,
                    }
                }
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
        let rows_size = rows_size(rows.borrow_dependent());
        Ok(NormalizedPage {
            rows,
            names,
            kinds,
            count,
            state,
            rows_size,
            first,
            continues,
            last: false,
        })
    }
}

/// Text of records a page part holds, about: 1 MiB flattens into rows of ~6 MiB.
pub const PART_BYTES: usize = 1 << 20;

/// The parts of a page: `(first record, records, byte range of their text)` each, or
/// `None` when the text is not a JSON array of `count` records.
fn part_bounds(
    text: &str,
    count: u32,
    part_bytes: usize,
) -> Option<Vec<(usize, usize, std::ops::Range<usize>)>> {
    let records: Vec<&serde_json::value::RawValue> = serde_json::from_str(text).ok()?;
    if records.len() != count as usize {
        return None;
    }
    let base = text.as_ptr() as usize;
    let at = |r: &serde_json::value::RawValue| r.get().as_ptr() as usize - base;
    let mut parts = Vec::new();
    let mut first = 0;
    while first < records.len() {
        let start = at(records[first]);
        let mut end = first + 1;
        while end < records.len()
            && at(records[end]) + records[end].get().len() - start <= part_bytes
        {
            end += 1;
        }
        let last = records[end - 1];
        parts.push((first, end - first, start..at(last) + last.get().len()));
        first = end;
    }
    Some(parts)
}

/// Where a part is in its page.
#[derive(Debug, Clone, Copy)]
struct Place {
    /// The index in the page of its first record.
    first: usize,
    /// More parts follow.
    continues: bool,
    /// The records of the whole page (what an error says it expected).
    page_count: u32,
}

impl Place {
    fn whole(count: u32) -> Place {
        Place {
            first: 0,
            continues: false,
            page_count: count,
        }
    }
}

/// The line and column (from 1) in a page's `text` of a position in the text of its part
/// that starts at byte `start` (the part's text is that of its records in `[` and `]`).
fn in_page(text: &str, start: usize, (line, column): (usize, usize)) -> (usize, usize) {
    let before = &text[..start];
    let lines = before.matches('\n').count();
    if line > 1 {
        return (lines + line, column);
    }
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (lines + 1, (start - line_start + column).saturating_sub(1))
}

/// The parts of one page, flattened as they are taken (see [`Normalizer::parts`]).
#[derive(Debug)]
pub struct Parts<'n> {
    normalizer: &'n mut Normalizer,
    text: String,
    /// The page's records.
    count: u32,
    bounds: std::vec::IntoIter<(usize, usize, std::ops::Range<usize>)>,
    state: Option<String>,
}

impl Iterator for Parts<'_> {
    type Item = Result<NormalizedPage, SinkError>;

    fn next(&mut self) -> Option<Self::Item> {
        let (first, count, range) = self.bounds.next()?;
        let continues = self.bounds.len() > 0;
        let whole = first == 0 && !continues;
        let start = range.start;
        let records = if whole {
            std::mem::take(&mut self.text)
        } else {
            format!("[{}]", &self.text[range])
        };
        let state = if continues {
            String::new()
        } else {
            self.state.take().unwrap_or_default()
        };
        let count = u32::try_from(count).unwrap_or(u32::MAX);
        let place = Place {
            first,
            continues,
            page_count: self.count,
        };
        // Errors name places in the page's text, not the part's.
        let text = &self.text;
        let at = |at| match whole {
            true => at,
            false => in_page(text, start, at),
        };
        Some((self.normalizer).normalize_part(records, count, state, place, &at))
    }
}

/// The rows of `pages` (without their ids unless `with_ids`: random ids differ from
/// normalizer to normalizer), sorted: each row's table, then its columns and values. Tests
/// and the fuzz targets compare pages by them.
#[cfg(any(test, fuzzing))]
pub(crate) fn rows_of(
    pages: &[NormalizedPage],
    with_ids: bool,
) -> Vec<(String, Vec<(String, String)>)> {
    let ids = ["_dlt_id", "_dlt_parent_id", "_dlt_root_id"];
    let mut out = Vec::new();
    for page in pages {
        for (t, rows) in page.rows().tables.iter().enumerate() {
            for row in rows {
                let cells = (row.cells.iter())
                    .filter(|(n, _)| with_ids || !ids.contains(&&**n))
                    .map(|(n, c)| (n.to_string(), format!("{c:?}")))
                    .collect();
                out.push((page.table_name(t).to_string(), cells));
            }
        }
    }
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
        /// A page in parts of any size flattens into the rows it flattens into whole, its
        /// parts cover its records once and in order, and only the last carries the state.
        #[test]
        fn a_page_in_parts_has_the_rows_of_the_whole_page(
            records in proptest::collection::vec(
                (0u32..1000, "[a-z\"\\\\é]{0,40}", proptest::collection::vec(0i64..100, 0..4)),
                1..60,
            ),
            part_bytes in 1usize..400,
            pretty in proptest::bool::ANY,
        ) {
            let texts: Vec<String> = (records.iter())
                .map(|(id, name, tags)| {
                    serde_json::json!({"id": id, "name": name, "tags": tags}).to_string()
                })
                .collect();
            let text = format!("[{}]", texts.join(if pretty { ",\n " } else { "," }));
            let count = records.len() as u32;
            let normalizer = || Normalizer::new(Flattener::new("t", None, true, "1"), "t".into());
            let whole = normalizer().normalize(text.clone(), count, "S".into()).unwrap();
            let mut n = normalizer();
            let parts: Vec<NormalizedPage> = n
                .parts_of(text, count, "S".into(), part_bytes)
                .collect::<Result<_, _>>()
                .unwrap();
            let mut next = 0;
            for (i, part) in parts.iter().enumerate() {
                proptest::prop_assert_eq!(part.first(), next);
                next += part.count() as usize;
                let last = i + 1 == parts.len();
                proptest::prop_assert_eq!(part.continues(), !last);
                proptest::prop_assert_eq!(part.state(), if last { "S" } else { "" });
            }
            proptest::prop_assert_eq!(next, records.len());
            proptest::prop_assert_eq!(rows_of(&parts, false), rows_of(std::slice::from_ref(&whole), false));
        }
    }

    /// The position of a record nested too deep, late in a page in parts, is where it is in
    /// the page's text, as when the page is flattened whole.
    #[test]
    fn a_part_names_positions_in_its_page() {
        let deep = format!(
            r#"{{"id": 0, "deep": {}1{}}}"#,
            "[".repeat(130),
            "]".repeat(130)
        );
        for separator in [", ", ",\n  "] {
            let records: Vec<String> = (0..20_000)
                .map(|i| match i {
                    15_000 => deep.clone(),
                    _ => format!(r#"{{"id": {i}, "pad": "{}"}}"#, "x".repeat(100)),
                })
                .collect();
            let text = format!("[{}]", records.join(separator));
            assert!(text.len() > 2 * PART_BYTES);
            let normalizer = || Normalizer::new(Flattener::new("t", None, false, "1"), "t".into());
            let whole = normalizer().normalize(text.clone(), 20_000, "{}".into());
            let mut n = normalizer();
            let in_parts = n.parts(text, 20_000, "{}".into()).find_map(Result::err);
            let position = |e: Option<SinkError>| match e {
                Some(SinkError::TooDeep { line, column, .. }) => (line, column),
                other => panic!("{other:?}"),
            };
            let expected = position(whole.err());
            assert!(expected.0 > 1 || expected.1 > PART_BYTES, "{expected:?}");
            assert_eq!(position(in_parts), expected, "separator {separator:?}");
        }
    }

    /// A number out of range in a page in parts is named as in the whole page: the page's
    /// records, its line and column (found by the `parts` fuzz target).
    #[test]
    fn a_part_names_a_bad_number_where_the_page_has_it() {
        let text = "[\n {\"id\": 1},\n {\"id\": 2},\n {\"id\": 3, \"price\": 1.5e3444444}\n]";
        let normalizer = || Normalizer::new(Flattener::new("t", None, false, "1"), "t".into());
        let whole = normalizer()
            .normalize(text.into(), 3, "{}".into())
            .err()
            .unwrap();
        let mut n = normalizer();
        let in_parts = n.parts_of(text.into(), 3, "{}".into(), 12);
        let failed = in_parts.filter_map(Result::err).next().unwrap();
        let said = "the page's records are not a JSON array of 3 records: number out of range at line 4 column";
        assert!(whole.to_string().starts_with(said), "{whole}");
        assert_eq!(failed.to_string(), whole.to_string());
    }

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
