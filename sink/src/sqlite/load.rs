//! Load lifecycle: `begin` writes the ledger row, `finish` swaps/drops staging and closes it.

use rusqlite::{Connection, params};

use super::{ActiveLoad, NOW, ddl};
use crate::error::{SinkError, db};
use crate::flatten::Flattener;
use crate::naming::{normalize_identifier, normalize_path};
use crate::schema::TableSchema;
use crate::{LoadId, LoadSummary, Outcome, TableSpec, WriteDisposition};

/// Suffix of the table a replace load writes into.
pub(super) const STAGING: &str = "__staging";

fn disposition_name(d: WriteDisposition) -> &'static str {
    match d {
        WriteDisposition::Append => "append",
        WriteDisposition::Replace => "replace",
        WriteDisposition::Merge => "merge",
    }
}

pub(super) fn begin(
    conn: &mut Connection,
    spec: &TableSpec,
) -> Result<(LoadId, ActiveLoad), SinkError> {
    let table = normalize_identifier(&spec.name);
    if table.starts_with("_sluice_") {
        return Err(SinkError::ReservedName {
            resource: spec.name.clone(),
            table,
        });
    }
    let target = match spec.disposition {
        WriteDisposition::Replace => format!("{table}{STAGING}"),
        _ => table.clone(),
    };
    let err = || db(&table, "starting the load");
    let tx = conn.transaction().map_err(err())?;
    if spec.disposition == WriteDisposition::Replace {
        // Leftover staging data of a crashed run.
        ddl::drop_table(&tx, &target)?;
    }
    let sql = format!(
        r#"INSERT INTO "_sluice_loads" (resource, table_name, disposition, started_at, status)
           VALUES (?1, ?2, ?3, {NOW}, 'running')"#
    );
    tx.execute(
        &sql,
        params![spec.name, table, disposition_name(spec.disposition)],
    )
    .map_err(err())?;
    let id = LoadId(tx.last_insert_rowid());
    let schema = if ddl::table_exists(&tx, &target)? {
        Some(TableSchema::new(ddl::load_columns(&tx, &target)?))
    } else {
        None
    };
    tx.commit().map_err(err())?;
    let active = ActiveLoad {
        resource: spec.name.clone(),
        table,
        target,
        disposition: spec.disposition,
        primary_key: spec.primary_key.iter().map(|k| normalize_path(k)).collect(),
        schema,
        rows: 0,
        pages: 0,
        flattener: Flattener::new(spec.max_table_nesting),
    };
    Ok((id, active))
}

pub(super) fn finish(
    conn: &mut Connection,
    load: &ActiveLoad,
    id: LoadId,
    outcome: Outcome<'_>,
) -> Result<LoadSummary, SinkError> {
    let table = load.table.as_str();
    let err = || db(table, "finishing the load");
    let replace = load.disposition == WriteDisposition::Replace;
    let tx = conn.transaction().map_err(err())?;
    let status = match outcome {
        Outcome::Completed => {
            if replace {
                if load.schema.is_some() {
                    ddl::swap_in(&tx, &load.target, table)?;
                } else if ddl::table_exists(&tx, table)? {
                    // A completed replace without rows leaves the table empty.
                    tx.execute(&format!("DELETE FROM {}", ddl::quote(table)), [])
                        .map_err(err())?;
                }
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
            "completed"
        }
        Outcome::Failed { error } => {
            if replace {
                ddl::drop_table(&tx, &load.target)?;
            }
            let sql = format!(
                r#"UPDATE "_sluice_loads" SET status = 'failed', finished_at = {NOW}, error = ?2,
                   pending_state = NULL WHERE load_id = ?1"#
            );
            tx.execute(&sql, params![id.0, error]).map_err(err())?;
            "failed"
        }
    };
    tx.commit().map_err(err())?;
    Ok(LoadSummary {
        load_id: id,
        resource: load.resource.clone(),
        rows: load.rows,
        pages: load.pages,
        status: status.to_owned(),
    })
}
