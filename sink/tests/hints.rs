//! dlt's table hints against a real SQLite file: `table_name`, `columns`, `merge_key`,
//! `schema_contract`.

mod common;

use common::{Db, chain, hint, spec, text};
use rusqlite::types::Value as Sql;
use serde_json::json;
use sluice_sink::{
    ContractMode, DataType, Outcome, SchemaContract, Sink, TableHints, TableSpec,
    WriteDisposition::*,
};

fn with_hints(mut s: TableSpec, hints: TableHints) -> TableSpec {
    s.hints = hints;
    s
}

fn columns(db: &Db, table: &str) -> Vec<(String, DataType, bool)> {
    db.sink
        .columns(table)
        .unwrap()
        .into_iter()
        .map(|c| (c.name, c.data_type, c.nullable))
        .collect()
}

#[test]
fn table_name_and_typed_column_hints_come_first_and_keep_their_type() {
    let mut db = Db::new();
    let mut not_null = hint("price", Some(DataType::Decimal));
    not_null.nullable = Some(false);
    let s = with_hints(
        spec("items", &["id"], Merge),
        TableHints {
            table_name: Some("Catalog Items".into()),
            columns: vec![
                hint("updatedAt", Some(DataType::Text)),
                not_null,
                hint("note", None),
            ],
            ..TableHints::default()
        },
    );
    db.load(
        &s,
        &[vec![
            json!({"id": 1, "updatedAt": "2024-05-01T12:00:00Z", "price": "19.990"}),
        ]],
    );
    assert!(!db.table_exists("items"));
    let cols = columns(&db, "catalog_items");
    let names: Vec<&str> = cols.iter().map(|c| c.0.as_str()).collect();
    assert_eq!(
        names,
        ["updated_at", "price", "id", "_dlt_load_id", "_dlt_id"]
    );
    assert_eq!(
        cols[0].1,
        DataType::Text,
        "text hint keeps the ISO string as text"
    );
    assert_eq!((cols[1].1, cols[1].2), (DataType::Decimal, false));
    assert_eq!(
        db.rows("SELECT updated_at, typeof(updated_at) FROM catalog_items"),
        [[text("2024-05-01T12:00:00Z"), text("text")]]
    );
    // A hint without a type creates nothing until data comes.
    assert!(cols.iter().all(|c| c.0 != "note"));

    let id = db.sink.begin(&s).unwrap();
    let err = db
        .sink
        .write_page(
            id,
            &[
                json!({"id": 1, "price": 1}),
                json!({"id": 17, "price": null}),
            ],
            "{}",
        )
        .unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("record 1 (id = 17)") && msg.contains("`price`") && msg.contains("nullable"),
        "{msg}"
    );
    db.sink.finish(id, Outcome::Failed { error: &msg }).unwrap();
    assert_eq!(
        db.count("catalog_items"),
        1,
        "nothing of the bad page was written"
    );
}

#[test]
fn merge_key_replaces_the_rows_of_earlier_loads_sharing_it() {
    let mut db = Db::new();
    let s = with_hints(
        spec("daily", &[], Merge),
        TableHints {
            merge_key: vec!["day".into()],
            ..TableHints::default()
        },
    );
    db.load(
        &s,
        &[
            vec![
                json!({"day": "d1", "v": 1, "tags": ["a"]}),
                json!({"day": "d2", "v": 2}),
            ],
            vec![json!({"day": "d1", "v": 3})],
        ],
    );
    assert_eq!(
        db.count("daily"),
        3,
        "one load: rows sharing a key in it all stay"
    );
    db.load(&s, &[vec![json!({"day": "d1", "v": 9, "tags": ["z"]})]]);
    assert_eq!(
        db.rows("SELECT day, v FROM daily ORDER BY day, v"),
        [[text("d1"), Sql::Integer(9)], [text("d2"), Sql::Integer(2)]]
    );
    assert_eq!(db.rows("SELECT value FROM daily__tags"), [[text("z")]]);
}

#[test]
fn unique_hint_is_enforced() {
    let mut db = Db::new();
    let mut sku = hint("sku", Some(DataType::Text));
    sku.unique = true;
    let s = with_hints(
        spec("u", &[], Append),
        TableHints {
            columns: vec![sku],
            ..TableHints::default()
        },
    );
    db.load(&s, &[vec![json!({"sku": "A"})]]);
    let id = db.sink.begin(&s).unwrap();
    // The duplicate comes last: the rows inserted before it, in the same statement and in
    // a new child table, go with the page (inserts stop at the failing row and the page's
    // transaction is rolled back).
    let page = [
        json!({"sku": "B", "tags": ["x", "y"]}),
        json!({"sku": "C"}),
        json!({"sku": "A"}),
    ];
    let err = db.sink.write_page(id, &page, "{}").unwrap_err();
    let message = chain(&err);
    assert!(message.contains("UNIQUE"), "{message}");
    assert_eq!(message.matches("UNIQUE").count(), 1, "once: {message}");
    assert_eq!(db.rows("SELECT sku FROM u"), [[text("A")]]);
    assert!(!db.table_exists("u__tags"));
    // The load goes on with the next page.
    db.sink
        .write_page(id, &[json!({"sku": "D", "tags": ["z"]})], "{}")
        .unwrap();
    assert_eq!(
        db.rows("SELECT sku FROM u ORDER BY sku"),
        [[text("A")], [text("D")]]
    );
    assert_eq!(db.count("u__tags"), 1);
}

