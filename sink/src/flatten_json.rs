//! Flattening a page straight from its JSON text: each record's leaves become the cells of
//! its rows as the parser meets them, with no `serde_json::Value` in between, and strings
//! without escapes borrowed from the page. Lists become rows of child tables (see
//! [`crate::flatten`]).

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use crate::flatten::{Collision, FlatRow, Flattener, PageRows, RecordId, Row, RowCtx};
use crate::types::{Cell, string_type};

/// Why a page's text could not be flattened.
#[derive(Debug)]
pub(crate) enum PageError {
    /// Record `index` is not an object (`found`: its JSON kind).
    NotAnObject { index: usize, found: &'static str },
    /// Two keys of record `index` become one column.
    Collision { index: usize, collision: Collision },
    /// The text is not a JSON array of records: serde_json's message, and where (line 0
    /// when it names no place, as at the end of the text).
    Json {
        message: String,
        line: usize,
        column: usize,
    },
    /// A record nests objects or lists deeper than [`MAX_RECORD_DEPTH`].
    TooDeep { line: usize, column: usize },
}

/// Levels a record may have, itself the first and each object or list inside it one more:
/// what serde_json's recursion limit (128, which keeps hostile input from overflowing the
/// stack) leaves a record inside the page's array.
pub(crate) const MAX_RECORD_DEPTH: usize = 126;

/// The rows of the JSON array `text`, flattened by `flattener`.
pub(crate) fn flatten_page<'a>(
    flattener: &mut Flattener,
    text: &'a str,
) -> Result<PageRows<'a>, PageError> {
    let mut out = Out::default();
    let mut de = serde_json::Deserializer::from_str(text);
    let parsed = de
        .deserialize_seq(Page {
            w: Walker {
                f: flattener,
                out: &mut out,
            },
        })
        .and_then(|()| de.end());
    match (parsed, out.problem) {
        (_, Some(problem)) => Err(problem),
        (Ok(()), None) => {
            let mut tables = out.tables;
            tables.resize_with(flattener.table_count(), Vec::new);
            Ok(PageRows { tables })
        }
        // serde_json names this error only in its text.
        (Err(e), None) if e.to_string().starts_with("recursion limit exceeded") => {
            Err(PageError::TooDeep {
                line: e.line(),
                column: e.column(),
            })
        }
        (Err(e), None) => {
            // The message without serde_json's " at line L column C": the place is told
            // apart, so a page in parts names it in the page's text.
            let text = e.to_string();
            let place = format!(" at line {} column {}", e.line(), e.column());
            Err(PageError::Json {
                message: text.strip_suffix(&place).unwrap_or(&text).to_owned(),
                line: e.line(),
                column: e.column(),
            })
        }
    }
}

/// The rows flattened so far, and the first problem met.
#[derive(Default)]
struct Out<'de> {
    tables: Vec<Vec<Row<'de>>>,
    problem: Option<PageError>,
}

/// What every visitor carries: the flattener and the page's rows.
struct Walker<'f, 'de> {
    f: &'f mut Flattener,
    out: &'f mut Out<'de>,
}

impl<'de> Walker<'_, 'de> {
    fn reborrow(&mut self) -> Walker<'_, 'de> {
        Walker {
            f: &mut *self.f,
            out: &mut *self.out,
        }
    }

    /// Room for the cells of a new row of `table`: as many as its previous row of the page
    /// had (a page's records mostly share their shape), else `guess`. Rows are most of a
    /// page's memory: room for 18 cells where 12 are used was a third of it.
    fn width(&self, table: usize, guess: usize) -> usize {
        let last = self.out.tables.get(table).and_then(|rows| rows.last());
        last.map_or(guess, |row| row.cells.len())
    }

    fn push_row(&mut self, table: usize, row: Row<'de>) {
        if self.out.tables.len() <= table {
            self.out.tables.resize_with(table + 1, Vec::new);
        }
        self.out.tables[table].push(row);
    }

    /// Notes a problem and returns the error that stops the parse.
    fn fail<E: de::Error>(&mut self, problem: PageError) -> E {
        let message = format!("{problem:?}");
        self.out.problem.get_or_insert(problem);
        E::custom(message)
    }
}

struct Page<'f, 'de> {
    w: Walker<'f, 'de>,
}

impl<'de> Visitor<'de> for Page<'_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON array of records")
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
        let mut index = 0;
        while seq
            .next_element_seed(Record {
                w: self.w.reborrow(),
                index,
            })?
            .is_some()
        {
            index += 1;
        }
        Ok(())
    }
}

/// One record: an object, flattened into a row of the root table (and its child rows).
struct Record<'f, 'de> {
    w: Walker<'f, 'de>,
    index: usize,
}

