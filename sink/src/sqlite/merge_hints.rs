//! dlt's merge hints on columns and the `insert-only` strategy: `dedup_sort` picks which of
//! a load's records sharing a primary key is kept; `hard_delete` makes a record delete the
//! stored one instead of replacing it; `insert-only` leaves stored records as they are.

use std::cmp::Ordering;

use foldhash::{HashMap, HashMapExt};
use rusqlite::Connection;
use rusqlite::types::ValueRef;

use super::merge::{bind_key, deletes, key_condition, key_of};
use super::{ActiveLoad, ddl};
use crate::SortOrder;
use crate::coerce::{Stored, coerce};
use crate::error::{SinkError, db};
use crate::flatten::{DLT_LOAD_ID, FlatRow, Row};
use crate::types::{Cell, DataType};

/// A value as `dedup_sort` compares it: numbers as numbers (also numeric text, as a decimal
/// is stored), other text as text; null holds no information and never wins.
#[derive(Debug, PartialEq)]
enum SortValue {
    Null,
    Num(f64),
    Text(String),
}

impl SortValue {
    fn of_cell(cell: Option<&Cell<'_>>) -> SortValue {
        match cell {
            None | Some(Cell::Null) => SortValue::Null,
            Some(Cell::Int(i)) => SortValue::Num(*i as f64),
            Some(Cell::Float(f)) => SortValue::Num(*f),
            Some(Cell::Bool(b)) => SortValue::Num(f64::from(u8::from(*b))),
            Some(other) => SortValue::text(other.to_text().unwrap_or_default()),
        }
    }

    fn of_stored(value: ValueRef<'_>) -> SortValue {
        match value {
            ValueRef::Null => SortValue::Null,
            ValueRef::Integer(i) => SortValue::Num(i as f64),
            ValueRef::Real(f) => SortValue::Num(f),
            ValueRef::Text(t) | ValueRef::Blob(t) => {
                SortValue::text(String::from_utf8_lossy(t).into_owned())
            }
        }
    }

    fn text(s: String) -> SortValue {
        match s.trim().parse::<f64>() {
            Ok(n) if n.is_finite() => SortValue::Num(n),
            _ => SortValue::Text(s),
        }
    }

    /// Whether `self` beats `other` under `order` (a tie does not: the first one stays).
    fn beats(&self, other: &SortValue, order: SortOrder) -> bool {
        let ordering = match (self, other) {
            (SortValue::Null, _) => return false,
            (_, SortValue::Null) => return true,
            (SortValue::Num(a), SortValue::Num(b)) => a.total_cmp(b),
            (SortValue::Text(a), SortValue::Text(b)) => a.cmp(b),
            (SortValue::Num(_), SortValue::Text(_)) => Ordering::Less,
            (SortValue::Text(_), SortValue::Num(_)) => Ordering::Greater,
        };
        match order {
            SortOrder::Desc => ordering == Ordering::Greater,
            SortOrder::Asc => ordering == Ordering::Less,
        }
    }
}

fn cell<'r, 'a>(cells: &'r FlatRow<'a>, column: &str) -> Option<&'r Cell<'a>> {
    cells.iter().find(|(n, _)| **n == *column).map(|(_, c)| c)
}