fn contract(mode: ContractMode) -> TableHints {
    TableHints {
        schema_contract: SchemaContract {
            tables: mode,
            columns: mode,
            data_type: mode,
        },
        ..TableHints::default()
    }
}

#[test]
fn schema_contract_freeze_refuses_new_columns_types_and_tables() {
    let mut db = Db::new();
    let s = with_hints(spec("f", &["id"], Append), contract(ContractMode::Freeze));
    // The first load creates the table as its data comes (a new table evolves, as in dlt).
    db.load(&s, &[vec![json!({"id": 1, "price": 2.5})]]);
    for (record, needle) in [
        (
            json!({"id": 2, "colour": "red"}),
            "would add column `colour`",
        ),
        (
            json!({"id": 3, "price": "n/a"}),
            "another type for column `price`",
        ),
        (
            json!({"id": 4, "tags": ["a"]}),
            "would create table `f__tags`",
        ),
    ] {
        let id = db.sink.begin(&s).unwrap();
        let err = db
            .sink
            .write_page(id, &[json!({"id": 9}), record.clone()], "{}")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(needle) && err.contains("freeze") && err.contains("record 1"),
            "{err}"
        );
        db.sink.finish(id, Outcome::Failed { error: &err }).unwrap();
    }
    assert_eq!(db.count("f"), 1);
    assert_eq!(
        columns(&db, "f").len(),
        4,
        "id, price and dlt's two columns"
    );
}

#[test]
fn schema_contract_discard_row_and_discard_value() {
    let mut db = Db::new();
    let first = vec![json!({"id": 1, "price": 2.5})];
    let later = vec![
        json!({"id": 2, "price": 3.5}),
        json!({"id": 3, "price": 1.0, "colour": "red"}),
        json!({"id": 4, "price": "n/a"}),
        json!({"id": 5, "price": 4.5, "tags": ["x"]}),
    ];
    let rows = db_with(&mut db, "dr", ContractMode::DiscardRow, &first, &later);
    assert_eq!(
        rows,
        [
            [Sql::Integer(1), Sql::Real(2.5)],
            [Sql::Integer(2), Sql::Real(3.5)]
        ]
    );
    assert!(!db.table_exists("dr__tags"));
    let rows = db_with(&mut db, "dv", ContractMode::DiscardValue, &first, &later);
    assert_eq!(
        rows,
        [
            [Sql::Integer(1), Sql::Real(2.5)],
            [Sql::Integer(2), Sql::Real(3.5)],
            [Sql::Integer(3), Sql::Real(1.0)],
            [Sql::Integer(4), Sql::Null],
            [Sql::Integer(5), Sql::Real(4.5)]
        ]
    );
    assert_eq!(columns(&db, "dv").len(), 4, "no new column");
    assert!(!db.table_exists("dv__tags"));
}

fn db_with(
    db: &mut Db,
    name: &str,
    mode: ContractMode,
    first: &[serde_json::Value],
    later: &[serde_json::Value],
) -> Vec<Vec<Sql>> {
    let s = with_hints(spec(name, &["id"], Append), contract(mode));
    db.load(&s, &[first.to_vec()]);
    let id = db.sink.begin(&s).unwrap();
    db.sink.write_page(id, later, "{}").unwrap();
    db.sink.finish(id, Outcome::Completed).unwrap();
    db.rows(&format!("SELECT id, price FROM {name} ORDER BY id"))
}

#[test]
fn hinted_primary_key_and_every_hinted_type() {
    let mut db = Db::new();
    let mut id = hint("sku", Some(DataType::Text));
    id.primary_key = true;
    let s = with_hints(
        spec("typed", &[], Merge),
        TableHints {
            columns: vec![
                id,
                hint("day", Some(DataType::Date)),
                hint("at", Some(DataType::Timestamp)),
                hint("n", Some(DataType::Bigint)),
                hint("x", Some(DataType::Double)),
                hint("ok", Some(DataType::Bool)),
                hint("doc", Some(DataType::Json)),
                hint("raw", Some(DataType::Binary)),
            ],
            ..TableHints::default()
        },
    );
    let page = vec![
        json!({"sku": "A", "day": "2024-05-01T10:00:00Z", "at": 86400, "n": "12",
                           "x": 2, "ok": "yes", "doc": {"a": [1]}, "raw": "0x0aff"}),
    ];
    db.load(&s, std::slice::from_ref(&page));
    // The hinted key makes a merge: the second load updates the row.
    let mut again = page[0].clone();
    again["n"] = json!(13);
    db.load(&s, &[vec![again]]);
    assert_eq!(db.count("typed"), 1, "merged by the hinted primary key");
    let cols = columns(&db, "typed");
    assert_eq!(cols[0], ("sku".to_owned(), DataType::Text, false));
    assert_eq!(
        db.rows("SELECT day, at, n, x, ok, doc, raw FROM typed"),
        [[
            text("2024-05-01"),
            text("1970-01-02T00:00:00+00:00"),
            Sql::Integer(13),
            Sql::Real(2.0),
            Sql::Integer(1),
            text(r#"{"a":[1]}"#),
            Sql::Blob(vec![10, 255])
        ]]
    );
}