impl<'de> DeserializeSeed<'de> for Record<'_, 'de> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Record<'_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object")
    }

    fn visit_map<A: MapAccess<'de>>(mut self, map: A) -> Result<(), A::Error> {
        let mut ctx = self.w.f.start_record(self.index);
        let mut cells = Vec::with_capacity(self.w.width(0, 18));
        walk(self.w.reborrow(), map, &mut ctx, None, 0, &mut cells)?;
        if let Some(made) = self.w.f.record_id(self.index) {
            // The key is known once the record is read: its id, and its child rows', follow.
            let id = match made {
                RecordId::Key(key) => crate::key_ids::record_id(&cells, key),
                RecordId::Hash(id) => id,
            };
            let f = &*self.w.f;
            crate::key_ids::rekey(&mut self.w.out.tables, self.index, (ctx.id, id), &|t| {
                std::sync::Arc::clone(f.table_name(t))
            });
            ctx.id = id;
            ctx.root_id = id;
        }
        self.w.f.finish_row(&ctx, None, &mut cells);
        self.w.push_row(
            0,
            Row {
                root: self.index,
                cells,
            },
        );
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        self.refuse("array", IgnoredAny.visit_seq(seq))
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        self.refuse("string", Ok(IgnoredAny))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        self.refuse("number", Ok(IgnoredAny))
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        self.refuse("number", Ok(IgnoredAny))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        self.refuse("number", Ok(IgnoredAny))
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        self.refuse("bool", Ok(IgnoredAny))
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.refuse("null", Ok(IgnoredAny))
    }
}

impl Record<'_, '_> {
    /// Notes that this record is a `found`, not an object, and stops the page.
    fn refuse<T, E: de::Error>(
        mut self,
        found: &'static str,
        _: Result<IgnoredAny, E>,
    ) -> Result<T, E> {
        let index = self.index;
        Err(self.w.fail(PageError::NotAnObject { index, found }))
    }
}

/// Flattens the entries of one object into `cells`, under `prefix`, at dlt nesting `level`.
fn walk<'de, A: MapAccess<'de>>(
    mut w: Walker<'_, 'de>,
    mut map: A,
    ctx: &mut RowCtx,
    prefix: Option<&Arc<str>>,
    level: u32,
    cells: &mut FlatRow<'de>,
) -> Result<(), A::Error> {
    while let Some(key) = map.next_key_seed(Key)? {
        let column = w.f.column(ctx, prefix, &key);
        let value = map.next_value_seed(Leaf {
            w: w.reborrow(),
            ctx: &mut *ctx,
            name: &column.full,
            level,
            cells: &mut *cells,
        })?;
        if let Some(cell) = value
            && let Err(collision) = w.f.push(cells, column.short, cell, &key)
        {
            let index = ctx.root;
            return Err(w.fail(PageError::Collision { index, collision }));
        }
    }
    Ok(())
}

/// An object's key, borrowed from the page when it has no escapes (serde's own `Cow`
/// always copies).
struct Key;

impl<'de> DeserializeSeed<'de> for Key {
    type Value = Cow<'de, str>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Key {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a key")
    }
    fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(s))
    }
    fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(s.to_owned()))
    }
    fn visit_string<E: de::Error>(self, s: String) -> Result<Self::Value, E> {
        Ok(Cow::Owned(s))
    }
}

/// One value of an object: a cell, or nothing (a nested object flattened in place, or a list
/// turned into child rows).
struct Leaf<'f, 'de> {
    w: Walker<'f, 'de>,
    ctx: &'f mut RowCtx,
    name: &'f Arc<str>,
    level: u32,
    cells: &'f mut FlatRow<'de>,
}

impl<'de> DeserializeSeed<'de> for Leaf<'_, 'de> {
    type Value = Option<Cell<'de>>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Leaf<'_, 'de> {
    type Value = Option<Cell<'de>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Some(Cell::Null))
    }
    fn visit_bool<E: de::Error>(self, b: bool) -> Result<Self::Value, E> {
        Ok(Some(Cell::Bool(b)))
    }
    fn visit_i64<E: de::Error>(self, i: i64) -> Result<Self::Value, E> {
        Ok(Some(Cell::Int(i)))
    }
    fn visit_u64<E: de::Error>(self, u: u64) -> Result<Self::Value, E> {
        Ok(Some(unsigned(u)))
    }
    fn visit_f64<E: de::Error>(self, f: f64) -> Result<Self::Value, E> {
        Ok(Some(Cell::Float(f)))
    }
    fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Self::Value, E> {
        Ok(Some(Cell::Str(Cow::Borrowed(s), string_type(s))))
    }
    fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
        Ok(Some(Cell::Str(Cow::Owned(s.to_owned()), string_type(s))))
    }
    fn visit_string<E: de::Error>(self, s: String) -> Result<Self::Value, E> {
        let t = string_type(&s);
        Ok(Some(Cell::Str(Cow::Owned(s), t)))
    }
    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<Self::Value, A::Error> {
        if !self
            .w
            .f
            .flattens_column(self.ctx.table, self.name, self.level)
        {
            return json_list(seq).map(Some);
        }
        let table = self.w.f.child_table(self.ctx.table, self.name);
        let mut idx = 0;
        while seq
            .next_element_seed(Element {
                w: self.w.reborrow(),
                parent: &*self.ctx,
                table,
                idx,
            })?
            .is_some()
        {
            idx += 1;
        }
        Ok(None)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        if self
            .w
            .f
            .flattens_column(self.ctx.table, self.name, self.level)
        {
            walk(
                self.w,
                map,
                self.ctx,
                Some(self.name),
                self.level + 1,
                self.cells,
            )?;
            return Ok(None);
        }
        let object: serde_json::Map<String, Value> =
            serde::Deserialize::deserialize(de::value::MapAccessDeserializer::new(map))?;
        Ok(Some(Cell::Json(Value::Object(object).to_string())))
    }
}

