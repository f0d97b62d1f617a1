//! Schema inference and evolution against a real SQLite file.

mod common;

use common::{Db, spec, text};
use rusqlite::types::Value as Sql;
use serde_json::json;
use sluice_sink::{DataType, Sink, WriteDisposition::*};

#[test]
fn infers_types_flattens_and_stores_values() {
    let mut db = Db::new();
    let page = vec![
        json!({"id": 1, "price": 9.5, "inStock": true, "updatedAt": "2024-05-01T12:00:00Z",
               "created": "2024-05-01", "name": "bolt", "tags": ["a", "b"],
               "warehouse": {"code": "W1", "geo": {"lat": 52.1}}, "note": null}),
        json!({"id": 2, "price": 3.0, "inStock": false, "updatedAt": "2024-05-02T08:30:00.250+02:00",
               "created": "2024-05-02", "name": "nut", "tags": [], "warehouse": {"code": "W2"}, "note": null}),
    ];
    db.load(&spec("Inventory Items", &["id"], Append), &[page]);

    let cols = db.sink.columns("inventory_items").unwrap();
    let got: Vec<(&str, DataType, bool, bool)> = cols
        .iter()
        .map(|c| (c.name.as_str(), c.data_type, c.nullable, c.primary_key))
        .collect();
    assert_eq!(
        got,
        [
            ("id", DataType::Bigint, false, true),
            ("price", DataType::Double, true, false),
            ("in_stock", DataType::Bool, true, false),
            ("updated_at", DataType::Timestamp, true, false),
            ("created", DataType::Timestamp, true, false),
            ("name", DataType::Text, true, false),
            ("warehouse__code", DataType::Text, true, false),
            ("warehouse__geo__lat", DataType::Double, true, false),
            ("_dlt_load_id", DataType::Text, false, false),
            ("_dlt_id", DataType::Text, false, false),
        ]
    );
    let declared =
        db.rows("SELECT type, \"notnull\" FROM pragma_table_info('inventory_items') ORDER BY cid");
    let declared: Vec<String> = declared
        .iter()
        .map(|r| format!("{:?}/{:?}", r[0], r[1]))
        .collect();
    assert_eq!(declared[0], "Text(\"BIGINT\")/Integer(1)");
    assert_eq!(declared[2], "Text(\"BOOLEAN\")/Integer(0)");
    assert_eq!(declared[3], "Text(\"TIMESTAMP\")/Integer(0)");
    assert_eq!(declared[9], "Text(\"TEXT\")/Integer(1)");
    assert_eq!(declared[1], "Text(\"DOUBLE\")/Integer(0)");

    let rows = db.rows(
        "SELECT id, price, in_stock, updated_at, warehouse__code, warehouse__geo__lat \
         FROM inventory_items ORDER BY id",
    );
    assert_eq!(
        rows[0],
        [
            Sql::Integer(1),
            Sql::Real(9.5),
            Sql::Integer(1),
            text("2024-05-01T12:00:00Z"),
            text("W1"),
            Sql::Real(52.1),
        ]
    );
    assert_eq!(rows[1][2], Sql::Integer(0));
    assert_eq!(rows[1][1], Sql::Real(3.0));
    assert_eq!(rows[1][5], Sql::Null, "missing nested field is NULL");
    // The list is a child table; the empty list of record 2 gives no rows.
    assert_eq!(
        db.rows(
            "SELECT i.id, t.value, t._dlt_list_idx FROM inventory_items__tags t \
             JOIN inventory_items i ON i._dlt_id = t._dlt_parent_id ORDER BY 1, 3"
        ),
        [
            [Sql::Integer(1), text("a"), Sql::Integer(0)],
            [Sql::Integer(1), text("b"), Sql::Integer(1)]
        ]
    );
    assert_eq!(DataType::Json.to_string(), "json");
}

#[test]
fn missing_fields_are_null_and_new_fields_add_columns() {
    let mut db = Db::new();
    let s = spec("items", &["id"], Append);
    db.load(&s, &[vec![json!({"id": 1, "a": "x"}), json!({"id": 2})]]);
    assert_eq!(db.sink.columns("items").unwrap().len(), 4);
    db.load(
        &s,
        &[vec![
            json!({"id": 3, "a": "y", "colour": "red", "weightKg": 2, "later": null}),
        ]],
    );

    let names: Vec<String> = db
        .sink
        .columns("items")
        .unwrap()
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(
        names,
        ["id", "a", "_dlt_load_id", "_dlt_id", "colour", "weight_kg"],
        "a null-only field gets no column"
    );
    let rows = db.rows("SELECT id, a, colour, weight_kg FROM items ORDER BY id");
    assert_eq!(rows[0], [Sql::Integer(1), text("x"), Sql::Null, Sql::Null]);
    assert_eq!(rows[1], [Sql::Integer(2), Sql::Null, Sql::Null, Sql::Null]);
    assert_eq!(
        rows[2],
        [Sql::Integer(3), text("y"), text("red"), Sql::Integer(2)]
    );
    let meta = db.rows(
        "SELECT data_type, position FROM _sluice_columns WHERE table_name='items' AND column_name='weight_kg'",
    );
    assert_eq!(meta, [[text("bigint"), Sql::Integer(5)]]);

    // Within one load too: a new field on the second page.
    let id = db.sink.begin(&s).unwrap();
    db.sink.write_page(id, &[json!({"id": 4})], "{}").unwrap();
    db.sink
        .write_page(id, &[json!({"id": 5, "extra": true})], "{}")
        .unwrap();
    db.sink.finish(id, sluice_sink::Outcome::Completed).unwrap();
    assert_eq!(
        db.rows("SELECT extra FROM items WHERE id = 5"),
        [[Sql::Integer(1)]]
    );
}

