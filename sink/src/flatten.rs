//! dlt's relational normalization (dialect-free): a record becomes a row of its resource's
//! table, nested objects become `parent__child` columns, and lists become rows of child
//! tables (`<table>__<field>`), linked by dlt's `_dlt_id`, `_dlt_parent_id`, `_dlt_list_idx`
//! and (under merge) `_dlt_root_id` columns. The parsing itself is in `flatten_json`.

use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};
use std::sync::Arc;

use rand::RngCore as _;

use crate::naming::{self, NESTING, normalize_identifier};
use crate::types::Cell;

/// A flattened row: `(column name, cell)` in first-seen order. Names are shared: the cells of
/// one column in every row of a table point to one name.
pub(crate) type FlatRow<'a> = Vec<(Arc<str>, Cell<'a>)>;

/// One row of a page, in one of the resource's tables.
#[derive(Debug)]
pub(crate) struct Row<'a> {
    /// Position of the record (root row) this row comes from, within the page.
    pub(crate) root: usize,
    pub(crate) cells: FlatRow<'a>,
}

/// The rows of a page by table: `tables[t]` holds the rows of [`Flattener::table_name`]`(t)`;
/// table 0 is the resource's own table, and a child table comes after its parent.
#[derive(Debug, Default)]
pub(crate) struct PageRows<'a> {
    pub(crate) tables: Vec<Vec<Row<'a>>>,
}

impl PageRows<'_> {
    /// The records of the page (rows of the root table).
    pub(crate) fn roots(&self) -> &[Row<'_>] {
        self.tables.first().map_or(&[], Vec::as_slice)
    }
}

/// dlt's bookkeeping column names.
pub(crate) const DLT_LOAD_ID: &str = "_dlt_load_id";
pub(crate) const DLT_ID: &str = "_dlt_id";
pub(crate) const DLT_PARENT_ID: &str = "_dlt_parent_id";
pub(crate) const DLT_LIST_IDX: &str = "_dlt_list_idx";
pub(crate) const DLT_ROOT_ID: &str = "_dlt_root_id";

/// Bytes of a `_dlt_id` (dlt's `DLT_ID_LENGTH_BYTES`): 14 base64 characters.
const ID_BYTES: usize = 10;

/// What the flattener knows of one table: its name, its child tables and the column names
/// of its last row (to name the next row's cells without hashing).
#[derive(Debug)]
struct Table {
    /// The name, shortened to the database's identifier limit.
    name: Arc<str>,
    /// The whole name: child tables are named from it.
    path: String,
    /// Child tables by the normalized key of their list.
    children: HashMap<String, usize>,
    /// The cells of the previous row, by position: `(prefix, raw key, column)`.
    recent: Vec<(Option<Arc<str>>, String, Column)>,
}

/// A column's whole name (nested names and child tables are built from it) and the name it
/// has in the database (shortened to the identifier limit; the same name without one).
#[derive(Debug, Clone)]
pub(crate) struct Column {
    pub(crate) full: Arc<str>,
    pub(crate) short: Arc<str>,
}

/// The row being flattened.
#[derive(Debug)]
pub(crate) struct RowCtx {
    pub(crate) table: usize,
    /// dlt's nesting level of the row: 0 for a record, +1 per list it sits in.
    pub(crate) level: u32,
    /// Position of the next cell (for [`Flattener::column`]).
    cursor: usize,
    pub(crate) id: RowId,
    pub(crate) root: usize,
    pub(crate) root_id: RowId,
}

/// Flattens the records of one resource, page after page.
#[derive(Debug)]
pub(crate) struct Flattener {
    /// dlt's `max_table_nesting`: objects and lists at this level stay JSON. `None`: no limit.
    max_nesting: Option<u32>,
    /// The database's identifier length limit: longer names are shortened as dlt does.
    max_identifier: Option<usize>,
    /// Whether child rows carry `_dlt_root_id` (merge).
    root_ids: bool,
    load_id: Arc<str>,
    tables: Vec<Table>,
    /// Normalized names of raw keys.
    names: HashMap<String, String>,
    /// Every normalized name produced so far.
    normalized: HashSet<String>,
    /// True once two raw keys normalized to the same name: rows must then be checked for
    /// two cells of one column.
    ambiguous: bool,
    /// Shared names of dlt's columns and of `value`/`list`.
    pub(crate) fixed: Fixed,
    /// The counter in the last record's `_dlt_id` (see [`Flattener::start_record`]).
    next_id: u64,
    /// Columns typed `json` by hints, by table path (the root table's and child tables'):
    /// their objects and lists stay whole, as dlt keeps a value whole when its column's type
    /// is `json`.
    json_columns: HashMap<String, HashSet<String>>,
    /// How a record's `_dlt_id` is made.
    ids: Ids,
}

