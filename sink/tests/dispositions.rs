//! Merge, append and replace semantics against a real SQLite file.

mod common;

use common::{Db, latest, spec, text};
use rusqlite::types::Value as Sql;
use serde_json::json;
use sluice_sink::{Outcome, Sink, WriteDisposition::*};

#[test]
fn merge_updates_in_place_and_nulls_omitted_fields() {
    let mut db = Db::new();
    let s = spec("stock", &["sku"], Merge);
    db.load(
        &s,
        &[vec![
            json!({"sku": "A", "qty": 1, "loc": "x"}),
            json!({"sku": "B", "qty": 2, "loc": "y"}),
            json!({"sku": "C", "qty": 3, "loc": "z"}),
        ]],
    );
    db.load(
        &s,
        &[vec![
            json!({"sku": "B", "qty": 20}),
            json!({"sku": "C", "qty": 30, "loc": "w"}),
            json!({"sku": "C", "qty": 31, "loc": "v"}),
        ]],
    );
    assert_eq!(db.count("stock"), 3, "row count unchanged");
    let rows = db.rows("SELECT sku, qty, loc FROM stock ORDER BY sku");
    assert_eq!(rows[0], [text("A"), Sql::Integer(1), text("x")]);
    assert_eq!(
        rows[1],
        [text("B"), Sql::Integer(20), Sql::Null],
        "omitted field set to NULL"
    );
    assert_eq!(
        rows[2],
        [text("C"), Sql::Integer(31), text("v")],
        "last duplicate in a page wins"
    );
    let idx = db.rows("SELECT name FROM sqlite_master WHERE type='index' AND tbl_name='stock'");
    assert_eq!(idx.len(), 1, "unique index on the primary key");

    // A new column plus a type widening on a merge table keeps the upsert working.
    db.load(
        &s,
        &[vec![
            json!({"sku": "A", "qty": 1.5, "loc": "x", "extra": 1}),
            json!({"sku": "D", "qty": 4}),
        ]],
    );
    assert_eq!(db.count("stock"), 4);
    assert_eq!(
        db.rows("SELECT qty, extra FROM stock WHERE sku='A'"),
        [[Sql::Real(1.5), Sql::Integer(1)]]
    );
    db.load(&s, &[vec![json!({"sku": "A", "qty": 9})]]);
    assert_eq!(db.count("stock"), 4);
    assert_eq!(
        db.rows("SELECT qty, extra FROM stock WHERE sku='A'"),
        [[Sql::Real(9.0), Sql::Null]]
    );
}

#[test]
fn merge_with_composite_and_nested_key() {
    let mut db = Db::new();
    let s = spec("levels", &["warehouse.code", "sku"], Merge);
    db.load(
        &s,
        &[vec![
            json!({"warehouse": {"code": "W1"}, "sku": "A", "n": 1}),
            json!({"warehouse": {"code": "W2"}, "sku": "A", "n": 2}),
        ]],
    );
    db.load(
        &s,
        &[vec![
            json!({"warehouse": {"code": "W1"}, "sku": "A", "n": 5}),
        ]],
    );
    assert_eq!(
        db.rows("SELECT warehouse__code, n FROM levels ORDER BY 1"),
        [[text("W1"), Sql::Integer(5)], [text("W2"), Sql::Integer(2)]]
    );
}

#[test]
fn append_keeps_duplicates_and_merge_without_key_appends() {
    let mut db = Db::new();
    let page = vec![json!({"id": 1, "v": "a"}), json!({"id": 2, "v": "b"})];
    db.load(
        &spec("events", &["id"], Append),
        std::slice::from_ref(&page),
    );
    db.load(
        &spec("events", &["id"], Append),
        std::slice::from_ref(&page),
    );
    assert_eq!(db.count("events"), 4);
    assert_eq!(
        db.rows("SELECT COUNT(*) FROM events WHERE id = 1"),
        [[Sql::Integer(2)]]
    );

    db.load(&spec("nokey", &[], Merge), std::slice::from_ref(&page));
    db.load(&spec("nokey", &[], Merge), &[page]);
    assert_eq!(db.count("nokey"), 4);
}