#[test]
fn values_that_do_not_fit_go_to_variant_columns() {
    let mut db = Db::new();
    let s = spec("m", &[], Append);
    db.load(
        &s,
        &[vec![json!({"q": 2, "flag": true, "at": "2024-01-01"})]],
    );
    db.load(
        &s,
        &[vec![
            json!({"q": 2.5, "flag": "maybe", "at": "soon"}),
            json!({"q": "3", "flag": 7, "at": null}),
        ]],
    );
    let cols: Vec<(String, DataType)> = db
        .sink
        .columns("m")
        .unwrap()
        .into_iter()
        .map(|c| (c.name, c.data_type))
        .collect();
    let want = [
        ("q", DataType::Bigint),
        ("flag", DataType::Bool),
        ("at", DataType::Timestamp),
        ("_dlt_load_id", DataType::Text),
        ("_dlt_id", DataType::Text),
        ("q__v_double", DataType::Double),
        ("flag__v_text", DataType::Text),
        ("at__v_text", DataType::Text),
    ];
    let want: Vec<(String, DataType)> = want.iter().map(|(n, t)| ((*n).to_owned(), *t)).collect();
    assert_eq!(cols, want, "no column changes its type: no rebuild");
    let rows =
        db.rows("SELECT q, q__v_double, flag, flag__v_text, at, at__v_text FROM m ORDER BY rowid");
    assert_eq!(
        rows,
        [
            [
                Sql::Integer(2),
                Sql::Null,
                Sql::Integer(1),
                Sql::Null,
                text("2024-01-01"),
                Sql::Null
            ],
            [
                Sql::Null,
                Sql::Real(2.5),
                Sql::Null,
                text("maybe"),
                Sql::Null,
                text("soon")
            ],
            // "3" converts to bigint and 7 to true, as dlt coerces them.
            [
                Sql::Integer(3),
                Sql::Null,
                Sql::Integer(1),
                Sql::Null,
                Sql::Null,
                Sql::Null
            ],
        ]
    );
}

#[test]
fn one_field_as_number_list_and_object_in_one_page() {
    let mut db = Db::new();
    db.load(
        &spec("c", &[], Append),
        &[vec![
            json!({"v": 1}),
            json!({"v": [1, 2]}),
            json!({"v": {"x": 1}}),
        ]],
    );
    let cols = db.sink.columns("c").unwrap();
    assert_eq!(cols[0].name, "v");
    assert_eq!(cols[0].data_type, DataType::Bigint);
    assert!(cols.iter().any(|c| c.name == "v__x"));
    let rows = db.rows("SELECT v, v__x FROM c ORDER BY rowid");
    assert_eq!(
        rows,
        [
            [Sql::Integer(1), Sql::Null],
            [Sql::Null, Sql::Null],
            [Sql::Null, Sql::Integer(1)]
        ]
    );
    assert_eq!(
        db.rows("SELECT value FROM c__v ORDER BY _dlt_list_idx"),
        [[Sql::Integer(1)], [Sql::Integer(2)]]
    );
}

#[test]
fn hostile_identifiers_are_stored_safely() {
    let mut db = Db::new();
    let hostile = "\"; DROP TABLE x; --";
    db.load(&spec("x", &[], Append), &[vec![json!({"a": 1})]]);
    db.load(
        &spec(hostile, &["\"id"], Merge),
        &[vec![
            json!({"\"id": 1, "a\"b": "q\"uote", "\"); DROP TABLE _sluice_loads; --": "v", "'": 1}),
        ]],
    );
    assert!(db.table_exists("x"), "the victim table survives");
    assert!(db.table_exists("_sluice_loads"));
    let table = "_drop_table_xxxx";
    let names: Vec<String> = db
        .sink
        .columns(table)
        .unwrap()
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(
        names,
        [
            "_id",
            "a_b",
            "_drop_table_sluice_loadsxxx",
            "x",
            "_dlt_load_id",
            "_dlt_id"
        ]
    );
    assert_eq!(
        db.rows(&format!("SELECT a_b FROM {table}")),
        [[text("q\"uote")]]
    );
    assert_eq!(
        db.rows("SELECT resource FROM _sluice_loads WHERE load_id = 2"),
        [[text(hostile)]]
    );
    let err = db
        .sink
        .begin(&spec("_sluice_loads", &[], Append))
        .unwrap_err();
    assert!(err.to_string().contains("reserved"), "{err}");
}