/// How a record's `_dlt_id` is made (dlt's row id types).
#[derive(Debug, Default)]
enum Ids {
    /// Unique in the load (dlt's `random`).
    #[default]
    Random,
    /// A hash of these primary key columns' values (dlt's `key_hash`, under `upsert` and
    /// `insert-only`).
    Key(Vec<String>),
    /// A hash of the whole record (dlt's `row_hash`, under `scd2`): the hashes of the
    /// records of the page being flattened, set by [`Flattener::set_row_hashes`].
    Row(Vec<RowId>),
}

/// What makes a record's `_dlt_id`, once the record is read.
pub(crate) enum RecordId<'a> {
    Key(&'a [String]),
    Hash(RowId),
}

/// Column names shared by every row.
#[derive(Debug)]
pub(crate) struct Fixed {
    load_id: Arc<str>,
    id: Arc<str>,
    parent_id: Arc<str>,
    list_idx: Arc<str>,
    root_id: Arc<str>,
    pub(crate) value: Arc<str>,
    pub(crate) list: Arc<str>,
}

impl Flattener {
    /// A flattener for the table `table` (normalized), loaded by `load_id`.
    pub(crate) fn new(table: &str, max_nesting: Option<u32>, merge: bool, load_id: &str) -> Self {
        Flattener {
            max_nesting,
            max_identifier: None,
            root_ids: merge,
            load_id: load_id.into(),
            tables: vec![Table {
                name: table.into(),
                path: table.to_owned(),
                children: HashMap::new(),
                recent: Vec::new(),
            }],
            next_id: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX)),
            json_columns: HashMap::new(),
            ids: Ids::Random,
            names: HashMap::new(),
            normalized: HashSet::new(),
            ambiguous: false,
            fixed: Fixed {
                load_id: DLT_LOAD_ID.into(),
                id: DLT_ID.into(),
                parent_id: DLT_PARENT_ID.into(),
                list_idx: DLT_LIST_IDX.into(),
                root_id: DLT_ROOT_ID.into(),
                value: "value".into(),
                list: "list".into(),
            },
        }
    }

    /// Shortens table and column names longer than `max` characters the way dlt does (for
    /// databases that limit identifiers; SQLite does not).
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) fn with_identifier_limit(mut self, max: Option<usize>) -> Self {
        self.max_identifier = max;
        self.tables[0].name = self.shorten(&self.tables[0].path);
        self
    }

    fn shorten(&self, full: &str) -> Arc<str> {
        naming::shorten(full, full, self.max_identifier).into()
    }

    /// The name of table `t` of a page.
    pub(crate) fn table_name(&self, t: usize) -> &Arc<str> {
        &self.tables[t].name
    }

    /// Number of tables seen so far.
    pub(crate) fn table_count(&self) -> usize {
        self.tables.len()
    }

    /// Starts record `root` of a page: a row of the root table with a fresh random `_dlt_id`.
    pub(crate) fn start_record(&mut self, root: usize) -> RowCtx {
        let id = self.next_row_id();
        RowCtx {
            table: 0,
            level: 0,
            cursor: 0,
            id,
            root,
            root_id: id,
        }
    }

    /// Starts element `idx` of a list of the row `parent`: a row of the child table
    /// `child_table`. `extra_level`: 1 for the rows dlt adds for a list inside a list.
    pub(crate) fn start_child(
        &mut self,
        parent: &RowCtx,
        child_table: usize,
        extra_level: u32,
    ) -> RowCtx {
        RowCtx {
            table: child_table,
            level: parent.level + 1 + extra_level,
            cursor: 0,
            id: self.next_row_id(),
            root: parent.root,
            root_id: parent.root_id,
        }
    }

    /// A fresh `_dlt_id`: 14 characters like dlt's, increasing within a load (see
    /// [`sortable_id`]).
    fn next_row_id(&mut self) -> RowId {
        self.next_id = self.next_id.wrapping_add(1);
        let mut bytes = [0u8; ID_BYTES];
        bytes[..8].copy_from_slice(&self.next_id.to_be_bytes());
        rand::rng().fill_bytes(&mut bytes[8..]);
        sortable_id(&bytes)
    }

    /// The child table of table `parent` for the list at `key_path` (normalized keys joined by
    /// `__`), created on first use.
    pub(crate) fn child_table(&mut self, parent: usize, key_path: &str) -> usize {
        if let Some(&t) = self.tables[parent].children.get(key_path) {
            return t;
        }
        let path = format!("{}{NESTING}{key_path}", self.tables[parent].path);
        let t = self.tables.len();
        self.tables.push(Table {
            name: self.shorten(&path),
            path,
            children: HashMap::new(),
            recent: Vec::new(),
        });
        self.tables[parent].children.insert(key_path.to_owned(), t);
        t
    }

    /// The column of the next cell of `row`: `key` normalized, under `prefix` (a whole name).
    pub(crate) fn column(
        &mut self,
        row: &mut RowCtx,
        prefix: Option<&Arc<str>>,
        key: &str,
    ) -> Column {
        let at = row.cursor;
        row.cursor += 1;
        let recent = &self.tables[row.table].recent;
        if let Some((p, k, name)) = recent.get(at)
            && k == key
            && match (p, prefix) {
                (None, None) => true,
                (Some(a), Some(b)) => Arc::ptr_eq(a, b) || a == b,
                _ => false,
            }
        {
            return name.clone();
        }
        let leaf = self.name(key);
        let full: Arc<str> = match prefix {
            Some(p) => format!("{p}{NESTING}{leaf}").into(),
            None => leaf.into(),
        };
        let short = match self.max_identifier {
            Some(max) if full.chars().count() > max => self.shorten(&full),
            _ => Arc::clone(&full),
        };
        let name = Column { full, short };
        let entry = (prefix.cloned(), key.to_owned(), name.clone());
        let recent = &mut self.tables[row.table].recent;
        match recent.get_mut(at) {
            Some(slot) => *slot = entry,
            None => recent.push(entry),
        }
        name
    }

    /// The normalized form of a raw key.
    pub(crate) fn name(&mut self, key: &str) -> &str {
        if !self.names.contains_key(key) {
            let name = normalize_identifier(key);
            if !self.normalized.insert(name.clone()) {
                self.ambiguous = true;
            }
            self.names.insert(key.to_owned(), name);
        }
        self.names.get(key).map_or("_", String::as_str)
    }

    /// Whether an object or list at `level` is flattened (else kept as JSON).
    pub(crate) fn flattens(&self, level: u32) -> bool {
        self.max_nesting.is_none_or(|max| level < max)
    }

    /// Whether the value of column `name` of table `table` is flattened: not when the
    /// nesting limit is reached, nor when the column is typed `json`.
    pub(crate) fn flattens_column(&self, table: usize, name: &str, level: u32) -> bool {
        self.flattens(level)
            && (self.json_columns.is_empty()
                || !self
                    .json_columns
                    .get(self.tables[table].path.as_str())
                    .is_some_and(|c| c.contains(name)))
    }

    /// Makes each record's `_dlt_id` from the values of its `key` columns, and its child
    /// rows' from their parent's (dlt's ids under `upsert` and `insert-only`).
    pub(crate) fn with_key_ids(mut self, key: Vec<String>) -> Self {
        if !key.is_empty() {
            self.ids = Ids::Key(key);
        }
        self
    }

    /// Makes each record's `_dlt_id` a hash of the whole record, and its child rows' from
    /// their parent's (dlt's ids under `scd2`): see [`crate::row_hash`].
    pub(crate) fn with_row_hashes(mut self) -> Self {
        self.ids = Ids::Row(Vec::new());
        self
    }

    /// Whether the records' hashes are needed before a page is flattened.
    pub(crate) fn hashes_rows(&self) -> bool {
        matches!(self.ids, Ids::Row(_))
    }

    /// The hashes of the records of the page about to be flattened.
    pub(crate) fn set_row_hashes(&mut self, hashes: Vec<RowId>) {
        if let Ids::Row(h) = &mut self.ids {
            *h = hashes;
        }
    }

    /// What makes the `_dlt_id` of record `index` of the page, when it is not random.
    pub(crate) fn record_id(&self, index: usize) -> Option<RecordId<'_>> {
        match &self.ids {
            Ids::Random => None,
            Ids::Key(key) => Some(RecordId::Key(key)),
            Ids::Row(hashes) => hashes.get(index).copied().map(RecordId::Hash),
        }
    }

    /// Keeps the values of these columns of the table at `path` (the root table's name, or
    /// a child table's `<table>__<field>`) whole, as JSON.
    pub(crate) fn with_json_columns(
        mut self,
        path: &str,
        names: impl IntoIterator<Item = String>,
    ) -> Self {
        let names: HashSet<String> = names.into_iter().collect();
        if !names.is_empty() {
            self.json_columns
                .entry(path.to_owned())
                .or_default()
                .extend(names);
        }
        self
    }

    /// Ends a row: appends dlt's columns (root: `_dlt_load_id`, `_dlt_id`; child:
    /// `_dlt_root_id` under merge, `_dlt_parent_id`, `_dlt_list_idx`, `_dlt_id`).
    pub(crate) fn finish_row<'a>(
        &self,
        row: &RowCtx,
        link: Option<(&RowCtx, usize)>,
        cells: &mut FlatRow<'a>,
    ) {
        let f = &self.fixed;
        match link {
            None => cells.push((Arc::clone(&f.load_id), Cell::Id(Arc::clone(&self.load_id)))),
            Some((parent, idx)) => {
                if self.root_ids {
                    cells.push((Arc::clone(&f.root_id), Cell::RowId(row.root_id)));
                }
                cells.push((Arc::clone(&f.parent_id), Cell::RowId(parent.id)));
                let idx = i64::try_from(idx).unwrap_or(i64::MAX);
                cells.push((Arc::clone(&f.list_idx), Cell::Int(idx)));
            }
        }
        cells.push((Arc::clone(&f.id), Cell::RowId(row.id)));
    }
}