/// A u64 beyond `i64` is stored as a double.
fn unsigned<'de>(u: u64) -> Cell<'de> {
    match i64::try_from(u) {
        Ok(i) => Cell::Int(i),
        Err(_) => Cell::Float(u as f64),
    }
}

/// A list kept whole, as its JSON text.
fn json_list<'de, A: SeqAccess<'de>>(seq: A) -> Result<Cell<'de>, A::Error> {
    let list = Value::Array(serde::Deserialize::deserialize(
        de::value::SeqAccessDeserializer::new(seq),
    )?);
    Ok(Cell::Json(list.to_string()))
}

/// Element `idx` of a list: a row of the child table `table`, linked to `parent`.
struct Element<'f, 'de> {
    w: Walker<'f, 'de>,
    parent: &'f RowCtx,
    table: usize,
    idx: usize,
}

impl<'de> DeserializeSeed<'de> for Element<'_, 'de> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Element<'_, 'de> {
    /// Ends the row `ctx` of this element: dlt's link columns, then into its table.
    fn finish(&mut self, ctx: &RowCtx, mut cells: FlatRow<'de>) {
        self.w
            .f
            .finish_row(ctx, Some((self.parent, self.idx)), &mut cells);
        let root = ctx.root;
        self.w.push_row(self.table, Row { root, cells });
    }

    /// A list of scalars: one row with the element in its `value` column.
    fn scalar(mut self, cell: Cell<'de>) {
        let ctx = self.w.f.start_child(self.parent, self.table, 0);
        // Room for dlt's columns too: `_dlt_root_id`, `_dlt_parent_id`, `_dlt_list_idx`, `_dlt_id`.
        let mut cells = Vec::with_capacity(5);
        cells.push((Arc::clone(&self.w.f.fixed.value), cell));
        self.finish(&ctx, cells);
    }
}

impl<'de> Visitor<'de> for Element<'_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(mut self, map: A) -> Result<(), A::Error> {
        let mut ctx = self.w.f.start_child(self.parent, self.table, 0);
        let mut cells = Vec::with_capacity(self.w.width(self.table, 12));
        let level = ctx.level;
        walk(self.w.reborrow(), map, &mut ctx, None, level, &mut cells)?;
        self.finish(&ctx, cells);
        Ok(())
    }

    /// A list in a list: as dlt does, a row standing for the inner list (one level deeper)
    /// whose `list` field holds it, so its elements go to `<table>__list`.
    fn visit_seq<A: SeqAccess<'de>>(mut self, seq: A) -> Result<(), A::Error> {
        let mut ctx = self.w.f.start_child(self.parent, self.table, 1);
        let mut cells = Vec::with_capacity(4);
        let list = Arc::clone(&self.w.f.fixed.list);
        let level = ctx.level;
        let cell = Leaf {
            w: self.w.reborrow(),
            ctx: &mut ctx,
            name: &list,
            level,
            cells: &mut cells,
        }
        .visit_seq(seq)?;
        if let Some(cell) = cell {
            cells.push((list, cell));
        }
        self.finish(&ctx, cells);
        Ok(())
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.scalar(Cell::Null);
        Ok(())
    }
    fn visit_bool<E: de::Error>(self, b: bool) -> Result<(), E> {
        self.scalar(Cell::Bool(b));
        Ok(())
    }
    fn visit_i64<E: de::Error>(self, i: i64) -> Result<(), E> {
        self.scalar(Cell::Int(i));
        Ok(())
    }
    fn visit_u64<E: de::Error>(self, u: u64) -> Result<(), E> {
        self.scalar(unsigned(u));
        Ok(())
    }
    fn visit_f64<E: de::Error>(self, f: f64) -> Result<(), E> {
        self.scalar(Cell::Float(f));
        Ok(())
    }
    fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<(), E> {
        self.scalar(Cell::Str(Cow::Borrowed(s), string_type(s)));
        Ok(())
    }
    fn visit_str<E: de::Error>(self, s: &str) -> Result<(), E> {
        self.scalar(Cell::Str(Cow::Owned(s.to_owned()), string_type(s)));
        Ok(())
    }
    fn visit_string<E: de::Error>(self, s: String) -> Result<(), E> {
        let t = string_type(&s);
        self.scalar(Cell::Str(Cow::Owned(s), t));
        Ok(())
    }
}

#[cfg(test)]
#[path = "flatten_json_tests.rs"]
mod tests;