#[test]
fn empty_records_still_get_rows_and_null_only_fields_no_column() {
    let mut db = Db::new();
    let s = spec("blank", &[], Append);
    let id = db.sink.begin(&s).unwrap();
    assert_eq!(
        db.sink
            .write_page(id, &[json!({}), json!({"o": {}})], "{}")
            .unwrap(),
        2
    );
    db.sink
        .write_page(id, &[json!({"a": null}), json!({"b": 1})], "{}")
        .unwrap();
    db.sink.finish(id, sluice_sink::Outcome::Completed).unwrap();
    let cols: Vec<String> = db
        .sink
        .columns("blank")
        .unwrap()
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(cols, ["_dlt_load_id", "_dlt_id", "b"]);
    assert_eq!(db.count("blank"), 4);
}

#[test]
fn max_table_nesting_keeps_deeper_values_as_json_columns() {
    let mut db = Db::new();
    let record = json!({"id": 1, "warehouse": {"code": "W1", "geo": {"lat": 52.1}}, "tags": ["a"]});
    let mut flat_one = spec("one_level", &["id"], Merge);
    flat_one.max_table_nesting = Some(1);
    db.load(&flat_one, &[vec![record.clone()]]);
    let mut flat_none = spec("no_flattening", &["id"], Merge);
    flat_none.max_table_nesting = Some(0);
    db.load(&flat_none, &[vec![record.clone()]]);
    let shape = |db: &Db, table: &str| -> Vec<(String, DataType)> {
        db.sink
            .columns(table)
            .unwrap()
            .into_iter()
            .filter(|c| !c.name.starts_with("_dlt_"))
            .map(|c| (c.name, c.data_type))
            .collect()
    };
    assert_eq!(
        shape(&db, "one_level"),
        [
            ("id".to_string(), DataType::Bigint),
            ("warehouse__code".to_string(), DataType::Text),
            ("warehouse__geo".to_string(), DataType::Json),
        ]
    );
    assert_eq!(db.rows("SELECT value FROM one_level__tags"), [[text("a")]]);
    assert_eq!(
        shape(&db, "no_flattening"),
        [
            ("id".to_string(), DataType::Bigint),
            ("warehouse".to_string(), DataType::Json),
            ("tags".to_string(), DataType::Json),
        ]
    );
    assert!(!db.table_exists("no_flattening__tags"));
    assert_eq!(
        db.rows("SELECT warehouse__geo FROM one_level"),
        [[text(r#"{"lat":52.1}"#)]]
    );
    assert_eq!(
        db.rows("SELECT warehouse, tags FROM no_flattening"),
        [[
            text(r#"{"code":"W1","geo":{"lat":52.1}}"#),
            text(r#"["a"]"#)
        ]]
    );
    // A later page with the same shape merges into the same columns.
    let changed = json!({"id": 1, "warehouse": {"code": "W2", "geo": {"lat": 1.0}}});
    db.load(&flat_none, &[vec![changed]]);
    assert_eq!(
        db.rows("SELECT warehouse FROM no_flattening"),
        [[text(r#"{"code":"W2","geo":{"lat":1.0}}"#)]]
    );
}

#[test]
fn doubles_keep_every_digit() {
    // Found by the read-back property: without exact float parsing this stored ...171898.
    let mut db = Db::new();
    let id = db.sink.begin(&spec("f", &[], Append)).unwrap();
    db.sink
        .write_page_text(id, r#"[{"v": -32246590603.171894}, {"v": 0.1}]"#, 2, "{}")
        .unwrap();
    db.sink.finish(id, sluice_sink::Outcome::Completed).unwrap();
    assert_eq!(
        db.rows("SELECT v FROM f ORDER BY _dlt_id"),
        [[Sql::Real(-32246590603.171894)], [Sql::Real(0.1)]]
    );
}

#[test]
fn a_table_past_sqlites_column_limit_fails_naming_it_and_keeps_what_was_written() {
    let mut db = Db::new();
    let s = spec("wide", &[], Append);
    let id = db.sink.begin(&s).unwrap();
    // 1,998 fields and dlt's two columns: 2,000, SQLite's most.
    let page: Vec<_> = (0..1998).map(|i| json!({ format!("k{i}"): i })).collect();
    db.sink.write_page(id, &page, "{}").unwrap();
    assert_eq!(db.count("wide"), 1998);
    let err = db
        .sink
        .write_page(id, &[json!({"one_more": 1})], "{}")
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "table `wide` would have 2001 columns, more than SQLite allows (2000): each distinct field of the records is a column (a nested object used as a map gives a column for each of its keys; `max_table_nesting` keeps such objects as JSON)"
    );
    assert_eq!(db.count("wide"), 1998, "the rows before it stay");
}
