//! Load lifecycle: `begin` writes the ledger row, `finish` swaps/drops staging and closes it.

use std::collections::HashMap;

use rusqlite::{Connection, params};

use super::{ActiveLoad, ChildHints, NOW, ddl};
use crate::MergeStrategy;
use crate::error::{SinkError, db};
use crate::flatten::Flattener;
use crate::naming::{NESTING, normalize_path};
use crate::normalize::Normalizer;
use crate::schema::TableSchema;
use crate::types::ColumnInfo;
use crate::{
    LoadId, LoadSummary, Outcome, SavedState, SchemaContract, TableSpec, Unfinished,
    WriteDisposition,
};

/// Prefix of the tables a replace load writes into (`_sluice_` names never clash with data
/// tables, and child tables of `t` are `t__...`, so `t__staging` could).
const STAGING: &str = "_sluice_staging__";

/// The staging table of table `name`.
pub(super) fn staging(name: &str) -> String {
    format!("{STAGING}{name}")
}

fn disposition_name(d: WriteDisposition) -> &'static str {
    match d {
        WriteDisposition::Append => "append",
        WriteDisposition::Replace => "replace",
        WriteDisposition::Merge => "merge",
    }
}

/// How a load starts.
#[derive(Debug, Clone, Copy)]
pub(super) enum Start<'a> {
    /// From the resource's saved state (or from nothing).
    Fresh,
    /// Continuing an unfinished load: the pages it committed stay.
    Continue(&'a Unfinished),
    /// Over an unfinished load, fetching again from where it began: what it inserted goes
    /// ([`super::restart::discard`]).
    Over(&'a Unfinished),
}

/// Starts a load as `start` says.
pub(super) fn begin(
    conn: &mut Connection,
    spec: &TableSpec,
    start: Start<'_>,
) -> Result<(LoadId, ActiveLoad), SinkError> {
    let from = match start {
        Start::Continue(from) => Some(from),
        Start::Fresh | Start::Over(_) => None,
    };
    let table = spec.table();
    if table.starts_with("_sluice_") {
        return Err(SinkError::ReservedName {
            resource: spec.name.clone(),
            table,
        });
    }
    let merge = spec.disposition == WriteDisposition::Merge;
    let scd2 = (spec.hints.merge_strategy.as_ref())
        .and_then(MergeStrategy::scd2)
        .filter(|_| merge)
        .cloned();
    if let Some(options) = &scd2 {
        super::scd2::check(&table, options)?;
    }
    let staged = spec.disposition == WriteDisposition::Replace || scd2.is_some();
    let target = if staged {
        staging(&table)
    } else {
        table.clone()
    };
    let err = || db(&table, "starting the load");
    let tx = conn.transaction().map_err(err())?;
    let mut discarded = 0;
    if let Start::Over(over) = start
        && super::restart::inserts_plainly(spec)
    {
        let chain = chain_load_id(&tx, &spec.name, over.load_id)?;
        discarded = super::restart::discard(&tx, &spec.name, &table, chain)?;
    }
    if staged && from.is_none() {
        // Staged data of an unfinished load this one does not continue.
        for staged in ddl::tables_of(&tx, &target)? {
            ddl::drop_table(&tx, &staged)?;
        }
        if scd2.is_some() {
            super::scd2::stage_like(&tx, &table)?;
        }
    }
    let sql = format!(
        r#"INSERT INTO "_sluice_loads" (resource, table_name, disposition, started_at, status, first_page)
           VALUES (?1, ?2, ?3, {NOW}, 'running', ?4)"#
    );
    let first_page = from.map_or(1, |f| f.pages.saturating_add(1));
    tx.execute(
        &sql,
        params![
            spec.name,
            table,
            disposition_name(spec.disposition),
            i64::try_from(first_page).unwrap_or(i64::MAX)
        ],
    )
    .map_err(err())?;
    let id = LoadId(tx.last_insert_rowid());
    if let Some(from) = from {
        // A replace load's position lives in the ledger until the swap: carry it over, so
        // this load is resumable even if it fails before its first page.
        tx.execute(
            r#"UPDATE "_sluice_loads" SET pending_state =
                 (SELECT pending_state FROM "_sluice_loads" WHERE load_id = ?2)
               WHERE load_id = ?1"#,
            params![id.0, from.load_id.0],
        )
        .map_err(err())?;
    }
    // A record's `_dlt_load_id` names its load: for a load resumed across runs, the run that
    // began it, so the rows of every run of one load share it (a merge key or a dedup_sort
    // then tells them from earlier loads' rows, as in one run).
    let data_load_id = match from {
        None => id.0,
        Some(f) => chain_load_id(&tx, &spec.name, f.load_id)?,
    };
    let existed = ddl::table_exists(&tx, &table)?;
    let mut tables = HashMap::new();
    for existing in ddl::tables_of(&tx, &target)? {
        if !ddl::table_exists(&tx, &existing)? {
            continue;
        }
        let schema = TableSchema::new(ddl::load_columns(&tx, &existing)?);
        let name = existing
            .strip_prefix(STAGING)
            .unwrap_or(&existing)
            .to_owned();
        tables.insert(name, schema);
    }
    tx.commit().map_err(err())?;
    let hints = &spec.hints;
    let names = |pick: &dyn Fn(&crate::ColumnHint) -> bool, base: &[String]| {
        let mut out: Vec<String> = base.iter().map(|k| normalize_path(k)).collect();
        for c in hints.columns.iter().filter(|c| pick(c)) {
            let name = normalize_path(&c.name);
            if !out.contains(&name) {
                out.push(name);
            }
        }
        out
    };
    let primary_key = names(&|c| c.primary_key, &spec.primary_key);
    let mut hinted = typed(&hints.columns, &primary_key);
    if let Some(options) = &scd2 {
        // dlt's validity columns follow the resource's typed columns.
        for column in super::scd2::validity_columns(options) {
            if !hinted.iter().any(|h| h.name == column.name) {
                hinted.push(column);
            }
        }
    }
    let evolve = hints.schema_contract == SchemaContract::default();
    let load_id = data_load_id.to_string();
    let json = |columns: &[crate::ColumnHint]| -> Vec<String> {
        columns
            .iter()
            .filter(|c| c.data_type == Some(crate::DataType::Json))
            .map(|c| normalize_path(&c.name))
            .collect()
    };
    // Child rows carry `_dlt_root_id` under merge, but for scd2 (as in dlt: its child
    // tables are insert-only).
    let root_ids = merge && scd2.is_none();
    let mut flattener = Flattener::new(&table, spec.max_table_nesting, root_ids, &load_id)
        .with_json_columns(&table, json(&hints.columns));
    if merge
        && hints
            .merge_strategy
            .as_ref()
            .is_some_and(MergeStrategy::keys_rows)
    {
        flattener = flattener.with_key_ids(primary_key.clone());
    }
    if scd2
        .as_ref()
        .is_some_and(|o| o.row_version_column.is_none())
    {
        flattener = flattener.with_row_hashes();
    }
    // Under scd2, the merge hints of the other strategies do not apply (as in dlt).
    let merges_by_key = merge && scd2.is_none();
    let mut not_null = names(&|c| c.nullable == Some(false), &[]);
    if let Some(column) = scd2.as_ref().and_then(|o| o.row_version_column.as_deref()) {
        let column = normalize_path(column);
        if !not_null.contains(&column) {
            not_null.push(column);
        }
    }
    let mut children = HashMap::new();
    for nested in &hints.nested {
        let name = format!("{table}{NESTING}{}", normalize_path(&nested.path.join(".")));
        flattener = flattener.with_json_columns(&name, json(&nested.columns));
        let contract = nested.schema_contract.unwrap_or(hints.schema_contract);
        children.insert(
            name,
            ChildHints {
                hinted: typed(&nested.columns, &[]),
                not_null: nested
                    .columns
                    .iter()
                    .filter(|c| c.nullable == Some(false))
                    .map(|c| normalize_path(&c.name))
                    .collect(),
                unique: nested
                    .columns
                    .iter()
                    .filter(|c| c.unique)
                    .map(|c| normalize_path(&c.name))
                    .collect(),
                contract: (existed && contract != SchemaContract::default()).then_some(contract),
            },
        );
    }
    let active = ActiveLoad {
        resource: spec.name.clone(),
        normalizer: Some(Normalizer::new(flattener, table.clone())),
        children,
        statements: Default::default(),
        table,
        disposition: spec.disposition,
        not_null,
        unique: names(&|c| c.unique, &[]),
        merge_key: names(&|c| c.merge_key, &hints.merge_key),
        merge_strategy: hints.merge_strategy.clone().filter(|_| merge),
        scd2,
        hard_delete: hints
            .columns
            .iter()
            .find(|c| c.hard_delete)
            .filter(|_| merges_by_key)
            .map(|c| normalize_path(&c.name)),
        dedup_sort: hints
            .columns
            .iter()
            .find_map(|c| Some((normalize_path(&c.name), c.dedup_sort?)))
            .filter(|_| merges_by_key && !primary_key.is_empty()),
        primary_key,
        hinted,
        contract: (existed && !evolve).then_some(hints.schema_contract),
        load_id,
        tables,
        counts: Vec::new(),
        indexed: Default::default(),
        rows: 0,
        pages: 0,
        open: None,
        discarded,
    };
    Ok((id, active))
}

/// The load that began the chain of runs `last` belongs to (the last load of `resource` up
/// to `last` that started at page 1): the `_dlt_load_id` of every row the chain wrote.
fn chain_load_id(tx: &Connection, resource: &str, last: LoadId) -> Result<i64, SinkError> {
    tx.query_row(
        r#"SELECT MAX(load_id) FROM "_sluice_loads"
           WHERE resource = ?1 AND load_id <= ?2 AND first_page = 1
             AND status != 'skipped'"#,
        params![resource, last.0],
        |r| r.get::<_, Option<i64>>(0),
    )
    .map(|id| id.unwrap_or(last.0))
    .map_err(db(resource, "finding the unfinished load's first run"))
}

/// The typed columns of `columns` hints (`keys`: the table's primary key columns).
fn typed(columns: &[crate::ColumnHint], keys: &[String]) -> Vec<ColumnInfo> {
    columns
        .iter()
        .filter_map(|c| {
            let name = normalize_path(&c.name);
            let key = keys.contains(&name);
            Some(ColumnInfo {
                data_type: c.data_type?,
                nullable: !key && c.nullable != Some(false),
                primary_key: key,
                name,
            })
        })
        .collect()
}

pub(super) fn finish(
    conn: &mut Connection,
    load: &ActiveLoad,
    id: LoadId,
    outcome: Outcome<'_>,
) -> Result<LoadSummary, SinkError> {
    let table = load.table.as_str();
    let err = || db(table, "finishing the load");
    if load.upserts() {
        super::merge::drop_child_triggers(conn, load)?;
    }
    let tx = conn.transaction().map_err(err())?;
    let status = match outcome {
        Outcome::Completed => {
            if let Some(options) = &load.scd2 {
                super::scd2::merge(&tx, load, options)?;
            }
            if load.disposition == WriteDisposition::Replace {
                // Every table of the resource is replaced: staged ones are swapped in, the
                // others (no rows this time) are emptied, as dlt truncates them.
                for existing in ddl::tables_of(&tx, table)? {
                    if !load.tables.contains_key(&existing) && ddl::table_exists(&tx, &existing)? {
                        tx.execute(&format!("DELETE FROM {}", ddl::quote(&existing)), [])
                            .map_err(err())?;
                    }
                }
                for name in load.tables.keys() {
                    ddl::swap_in(&tx, &staging(name), name)?;
                }
            }
            if load.staged() {
                let publish = format!(
                    r#"INSERT INTO "_sluice_state" (resource, state, updated_at, load_id)
                       SELECT resource, pending_state, {NOW}, load_id FROM "_sluice_loads"
                       WHERE load_id = ?1 AND pending_state IS NOT NULL
                       ON CONFLICT (resource) DO UPDATE SET state = excluded.state,
                         updated_at = excluded.updated_at, load_id = excluded.load_id"#
                );
                tx.execute(&publish, [id.0]).map_err(err())?;
            }
            let sql = format!(
                r#"UPDATE "_sluice_loads" SET status = 'completed', finished_at = {NOW}, pending_state = NULL
                   WHERE load_id = ?1"#
            );
            tx.execute(&sql, [id.0]).map_err(err())?;
            // The state is this completed load's now, also when it wrote no page (it
            // finished a load whose every page an earlier run committed).
            tx.execute(
                r#"UPDATE "_sluice_state" SET completed_state = state, load_id = ?2
                   WHERE resource = ?1"#,
                params![load.resource, id.0],
            )
            .map_err(err())?;
            "completed"
        }
        // The pages committed so far stay (a replace load keeps its staging table and its
        // pending state): the next load resumes from them, or drops them when it restarts.
        Outcome::Failed { error } => {
            let sql = format!(
                r#"UPDATE "_sluice_loads" SET status = 'failed', finished_at = {NOW}, error = ?2
                   WHERE load_id = ?1"#
            );
            tx.execute(&sql, params![id.0, error]).map_err(err())?;
            "failed"
        }
        Outcome::Interrupted => {
            let sql = format!(
                r#"UPDATE "_sluice_loads" SET status = 'interrupted', finished_at = {NOW},
                   error = 'interrupted' WHERE load_id = ?1"#
            );
            tx.execute(&sql, [id.0]).map_err(err())?;
            "interrupted"
        }
    };
    tx.commit().map_err(err())?;
    Ok(LoadSummary {
        load_id: id,
        resource: load.resource.clone(),
        rows: load.rows,
        pages: load.pages,
        tables: load.counts.clone(),
        status: status.to_owned(),
        discarded: load.discarded,
    })
}

/// Records this process as the database's holder and marks the loads a dead process left
/// `running` as `interrupted`; returns how many there were.
pub(super) fn take_lease(conn: &Connection) -> Result<u64, SinkError> {
    let err = || db("_sluice_lease", "taking the database lease");
    let (pid, host) = crate::lease::this_process();
    conn.execute(
        &format!(
            r#"INSERT INTO "_sluice_lease" (id, pid, host, started_at) VALUES (1, ?1, ?2, {NOW})
               ON CONFLICT (id) DO UPDATE SET pid = excluded.pid, host = excluded.host,
                 started_at = excluded.started_at"#
        ),
        params![pid, host],
    )
    .map_err(err())?;
    let reclaimed = conn
        .execute(
            &format!(
                r#"UPDATE "_sluice_loads" SET status = 'interrupted', finished_at = {NOW},
                   error = 'the process running it ended before the load did'
                   WHERE status = 'running'"#
            ),
            [],
        )
        .map_err(err())?;
    Ok(reclaimed as u64)
}

/// Records a resource that was not attempted.
pub(super) fn skip(conn: &Connection, spec: &TableSpec, reason: &str) -> Result<LoadId, SinkError> {
    let table = spec.table();
    let sql = format!(
        r#"INSERT INTO "_sluice_loads" (resource, table_name, disposition, started_at, finished_at, status, error)
           VALUES (?1, ?2, ?3, {NOW}, {NOW}, 'skipped', ?4)"#
    );
    conn.execute(
        &sql,
        params![spec.name, table, disposition_name(spec.disposition), reason],
    )
    .map_err(db(&table, "recording a skipped load"))?;
    Ok(LoadId(conn.last_insert_rowid()))
}

/// Every resource's saved state: the latest checkpoint, the last completed one, and whether
/// the latest belongs to an unfinished load (a replace load's lives in the ledger).
pub(super) fn states(conn: &Connection) -> Result<Vec<SavedState>, SinkError> {
    let err = || db("_sluice_state", "reading states");
    let mut out: Vec<SavedState> = Vec::new();
    let mut stmt = conn
        .prepare_cached(
            r#"SELECT s.resource, s.state, s.completed_state, l.load_id, l.status,
                      l.first_page, l.pages, l.fetched
               FROM "_sluice_state" s LEFT JOIN "_sluice_loads" l ON l.load_id = s.load_id
               ORDER BY s.resource"#,
        )
        .map_err(err())?;
    let rows = stmt
        .query_map([], |r| {
            let status: Option<String> = r.get(4)?;
            let unfinished = match (r.get::<_, Option<i64>>(3)?, status.as_deref()) {
                (Some(id), Some(s)) if s != "completed" => Some(Unfinished {
                    load_id: LoadId(id),
                    pages: chain_pages(r.get(5)?, r.get(6)?),
                    fetched: r.get::<_, i64>(7)? != 0,
                }),
                _ => None,
            };
            Ok(SavedState {
                resource: r.get(0)?,
                latest: r.get(1)?,
                completed: r.get(2)?,
                unfinished,
            })
        })
        .map_err(err())?;
    for row in rows {
        out.push(row.map_err(err())?);
    }
    let mut staged = conn
        .prepare_cached(
            r#"SELECT l.resource, l.load_id, l.pending_state, l.first_page, l.pages, l.table_name,
                      l.fetched
               FROM "_sluice_loads" l
               WHERE l.pending_state IS NOT NULL
                 AND l.status != 'completed'
                 AND l.load_id = (SELECT MAX(load_id) FROM "_sluice_loads"
                                  WHERE resource = l.resource AND status != 'skipped')"#,
        )
        .map_err(err())?;
    let replaces = staged
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                Unfinished {
                    load_id: LoadId(r.get(1)?),
                    pages: chain_pages(r.get(3)?, r.get(4)?),
                    fetched: r.get::<_, i64>(6)? != 0,
                },
                r.get::<_, String>(2)?,
                r.get::<_, String>(5)?,
            ))
        })
        .map_err(err())?
        .collect::<Result<Vec<_>, _>>()
        .map_err(err())?;
    for (resource, unfinished, pending, table) in replaces {
        if !ddl::table_exists(conn, &staging(&table))? {
            continue;
        }
        match out.iter_mut().find(|s| s.resource == resource) {
            Some(saved) => {
                saved.completed = Some(std::mem::take(&mut saved.latest));
                saved.latest = pending;
                saved.unfinished = Some(unfinished);
            }
            None => out.push(SavedState {
                resource,
                latest: pending,
                completed: None,
                unfinished: Some(unfinished),
            }),
        }
    }
    Ok(out)
}

/// Pages committed by a load that started at page `first_page` and wrote `pages`.
fn chain_pages(first_page: i64, pages: i64) -> u64 {
    u64::try_from(first_page.saturating_sub(1).saturating_add(pages)).unwrap_or(0)
}
