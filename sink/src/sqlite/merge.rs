//! Merge: the records of a page replace stored ones by primary key (the last duplicate of a
//! page wins) and by merge key, and their child rows with them.

use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};

use rusqlite::Connection;

use super::write::to_sql;
use super::{ActiveLoad, ddl};
use crate::coerce::{Stored, coerce};
use crate::error::{SinkError, db};
use crate::flatten::{DLT_ID, DLT_LOAD_ID, DLT_ROOT_ID, FlatRow, Row};
use crate::schema::TableSchema;
use crate::types::Cell;

/// Merge: which records of a page are written (the last of each primary key wins, and the
/// child rows of the others are dropped with them).
pub(super) fn last_of_each_key(load: &ActiveLoad, roots: &[Row<'_>]) -> Vec<bool> {
    // Most pages repeat no key: a pass over the keys' hashes finds that without allocating.
    let mut hashes: HashSet<u64> = HashSet::with_capacity(roots.len());
    if roots
        .iter()
        .all(|r| hashes.insert(key_hash(load, &r.cells)))
    {
        return vec![true; roots.len()];
    }
    let mut last: HashMap<Vec<Option<String>>, usize> = HashMap::with_capacity(roots.len());
    for (i, row) in roots.iter().enumerate() {
        last.insert(key_of(load, &row.cells), i);
    }
    let mut kept = vec![false; roots.len()];
    for i in last.into_values() {
        kept[i] = true;
    }
    kept
}

/// A hash of a record's key values (equal keys, equal hashes).
fn key_hash(load: &ActiveLoad, cells: &FlatRow<'_>) -> u64 {
    use std::hash::{Hash, Hasher};
    // A fixed seed: equal keys must hash alike across calls.
    let mut h = std::hash::BuildHasher::build_hasher(&foldhash::fast::FixedState::default());
    for k in &load.primary_key {
        // As the key's text (what `key_of` compares), strings without a copy.
        match cells.iter().find(|(n, _)| **n == **k).map(|(_, c)| c) {
            Some(Cell::Str(s, _)) => s.as_ref().hash(&mut h),
            Some(other) => other.to_text().unwrap_or_default().as_str().hash(&mut h),
            None => 0u8.hash(&mut h),
        }
    }
    h.finish()
}

pub(super) fn key_of(load: &ActiveLoad, cells: &FlatRow<'_>) -> Vec<Option<String>> {
    load.primary_key
        .iter()
        .map(|k| {
            cells
                .iter()
                .find(|(n, _)| **n == **k)
                .and_then(|(_, c)| c.to_text())
        })
        .collect()
}

/// Merge: makes the stored record a page's record replaces take its child rows with it, in
/// child table `child` (dlt's delete-insert: a list that shrank or emptied leaves no stale
/// rows). A trigger of this connection does it: the upsert that replaces a record gives it a
/// new `_dlt_id`, and the child rows of the old one are deleted then, by the `_dlt_root_id`
/// index. Records that are new cost nothing (a first sync looks nothing up). Under `upsert`
/// a record keeps its `_dlt_id` (its key's hash), so every update deletes its child rows. The
/// trigger lives until the load finishes ([`drop_child_triggers`]) or the connection closes.
pub(super) fn ensure_child_trigger(
    tx: &Connection,
    load: &ActiveLoad,
    child: &str,
) -> Result<(), SinkError> {
    ddl::ensure_index(tx, child, DLT_ROOT_ID)?;
    let id = ddl::quote(DLT_ID);
    let when = if load.keys_ids() {
        String::new()
    } else {
        format!("WHEN old.{id} IS NOT new.{id} ")
    };
    let sql = format!(
        "CREATE TEMP TRIGGER IF NOT EXISTS {} AFTER UPDATE OF {id} ON main.{} \
         {when}BEGIN DELETE FROM {} WHERE {} = old.{id}; END",
        ddl::quote(&trigger_name(child)),
        ddl::quote(&load.target(&load.table)),
        ddl::quote(child),
        ddl::quote(DLT_ROOT_ID),
    );
    tx.execute_batch(&sql)
        .map_err(db(child, "preparing the merge of child rows"))
}

/// Sets up [`ensure_child_trigger`] for every child table of the load's records so far.
pub(super) fn ensure_child_triggers(tx: &Connection, load: &ActiveLoad) -> Result<(), SinkError> {
    for child in child_targets(load) {
        ensure_child_trigger(tx, load, &child)?;
    }
    Ok(())
}

/// Drops the triggers [`ensure_child_trigger`] made for the load.
pub(super) fn drop_child_triggers(conn: &Connection, load: &ActiveLoad) -> Result<(), SinkError> {
    for child in child_targets(load) {
        let sql = format!(
            "DROP TRIGGER IF EXISTS temp.{}",
            ddl::quote(&trigger_name(&child))
        );
        conn.execute_batch(&sql)
            .map_err(db(&child, "finishing the merge of child rows"))?;
    }
    Ok(())
}

fn trigger_name(child: &str) -> String {
    format!("_sluice_merge__{child}")
}

/// The tables the child rows of the load's records are in (those with `_dlt_root_id`).
pub(super) fn child_targets(load: &ActiveLoad) -> Vec<String> {
    load.tables
        .iter()
        .filter(|(name, schema)| **name != load.table && schema.position(DLT_ROOT_ID).is_some())
        .map(|(name, _)| load.target(name))
        .collect()
}

/// Merge key: deletes the stored records of earlier loads that share a merge key with a
/// record of the page, and their child rows (dlt's delete-insert by `merge_key`).
pub(super) fn delete_by_merge_key(
    tx: &Connection,
    load: &ActiveLoad,
    root: &TableSchema,
    rows: &[&Row<'_>],
) -> Result<(), SinkError> {
    if root.position(DLT_LOAD_ID).is_none()
        || load.merge_key.iter().any(|k| root.position(k).is_none())
    {
        return Ok(());
    }
    let n = load.merge_key.len();
    let condition = format!(
        "{} AND {} IS NOT ?{}",
        key_condition(&load.merge_key),
        ddl::quote(DLT_LOAD_ID),
        n + 1
    );
    let target = load.target(&load.table);
    for sql in deletes(load, &condition) {
        let err = || db(&target, "deleting the rows a merge key replaces");
        let mut stmt = tx.prepare_cached(&sql).map_err(err())?;
        for row in rows {
            bind_key(&mut stmt, root, &row.cells, &load.merge_key).map_err(err())?;
            stmt.raw_bind_parameter(n + 1, load.load_id.as_str())
                .map_err(err())?;
            stmt.raw_execute().map_err(err())?;
        }
    }
    Ok(())
}

/// `"a" = ?1 AND "b" = ?2` for the key `columns`.
pub(super) fn key_condition(columns: &[String]) -> String {
    columns
        .iter()
        .enumerate()
        .map(|(i, k)| format!("{} = ?{}", ddl::quote(k), i + 1))
        .collect::<Vec<_>>()
        .join(" AND ")
}

/// Binds the values of the key `columns` of a row (as stored in `schema`) as `?1`, `?2`...
pub(super) fn bind_key(
    stmt: &mut rusqlite::Statement<'_>,
    schema: &TableSchema,
    cells: &FlatRow<'_>,
    columns: &[String],
) -> rusqlite::Result<()> {
    for (i, k) in columns.iter().enumerate() {
        stmt.raw_bind_parameter(i + 1, to_sql(value_of(schema, cells, k)))?;
    }
    Ok(())
}

/// The statements deleting the load's root rows matching `condition` (on the root table),
/// child rows first.
pub(super) fn deletes(load: &ActiveLoad, condition: &str) -> Vec<String> {
    let target = ddl::quote(&load.target(&load.table));
    let mut statements: Vec<String> = child_targets(load)
        .iter()
        .map(|child| {
            format!(
                "DELETE FROM {} WHERE {} IN (SELECT {} FROM {target} WHERE {condition})",
                ddl::quote(child),
                ddl::quote(DLT_ROOT_ID),
                ddl::quote(DLT_ID),
            )
        })
        .collect();
    statements.push(format!("DELETE FROM {target} WHERE {condition}"));
    statements
}

/// The stored value of field `column` of a row, converted to its column's type.
pub(super) fn value_of<'c>(
    schema: &TableSchema,
    cells: &'c FlatRow<'_>,
    column: &str,
) -> Stored<'c> {
    let cell = cells.iter().find(|(n, _)| **n == *column).map(|(_, c)| c);
    let t = schema
        .position(column)
        .map(|p| schema.columns()[p].data_type);
    match (cell, t) {
        (Some(c), Some(t)) => coerce(c, t).unwrap_or(Stored::Null),
        _ => Stored::Null,
    }
}

/// How an error names a record: its primary key values (`id = 17`), else its position.
pub(super) fn describe(load: &ActiveLoad, index: usize, cells: &FlatRow<'_>) -> String {
    let key: Vec<String> = load
        .primary_key
        .iter()
        .filter_map(|k| {
            let (_, cell) = cells.iter().find(|(n, _)| **n == **k)?;
            Some(format!("{k} = {}", cell.to_text()?))
        })
        .collect();
    if key.is_empty() || key.len() < load.primary_key.len() {
        format!("record {index}")
    } else {
        format!("record {index} ({})", key.join(", "))
    }
}
