//! Table schemas and schema evolution decisions (dialect-free).

use foldhash::HashMap;
use std::sync::Arc;

use crate::coerce::{Stored, coerce, own_type, variant_name};
use crate::flatten::{DLT_ID, DLT_LIST_IDX, DLT_LOAD_ID, DLT_PARENT_ID, DLT_ROOT_ID, Row};
use crate::types::{Cell, ColumnInfo, DataType};

/// The ordered columns of one table, with a name index.
#[derive(Clone, Debug, Default)]
pub(crate) struct TableSchema {
    columns: Vec<ColumnInfo>,
    index: HashMap<String, usize>,
}

impl TableSchema {
    pub(crate) fn new(columns: Vec<ColumnInfo>) -> Self {
        let index = columns
            .iter()
            .enumerate()
            .map(|(i, c)| (c.name.clone(), i))
            .collect();
        TableSchema { columns, index }
    }

    pub(crate) fn columns(&self) -> &[ColumnInfo] {
        &self.columns
    }

    pub(crate) fn position(&self, name: &str) -> Option<usize> {
        self.index.get(name).copied()
    }

    /// The schema with `added` columns after the existing ones.
    pub(crate) fn with(&self, added: &[ColumnInfo]) -> TableSchema {
        let mut columns = self.columns.clone();
        columns.extend(added.iter().cloned());
        TableSchema::new(columns)
    }

    /// Where a cell of a row goes and what is stored: its column if the value fits the
    /// column's type, else its variant column. `None` for a name without a column (a field
    /// that has only been null so far: its value is NULL anyway).
    pub(crate) fn place<'c>(
        &self,
        positions: &mut Positions,
        j: usize,
        name: &Arc<str>,
        cell: &'c Cell<'_>,
    ) -> Option<(usize, Stored<'c>)> {
        let i = positions.of(self, j, name)?;
        if let Some(v) = coerce(cell, self.columns[i].data_type) {
            return Some((i, v));
        }
        let variant = self.position(&variant_name(name, cell)?)?;
        let stored = coerce(cell, self.columns[variant].data_type)
            .or_else(|| cell.to_text().map(|t| Stored::Text(t.into())))?;
        Some((variant, stored))
    }
}

/// Whether values of these `(column, type)` kinds all go into existing columns, converted
/// without fail (see [`always_fits`]): then [`plan`] would add nothing.
pub(crate) fn fits(schema: &TableSchema, kinds: &[(Arc<str>, DataType)]) -> bool {
    kinds.iter().all(|(name, t)| {
        schema
            .position(name)
            .is_some_and(|i| always_fits(*t, schema.columns[i].data_type))
    })
}

/// Whether [`coerce`] converts every value of type `value` for a column of type `column`.
fn always_fits(value: DataType, column: DataType) -> bool {
    use DataType as T;
    value == column
        || column == T::Text
        || matches!(
            (value, column),
            (T::Bigint, T::Double) | (T::Bigint | T::Double, T::Bool)
        )
}

/// Why a planned column is added.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A `columns` hint with a data type: created with the table, before its data.
    Hinted,
    /// A field not seen before.
    New,
    /// A variant column for values that do not fit the column `base`.
    Variant { base: String },
}

/// The columns a page adds to a table, in order: the hinted columns (`hinted`, typed) the
/// table lacks, then the others in first-seen order, decided row by row as dlt does: a
/// field's first typed value sets its column's type; a later value that does not fit it
/// (see [`coerce`]) goes into a variant column `<column>__v_<type>`. Fields seen only as
/// null get no column. `primary_key` columns (and dlt's own columns) are not nullable.
pub(crate) fn plan(
    schema: &TableSchema,
    rows: &[&Row<'_>],
    primary_key: &[String],
    hinted: &[ColumnInfo],
) -> Vec<(ColumnInfo, Kind)> {
    let mut added = Added::default();
    for hint in hinted {
        if schema.position(&hint.name).is_none() {
            added.push(hint.clone(), Kind::Hinted);
        }
    }
    let mut positions = Positions::default();
    for row in rows {
        for (j, (name, cell)) in row.cells.iter().enumerate() {
            let Some(value_type) = cell.data_type() else {
                continue;
            };
            let current = match positions.of(schema, j, name) {
                Some(i) => Some(schema.columns[i].data_type),
                None => added.type_of(name),
            };
            match current {
                None => added.add(name.to_string(), value_type, primary_key, Kind::New),
                Some(t) if coerce(cell, t).is_some() => {}
                Some(_) => {
                    let (Some(variant), Some(own)) = (variant_name(name, cell), own_type(cell))
                    else {
                        continue;
                    };
                    if schema.position(&variant).is_none() && added.type_of(&variant).is_none() {
                        let base = name.to_string();
                        added.add(variant, own, primary_key, Kind::Variant { base });
                    }
                }
            }
        }
    }
    added.columns
}

/// Columns added by a page, with a name index.
#[derive(Default)]
struct Added {
    columns: Vec<(ColumnInfo, Kind)>,
    index: HashMap<String, usize>,
}

impl Added {
    fn type_of(&self, name: &str) -> Option<DataType> {
        self.index.get(name).map(|&k| self.columns[k].0.data_type)
    }

    fn add(&mut self, name: String, data_type: DataType, primary_key: &[String], kind: Kind) {
        let primary_key = primary_key.contains(&name);
        let nullable = !primary_key && !DLT_COLUMNS.contains(&name.as_str());
        let column = ColumnInfo {
            name,
            data_type,
            nullable,
            primary_key,
        };
        self.push(column, kind);
    }

    fn push(&mut self, column: ColumnInfo, kind: Kind) {
        self.index.insert(column.name.clone(), self.columns.len());
        self.columns.push((column, kind));
    }
}

/// dlt's bookkeeping columns: never null.
const DLT_COLUMNS: [&str; 5] = [
    DLT_ID,
    DLT_LOAD_ID,
    DLT_PARENT_ID,
    DLT_LIST_IDX,
    DLT_ROOT_ID,
];

/// Finds the columns of a page's cells: rows of a page share their names (see [`FlatRow`]),
/// so the column of the cell at the same position in the previous row is found by comparing
/// pointers, and only a new name is looked up.
#[derive(Debug, Default)]
pub(crate) struct Positions {
    previous: Vec<(*const str, Option<usize>)>,
}

impl Positions {
    /// The column of `name`, the cell at position `j` of its row.
    pub(crate) fn of(&mut self, schema: &TableSchema, j: usize, name: &Arc<str>) -> Option<usize> {
        let here = Arc::as_ptr(name);
        match self.previous.get(j) {
            Some(&(p, position)) if std::ptr::addr_eq(p, here) => position,
            _ => {
                let position = schema.position(name);
                match self.previous.get_mut(j) {
                    Some(slot) => *slot = (here, position),
                    None => self.previous.push((here, position)),
                }
                position
            }
        }
    }
}

#[cfg(test)]
#[path = "schema_tests.rs"]
mod tests;
