//! Table schemas and schema evolution decisions (dialect-free).

use std::collections::HashMap;
use std::sync::Arc;

use crate::flatten::FlatRow;
use crate::types::{ColumnInfo, DataType};

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

    /// The schema after `changes`: retyped columns take their new type, added ones follow.
    pub(crate) fn apply(&self, changes: &Changes) -> TableSchema {
        let mut columns = self.columns.clone();
        for &(i, t) in &changes.retyped {
            columns[i].data_type = t;
        }
        columns.extend(changes.added.iter().cloned());
        TableSchema::new(columns)
    }
}

/// What a page changes in its table's schema.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Changes {
    /// New columns, in first-seen order.
    pub(crate) added: Vec<ColumnInfo>,
    /// Existing columns (by position) whose type changes.
    pub(crate) retyped: Vec<(usize, DataType)>,
}

impl Changes {
    pub(crate) fn is_empty(&self) -> bool {
        self.added.is_empty() && self.retyped.is_empty()
    }
}

/// Decides the schema changes a page needs. `creating` is true when the page creates the
/// table: fields seen only as null then become nullable `text` columns; on later pages a
/// null-only new field is left out until a typed value appears.
pub(crate) fn plan(
    schema: &TableSchema,
    rows: &[FlatRow<'_>],
    primary_key: &[String],
    creating: bool,
) -> Changes {
    let mut retyped: HashMap<usize, DataType> = HashMap::new();
    let mut added: Vec<(String, Option<DataType>)> = Vec::new();
    let mut added_index: HashMap<String, usize> = HashMap::new();
    let mut positions = Positions::default();
    for row in rows {
        for (j, (name, cell)) in row.iter().enumerate() {
            let value_type = cell.data_type();
            if let Some(i) = positions.of(schema, j, name) {
                let Some(t) = value_type else { continue };
                let current = retyped
                    .get(&i)
                    .copied()
                    .unwrap_or(schema.columns[i].data_type);
                let merged = current.merge(t);
                if merged != current {
                    retyped.insert(i, merged);
                }
            } else if let Some(&j) = added_index.get(&**name) {
                let slot = &mut added[j].1;
                *slot = match (*slot, value_type) {
                    (Some(a), Some(b)) => Some(a.merge(b)),
                    (a, b) => a.or(b),
                };
            } else {
                added_index.insert(name.to_string(), added.len());
                added.push((name.to_string(), value_type));
            }
        }
    }
    let added = added
        .into_iter()
        .filter_map(|(name, t)| {
            let data_type = match t {
                Some(t) => t,
                None if creating => DataType::Text,
                None => return None,
            };
            let primary_key = primary_key.contains(&name);
            Some(ColumnInfo {
                name,
                data_type,
                nullable: !primary_key,
                primary_key,
            })
        })
        .collect();
    let mut retyped: Vec<(usize, DataType)> = retyped.into_iter().collect();
    retyped.sort_unstable_by_key(|&(i, _)| i);
    Changes { added, retyped }
}

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
mod tests {
    use super::*;
    use crate::flatten::Flattener;
    use serde_json::{Value, json};

    fn rows(values: &[Value]) -> Vec<FlatRow<'_>> {
        let mut f = Flattener::default();
        values
            .iter()
            .map(|v| f.flatten(v.as_object().unwrap()))
            .collect()
    }

    #[test]
    fn new_table_columns_in_first_seen_order() {
        let page = [
            json!({"id": 1, "n": null}),
            json!({"id": 2, "x": 1.5, "n": null, "b": 1}),
        ];
        let pk = vec!["id".to_owned()];
        let ch = plan(&TableSchema::default(), &rows(&page), &pk, true);
        let got: Vec<(&str, DataType, bool)> = ch
            .added
            .iter()
            .map(|c| (c.name.as_str(), c.data_type, c.nullable))
            .collect();
        assert_eq!(
            got,
            [
                ("id", DataType::Bigint, false),
                ("n", DataType::Text, true),
                ("x", DataType::Double, true),
                ("b", DataType::Bigint, true)
            ]
        );
        assert!(ch.added[0].primary_key);
    }

    #[test]
    fn widening_conflicts_and_deferred_nulls() {
        let first = [json!({"id": 1, "q": 2, "flag": true})];
        let base =
            TableSchema::default().apply(&plan(&TableSchema::default(), &rows(&first), &[], true));
        let page = [json!({"id": 1.5, "q": 3, "flag": "yes", "later": null})];
        let ch = plan(&base, &rows(&page), &[], false);
        assert_eq!(ch.retyped, [(0, DataType::Double), (2, DataType::Text)]);
        assert!(
            ch.added.is_empty(),
            "null-only field on a later page waits: {:?}",
            ch.added
        );
        let same = plan(&base, &rows(&first), &[], false);
        assert!(same.is_empty());
    }
}