impl Flattener {
    /// Adds a cell to a row, refusing a second cell of the same column from another raw key.
    /// Only scanned for once two raw keys normalized to one name, so the common case stays
    /// linear.
    pub(crate) fn push<'a>(
        &self,
        cells: &mut FlatRow<'a>,
        name: Arc<str>,
        cell: Cell<'a>,
        key: &str,
    ) -> Result<(), Collision> {
        if self.ambiguous && cells.iter().any(|(n, _)| *n == name) {
            return Err(Collision {
                column: name.to_string(),
                key: key.to_owned(),
            });
        }
        cells.push((name, cell));
        Ok(())
    }
}

/// A `_dlt_id`: 14 characters like dlt's (10 bytes), unique like dlt's, but increasing within a
/// load instead of random: its first 8 bytes are a counter that starts at the load's start
/// time in microseconds (2 random bytes follow), written 6 bits a character in an alphabet in
/// ASCII order, so the rows of a load sort in load order. Random ids would scatter every
/// page's inserts into the child tables' `_dlt_root_id` index over the whole index (a page
/// dirtying hundreds of index pages: 3x slower syncs of the seed config); increasing ones
/// append. (dlt derives a child row's id from a hash of its parent's; a counter is unique
/// too and costs nothing.)
fn sortable_id(bytes: &[u8; ID_BYTES]) -> RowId {
    const ALPHABET: &[u8; 64] = b"-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz";
    const CHARS: usize = ID_CHARS;
    let value = bytes.iter().fold(0u128, |v, b| (v << 8) | u128::from(*b));
    // Left-align the 80 bits in 84 so every character holds 6 bits.
    let value = value << (CHARS * 6 - ID_BYTES * 8);
    let mut out = [0u8; CHARS];
    for (i, c) in out.iter_mut().enumerate() {
        *c = ALPHABET[((value >> ((CHARS - 1 - i) * 6)) & 63) as usize];
    }
    RowId(out)
}

/// Characters of a `_dlt_id`.
const ID_CHARS: usize = (ID_BYTES * 8).div_ceil(6);

/// A `_dlt_id` (see [`sortable_id`]): 14 ASCII characters kept inline, so a row's id, and its
/// children's `_dlt_parent_id` and `_dlt_root_id`, cost no allocation.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct RowId([u8; ID_CHARS]);

impl RowId {
    /// An id of `ID_CHARS` ASCII characters (a longer text is cut, a shorter one padded).
    pub(crate) fn from_ascii(text: &[u8]) -> RowId {
        let mut out = [b'-'; ID_CHARS];
        for (o, c) in out.iter_mut().zip(text.iter().filter(|c| c.is_ascii())) {
            *o = *c;
        }
        RowId(out)
    }

    pub(crate) fn as_str(&self) -> &str {
        // Always ASCII: the alphabet of `sortable_id`, or base64 for a key's id.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl std::fmt::Debug for RowId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Two keys of one object that normalize to the same column: the second would silently
/// overwrite the first, so the page is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Collision {
    pub(crate) column: String,
    pub(crate) key: String,
}

#[cfg(test)]
#[path = "flatten_tests.rs"]
mod tests;
