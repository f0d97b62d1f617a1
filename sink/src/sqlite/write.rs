//! `write_page`: one transaction with the DDL, the rows, the state and the ledger counters.

use rusqlite::types::{ToSqlOutput, Value as SqlValue, ValueRef};
use rusqlite::{Connection, Transaction, params};
use serde_json::Value;

use super::{ActiveLoad, NOW, ddl};
use crate::LoadId;
use crate::error::{SinkError, db};
use crate::flatten::FlatRow;
use crate::flatten_json::{self, PageError};
use crate::schema::{self, Positions, TableSchema};
use crate::types::{Cell, DataType};

pub(super) fn write_page(
    conn: &mut Connection,
    load: &mut ActiveLoad,
    id: LoadId,
    records: &[Value],
    state: &str,
) -> Result<u64, SinkError> {
    let rows = flatten_page(load, records)?;
    write_rows(conn, load, id, &rows, state)
}

/// Writes a page given as the JSON array text of its `count` records, flattened straight
/// from the text.
pub(super) fn write_page_text(
    conn: &mut Connection,
    load: &mut ActiveLoad,
    id: LoadId,
    text: &str,
    count: u32,
    state: &str,
) -> Result<u64, SinkError> {
    let rows = flatten_json::flatten_page(&mut load.flattener, text).map_err(|e| match e {
        PageError::NotAnObject { index, found } => SinkError::NotAnObject {
            table: load.table.clone(),
            index,
            found,
        },
        PageError::Json(message) => SinkError::Records {
            expected: count,
            message,
        },
    })?;
    if rows.len() != count as usize {
        return Err(SinkError::Records {
            expected: count,
            message: format!("it holds {}", rows.len()),
        });
    }
    for (index, row) in rows.iter().enumerate() {
        check_keys(load, index, row)?;
    }
    write_rows(conn, load, id, &rows, state)
}

/// One transaction: the DDL the rows need, the rows, the state and the ledger counters.
fn write_rows(
    conn: &mut Connection,
    load: &mut ActiveLoad,
    id: LoadId,
    rows: &[FlatRow<'_>],
    state: &str,
) -> Result<u64, SinkError> {
    let err = || db(&load.table, "writing a page");
    let tx = conn.transaction().map_err(err())?;
    let mut updated = None;
    if !rows.is_empty() {
        let empty = TableSchema::default();
        let creating = load.schema.is_none();
        let current = load.schema.as_ref().unwrap_or(&empty);
        let changes = schema::plan(current, rows, &load.primary_key, creating);
        if creating && changes.added.is_empty() {
            // Only empty objects so far: nothing to create a table from.
        } else if creating || !changes.is_empty() {
            let next = current.apply(&changes);
            if creating {
                ddl::create_table(&tx, &load.target, &next)?;
            } else if changes.retyped.is_empty() {
                ddl::add_columns(&tx, &load.target, &changes.added)?;
            } else {
                ddl::rebuild(&tx, &load.target, current, &next)?;
            }
            ddl::write_columns(&tx, &load.target, &next)?;
            updated = Some(next);
        }
        let effective = updated.as_ref().unwrap_or(current);
        if !effective.columns().is_empty() {
            if load.upserts() {
                ddl::ensure_pk_index(&tx, &load.target, &load.primary_key)?;
            }
            let pk = load.upserts().then_some(&load.primary_key[..]);
            insert_rows(&tx, &load.target, effective, rows, pk)?;
        }
    }
    let count = rows.len() as u64;
    save_state(&tx, load, id, state, count)?;
    tx.commit().map_err(err())?;
    if let Some(next) = updated {
        load.schema = Some(next);
    }
    load.rows += count;
    load.pages += 1;
    Ok(count)
}

/// Flattens the page and checks every record is an object with its primary key present.
fn flatten_page<'a>(
    load: &mut ActiveLoad,
    records: &'a [Value],
) -> Result<Vec<FlatRow<'a>>, SinkError> {
    let mut rows = Vec::with_capacity(records.len());
    for (index, record) in records.iter().enumerate() {
        let Value::Object(obj) = record else {
            return Err(SinkError::NotAnObject {
                table: load.table.clone(),
                index,
                found: kind(record),
            });
        };
        let row = load.flattener.flatten(obj);
        check_keys(load, index, &row)?;
        rows.push(row);
    }
    Ok(rows)
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

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
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
    rows: &[FlatRow<'_>],
    primary_key: Option<&[String]>,
) -> Result<(), SinkError> {
    let err = || db(table, "inserting rows");
    let columns = schema.columns();
    let width = columns.len();
    let per_statement = (MAX_PARAMS / width.max(1)).clamp(1, ROWS_PER_STATEMENT);
    let mut sql_cache: Vec<(usize, String)> = Vec::with_capacity(2);
    let mut slots: Vec<Option<&Cell<'_>>> = vec![None; width];
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
            slots.iter_mut().for_each(|s| *s = None);
            for (j, (name, cell)) in row.iter().enumerate() {
                // Null-only fields of later pages have no column yet: their value is NULL anyway.
                if let Some(i) = positions.of(schema, j, name) {
                    slots[i] = Some(cell);
                }
            }
            for (i, (slot, column)) in slots.iter().zip(columns).enumerate() {
                let value = slot.map_or(ToSqlOutput::Owned(SqlValue::Null), |c| {
                    bind(c, column.data_type)
                });
                stmt.raw_bind_parameter(r * width + i + 1, value)
                    .map_err(err())?;
            }
        }
        stmt.raw_execute().map_err(err())?;
    }
    Ok(())
}

/// Converts a cell to the SQL value stored in a column of type `t`.
fn bind<'c>(cell: &'c Cell<'_>, t: DataType) -> ToSqlOutput<'c> {
    let text = |s: &'c str| ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes()));
    match cell {
        Cell::Null => ToSqlOutput::Owned(SqlValue::Null),
        Cell::Str(s, _) => text(s),
        Cell::Json(j) => text(j),
        _ if t == DataType::Text => {
            ToSqlOutput::Owned(cell.to_text().map_or(SqlValue::Null, SqlValue::Text))
        }
        Cell::Int(i) if t == DataType::Double => ToSqlOutput::Owned(SqlValue::Real(*i as f64)),
        Cell::Int(i) => ToSqlOutput::Owned(SqlValue::Integer(*i)),
        Cell::Float(f) => ToSqlOutput::Owned(SqlValue::Real(*f)),
        Cell::Bool(b) => ToSqlOutput::Owned(SqlValue::Integer(i64::from(*b))),
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
