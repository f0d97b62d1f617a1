//! Starting a load over an unfinished one ([`crate::Sink::restart`]): a connector that
//! cannot continue the unfinished load (its resource feeds others, which need every parent
//! record again; its paginator has no position to continue from; `--restart`) fetches
//! again from where that load began. The rows the unfinished load inserted would then be
//! there twice, so they go first, with the state it checkpointed: as if it never ran, as a
//! dlt load that fails lands nothing.

use rusqlite::{Connection, params};

use super::ddl;
use crate::error::{SinkError, db};
use crate::flatten::{DLT_ID, DLT_LOAD_ID, DLT_PARENT_ID};
use crate::{TableSpec, WriteDisposition};

/// Whether the load's rows are plainly inserted: `append`, or `merge` with neither a primary
/// key nor a merge key (as dlt, it appends). Other loads replace their rows by key, or stage
/// them.
pub(super) fn inserts_plainly(spec: &TableSpec) -> bool {
    let hints = &spec.hints;
    match spec.disposition {
        WriteDisposition::Append => true,
        WriteDisposition::Replace => false,
        WriteDisposition::Merge => {
            let scd2 = (hints.merge_strategy.as_ref()).is_some_and(|s| s.scd2().is_some());
            let keyed = !spec.primary_key.is_empty()
                || !hints.merge_key.is_empty()
                || hints.columns.iter().any(|c| c.primary_key || c.merge_key);
            !scd2 && !keyed
        }
    }
}

/// Deletes the rows of the resource's table `table` that the load chain `chain` wrote (its
/// `_dlt_load_id`), the child rows below them, and the state it checkpointed (the
/// resource's state is the last completed load's again); returns the records (rows of
/// `table`) deleted. A child table's parent table has a shorter name, so one pass over the
/// tables by the length of their names finds every descendant.
pub(super) fn discard(
    tx: &Connection,
    resource: &str,
    table: &str,
    chain: i64,
) -> Result<u64, SinkError> {
    let mut tables = Vec::new();
    for name in ddl::tables_of(tx, table)? {
        if ddl::table_exists(tx, &name)? {
            let columns = ddl::load_columns(tx, &name)?;
            let has = |c: &str| columns.iter().any(|col| col.name == c);
            let linked_by = match name == table {
                true => has(DLT_LOAD_ID).then_some(DLT_LOAD_ID),
                false => has(DLT_PARENT_ID).then_some(DLT_PARENT_ID),
            };
            if let Some(column) = linked_by.filter(|_| has(DLT_ID)) {
                tables.push((name, column));
            }
        }
    }
    tables.sort_by_key(|(name, _)| name.len());
    let err = || {
        db(
            table,
            "deleting the rows of the unfinished load it starts over",
        )
    };
    tx.execute_batch(
        r#"CREATE TEMP TABLE IF NOT EXISTS "_sluice_discard" (id TEXT PRIMARY KEY);
           DELETE FROM temp."_sluice_discard";"#,
    )
    .map_err(err())?;
    let (id, load_id) = (ddl::quote(DLT_ID), chain.to_string());
    for (name, column) in &tables {
        // The root table's rows by their load, child rows by their parent.
        let (linked, args) = match *column {
            DLT_LOAD_ID => ("= ?1", vec![load_id.as_str()]),
            _ => (r#"IN (SELECT id FROM temp."_sluice_discard")"#, Vec::new()),
        };
        let sql = format!(
            r#"INSERT OR IGNORE INTO temp."_sluice_discard" SELECT {id} FROM {} WHERE {} {linked}"#,
            ddl::quote(name),
            ddl::quote(column),
        );
        tx.execute(&sql, rusqlite::params_from_iter(args))
            .map_err(err())?;
    }
    let mut records = 0;
    for (name, _) in &tables {
        let sql = format!(
            r#"DELETE FROM {} WHERE {id} IN (SELECT id FROM temp."_sluice_discard")"#,
            ddl::quote(name)
        );
        let deleted = tx.execute(&sql, []).map_err(err())?;
        if name == table {
            records = deleted as u64;
        }
    }
    tx.execute_batch(r#"DELETE FROM temp."_sluice_discard";"#)
        .map_err(err())?;
    let state = || {
        db(
            "_sluice_state",
            "setting the state back to the last completed load's",
        )
    };
    tx.execute(
        r#"DELETE FROM "_sluice_state" WHERE resource = ?1 AND completed_state IS NULL"#,
        params![resource],
    )
    .map_err(state())?;
    tx.execute(
        r#"UPDATE "_sluice_state" SET state = completed_state,
             load_id = (SELECT MAX(load_id) FROM "_sluice_loads"
                        WHERE resource = ?1 AND status = 'completed')
           WHERE resource = ?1"#,
        params![resource],
    )
    .map_err(state())?;
    Ok(records)
}
