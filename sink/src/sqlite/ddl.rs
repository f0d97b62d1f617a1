//! SQLite DDL and column metadata: create, add column, rebuild, swap, drop.

use rusqlite::{Connection, OptionalExtension, params};

use crate::error::{SinkError, db};
use crate::schema::TableSchema;
use crate::types::{ColumnInfo, DataType};

/// Quotes an identifier: `"name"` with `"` doubled. Every table/column name goes through it.
pub(super) fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The declared SQLite type of a logical type.
pub(super) fn sql_type(t: DataType) -> &'static str {
    match t {
        DataType::Bigint => "BIGINT",
        DataType::Double => "DOUBLE",
        DataType::Bool => "BOOLEAN",
        DataType::Text => "TEXT",
        DataType::Timestamp => "TIMESTAMP",
        DataType::Json => "JSON",
        DataType::Date => "DATE",
        DataType::Decimal => "DECIMAL",
        DataType::Binary => "BLOB",
    }
}

fn column_def(c: &ColumnInfo) -> String {
    let not_null = if c.nullable { "" } else { " NOT NULL" };
    format!("{} {}{not_null}", quote(&c.name), sql_type(c.data_type))
}

/// Name of the unique index backing merge upserts. `_sluice_` names never clash with data tables.
fn pk_index(table: &str) -> String {
    format!("_sluice_pk__{table}")
}

pub(super) fn table_exists(conn: &Connection, table: &str) -> Result<bool, SinkError> {
    conn.prepare_cached("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1")
        .and_then(|mut s| s.query_row([table], |_| Ok(())).optional())
        .map(|found| found.is_some())
        .map_err(db(table, "looking the table up"))
}

pub(super) fn create_table(
    conn: &Connection,
    table: &str,
    schema: &TableSchema,
) -> Result<(), SinkError> {
    let defs: Vec<String> = schema.columns().iter().map(column_def).collect();
    let sql = format!("CREATE TABLE {} ({})", quote(table), defs.join(", "));
    conn.execute(&sql, [])
        .map_err(db(table, "creating the table"))?;
    Ok(())
}

/// Adds columns with `ALTER TABLE ADD COLUMN`. Added columns are nullable in the DDL
/// (SQLite cannot add a NOT NULL column without a default); the sink enforces keys itself.
pub(super) fn add_columns(
    conn: &Connection,
    table: &str,
    columns: &[ColumnInfo],
) -> Result<(), SinkError> {
    for c in columns {
        let sql = format!(
            "ALTER TABLE {} ADD COLUMN {} {}",
            quote(table),
            quote(&c.name),
            sql_type(c.data_type)
        );
        conn.execute(&sql, [])
            .map_err(db(table, "adding a column"))?;
    }
    Ok(())
}

/// The tables of root table `root` known to the metadata: itself and its child tables
/// (`root__...`; a root table's own name never contains `__`).
pub(super) fn tables_of(conn: &Connection, root: &str) -> Result<Vec<String>, SinkError> {
    let err = || db(root, "listing its child tables");
    let mut stmt = conn
        .prepare_cached(
            r#"SELECT DISTINCT table_name FROM "_sluice_columns"
               WHERE table_name = ?1 OR substr(table_name, 1, length(?1) + 2) = ?1 || '__'
               ORDER BY table_name"#,
        )
        .map_err(err())?;
    let names = stmt
        .query_map([root], |r| r.get::<_, String>(0))
        .map_err(err())?
        .collect::<Result<Vec<_>, _>>()
        .map_err(err())?;
    Ok(names)
}

/// Creates an index on one column (for merge's deletes by `_dlt_root_id`).
pub(super) fn ensure_index(conn: &Connection, table: &str, column: &str) -> Result<(), SinkError> {
    let sql = format!(
        "CREATE INDEX IF NOT EXISTS {} ON {} ({})",
        quote(&format!("_sluice_idx__{table}__{column}")),
        quote(table),
        quote(column)
    );
    conn.prepare_cached(&sql)
        .and_then(|mut s| s.execute([]))
        .map_err(db(table, "creating an index"))?;
    Ok(())
}

/// Creates a unique index on a column hinted `unique`.
pub(super) fn ensure_unique(conn: &Connection, table: &str, column: &str) -> Result<(), SinkError> {
    let sql = format!(
        "CREATE UNIQUE INDEX IF NOT EXISTS {} ON {} ({})",
        quote(&format!("_sluice_unique__{table}__{column}")),
        quote(table),
        quote(column)
    );
    conn.prepare_cached(&sql)
        .and_then(|mut s| s.execute([]))
        .map_err(db(table, "creating the unique index of a `unique` column"))?;
    Ok(())
}

