//! Writing normalized pages: one transaction with the DDL, the rows of every table, the
//! state and the ledger counters (several pages in one when they queue up).

use std::borrow::Cow;

use rusqlite::types::{ToSqlOutput, Value as SqlValue, ValueRef};
use rusqlite::{Connection, params};

use super::statements::Statements;
use super::{ActiveLoad, NOW, ddl, merge, merge_hints};
use crate::coerce::Stored;
use crate::contract::{self, TablePlan};
use crate::error::{SinkError, db};
use crate::flatten::{DLT_ID, DLT_ROOT_ID, FlatRow, Row};
use crate::schema::{self, Positions, TableSchema};
use crate::types::{Cell, ColumnInfo};
use crate::{LoadId, NormalizedPage, PageText, SchemaContract};

/// Writes pages given as text: normalized by the load's own normalizer, then written as
/// [`write_normalized`] does. When page `k` does not normalize, the pages before it are
/// written and the error is returned with `k`.
pub(super) fn write_pages_text(
    conn: &mut Connection,
    load: &mut ActiveLoad,
    id: LoadId,
    pages: &[PageText<'_>],
) -> Result<u64, (usize, SinkError)> {
    let Some(normalizer) = load.normalizer.as_mut() else {
        return Err((0, SinkError::NormalizerTaken(id)));
    };
    let mut normalized = Vec::with_capacity(pages.len());
    let mut failed = None;
    for (k, page) in pages.iter().enumerate() {
        match normalizer.normalize(page.records.to_owned(), page.count, page.state.to_owned()) {
            Ok(n) => normalized.push(n),
            Err(e) => {
                failed = Some((k, e));
                break;
            }
        }
    }
    let rows = if normalized.is_empty() {
        0
    } else {
        write_normalized(conn, load, id, &normalized)?
    };
    match failed {
        Some(failure) => Err(failure),
        None => Ok(rows),
    }
}

/// Writes pages of one load in ONE transaction (a group commit). When page `k` fails,
/// pages `..k` are written (in a second transaction) and the error is returned with `k`;
/// nothing of page `k` or the ones after it is written. Parts of a page
/// ([`NormalizedPage::is_part`]) come alone: see [`write_parts`].
pub(super) fn write_normalized(
    conn: &mut Connection,
    load: &mut ActiveLoad,
    id: LoadId,
    pages: &[NormalizedPage],
) -> Result<u64, (usize, SinkError)> {
    if load.open.is_some() || pages.iter().any(NormalizedPage::is_part) {
        return write_parts(conn, load, id, pages).map_err(|e| (0, e));
    }
    match try_pages(conn, load, id, pages) {
        Ok(rows) => Ok(rows),
        Err((k, e)) => {
            if k > 0 {
                try_pages(conn, load, id, &pages[..k])?;
            }
            Err((k, e))
        }
    }
}

/// Writes parts of one page, in order, in the page's one transaction: the first part opens
/// it, the last commits it, and the transaction stays open between calls meanwhile. A part
/// that fails rolls back the parts of the page before it (and the load's bookkeeping);
/// nothing of the page is written.
fn write_parts(
    conn: &mut Connection,
    load: &mut ActiveLoad,
    id: LoadId,
    parts: &[NormalizedPage],
) -> Result<u64, SinkError> {
    let table = load.table.clone();
    let err = || db(&table, "writing a page in parts");
    let mut rows = 0;
    for part in parts {
        if load.open.is_none() {
            if part.first() > 0 {
                return Err(SinkError::PartOrder { table });
            }
            conn.execute_batch("BEGIN").map_err(err())?;
            load.open = Some((load.snapshot(), 0));
        } else if part.first() == 0 {
            rollback(conn, load)?;
            return Err(SinkError::PartOrder { table });
        }
        match write_one(conn, load, id, part) {
            Ok(n) => rows += n,
            Err(e) => {
                rollback(conn, load)?;
                return Err(e);
            }
        }
        if !part.continues() {
            if let Err(e) = conn.execute_batch("COMMIT") {
                rollback(conn, load)?;
                return Err(err()(e));
            }
            load.open = None;
        }
    }
    Ok(rows)
}

/// Undoes the page whose parts are being written (see [`write_parts`]), if any.
pub(super) fn rollback(conn: &Connection, load: &mut ActiveLoad) -> Result<(), SinkError> {
    if let Some((saved, _)) = load.open.take() {
        load.restore(saved);
        if !conn.is_autocommit() {
            conn.execute_batch("ROLLBACK")
                .map_err(db(&load.table, "undoing a page written in parts"))?;
        }
    }
    Ok(())
}

/// One transaction for `pages`; on failure nothing is written and the load's bookkeeping
/// is as before.
fn try_pages(
    conn: &mut Connection,
    load: &mut ActiveLoad,
    id: LoadId,
    pages: &[NormalizedPage],
) -> Result<u64, (usize, SinkError)> {
    let saved = load.snapshot();
    let table = load.table.clone();
    let err = || db(&table, "writing a page");
    let tx = conn.transaction().map_err(|e| (0, err()(e)))?;
    let mut rows = 0;
    for (k, page) in pages.iter().enumerate() {
        match write_one(&tx, load, id, page) {
            Ok(n) => rows += n,
            Err(e) => {
                drop(tx);
                load.restore(saved);
                return Err((k, e));
            }
        }
    }
    if let Err(e) = tx.commit() {
        load.restore(saved);
        return Err((0, err()(e)));
    }
    Ok(rows)
}

/// Writes a normalized page: the rows of the resource's table and its child tables.
fn write_one(
    conn: &Connection,
    load: &mut ActiveLoad,
    id: LoadId,
    page: &NormalizedPage,
) -> Result<u64, SinkError> {
    for (index, row) in page.rows().roots().iter().enumerate() {
        check_keys(load, index, &row.cells).map_err(|e| e.past(page.first()))?;
    }
    write_rows(conn, load, id, page).map_err(|e| e.past(page.first()))
}

/// The DDL the rows need, the rows of every table, the state and the ledger counters, in the
/// caller's transaction.
fn write_rows(
    tx: &Connection,
    load: &mut ActiveLoad,
    id: LoadId,
    normalized: &NormalizedPage,
) -> Result<u64, SinkError> {
    let (page, state) = (normalized.rows(), normalized.state());
    let roots = page.roots();
    let mut kept = match &load.dedup_sort {
        Some((column, order)) if load.upserts() => {
            merge_hints::best_of_each_key(tx, load, roots, (column, *order))?
        }
        _ if load.upserts() => merge::last_of_each_key(load, roots),
        _ => vec![true; roots.len()],
    };
    // Records marked `hard_delete` delete the stored ones they name instead of replacing
    // them (by primary key now, by merge key with the root table's rows below).
    let deleted = match &load.hard_delete {
        Some(column) => merge_hints::marked_deleted(load, roots, &mut kept, column),
        None => Vec::new(),
    };
    // A record marked deleted needs no more than its key and the mark (as in dlt).
    check_not_null(load, normalized, &deleted)?;
    if load.inserts_only() {
        // Stored records stay as they are: a mark only keeps its record out.
        merge_hints::skip_stored(tx, load, roots, &mut kept)?;
    } else {
        let deleted: Vec<&Row<'_>> = deleted.into_iter().map(|i| &roots[i]).collect();
        merge_hints::delete_by_primary_key(tx, load, &deleted)?;
        if !deleted.is_empty()
            && !load.merge_key.is_empty()
            && let Some(root) = load.tables.get(&load.table)
        {
            merge::delete_by_merge_key(tx, load, root, &deleted)?;
        }
    }
    let empty = TableSchema::default();
    let mut plans = plan_tables(load, normalized, &kept);
    // Records a `discard_row` contract drops (a merge's earlier duplicates still count).
    let mut discarded = 0u64;
    if load.contract().is_some() || load.children.values().any(|c| c.contract.is_some()) {
        let schemas: Vec<&TableSchema> = plans
            .iter()
            .map(|p| load.tables.get(&p.name).unwrap_or(&empty))
            .collect();
        let contracts: Vec<SchemaContract> = plans
            .iter()
            .map(|p| match load.children.get(&p.name) {
                Some(child) if p.table > 0 => child.contract,
                _ => load.contract(),
            })
            .map(Option::unwrap_or_default)
            .collect();
        for root in contract::apply(&contracts, &mut plans, &schemas)? {
            discarded += u64::from(std::mem::replace(&mut kept[root], false));
        }
    }
    let mut updated: Vec<(String, TableSchema)> = Vec::new();
    let mut written: Vec<(String, u64)> = Vec::new();
    let mut indexed: Vec<String> = Vec::new();
    for plan in plans {
        let rows: Vec<&Row<'_>> = plan.rows.into_iter().filter(|r| kept[r.root]).collect();
        if rows.is_empty() || plan.skip {
            continue;
        }
        let name = plan.name;
        let target = load.target(&name);
        let current = load.tables.get(&name).unwrap_or(&empty);
        let added: Vec<ColumnInfo> = plan.added.into_iter().map(|(c, _)| c).collect();
        let columns = current.columns().len() + added.len();
        if columns > MAX_COLUMNS {
            return Err(SinkError::TooManyColumns {
                table: name.to_string(),
                columns,
                max: MAX_COLUMNS,
            });
        }
        let next = if !plan.exists {
            let next = current.with(&added);
            ddl::create_table(tx, &target, &next)?;
            ddl::write_columns(tx, &target, &next)?;
            Some(next)
        } else if !added.is_empty() {
            let next = current.with(&added);
            ddl::add_columns(tx, &target, &added)?;
            ddl::write_columns(tx, &target, &next)?;
            Some(next)
        } else {
            None
        };
        let effective = next.as_ref().unwrap_or(current);
        let root = plan.table == 0;
        let upsert = root && load.upserts();
        // Indexes: the first time this load writes the table, and when it gains columns.
        if next.is_some() || !load.indexed.contains(&name) {
            ensure_indexes(tx, load, (&name, &target), effective, root)?;
            indexed.push(name.clone());
        }
        if root && load.merges_by_key() && !load.merge_key.is_empty() {
            merge::delete_by_merge_key(tx, load, effective, &rows)?;
        }
        let pk = upsert.then_some(&load.primary_key[..]);
        insert_rows(tx, &load.statements, &target, effective, &rows, pk)?;
        written.push((name.clone(), rows.len() as u64));
        if let Some(next) = next {
            updated.push((name, next));
        }
    }
    let count = roots.len() as u64 - discarded;
    // A page in parts counts its records part by part, and as a page with its last part.
    let page_rows = match &mut load.open {
        Some((_, so_far)) => {
            *so_far += count;
            *so_far
        }
        None => count,
    };
    if !normalized.continues() {
        save_state(tx, load, id, state, page_rows)?;
        if normalized.is_last() {
            // Every page of the load is in: a next run finishes it (`Unfinished::fetched`).
            tx.prepare_cached(r#"UPDATE "_sluice_loads" SET fetched = 1 WHERE load_id = ?1"#)
                .and_then(|mut s| s.execute([id.0]))
                .map_err(db("_sluice_loads", "recording the load's last page"))?;
        }
        load.pages += 1;
    }
    load.tables.extend(updated);
    load.indexed.extend(indexed);
    for (name, n) in written {
        match load.counts.iter_mut().find(|(t, _)| *t == name) {
            Some((_, total)) => *total += n,
            None => load.counts.push((name, n)),
        }
    }
    load.rows += count;
    Ok(count)
}

/// The indexes a table's writes need: a merge's unique key index, `unique` hints (root
/// table), `_dlt_root_id` for a merge's deletes (child tables), and the triggers that delete
/// the child rows of the records a merge replaces ([`merge::ensure_child_trigger`]).
fn ensure_indexes(
    tx: &Connection,
    load: &ActiveLoad,
    (name, target): (&str, &str),
    schema: &TableSchema,
    root: bool,
) -> Result<(), SinkError> {
    if !root {
        let unique = load.children.get(name).map_or(&[][..], |c| &c.unique[..]);
        for column in unique.iter().filter(|c| schema.position(c).is_some()) {
            ddl::ensure_unique(tx, target, column)?;
        }
        if schema.position(DLT_ROOT_ID).is_some() {
            ddl::ensure_index(tx, target, DLT_ROOT_ID)?;
            if load.upserts() {
                merge::ensure_child_trigger(tx, load, target)?;
            }
        }
        return Ok(());
    }
    for column in load.unique.iter().filter(|c| schema.position(c).is_some()) {
        ddl::ensure_unique(tx, target, column)?;
    }
    if load.upserts() {
        ddl::ensure_pk_index(tx, target, &load.primary_key)?;
        if schema.position(DLT_ID).is_some() {
            merge::ensure_child_triggers(tx, load)?;
        }
    }
    Ok(())
}

/// The schema changes each table of the page needs (root table first).
fn plan_tables<'p>(
    load: &ActiveLoad,
    page: &'p NormalizedPage,
    kept: &[bool],
) -> Vec<TablePlan<'p, 'p>> {
    let empty = TableSchema::default();
    let mut plans = Vec::new();
    for (t, rows) in page.rows().tables.iter().enumerate() {
        let rows: Vec<&Row<'_>> = rows.iter().filter(|r| kept[r.root]).collect();
        if rows.is_empty() {
            continue;
        }
        let name = page.table_name(t).to_string();
        let current = load.tables.get(&name);
        let (pk, hinted): (&[String], &[ColumnInfo]) = if t == 0 {
            (&load.primary_key, &load.hinted)
        } else {
            let child = load.children.get(&name);
            (&[], child.map_or(&[][..], |c| &c.hinted[..]))
        };
        // Most pages bring nothing new: their kinds of values all fit existing columns.
        let unchanged = current.is_some_and(|schema| {
            hinted.iter().all(|h| schema.position(&h.name).is_some())
                && schema::fits(schema, page.kinds(t))
        });
        let added = if unchanged {
            Vec::new()
        } else {
            schema::plan(current.unwrap_or(&empty), &rows, pk, hinted)
        };
        plans.push(TablePlan {
            table: t,
            exists: current.is_some(),
            name,
            rows,
            added,
            skip: false,
        });
    }
    plans
}

/// Checks the `nullable: false` hints: every record but the `deleted` ones (and every row
/// of a child table with such hints) has a value for those columns.
fn check_not_null(
    load: &ActiveLoad,
    page: &NormalizedPage,
    deleted: &[usize],
) -> Result<(), SinkError> {
    let rows = page.rows();
    let roots = rows.roots();
    for (t, table_rows) in rows.tables.iter().enumerate() {
        let (table, columns) = if t == 0 {
            (load.table.as_str(), &load.not_null[..])
        } else {
            let name = page.table_name(t);
            match load.children.get(&**name) {
                Some(child) => (&**name, &child.not_null[..]),
                None => continue,
            }
        };
        if columns.is_empty() {
            continue;
        }
        for row in table_rows.iter().filter(|r| !deleted.contains(&r.root)) {
            for column in columns {
                if !row
                    .cells
                    .iter()
                    .any(|(n, c)| **n == **column && *c != Cell::Null)
                {
                    return Err(SinkError::NotNullable {
                        table: table.to_string(),
                        record: merge::describe(
                            load,
                            page.first() + row.root,
                            &roots[row.root].cells,
                        ),
                        column: column.clone(),
                    });
                }
            }
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

/// Most rows one INSERT carries; also bounded by SQLite's 32766 bound parameters. Measured
/// with the seed config (`cargo bench -p sluice --bench engine`, perf): 8 to 32 rows a
/// statement cost the write stage ~8% less CPU than 64 or 128 (smaller programs, fewer
/// shapes of statement), and one row a statement ~15% more.
const ROWS_PER_STATEMENT: usize = 16;
const MAX_PARAMS: usize = 32_766;
/// Most columns a table may have (SQLite's `SQLITE_MAX_COLUMN` as bundled).
const MAX_COLUMNS: usize = 2000;

/// The multi-row INSERT (or upsert) statement for every column of the schema.
///
/// `OR FAIL`: a row that breaks a constraint stops the statement and leaves the rows before
/// it, where the default (`ABORT`) undoes them, which costs SQLite a statement journal (a
/// copy of every database page the statement changes). Every error rolls back the page's
/// whole transaction ([`try_pages`]), so no row of a failed statement stays. Measured with
/// `perf probe` on the seed config (100,000 records): 60% fewer statement-journal writes on a
/// first sync, 46% fewer on a merge (an upsert's update still journals).
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
        "INSERT OR FAIL INTO {} ({}) VALUES {}",
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
    tx: &Connection,
    statements: &Statements,
    table: &str,
    schema: &TableSchema,
    rows: &[&Row<'_>],
    primary_key: Option<&[String]>,
) -> Result<(), SinkError> {
    let err = || db(table, "inserting rows");
    let columns = schema.columns();
    let width = columns.len();
    let per_statement = (MAX_PARAMS / width.max(1)).clamp(1, ROWS_PER_STATEMENT);
    let mut positions = Positions::default();
    for chunk in rows.chunks(per_statement) {
        let kind = if primary_key.is_some() {
            "upsert"
        } else {
            "insert"
        };
        let sql = statements.get(kind, table, width, chunk.len(), || {
            insert_sql(table, schema, chunk.len(), primary_key)
        });
        // Every parameter of a statement from the cache is NULL (rusqlite clears them when
        // it goes back), so only values are bound: a column a row has no value for stays NULL.
        let mut stmt = tx.prepare_cached(&sql).map_err(err())?;
        for (r, row) in chunk.iter().enumerate() {
            for (j, (name, cell)) in row.cells.iter().enumerate() {
                // Null-only fields have no column: their value is NULL anyway.
                match schema.place(&mut positions, j, name, cell) {
                    None | Some((_, Stored::Null)) => {}
                    Some((i, value)) => stmt
                        .raw_bind_parameter(r * width + i + 1, to_sql(value))
                        .map_err(err())?,
                }
            }
        }
        stmt.raw_execute().map_err(err())?;
    }
    Ok(())
}

/// The SQL value of a stored value.
pub(super) fn to_sql(value: Stored<'_>) -> ToSqlOutput<'_> {
    match value {
        Stored::Null => ToSqlOutput::Owned(SqlValue::Null),
        Stored::Int(i) => ToSqlOutput::Owned(SqlValue::Integer(i)),
        Stored::Real(f) => ToSqlOutput::Owned(SqlValue::Real(f)),
        Stored::Text(Cow::Borrowed(s)) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
        Stored::Text(Cow::Owned(s)) => ToSqlOutput::Owned(SqlValue::Text(s)),
        Stored::Blob(b) => ToSqlOutput::Owned(SqlValue::Blob(b)),
    }
}

fn save_state(
    tx: &Connection,
    load: &ActiveLoad,
    id: LoadId,
    state: &str,
    rows: u64,
) -> Result<(), SinkError> {
    let err = || db("_sluice_state", "checkpointing the state");
    let rows = i64::try_from(rows).unwrap_or(i64::MAX);
    if load.staged() {
        // Published to _sluice_state only when the staged tables are swapped or merged in.
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
