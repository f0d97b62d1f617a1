//! dlt's `scd2` merge strategy: the root table keeps every version of a record, each valid
//! from the load that first saw it (`_dlt_valid_from`) until the first load that no longer
//! did (`_dlt_valid_to`; NULL, or `active_record_timestamp`, while it is active). A version
//! is told apart by its row version: `_dlt_id`, a hash of the whole record, or the column
//! `row_version_column_name` names.
//!
//! Pages go to staging tables, as a replace load's do, so a load that is interrupted
//! resumes into them. When the load completes, one transaction takes them in with the
//! statements dlt's `gen_scd2_sql` runs:
//! 1. active versions absent from the load retire (with a merge key, only those whose key
//!    the load has: dlt's natural key);
//! 2. the load's versions that are not active yet are inserted, valid from the boundary;
//! 3. child rows are insert-only, by their `_dlt_id`.

use rusqlite::Connection;

use super::{ActiveLoad, ddl, load::staging};
use crate::Scd2;
use crate::error::{SinkError, db};
use crate::flatten::DLT_ID;
use crate::schema::TableSchema;
use crate::types::{ColumnInfo, DataType};

/// Starts the staging tables of a new load as copies of the tables' schemas, so values
/// land in the same columns (and variant columns) as in the tables they merge into.
pub(super) fn stage_like(tx: &Connection, table: &str) -> Result<(), SinkError> {
    for name in ddl::tables_of(tx, table)? {
        if !ddl::table_exists(tx, &name)? {
            continue;
        }
        let schema = TableSchema::new(ddl::load_columns(tx, &name)?);
        ddl::create_table(tx, &staging(&name), &schema)?;
        ddl::write_columns(tx, &staging(&name), &schema)?;
    }
    Ok(())
}

/// Refuses options whose columns coincide (a connector checks them, a hostile one may not).
pub(super) fn check(table: &str, options: &Scd2) -> Result<(), SinkError> {
    let [from, to] = validity_columns(options).map(|c| c.name);
    let version =
        crate::naming::normalize_path(options.row_version_column.as_deref().unwrap_or(DLT_ID));
    let clash = if from == to {
        Some(format!("both validity columns are `{from}`"))
    } else if version == from || version == to {
        Some(format!(
            "the row version column `{version}` is a validity column"
        ))
    } else {
        None
    };
    match clash {
        Some(message) => Err(SinkError::Scd2Options {
            table: table.to_owned(),
            message,
        }),
        None => Ok(()),
    }
}

/// The validity columns, typed hints of the root table (dlt puts them first).
pub(super) fn validity_columns(options: &Scd2) -> [ColumnInfo; 2] {
    [&options.valid_from, &options.valid_to].map(|name| ColumnInfo {
        name: crate::naming::normalize_path(name),
        data_type: DataType::Timestamp,
        nullable: true,
        primary_key: false,
    })
}

