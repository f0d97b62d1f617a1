//! dlt's table hints a resource may carry: `table_name`, `columns`, `merge_key` and
//! `schema_contract` (dialect-free).

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
