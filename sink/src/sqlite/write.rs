//! `write_page`: one transaction with the DDL, the rows, the state and the ledger counters.

use std::borrow::Cow;
use std::collections::HashMap;

use rusqlite::types::{ToSqlOutput, Value as SqlValue, ValueRef};
use rusqlite::{Connection, Transaction, params};
use serde_json::Value;

use super::{ActiveLoad, NOW, ddl};
use crate::LoadId;
use crate::coerce::{Stored, coerce};
use crate::error::{SinkError, db};
use crate::flatten::{DLT_ID, DLT_ROOT_ID, FlatRow, PageRows, Row};
use crate::flatten_json::{self, PageError};
use crate::schema::{self, Positions, TableSchema};
use crate::types::Cell;

pub(super) fn write_page(
    conn: &mut Connection,
    load: &mut ActiveLoad,
    id: LoadId,
    records: &[Value],
    state: &str,
) -> Result<u64, SinkError> {
    let text = serde_json::to_string(records).map_err(|e| SinkError::Records {
        expected: u32::try_from(records.len()).unwrap_or(u32::MAX),
        message: e.to_string(),
    })?;
    let count = u32::try_from(records.len()).unwrap_or(u32::MAX);
    write_page_text(conn, load, id, &text, count, state)
}

/// Writes a page given as the JSON array text of its `count` records, flattened straight
/// from the text into the rows of the resource's table and its child tables.
pub(super) fn write_page_text(
    conn: &mut Connection,
    load: &mut ActiveLoad,
    id: LoadId,
    text: &str,
    count: u32,
    state: &str,
) -> Result<u64, SinkError> {
    let page = flatten_json::flatten_page(&mut load.flattener, text).map_err(|e| match e {
        PageError::NotAnObject { index, found } => SinkError::NotAnObject {
            table: load.table.clone(),
            index,
            found,
        },
        PageError::Collision { index, collision } => SinkError::Collision {
            table: load.table.clone(),
            index,
            column: collision.column,
            key: collision.key,
        },
        PageError::Json(message) => SinkError::Records {
            expected: count,
            message,
        },
    })?;
    if page.roots().len() != count as usize {
        return Err(SinkError::Records {
            expected: count,
            message: format!("it holds {}", page.roots().len()),
        });
    }
    for (index, row) in page.roots().iter().enumerate() {
        check_keys(load, index, &row.cells)?;
    }
    write_rows(conn, load, id, &page, state)
}

/// One transaction: the DDL the rows need, the rows of every table, the state and the
/// ledger counters.
fn write_rows(
    conn: &mut Connection,
    load: &mut ActiveLoad,
    id: LoadId,
    page: &PageRows<'_>,
    state: &str,
) -> Result<u64, SinkError> {
    let err = || db(&load.table, "writing a page");
    let tx = conn.transaction().map_err(err())?;
    let kept = load.upserts().then(|| last_of_each_key(load, page.roots()));
    let mut updated: Vec<(String, TableSchema)> = Vec::new();
    let mut written: Vec<(String, u64)> = Vec::new();
    for (t, rows) in page.tables.iter().enumerate() {
        let rows: Vec<&Row<'_>> = rows
            .iter()
            .filter(|r| kept.as_ref().is_none_or(|k| k[r.root]))
            .collect();
        if rows.is_empty() {
            continue;
        }
        let name = load.flattener.table_name(t).to_string();
        let target = load.target(&name);
        let empty = TableSchema::default();
        let current = load.tables.get(&name).unwrap_or(&empty);
        let pk: &[String] = if t == 0 { &load.primary_key } else { &[] };
        let added = schema::plan(current, &rows, pk);
        let next = if !load.tables.contains_key(&name) {
            let next = current.with(&added);
            ddl::create_table(&tx, &target, &next)?;
            ddl::write_columns(&tx, &target, &next)?;
            Some(next)
        } else if !added.is_empty() {
            let next = current.with(&added);
            ddl::add_columns(&tx, &target, &added)?;
            ddl::write_columns(&tx, &target, &next)?;
            Some(next)
        } else {
            None
        };
        let effective = next.as_ref().unwrap_or(current);
        let upsert = t == 0 && load.upserts();
        if upsert {
            ddl::ensure_pk_index(&tx, &target, &load.primary_key)?;
            delete_children(&tx, load, effective, &rows)?;
        } else if t > 0 && effective.position(DLT_ROOT_ID).is_some() {
            ddl::ensure_index(&tx, &target, DLT_ROOT_ID)?;
        }
        let pk = upsert.then_some(&load.primary_key[..]);
        insert_rows(&tx, &target, effective, &rows, pk)?;
        written.push((name.clone(), rows.len() as u64));
        if let Some(next) = next {
            updated.push((name, next));
        }
    }
    let count = page.roots().len() as u64;
    save_state(&tx, load, id, state, count)?;
    tx.commit().map_err(err())?;
    load.tables.extend(updated);
    for (name, n) in written {
        match load.counts.iter_mut().find(|(t, _)| *t == name) {
            Some((_, total)) => *total += n,
            None => load.counts.push((name, n)),
        }
    }
    load.rows += count;
    load.pages += 1;
    Ok(count)
}