/// Creates the unique index on the primary key that merge upserts conflict on.
pub(super) fn ensure_pk_index(
    conn: &Connection,
    table: &str,
    primary_key: &[String],
) -> Result<(), SinkError> {
    let cols: Vec<String> = primary_key.iter().map(|c| quote(c)).collect();
    let sql = format!(
        "CREATE UNIQUE INDEX IF NOT EXISTS {} ON {} ({})",
        quote(&pk_index(table)),
        quote(table),
        cols.join(", ")
    );
    conn.prepare_cached(&sql)
        .and_then(|mut s| s.execute([]))
        .map_err(db(table, "creating the primary key index"))?;
    Ok(())
}

/// Upserts the metadata rows of every column of `schema`.
pub(super) fn write_columns(
    conn: &Connection,
    table: &str,
    schema: &TableSchema,
) -> Result<(), SinkError> {
    let err = || db(table, "writing column metadata");
    let mut stmt = conn
        .prepare_cached(
            r#"INSERT INTO "_sluice_columns" (table_name, column_name, data_type, nullable, primary_key, position)
               VALUES (?1, ?2, ?3, ?4, ?5, ?6)
               ON CONFLICT (table_name, column_name) DO UPDATE SET data_type = excluded.data_type,
                 nullable = excluded.nullable, primary_key = excluded.primary_key, position = excluded.position"#,
        )
        .map_err(err())?;
    for (i, c) in schema.columns().iter().enumerate() {
        let position = i64::try_from(i).unwrap_or(i64::MAX);
        stmt.execute(params![
            table,
            c.name,
            c.data_type.as_str(),
            c.nullable,
            c.primary_key,
            position
        ])
        .map_err(err())?;
    }
    Ok(())
}

pub(super) fn load_columns(conn: &Connection, table: &str) -> Result<Vec<ColumnInfo>, SinkError> {
    let err = || db(table, "reading column metadata");
    let mut stmt = conn
        .prepare_cached(
            r#"SELECT column_name, data_type, nullable, primary_key FROM "_sluice_columns"
               WHERE table_name = ?1 ORDER BY position"#,
        )
        .map_err(err())?;
    let rows = stmt
        .query_map([table], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get(2)?,
                r.get(3)?,
            ))
        })
        .map_err(err())?;
    let mut out = Vec::new();
    for row in rows {
        let (name, data_type, nullable, primary_key) = row.map_err(err())?;
        let Some(t) = DataType::parse(&data_type) else {
            return Err(SinkError::Metadata {
                table: table.to_owned(),
                column: name,
                data_type,
            });
        };
        out.push(ColumnInfo {
            name,
            data_type: t,
            nullable,
            primary_key,
        });
    }
    Ok(out)
}

/// Drops a table and its column metadata (if it exists).
pub(super) fn drop_table(conn: &Connection, table: &str) -> Result<(), SinkError> {
    let err = || db(table, "dropping the table");
    conn.execute(&format!("DROP TABLE IF EXISTS {}", quote(table)), [])
        .map_err(err())?;
    conn.execute(
        r#"DELETE FROM "_sluice_columns" WHERE table_name = ?1"#,
        [table],
    )
    .map_err(err())?;
    Ok(())
}

/// Replaces `table` by `staging`: drop the old table, rename staging, move the metadata.
pub(super) fn swap_in(conn: &Connection, staging: &str, table: &str) -> Result<(), SinkError> {
    let err = || db(table, "swapping the staged table in");
    drop_table(conn, table)?;
    conn.execute(
        &format!("ALTER TABLE {} RENAME TO {}", quote(staging), quote(table)),
        [],
    )
    .map_err(err())?;
    conn.execute(
        r#"UPDATE "_sluice_columns" SET table_name = ?1 WHERE table_name = ?2"#,
        [table, staging],
    )
    .map_err(err())?;
    Ok(())
}

/// Adds the bookkeeping columns newer versions use to a database an older version created.
pub(super) fn migrate(conn: &Connection) -> Result<(), SinkError> {
    const ADDED: &[(&str, &str, &str)] = &[
        ("_sluice_loads", "first_page", "INTEGER NOT NULL DEFAULT 1"),
        ("_sluice_loads", "fetched", "INTEGER NOT NULL DEFAULT 0"),
        ("_sluice_state", "completed_state", "TEXT"),
    ];
    for (table, column, def) in ADDED {
        let err = || db(table, "upgrading the bookkeeping tables");
        let present: i64 = conn
            .query_row(
                &format!("SELECT COUNT(*) FROM pragma_table_info('{table}') WHERE name = ?1"),
                [column],
                |r| r.get(0),
            )
            .map_err(err())?;
        if present == 0 {
            conn.execute_batch(&format!(
                "ALTER TABLE {} ADD COLUMN {column} {def}",
                quote(table)
            ))
            .map_err(err())?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_doubles_quotes() {
        assert_eq!(quote("a"), r#""a""#);
        assert_eq!(
            quote(r#"x"; DROP TABLE y; --"#),
            r#""x""; DROP TABLE y; --""#
        );
    }
}
