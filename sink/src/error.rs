//! Errors of the sink. Messages name the table, column or record index, never a value. A
//! database error's own text is its `source`, not part of the message: print the whole
//! chain (`{:#}` of anyhow, or a loop over `source()`) to see it, once.

use std::path::PathBuf;

use crate::LoadId;

#[derive(thiserror::Error, Debug)]
pub enum SinkError {
    #[error("cannot open database {path}")]
    Open {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("database error on table `{table}` while {action}")]
    Database {
        table: String,
        action: &'static str,
        #[source]
        source: rusqlite::Error,
    },
    #[error("table `{table}`: record {index} of the page has no value for primary key `{key}`")]
    MissingPrimaryKey {
        table: String,
        index: usize,
        key: String,
    },
    #[error(
        "table `{table}` would have {columns} columns, more than SQLite allows ({max}): each distinct field of the records is a column (a nested object used as a map gives a column for each of its keys; `max_table_nesting` keeps such objects as JSON)"
    )]
    TooManyColumns {
        table: String,
        columns: usize,
        max: usize,
    },
    #[error(
        "table `{table}`: a record of the page is nested more than {max} levels deep, counting itself and each object or list in it (line {line}, column {column} of the records' text); sluice follows no deeper"
    )]
    TooDeep {
        table: String,
        max: usize,
        line: usize,
        column: usize,
    },
    #[error("table `{table}`: record {index} of the page is a JSON {found}, not an object")]
    NotAnObject {
        table: String,
        index: usize,
        found: &'static str,
    },
    #[error(
        "table `{table}`: record {index} of the page has two keys that both become column `{column}` (the second is {key:?}); dlt's naming maps them to one name"
    )]
    Collision {
        table: String,
        index: usize,
        column: String,
        key: String,
    },
    #[error(
        "table `{table}`: {record} has no value for column `{column}`, which is hinted `nullable: false`"
    )]
    NotNullable {
        table: String,
        record: String,
        column: String,
    },
    #[error(
        "table `{table}`: record {index} of the page {change}, which schema_contract forbids ({setting}: freeze)"
    )]
    Contract {
        table: String,
        index: usize,
        change: String,
        setting: &'static str,
    },
    #[error("table `{table}`: the scd2 options do not fit: {message}")]
    Scd2Options { table: String, message: String },
    #[error(
        "table `{table}`: the parts of a page came out of order (a part before the first, or a new page before the last part)"
    )]
    PartOrder { table: String },
    #[error("database {path} is in use by another sluice run ({holder}); wait for it to finish")]
    Busy { path: PathBuf, holder: String },
    #[error("the page's records are not a JSON array of {expected} records: {message}")]
    Records { expected: u32, message: String },
    #[error("the directory {dir} does not exist")]
    NoDirectory { dir: PathBuf },
    #[error("cannot lock database {path}")]
    Lock {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("resource `{resource}` maps to the reserved table name `{table}`")]
    ReservedName { resource: String, table: String },
    #[error("load {} is not running in this sink", .0.0)]
    UnknownLoad(LoadId),
    #[error("the pages of load {} are normalized by its normalizer, taken elsewhere", .0.0)]
    NormalizerTaken(LoadId),
    #[error(
        "table `{table}`: column `{column}` has unknown data type `{data_type}` in _sluice_columns"
    )]
    Metadata {
        table: String,
        column: String,
        data_type: String,
    },
}

impl SinkError {
    /// Whether the message names the database file itself (opening, locking, its
    /// directory), so a caller need not say which file again.
    pub fn names_database(&self) -> bool {
        matches!(
            self,
            SinkError::Open { .. }
                | SinkError::Busy { .. }
                | SinkError::Lock { .. }
                | SinkError::NoDirectory { .. }
        )
    }
}

/// Wraps a rusqlite error with the table and action it happened on. Copies the table's name
/// only when there is an error: `.map_err(db(..))` runs on every statement and bound value.
pub(crate) fn db<'t>(
    table: &'t str,
    action: &'static str,
) -> impl FnOnce(rusqlite::Error) -> SinkError + 't {
    move |source| SinkError::Database {
        table: table.to_owned(),
        action,
        source,
    }
}

impl SinkError {
    /// The error of a record of a page part, with the record's index in its page (`first`:
    /// the index of the part's first record).
    pub(crate) fn past(mut self, first: usize) -> Self {
        match &mut self {
            SinkError::MissingPrimaryKey { index, .. }
            | SinkError::NotAnObject { index, .. }
            | SinkError::Collision { index, .. }
            | SinkError::Contract { index, .. } => *index += first,
            _ => {}
        }
        self
    }
}
