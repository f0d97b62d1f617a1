//! dlt's `nested_hints` against a real SQLite file: typed, non-nullable, unique and JSON
//! columns of child tables, and a child table's own schema contract.

mod common;

use common::{Db, chain, hint, spec, text};
use rusqlite::types::Value as Sql;
use serde_json::json;
use sluice_sink::{
    ColumnHint, ContractMode, DataType, NestedHints, Outcome, SchemaContract, Sink, TableHints,
    TableSpec, WriteDisposition,
};

fn customers(nested: Vec<NestedHints>) -> TableSpec {
    let mut s = spec("customers", &["id"], WriteDisposition::Merge);
    s.hints = TableHints {
        nested,
        ..TableHints::default()
    };
    s
}

fn purchases(columns: Vec<ColumnHint>, contract: Option<SchemaContract>) -> NestedHints {
    NestedHints {
        path: vec!["purchases".into()],
        columns,
        schema_contract: contract,
    }
}

fn column_types(db: &Db, table: &str) -> Vec<(String, DataType)> {
    db.sink
        .columns(table)
        .unwrap()
        .into_iter()
        .map(|c| (c.name, c.data_type))
        .collect()
}

#[test]
fn a_child_table_takes_its_typed_and_json_columns_first() {
    // dlt's docs example: the price of each purchase as a decimal.
    let mut db = Db::new();
    let s = customers(vec![purchases(
        vec![
            hint("price", Some(DataType::Decimal)),
            hint("meta", Some(DataType::Json)),
        ],
        None,
    )]);
    db.load(
        &s,
        &[vec![json!({"id": 1, "name": "simon", "purchases": [
            {"id": 1, "name": "apple", "price": "1.50", "meta": {"aisle": 4, "tags": ["x"]}}
        ]})]],
    );
    let cols = column_types(&db, "customers__purchases");
    assert_eq!(
        cols[..2],
        [
            ("price".to_string(), DataType::Decimal),
            ("meta".to_string(), DataType::Json)
        ]
    );
    assert_eq!(
        db.rows("SELECT price, meta FROM customers__purchases"),
        [[Sql::Real(1.5), text(r#"{"aisle":4,"tags":["x"]}"#)]]
    );
    assert!(
        !db.table_exists("customers__purchases__meta__tags"),
        "a json column is kept whole, not flattened"
    );
}

#[test]
fn nullable_false_and_unique_in_a_child_table() {
    let mut db = Db::new();
    let mut price = hint("price", Some(DataType::Double));
    price.nullable = Some(false);
    let mut sku = hint("sku", None);
    sku.unique = true;
    let s = customers(vec![purchases(vec![price, sku], None)]);
    db.load(
        &s,
        &[vec![
            json!({"id": 1, "purchases": [{"sku": "a", "price": 1.5}]}),
        ]],
    );
    let id = db.sink.begin(&s).unwrap();
    let err = db
        .sink
        .write_page(
            id,
            &[json!({"id": 2, "purchases": [{"sku": "b", "price": 2}, {"sku": "c"}]})],
            "{}",
        )
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("customers__purchases") && err.contains("id = 2") && err.contains("price"),
        "{err}"
    );
    db.sink.finish(id, Outcome::Failed { error: &err }).unwrap();
    let id = db.sink.begin(&s).unwrap();
    let err = db
        .sink
        .write_page(
            id,
            &[json!({"id": 3, "purchases": [{"sku": "a", "price": 3}]})],
            "{}",
        )
        .unwrap_err();
    let message = chain(&err);
    assert!(message.contains("UNIQUE"), "{message}");
    db.sink
        .finish(id, Outcome::Failed { error: "unique" })
        .unwrap();
    assert_eq!(
        db.rows("SELECT sku, price FROM customers__purchases"),
        [[text("a"), Sql::Real(1.5)]]
    );
}

#[test]
fn a_child_table_s_own_contract_freezes_it_alone() {
    let mut db = Db::new();
    let frozen = SchemaContract {
        columns: ContractMode::Freeze,
        ..SchemaContract::default()
    };
    let s = customers(vec![purchases(Vec::new(), Some(frozen))]);
    db.load(&s, &[vec![json!({"id": 1, "purchases": [{"sku": "a"}]})]]);
    // The root table evolves; the child table is frozen.
    db.load(
        &s,
        &[vec![json!({"id": 2, "email": "e@x", "purchases": []})]],
    );
    assert!(
        column_types(&db, "customers")
            .iter()
            .any(|c| c.0 == "email")
    );
    let id = db.sink.begin(&s).unwrap();
    let err = db
        .sink
        .write_page(
            id,
            &[json!({"id": 3, "purchases": [{"sku": "b", "coupon": "X"}]})],
            "{}",
        )
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("would add column `coupon`") && err.contains("customers__purchases"),
        "{err}"
    );
    db.sink.finish(id, Outcome::Failed { error: &err }).unwrap();
}

#[test]
fn a_list_inside_an_object_is_named_by_its_dotted_path() {
    let mut db = Db::new();
    let s = customers(vec![NestedHints {
        path: vec!["address.lines".into()],
        columns: vec![hint("value", Some(DataType::Text))],
        schema_contract: None,
    }]);
    db.load(
        &s,
        &[vec![
            json!({"id": 1, "address": {"city": "x", "lines": [12, 13]}}),
        ]],
    );
    assert_eq!(
        db.rows("SELECT value, typeof(value) FROM customers__address__lines ORDER BY value"),
        [[text("12"), text("text")], [text("13"), text("text")]]
    );
}