/// Merge: which records of a page are written (the last of each primary key wins, and the
/// child rows of the others are dropped with them).
fn last_of_each_key(load: &ActiveLoad, roots: &[Row<'_>]) -> Vec<bool> {
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

fn key_of(load: &ActiveLoad, cells: &FlatRow<'_>) -> Vec<Option<String>> {
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

/// Merge: deletes the child rows of the stored records the page's records replace, in every
/// child table, before the records are upserted (dlt's delete-insert: a list that shrank or
/// emptied leaves no stale rows).
fn delete_children(
    tx: &Transaction<'_>,
    load: &ActiveLoad,
    root: &TableSchema,
    rows: &[&Row<'_>],
) -> Result<(), SinkError> {
    let children: Vec<String> = load
        .tables
        .iter()
        .filter(|(name, schema)| **name != load.table && schema.position(DLT_ROOT_ID).is_some())
        .map(|(name, _)| load.target(name))
        .collect();
    if children.is_empty() || root.position(DLT_ID).is_none() {
        return Ok(());
    }
    let root_target = load.target(&load.table);
    let keys: Vec<String> = load
        .primary_key
        .iter()
        .enumerate()
        .map(|(i, k)| format!("{} = ?{}", ddl::quote(k), i + 1))
        .collect();
    for child in children {
        let err = || db(&child, "deleting the child rows of merged records");
        let sql = format!(
            "DELETE FROM {} WHERE {} IN (SELECT {} FROM {} WHERE {})",
            ddl::quote(&child),
            ddl::quote(DLT_ROOT_ID),
            ddl::quote(DLT_ID),
            ddl::quote(&root_target),
            keys.join(" AND ")
        );
        let mut stmt = tx.prepare_cached(&sql).map_err(err())?;
        for row in rows {
            for (i, k) in load.primary_key.iter().enumerate() {
                let cell = row.cells.iter().find(|(n, _)| **n == **k).map(|(_, c)| c);
                let t = root.position(k).map(|p| root.columns()[p].data_type);
                let value = match (cell, t) {
                    (Some(c), Some(t)) => coerce(c, t).unwrap_or(Stored::Null),
                    _ => Stored::Null,
                };
                stmt.raw_bind_parameter(i + 1, to_sql(value))
                    .map_err(err())?;
            }
            stmt.raw_execute().map_err(err())?;
        }
    }
    Ok(())
}

/// Checks that record `index` has a value for every primary key column.
fn check_keys(load: &ActiveLoad, index: usize, row: &FlatRow<'_>) -> Result<(), SinkError> {
    for key in &load.primary_key {
        if !row.iter().any(|(n, c)| **n == **key && *c != Cell::Null) {
            return Err(SinkError::MissingPrimaryKey {
                table: load.table.clone(),
                index,
                key: key.clone(),
            });
        }
    }
    Ok(())
}

/// Most rows one INSERT carries; also bounded by SQLite's 32766 bound parameters.
const ROWS_PER_STATEMENT: usize = 128;
const MAX_PARAMS: usize = 32_766;

/// The multi-row INSERT (or upsert) statement for every column of the schema.
fn insert_sql(
    table: &str,
    schema: &TableSchema,
    rows: usize,
    primary_key: Option<&[String]>,
) -> String {
    let cols: Vec<String> = schema
        .columns()
        .iter()
        .map(|c| ddl::quote(&c.name))
        .collect();
    let tuple = format!("({})", vec!["?"; cols.len()].join(", "));
    let mut sql = format!(
        "INSERT INTO {} ({}) VALUES {}",
        ddl::quote(table),
        cols.join(", "),
        vec![tuple.as_str(); rows].join(", ")
    );
    if let Some(pk) = primary_key {
        let keys: Vec<String> = pk.iter().map(|k| ddl::quote(k)).collect();
        let sets: Vec<String> = schema
            .columns()
            .iter()
            .filter(|c| !pk.contains(&c.name))
            .map(|c| format!("{0} = excluded.{0}", ddl::quote(&c.name)))
            .collect();
        if sets.is_empty() {
            sql.push_str(&format!(" ON CONFLICT ({}) DO NOTHING", keys.join(", ")));
        } else {
            sql.push_str(&format!(
                " ON CONFLICT ({}) DO UPDATE SET {}",
                keys.join(", "),
                sets.join(", ")
            ));
        }
    }
    sql
}

/// Inserts the rows in multi-row statements (prepared once per chunk size and cached).
/// SQLite applies an upsert row by row, so a later duplicate key in a chunk wins.
fn insert_rows(
    tx: &Transaction<'_>,
    table: &str,
    schema: &TableSchema,
    rows: &[&Row<'_>],
    primary_key: Option<&[String]>,
) -> Result<(), SinkError> {
    let err = || db(table, "inserting rows");
    let columns = schema.columns();
    let width = columns.len();
    let per_statement = (MAX_PARAMS / width.max(1)).clamp(1, ROWS_PER_STATEMENT);
    let mut sql_cache: Vec<(usize, String)> = Vec::with_capacity(2);
    let mut slots: Vec<Stored<'_>> = vec![Stored::Null; width];
    let mut positions = Positions::default();
    for chunk in rows.chunks(per_statement) {
        let sql = match sql_cache.iter().find(|(n, _)| *n == chunk.len()) {
            Some((_, sql)) => sql,
            None => {
                sql_cache.push((
                    chunk.len(),
                    insert_sql(table, schema, chunk.len(), primary_key),
                ));
                &sql_cache[sql_cache.len() - 1].1
            }
        };
        let mut stmt = tx.prepare_cached(sql).map_err(err())?;
        for (r, row) in chunk.iter().enumerate() {
            slots.iter_mut().for_each(|s| *s = Stored::Null);
            for (j, (name, cell)) in row.cells.iter().enumerate() {
                // Null-only fields have no column: their value is NULL anyway.
                if let Some((i, value)) = schema.place(&mut positions, j, name, cell) {
                    slots[i] = value;
                }
            }
            for (i, slot) in slots.iter_mut().enumerate() {
                let value = std::mem::replace(slot, Stored::Null);
                stmt.raw_bind_parameter(r * width + i + 1, to_sql(value))
                    .map_err(err())?;
            }
        }
        stmt.raw_execute().map_err(err())?;
    }
    Ok(())
}

/// The SQL value of a stored value.
fn to_sql(value: Stored<'_>) -> ToSqlOutput<'_> {
    match value {
        Stored::Null => ToSqlOutput::Owned(SqlValue::Null),
        Stored::Int(i) => ToSqlOutput::Owned(SqlValue::Integer(i)),
        Stored::Real(f) => ToSqlOutput::Owned(SqlValue::Real(f)),
        Stored::Text(Cow::Borrowed(s)) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
        Stored::Text(Cow::Owned(s)) => ToSqlOutput::Owned(SqlValue::Text(s)),
    }
}

fn save_state(
    tx: &Transaction<'_>,
    load: &ActiveLoad,
    id: LoadId,
    state: &str,
    rows: u64,
) -> Result<(), SinkError> {
    let err = || db("_sluice_state", "checkpointing the state");
    let rows = i64::try_from(rows).unwrap_or(i64::MAX);
    if load.disposition == crate::WriteDisposition::Replace {
        // Published to _sluice_state only when the staged table is swapped in.
        tx.prepare_cached(
            r#"UPDATE "_sluice_loads" SET pending_state = ?2, rows = rows + ?3, pages = pages + 1
               WHERE load_id = ?1"#,
        )
        .and_then(|mut s| s.execute(params![id.0, state, rows]))
        .map_err(err())?;
        return Ok(());
    }
    let upsert = format!(
        r#"INSERT INTO "_sluice_state" (resource, state, updated_at, load_id) VALUES (?1, ?2, {NOW}, ?3)
           ON CONFLICT (resource) DO UPDATE SET state = excluded.state,
             updated_at = excluded.updated_at, load_id = excluded.load_id"#
    );
    tx.prepare_cached(&upsert)
        .and_then(|mut s| s.execute(params![load.resource, state, id.0]))
        .map_err(err())?;
    tx.prepare_cached(
        r#"UPDATE "_sluice_loads" SET rows = rows + ?2, pages = pages + 1 WHERE load_id = ?1"#,
    )
    .and_then(|mut s| s.execute(params![id.0, rows]))
    .map_err(err())?;
    Ok(())
}