#[test]
fn replace_swaps_only_on_completed() {
    let mut db = Db::new();
    let s = spec("catalog", &["id"], Replace);
    db.load(
        &s,
        &[vec![json!({"id": 1}), json!({"id": 2}), json!({"id": 3})]],
    );
    assert_eq!(db.count("catalog"), 3);
    assert!(!db.table_exists("catalog__staging"));

    // Second run: while it runs the old table is what readers see.
    let id = db.sink.begin(&s).unwrap();
    db.sink
        .write_page(id, &[json!({"id": 10, "name": "new"})], r#"{"v":2}"#)
        .unwrap();
    db.sink
        .write_page(id, &[json!({"id": 11, "name": "newer"})], r#"{"v":3}"#)
        .unwrap();
    assert_eq!(db.count("catalog"), 3);
    assert_eq!(db.count("catalog__staging"), 2);
    let summary = db.sink.finish(id, Outcome::Completed).unwrap();
    assert_eq!(
        (summary.rows, summary.pages, summary.status.as_str()),
        (2, 2, "completed")
    );
    assert_eq!(
        db.rows("SELECT id, name FROM catalog ORDER BY id"),
        [
            [Sql::Integer(10), text("new")],
            [Sql::Integer(11), text("newer")]
        ]
    );
    assert!(!db.table_exists("catalog__staging"));
    let names: Vec<String> = db
        .sink
        .columns("catalog")
        .unwrap()
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(names, ["id", "name"], "column metadata moved with the swap");
    assert!(db.sink.columns("catalog__staging").unwrap().is_empty());
    assert_eq!(
        latest(db.sink.states().unwrap()),
        [("catalog".to_owned(), r#"{"v":3}"#.to_owned())]
    );

    // Third run fails: old data and state untouched, staging dropped.
    let id = db.sink.begin(&s).unwrap();
    db.sink
        .write_page(id, &[json!({"id": 99, "other": 1.5})], r#"{"v":4}"#)
        .unwrap();
    let summary = db
        .sink
        .finish(
            id,
            Outcome::Failed {
                error: "HTTP 500 from /items",
            },
        )
        .unwrap();
    assert_eq!(summary.status, "failed");
    assert_eq!(db.count("catalog"), 2);
    assert_eq!(
        db.count("catalog__staging"),
        1,
        "staged pages kept for a resume"
    );
    assert_eq!(db.sink.columns("catalog").unwrap().len(), 2);
    let saved = db.sink.states().unwrap();
    assert_eq!(saved[0].latest, r#"{"v":4}"#, "the staged load's position");
    assert_eq!(saved[0].completed.as_deref(), Some(r#"{"v":3}"#));
    assert_eq!(saved[0].unfinished.as_ref().map(|u| u.pages), Some(1));
    let ledger = db.rows("SELECT status, error FROM _sluice_loads ORDER BY load_id DESC LIMIT 1");
    assert_eq!(ledger, [[text("failed"), text("HTTP 500 from /items")]]);

    // A completed replace with no rows empties the table.
    db.load(&s, &[]);
    assert_eq!(db.count("catalog"), 0);
}

#[test]
fn failure_before_any_page_leaves_no_table() {
    let mut db = Db::new();
    for d in [Append, Merge, Replace] {
        let id = db.sink.begin(&spec("never", &["id"], d)).unwrap();
        db.sink.write_page(id, &[], r#"{"empty":true}"#).unwrap();
        db.sink
            .finish(id, Outcome::Failed { error: "boom" })
            .unwrap();
        assert!(!db.table_exists("never"), "{d:?}");
        assert!(!db.table_exists("never__staging"), "{d:?}");
    }
}
