//! dlt's table hints of a resource: `table_name`, `columns`, `merge_key` and
//! `schema_contract`. The connector only checks and forwards them; the host's sink applies
//! them.

use serde_json::Value;

use super::spec::{ObjSpec, Ty, key};
use super::walk::{self, Obj};
use crate::protocol::{
    ColumnHint, ContractMode, DataType, Error, NestedHint, SchemaContract, SortOrder,
};

/// dlt's data types (`complex` is dlt's older name of `json`; `wei` is read as `decimal`).
pub(crate) const DATA_TYPES: &[&str] = &[
    "text",
    "bigint",
    "double",
    "bool",
    "timestamp",
    "date",
    "decimal",
    "json",
    "binary",
    "complex",
    "wei",
];
const MODES: &[&str] = &["evolve", "freeze", "discard_row", "discard_value"];

/// One column of `columns`.
pub static COLUMN_SPEC: ObjSpec = ObjSpec {
    name: "column",
    keys: &[
        key("name", Ty::Str, "the column (in the list form of columns)"),
        key("data_type", Ty::Enum(DATA_TYPES), "the column's type"),
        key(
            "nullable",
            Ty::Bool,
            "false: a record without a value fails its page",
        ),
        key("primary_key", Ty::Bool, "part of the primary key"),
        key(
            "merge_key",
            Ty::Bool,
            "part of the merge key (merge replaces stored rows sharing it)",
        ),
        key("unique", Ty::Bool, "values are unique (a unique index)"),
        key(
            "precision",
            Ty::Int,
            "accepted as in dlt; not used by SQLite",
        ),
        key("scale", Ty::Int, "accepted as in dlt; not used by SQLite"),
        key(
            "timezone",
            Ty::Bool,
            "accepted as in dlt; not used by SQLite",
        ),
        key(
            "hard_delete",
            Ty::Bool,
            "merge: a record whose value is true (bool) or not null deletes the stored record",
        ),
        key(
            "dedup_sort",
            Ty::Enum(&["asc", "desc"]),
            "merge: of a load's records sharing a primary key, keep the lowest or highest value",
        ),
        key("sort", Ty::Bool, "accepted as in dlt; not used by SQLite"),
        key(
            "partition",
            Ty::Bool,
            "accepted as in dlt; not used by SQLite",
        ),
        key(
            "cluster",
            Ty::Bool,
            "accepted as in dlt; not used by SQLite",
        ),
        key("description", Ty::Str, "a description, not stored"),
    ],
    required: &[],
};

/// The object form of `schema_contract`.
pub static CONTRACT_SPEC: ObjSpec = ObjSpec {
    name: "schema_contract",
    keys: &[
        key("tables", Ty::Enum(MODES), "new tables (default evolve)"),
        key("columns", Ty::Enum(MODES), "new columns (default evolve)"),
        key(
            "data_type",
            Ty::Enum(MODES),
            "values of another type: variant columns (default evolve)",
        ),
    ],
    required: &[],
};

/// dlt's `table_format` values.
pub(crate) const TABLE_FORMATS: &[&str] = &["iceberg", "delta", "hive", "native"];
/// dlt's `file_format` values.
pub(crate) const FILE_FORMATS: &[&str] = &[
    "preferred",
    "jsonl",
    "typed-jsonl",
    "insert_values",
    "parquet",
    "csv",
    "reference",
    "model",
];

/// One of dlt's `references`: columns of this table that refer to another's.
pub static REFERENCE_SPEC: ObjSpec = ObjSpec {
    name: "reference",
    keys: &[
        key("referenced_table", Ty::Str, "the table referred to"),
        key("columns", Ty::StrOrStrs, "the columns of this table"),
        key(
            "referenced_columns",
            Ty::StrOrStrs,
            "the columns of the referenced table",
        ),
    ],
    required: &["referenced_table", "columns", "referenced_columns"],
};

/// The hints of one resource.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Hints {
    pub table_name: Option<String>,
    pub columns: Vec<ColumnHint>,
    pub merge_key: Vec<String>,
    pub schema_contract: SchemaContract,
    /// `nested_hints`: hints of child tables.
    pub nested: Vec<NestedHint>,
}

/// Parses the hint keys of a resource object (after the defaults were merged into it).
pub(crate) fn parse(obj: &Obj<'_>) -> Result<Hints, Error> {
    let table_name = match obj.str_opt("table_name")? {
        Some(t) if t.trim().is_empty() => {
            return Err(Error::config(obj.at("table_name"), "must not be empty"));
        }
        t => t.map(str::to_owned),
    };
    let columns = match obj.get("columns") {
        None => Vec::new(),
        Some(v) => columns(&obj.at("columns"), v)?,
    };
    unused(obj)?;
    let merge_key = obj.strings("merge_key")?;
    let schema_contract = match obj.get("schema_contract") {
        None => SchemaContract::default(),
        Some(v) => contract(&obj.at("schema_contract"), v)?,
    };
    let nested = match obj.get("nested_hints") {
        None => Vec::new(),
        Some(v) => super::nested::parse(&obj.at("nested_hints"), v)?,
    };
    Ok(Hints {
        table_name,
        columns,
        merge_key,
        schema_contract,
        nested,
    })
}