/// Merges the load's staged versions into its tables, in the caller's transaction, and
/// drops the staging tables.
pub(super) fn merge(tx: &Connection, load: &ActiveLoad, options: &Scd2) -> Result<(), SinkError> {
    let root = load.table.as_str();
    let err = || db(root, "merging the load's versions (scd2)");
    // A load without records retires nothing, as in dlt (which then has nothing to merge).
    let staged_root = staging(root);
    let empty = !ddl::table_exists(tx, &staged_root)?
        || !tx
            .query_row(
                &format!("SELECT EXISTS (SELECT 1 FROM {})", ddl::quote(&staged_root)),
                [],
                |r| r.get::<_, bool>(0),
            )
            .map_err(err())?;
    if empty {
        return drop_staged(tx, load);
    }
    let boundary = match &options.boundary_timestamp {
        Some(at) => at.clone(),
        None => began(tx, load)?,
    };
    let [from, to] = validity_columns(options).map(|c| ddl::quote(&c.name));
    let active = options.active_record_timestamp.as_deref();
    let is_active = match active {
        None => format!("{to} IS NULL"),
        Some(_) => format!("{to} = ?2"),
    };
    let version = ddl::quote(&crate::naming::normalize_path(
        options.row_version_column.as_deref().unwrap_or(DLT_ID),
    ));
    // The root table first: its versions retire before the load's are inserted.
    let mut names: Vec<&String> = load.tables.keys().collect();
    names.sort_by_key(|n| (n.as_str() != root, n.as_str()));
    for name in names {
        let staged = staging(name);
        if !ddl::table_exists(tx, &staged)? {
            continue;
        }
        let schema = &load.tables[name];
        let existed = take_columns(tx, name, schema)?;
        let (target, source) = (ddl::quote(name), ddl::quote(&staged));
        if name != root {
            let cols = column_list(schema, &[]);
            let id = ddl::quote(DLT_ID);
            tx.execute(
                &format!(
                    "INSERT INTO {target} ({cols}) SELECT {cols} FROM {source} \
                     WHERE {id} NOT IN (SELECT {id} FROM {target})"
                ),
                [],
            )
            .map_err(err())?;
            continue;
        }
        if existed {
            let mut retire = format!(
                "UPDATE {target} SET {to} = ?1 WHERE {is_active} \
                 AND {version} NOT IN (SELECT {version} FROM {source})"
            );
            if !load.merge_key.is_empty() {
                let keys: Vec<String> = load.merge_key.iter().map(|k| ddl::quote(k)).collect();
                let keys = keys.join(", ");
                retire.push_str(&format!(" AND ({keys}) IN (SELECT {keys} FROM {source})"));
            }
            run(tx, &retire, &boundary, active).map_err(err())?;
        }
        let cols = column_list(schema, &[&options.valid_from, &options.valid_to]);
        let insert = format!(
            "INSERT INTO {target} ({cols}, {from}, {to}) SELECT {cols}, ?1, {} FROM {source} \
             WHERE {version} NOT IN (SELECT {version} FROM {target} WHERE {is_active})",
            if active.is_some() { "?2" } else { "NULL" },
        );
        run(tx, &insert, &boundary, active).map_err(err())?;
    }
    drop_staged(tx, load)
}

fn drop_staged(tx: &Connection, load: &ActiveLoad) -> Result<(), SinkError> {
    for name in load.tables.keys() {
        ddl::drop_table(tx, &staging(name))?;
    }
    Ok(())
}

/// Runs `sql` with the boundary as `?1` and, when there is one, the active records'
/// timestamp as `?2`.
fn run(tx: &Connection, sql: &str, boundary: &str, active: Option<&str>) -> rusqlite::Result<()> {
    match active {
        Some(at) => tx.execute(sql, [boundary, at]),
        None => tx.execute(sql, [boundary]),
    }
    .map(drop)
}

/// Gives table `name` the staged schema's columns it lacks (creating it if it is new);
/// returns whether it existed.
fn take_columns(tx: &Connection, name: &str, staged: &TableSchema) -> Result<bool, SinkError> {
    if !ddl::table_exists(tx, name)? {
        ddl::create_table(tx, name, staged)?;
        ddl::write_columns(tx, name, staged)?;
        return Ok(false);
    }
    let current = TableSchema::new(ddl::load_columns(tx, name)?);
    let added: Vec<ColumnInfo> = staged
        .columns()
        .iter()
        .filter(|c| current.position(&c.name).is_none())
        .cloned()
        .collect();
    if !added.is_empty() {
        ddl::add_columns(tx, name, &added)?;
        ddl::write_columns(tx, name, &current.with(&added))?;
    }
    Ok(true)
}

/// The quoted columns of `schema`, but `except` (normalized).
fn column_list(schema: &TableSchema, except: &[&String]) -> String {
    let except: Vec<String> = except
        .iter()
        .map(|n| crate::naming::normalize_path(n))
        .collect();
    let cols: Vec<String> = schema
        .columns()
        .iter()
        .filter(|c| !except.contains(&c.name))
        .map(|c| ddl::quote(&c.name))
        .collect();
    cols.join(", ")
}

/// When the load began (the run that began it, for a resumed load): dlt's boundary, the
/// time its load package was created. RFC 3339 in UTC with microseconds, as dlt writes it.
fn began(tx: &Connection, load: &ActiveLoad) -> Result<String, SinkError> {
    let id: i64 = load.load_id.parse().unwrap_or_default();
    let started: String = tx
        .query_row(
            r#"SELECT started_at FROM "_sluice_loads" WHERE load_id = ?1"#,
            [id],
            |r| r.get(0),
        )
        .map_err(db("_sluice_loads", "reading when the load began"))?;
    // `NOW`: `YYYY-MM-DDTHH:MM:SS.mmmZ`.
    Ok(match started.strip_suffix('Z') {
        Some(t) if t.len() == 23 => format!("{t}000+00:00"),
        _ => started,
    })
}
