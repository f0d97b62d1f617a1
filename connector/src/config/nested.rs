//! dlt's `nested_hints`: hints of a resource's child tables, by the field of the list the
//! table holds (`{"purchases": {"columns": {"price": {"data_type": "decimal"}}}}` for the
//! table `<table>__purchases`), as dlt's string keys do; a list inside an object by its
//! dotted path (`"address.lines"`: `<table>__address__lines`).
//!
//! What the hints of a child table may say: `columns` (types, `nullable`, `unique`) and its
//! own `schema_contract`; `table_format`, `file_format` and `references` are checked and
//! not used. dlt's keys that turn a child table into a top-level table of its own
//! (`primary_key`, `merge_key`, `write_disposition`, `parent_table_name`) are not supported.

use serde_json::Value;

use super::hints::{self, COLUMN_SPEC, CONTRACT_SPEC, FILE_FORMATS, REFERENCE_SPEC, TABLE_FORMATS};
use super::spec::{ObjSpec, Ty, key};
use super::walk::{self, Obj};
use crate::protocol::{ColumnHint, Error, NestedHint};

/// One entry of `nested_hints`.
pub static NESTED_SPEC: ObjSpec = ObjSpec {
    name: "nested_hints",
    keys: &[
        key(
            "columns",
            Ty::Columns(&COLUMN_SPEC),
            "column hints of the child table (data_type, nullable, unique)",
        ),
        key(
            "schema_contract",
            Ty::StrOrObj(&CONTRACT_SPEC),
            "the child table's own schema_contract (default: the resource's)",
        ),
        key(
            "references",
            Ty::ListOf(&REFERENCE_SPEC),
            "table references (accepted, not used by SQLite)",
        ),
        key(
            "table_format",
            Ty::Enum(TABLE_FORMATS),
            "accepted as in dlt; not used by SQLite",
        ),
        key(
            "file_format",
            Ty::Enum(FILE_FORMATS),
            "accepted as in dlt; not used by SQLite",
        ),
    ],
    required: &[],
};

/// Keys of dlt's nested hints that make the child table a top-level table.
const TOP_LEVEL: &[&str] = &[
    "primary_key",
    "merge_key",
    "write_disposition",
    "parent_table_name",
];
/// Whether a column hint says something.
type Says = fn(&ColumnHint) -> bool;
/// Column hints that only a top-level table can have.
const TOP_LEVEL_COLUMN: &[(&str, Says)] = &[
    ("primary_key", |c| c.primary_key),
    ("merge_key", |c| c.merge_key),
    ("hard_delete", |c| c.hard_delete),
    ("dedup_sort", |c| c.dedup_sort.is_some()),
];

/// Parses `nested_hints` at `path`.
pub(super) fn parse(path: &str, value: &Value) -> Result<Vec<NestedHint>, Error> {
    let Value::Object(entries) = value else {
        return Err(walk::wrong_type(
            path,
            "an object of hints by nested field",
            value,
        ));
    };
    let mut out = Vec::with_capacity(entries.len());
    for (field, v) in entries {
        let at = walk::join(path, field);
        if field.trim().is_empty() {
            return Err(Error::config(at, "a nested field must not be empty"));
        }
        let obj = Obj::new(&at, v)?;
        if let Some(k) = TOP_LEVEL.iter().find(|k| obj.get(k).is_some()) {
            return Err(unsupported(&obj.at(k)));
        }
        obj.check(&NESTED_SPEC)?;
        hints::unused(&obj)?;
        let columns = match obj.get("columns") {
            None => Vec::new(),
            Some(c) => hints::columns(&obj.at("columns"), c)?,
        };
        for c in &columns {
            if let Some((k, _)) = TOP_LEVEL_COLUMN.iter().find(|(_, set)| set(c)) {
                let column = walk::join(&obj.at("columns"), &c.name);
                return Err(unsupported(&walk::join(&column, k)));
            }
        }
        let schema_contract = match obj.get("schema_contract") {
            None => None,
            Some(c) => Some(hints::contract(&obj.at("schema_contract"), c)?),
        };
        out.push(NestedHint {
            path: vec![field.clone()],
            columns,
            schema_contract,
        });
    }
    Ok(out)
}

fn unsupported(path: &str) -> Error {
    Error::config(
        path,
        "not supported in nested_hints (in dlt it makes the child table a top-level table of its own)",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{ContractMode, DataType};
    use serde_json::json;

    #[test]
    fn columns_and_contract_of_child_tables() {
        let hints = parse(
            "nested_hints",
            &json!({"purchases": {"columns": {"price": {"data_type": "decimal", "nullable": false}},
                                  "schema_contract": {"columns": "freeze"},
                                  "references": [{"referenced_table": "customers",
                                                  "columns": "customer_id",
                                                  "referenced_columns": "id"}]},
                    "tags": {}}),
        )
        .unwrap();
        assert_eq!(hints.len(), 2);
        assert_eq!(hints[0].path, ["purchases"]);
        assert_eq!(hints[0].columns[0].data_type, Some(DataType::Decimal));
        assert_eq!(hints[0].columns[0].nullable, Some(false));
        assert_eq!(
            hints[0].schema_contract.map(|c| c.columns),
            Some(ContractMode::Freeze)
        );
        assert_eq!(
            (hints[1].path.as_slice(), hints[1].schema_contract),
            (["tags".to_string()].as_slice(), None)
        );
    }

    #[test]
    fn keys_of_a_top_level_table_are_not_supported_and_say_where() {
        let e = |v: Value| {
            parse("resources[0].nested_hints", &v)
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            e(json!({"purchases": {"primary_key": ["customer_id", "id"]}})),
            "resources[0].nested_hints.purchases.primary_key: not supported in nested_hints (in dlt it makes the child table a top-level table of its own)"
        );
        assert!(
            e(json!({"purchases": {"columns": {"id": {"merge_key": true}}}})).starts_with(
                "resources[0].nested_hints.purchases.columns.id.merge_key: not supported"
            ),
        );
        assert!(
            e(json!({"purchases": {"colums": {}}}))
                .starts_with("resources[0].nested_hints.purchases.colums: unknown key"),
        );
        assert_eq!(
            e(json!(["purchases"])),
            "resources[0].nested_hints: expected an object of hints by nested field, found a list"
        );
    }
}