/// The hints dlt accepts that SQLite has no use for: checked as dlt checks them.
pub(super) fn unused(obj: &Obj<'_>) -> Result<(), Error> {
    walk::choice(obj, "table_format", TABLE_FORMATS)?;
    walk::choice(obj, "file_format", FILE_FORMATS)?;
    if let Some(v) = obj.get("references") {
        let path = obj.at("references");
        let Value::Array(items) = v else {
            return Err(walk::wrong_type(&path, "a list", v));
        };
        for (i, item) in items.iter().enumerate() {
            let at = walk::index(&path, i);
            let r = Obj::new(&at, item)?;
            r.check(&REFERENCE_SPEC)?;
            let (columns, referenced) = (r.strings("columns")?, r.strings("referenced_columns")?);
            if columns.len() != referenced.len() {
                return Err(Error::config(
                    r.at("referenced_columns"),
                    format!(
                        "{} columns refer to {} referenced columns: they must pair up",
                        columns.len(),
                        referenced.len()
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// `columns`: `{"name": {hints}}` or `[{"name": ..., hints}]`, as dlt accepts both.
pub(super) fn columns(path: &str, value: &Value) -> Result<Vec<ColumnHint>, Error> {
    let mut out = Vec::new();
    match value {
        Value::Object(map) => {
            for (name, v) in map {
                let p = walk::join(path, name);
                out.push(column(&p, Some(name), v)?);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                out.push(column(&walk::index(path, i), None, v)?);
            }
        }
        other => {
            return Err(walk::wrong_type(
                path,
                "an object of column hints or a list of columns",
                other,
            ));
        }
    }
    Ok(out)
}

fn column(path: &str, name: Option<&str>, value: &Value) -> Result<ColumnHint, Error> {
    let obj = Obj::new(path, value)?;
    obj.check(&COLUMN_SPEC)?;
    let name = match (name, obj.str_opt("name")?) {
        (Some(n), _) | (None, Some(n)) => n.to_owned(),
        (None, None) => return Err(walk::missing(&obj.at("name"))),
    };
    if name.trim().is_empty() {
        return Err(Error::config(path, "a column name must not be empty"));
    }
    let data_type = match obj.str_opt("data_type")? {
        None => None,
        Some(t) => Some(data_type(&obj.at("data_type"), t)?),
    };
    let flag = |k: &str| obj.bool_opt(k).map(|b| b.unwrap_or(false));
    Ok(ColumnHint {
        name,
        data_type,
        nullable: obj.bool_opt("nullable")?,
        primary_key: flag("primary_key")?,
        merge_key: flag("merge_key")?,
        unique: flag("unique")?,
        hard_delete: flag("hard_delete")?,
        dedup_sort: match obj.str_opt("dedup_sort")? {
            None => None,
            Some("asc") => Some(SortOrder::Asc),
            Some("desc") => Some(SortOrder::Desc),
            Some(other) => {
                return Err(Error::config(
                    obj.at("dedup_sort"),
                    format!(
                        "unknown sort order \"{other}\" {}",
                        walk::expected_one_of(other, &["asc", "desc"])
                    ),
                ));
            }
        },
    })
}

fn data_type(path: &str, t: &str) -> Result<DataType, Error> {
    Ok(match t {
        "text" => DataType::Text,
        "bigint" => DataType::Bigint,
        "double" => DataType::Double,
        "bool" => DataType::Bool,
        "timestamp" => DataType::Timestamp,
        "date" => DataType::Date,
        "decimal" | "wei" => DataType::Decimal,
        "json" | "complex" => DataType::Json,
        "binary" => DataType::Binary,
        other => {
            return Err(Error::config(
                path,
                format!(
                    "unknown data type \"{other}\" {}",
                    walk::expected_one_of(other, DATA_TYPES)
                ),
            ));
        }
    })
}

/// `schema_contract`: one mode for all, or `{"tables", "columns", "data_type"}`.
pub(super) fn contract(path: &str, value: &Value) -> Result<SchemaContract, Error> {
    match value {
        Value::String(s) => {
            let m = mode(path, s)?;
            Ok(SchemaContract {
                tables: m,
                columns: m,
                data_type: m,
            })
        }
        Value::Object(_) => {
            let obj = Obj::new(path, value)?;
            obj.check(&CONTRACT_SPEC)?;
            let get = |k: &str| -> Result<ContractMode, Error> {
                match obj.str_opt(k)? {
                    None => Ok(ContractMode::Evolve),
                    Some(s) => mode(&obj.at(k), s),
                }
            };
            Ok(SchemaContract {
                tables: get("tables")?,
                columns: get("columns")?,
                data_type: get("data_type")?,
            })
        }
        other => Err(walk::wrong_type(
            path,
            "a mode or a {\"tables\", \"columns\", \"data_type\"} object",
            other,
        )),
    }
}

fn mode(path: &str, s: &str) -> Result<ContractMode, Error> {
    Ok(match s {
        "evolve" => ContractMode::Evolve,
        "freeze" => ContractMode::Freeze,
        "discard_row" => ContractMode::DiscardRow,
        "discard_value" => ContractMode::DiscardValue,
        other => {
            return Err(Error::config(
                path,
                format!(
                    "unknown contract mode \"{other}\" {}",
                    walk::expected_one_of(other, MODES)
                ),
            ));
        }
    })
}
