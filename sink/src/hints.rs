//! dlt's table hints a resource may carry: `table_name`, `columns` (with the merge hints
//! `hard_delete` and `dedup_sort`), `merge_key` and `schema_contract` (dialect-free).

use crate::types::DataType;

/// Hints of one table (dlt's resource hints).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TableHints {
    /// The table to load into; `None`: the resource name.
    pub table_name: Option<String>,
    /// Column hints, in config order: hinted columns with a type come first in the table.
    pub columns: Vec<ColumnHint>,
    /// Merge key fields: under merge, stored rows of earlier loads sharing a loaded
    /// record's merge key are replaced.
    pub merge_key: Vec<String>,
    pub schema_contract: SchemaContract,
    /// dlt's `nested_hints`: hints of child tables.
    pub nested: Vec<NestedHints>,
    /// Under merge, dlt's `write_disposition.strategy`; `None`: delete-insert.
    pub merge_strategy: Option<MergeStrategy>,
}

/// dlt's merge strategies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MergeStrategy {
    /// Stored records sharing a primary key (or merge key) are replaced.
    DeleteInsert,
    /// By primary key: a stored record is updated, a new one inserted.
    Upsert,
    /// By primary key: a new record is inserted, a stored one left as it is.
    InsertOnly,
    /// dlt's slowly changing dimension, type 2: every version of a record is kept, valid
    /// from the load that first saw it until the first load that no longer did.
    Scd2(Scd2),
}

/// The options of the `scd2` strategy (dlt's `write_disposition` keys).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scd2 {
    /// `validity_column_names`: the columns a version is valid from and to.
    pub valid_from: String,
    pub valid_to: String,
    /// `active_record_timestamp`: the `valid_to` of active versions (RFC 3339, UTC);
    /// `None`: NULL.
    pub active_record_timestamp: Option<String>,
    /// `boundary_timestamp`: when the load's versions begin and the ones it retires end
    /// (RFC 3339, UTC); `None`: when the load began.
    pub boundary_timestamp: Option<String>,
    /// `row_version_column_name`: the column that tells versions apart; `None`: `_dlt_id`,
    /// a hash of the whole record.
    pub row_version_column: Option<String>,
}

impl Default for Scd2 {
    fn default() -> Self {
        Scd2 {
            valid_from: "_dlt_valid_from".into(),
            valid_to: "_dlt_valid_to".into(),
            active_record_timestamp: None,
            boundary_timestamp: None,
            row_version_column: None,
        }
    }
}

impl MergeStrategy {
    /// Whether a record's `_dlt_id` is a hash of its primary key (dlt's `key_hash`), the
    /// same in every load: `upsert` and `insert-only`.
    pub fn keys_rows(&self) -> bool {
        matches!(self, MergeStrategy::Upsert | MergeStrategy::InsertOnly)
    }

    /// The `scd2` options, under that strategy.
    pub fn scd2(&self) -> Option<&Scd2> {
        match self {
            MergeStrategy::Scd2(o) => Some(o),
            _ => None,
        }
    }
}

/// The hints of one child table (dlt's `nested_hints` entry).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NestedHints {
    /// The fields from the record to the list the table holds (`["tags"]`: `<table>__tags`),
    /// as written in the config.
    pub path: Vec<String>,
    /// Column hints of the child table (`data_type`, `nullable`, `unique`).
    pub columns: Vec<ColumnHint>,
    /// Its own `schema_contract`; `None`: the resource's.
    pub schema_contract: Option<SchemaContract>,
}

/// A hint of one column (dlt's column schema).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ColumnHint {
    /// The field as written in the config (normalized like a key path).
    pub name: String,
    pub data_type: Option<DataType>,
    /// `Some(false)`: a record without a value fails its page.
    pub nullable: Option<bool>,
    pub primary_key: bool,
    pub merge_key: bool,
    pub unique: bool,
    /// dlt's `hard_delete`: under merge, a record whose value here is true (a boolean) or
    /// not null (any other value) deletes the stored record with its key and is not loaded.
    pub hard_delete: bool,
    /// dlt's `dedup_sort`: under merge, of a load's records sharing a primary key the one
    /// with the highest (`Desc`) or lowest (`Asc`) value here is kept (the first on a tie).
    pub dedup_sort: Option<SortOrder>,
}

/// An order of values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SortOrder {
    Asc,
    Desc,
}

/// What a load may do when its data would change the schema.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ContractMode {
    #[default]
    Evolve,
    Freeze,
    DiscardRow,
    DiscardValue,
}

/// dlt's `schema_contract`: a mode for new tables, new columns and new data types (values
/// that would go to a variant column).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SchemaContract {
    pub tables: ContractMode,
    pub columns: ContractMode,
    pub data_type: ContractMode,
}

impl ContractMode {
    /// dlt's name of the mode.
    pub fn as_str(self) -> &'static str {
        match self {
            ContractMode::Evolve => "evolve",
            ContractMode::Freeze => "freeze",
            ContractMode::DiscardRow => "discard_row",
            ContractMode::DiscardValue => "discard_value",
        }
    }
}