/// Merge with `dedup_sort`: which records of a page are written. Of the page's records
/// sharing a primary key, the one whose `column` value beats the others under `order` (the
/// first on a tie); and only when no record this load already stored with that key beats
/// or ties it (dlt deduplicates a whole load, the first occurrence winning a tie).
pub(super) fn best_of_each_key(
    tx: &Connection,
    load: &ActiveLoad,
    roots: &[Row<'_>],
    (column, order): (&str, SortOrder),
) -> Result<Vec<bool>, SinkError> {
    let mut best: HashMap<Vec<Option<String>>, usize> = HashMap::with_capacity(roots.len());
    for (i, row) in roots.iter().enumerate() {
        let slot = best.entry(key_of(load, &row.cells)).or_insert(i);
        let value = SortValue::of_cell(cell(&row.cells, column));
        if value.beats(
            &SortValue::of_cell(cell(&roots[*slot].cells, column)),
            order,
        ) {
            *slot = i;
        }
    }
    let mut kept = vec![false; roots.len()];
    let root = load.tables.get(&load.table);
    let stored = root.filter(|s| {
        s.position(column).is_some()
            && s.position(DLT_LOAD_ID).is_some()
            && load.primary_key.iter().all(|k| s.position(k).is_some())
    });
    let Some(schema) = stored else {
        best.into_values().for_each(|i| kept[i] = true);
        return Ok(kept);
    };
    let target = load.target(&load.table);
    let n = load.primary_key.len();
    let sql = format!(
        "SELECT {} FROM {} WHERE {} AND {} = ?{}",
        ddl::quote(column),
        ddl::quote(&target),
        key_condition(&load.primary_key),
        ddl::quote(DLT_LOAD_ID),
        n + 1
    );
    let err = || db(&target, "comparing records by their dedup_sort column");
    let mut stmt = tx.prepare_cached(&sql).map_err(err())?;
    for i in best.into_values() {
        let cells = &roots[i].cells;
        bind_key(&mut stmt, schema, cells, &load.primary_key).map_err(err())?;
        stmt.raw_bind_parameter(n + 1, load.load_id.as_str())
            .map_err(err())?;
        let mut rows = stmt.raw_query();
        let earlier = match rows.next().map_err(err())? {
            Some(r) => Some(SortValue::of_stored(r.get_ref(0).map_err(err())?)),
            None => None,
        };
        let value = SortValue::of_cell(cell(cells, column));
        kept[i] = earlier.is_none_or(|e| value.beats(&e, order));
    }
    Ok(kept)
}

/// Merge with `hard_delete`: the kept records marked deleted (by `column`: true when it is
/// a boolean, else any value) are not written; their indexes are returned to delete the
/// stored records they name.
pub(super) fn marked_deleted(
    load: &ActiveLoad,
    roots: &[Row<'_>],
    kept: &mut [bool],
    column: &str,
) -> Vec<usize> {
    let boolean = load
        .hinted
        .iter()
        .find(|c| c.name == column)
        .map(|c| c.data_type)
        .or_else(|| {
            let schema = load.tables.get(&load.table)?;
            Some(schema.columns()[schema.position(column)?].data_type)
        })
        == Some(DataType::Bool);
    let mut deleted = Vec::new();
    for (i, row) in roots.iter().enumerate() {
        let marked = match cell(&row.cells, column) {
            None | Some(Cell::Null) => false,
            Some(Cell::Bool(b)) => *b,
            Some(other) if boolean => matches!(coerce(other, DataType::Bool), Some(Stored::Int(1))),
            Some(_) => true,
        };
        if marked && kept[i] {
            kept[i] = false;
            deleted.push(i);
        }
    }
    deleted
}

/// Deletes the stored records sharing a primary key with `rows` (records marked deleted),
/// and their child rows.
pub(super) fn delete_by_primary_key(
    tx: &Connection,
    load: &ActiveLoad,
    rows: &[&Row<'_>],
) -> Result<(), SinkError> {
    if rows.is_empty() {
        return Ok(());
    }
    let Some(schema) = load.tables.get(&load.table) else {
        return Ok(());
    };
    if load.primary_key.is_empty()
        || load
            .primary_key
            .iter()
            .any(|k| schema.position(k).is_none())
    {
        return Ok(());
    }
    let target = load.target(&load.table);
    for sql in deletes(load, &key_condition(&load.primary_key)) {
        let err = || db(&target, "deleting the records marked hard_delete");
        let mut stmt = tx.prepare_cached(&sql).map_err(err())?;
        for row in rows {
            bind_key(&mut stmt, schema, &row.cells, &load.primary_key).map_err(err())?;
            stmt.raw_execute().map_err(err())?;
        }
    }
    Ok(())
}

/// The `insert-only` strategy: the kept records whose primary key a stored record has are
/// not written (the stored one stays as it is, its child rows too).
pub(super) fn skip_stored(
    tx: &Connection,
    load: &ActiveLoad,
    roots: &[Row<'_>],
    kept: &mut [bool],
) -> Result<(), SinkError> {
    let Some(schema) = load.tables.get(&load.table) else {
        return Ok(());
    };
    if load
        .primary_key
        .iter()
        .any(|k| schema.position(k).is_none())
    {
        return Ok(());
    }
    let target = load.target(&load.table);
    let sql = format!(
        "SELECT 1 FROM {} WHERE {}",
        ddl::quote(&target),
        key_condition(&load.primary_key)
    );
    let err = || db(&target, "looking up the records insert-only keeps");
    let mut stmt = tx.prepare_cached(&sql).map_err(err())?;
    for (i, row) in roots.iter().enumerate() {
        if !kept[i] {
            continue;
        }
        bind_key(&mut stmt, schema, &row.cells, &load.primary_key).map_err(err())?;
        if stmt.raw_query().next().map_err(err())?.is_some() {
            kept[i] = false;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sort_values_compare_numbers_as_numbers_and_null_never_wins() {
        let n = |x: f64| SortValue::Num(x);
        assert!(n(10.0).beats(&n(9.5), SortOrder::Desc));
        assert!(!n(9.5).beats(&n(10.0), SortOrder::Desc));
        assert!(n(9.5).beats(&n(10.0), SortOrder::Asc));
        assert!(
            !n(3.0).beats(&n(3.0), SortOrder::Desc),
            "a tie keeps the first"
        );
        assert!(!SortValue::Null.beats(&n(1.0), SortOrder::Asc));
        assert!(n(1.0).beats(&SortValue::Null, SortOrder::Asc));
        assert_eq!(SortValue::text("19.90".into()), n(19.9));
        let t = |s: &str| SortValue::text(s.into());
        assert!(t("2024-01-02").beats(&t("2024-01-01"), SortOrder::Desc));
        assert_eq!(
            SortValue::of_cell(Some(&Cell::Str("10".into(), DataType::Text))),
            n(10.0)
        );
        assert_eq!(SortValue::of_stored(ValueRef::Integer(7)), n(7.0));
    }
}
