//! dlt's merge hints on columns against a real SQLite file: `hard_delete` and `dedup_sort`,
//! with the examples of dlt's merge-loading documentation.

mod common;

use common::{Db, spec, text};

fn hint(name: &str) -> ColumnHint {
    common::hint(name, None)
}
use rusqlite::types::Value as Sql;
use serde_json::json;
use sluice_sink::{
    ColumnHint, DataType, Outcome, Sink, SortOrder, TableHints, TableSpec, WriteDisposition,
};

fn deleted(name: &str) -> ColumnHint {
    ColumnHint {
        hard_delete: true,
        ..hint(name)
    }
}

fn sorted(name: &str, order: SortOrder) -> ColumnHint {
    ColumnHint {
        dedup_sort: Some(order),
        ..hint(name)
    }
}

fn merge(pk: &[&str], columns: Vec<ColumnHint>, merge_key: &[&str]) -> TableSpec {
    let mut s = spec("items", pk, WriteDisposition::Merge);
    s.hints = TableHints {
        columns,
        merge_key: merge_key.iter().map(|k| k.to_string()).collect(),
        ..TableHints::default()
    };
    s
}

fn int(i: i64) -> Sql {
    Sql::Integer(i)
}

#[test]
fn hard_delete_by_primary_key_deletes_the_record_and_its_child_rows() {
    let mut db = Db::new();
    let s = merge(&["id"], vec![deleted("deleted_flag")], &[]);
    db.load(
        &s,
        &[vec![
            json!({"id": 1, "val": "foo", "deleted_flag": false, "tags": ["a", "b"]}),
            json!({"id": 2, "val": "bar", "deleted_flag": null, "tags": ["c"]}),
            json!({"id": 3, "val": "baz"}),
        ]],
    );
    db.load(
        &s,
        &[
            // Only the key and the marked column suffice.
            vec![json!({"id": 1, "deleted_flag": true})],
            // Marked then unmarked in one page: the last record wins, as without the hint.
            vec![
                json!({"id": 4, "val": "new", "deleted_flag": true}),
                json!({"id": 4, "val": "back", "deleted_flag": false}),
            ],
            // A record of this load deleted by a later page; an unknown key deletes nothing.
            vec![json!({"id": 5, "val": "brief"})],
            vec![
                json!({"id": 5, "deleted_flag": true}),
                json!({"id": 99, "deleted_flag": true}),
            ],
        ],
    );
    assert_eq!(
        db.rows("SELECT id, val FROM items ORDER BY id"),
        [
            [int(2), text("bar")],
            [int(3), text("baz")],
            [int(4), text("back")]
        ]
    );
    assert_eq!(
        db.rows("SELECT value FROM items__tags ORDER BY value"),
        [[text("c")]],
        "the deleted record's child rows went with it"
    );
}

#[test]
fn hard_delete_by_merge_key_with_a_non_boolean_column() {
    // dlt: for a column that is not a boolean, any value deletes.
    let mut db = Db::new();
    let s = merge(&[], vec![deleted("deleted_at_ts")], &["id"]);
    db.load(
        &s,
        &[vec![
            json!({"id": 1, "val": "foo", "deleted_at_ts": null}),
            json!({"id": 1, "val": "bar", "deleted_at_ts": null}),
            json!({"id": 2, "val": "other"}),
        ]],
    );
    assert_eq!(db.count("items"), 3);
    db.load(
        &s,
        &[vec![
            json!({"id": 1, "val": "foo", "deleted_at_ts": "2024-02-22T12:34:56Z"}),
        ]],
    );
    assert_eq!(
        db.rows("SELECT id, val FROM items ORDER BY id"),
        [[int(2), text("other")]]
    );
}

#[test]
fn a_boolean_hard_delete_column_deletes_only_on_true() {
    let mut db = Db::new();
    let mut flag = deleted("gone");
    flag.data_type = Some(DataType::Bool);
    let s = merge(&["id"], vec![flag], &[]);
    db.load(
        &s,
        &[vec![
            json!({"id": 1, "gone": "false"}),
            json!({"id": 2, "gone": 0}),
            json!({"id": 3}),
        ]],
    );
    db.load(
        &s,
        &[vec![
            json!({"id": 1, "gone": "no"}),
            json!({"id": 2, "gone": "true"}),
        ]],
    );
    assert_eq!(
        db.rows("SELECT id FROM items ORDER BY id"),
        [[int(1)], [int(3)]]
    );
}

#[test]
fn hard_delete_is_a_merge_hint_append_loads_the_record() {
    let mut db = Db::new();
    let mut s = merge(&["id"], vec![deleted("deleted_flag")], &[]);
    s.disposition = WriteDisposition::Append;
    db.load(&s, &[vec![json!({"id": 1, "deleted_flag": true})]]);
    assert_eq!(db.count("items"), 1);
}

#[test]
fn dedup_sort_keeps_the_highest_and_the_first_on_a_tie() {
    // dlt's example: id 1 keeps B (the later date), id 2 keeps C (a tie: the first).
    let mut db = Db::new();
    let s = merge(
        &["id"],
        vec![sorted("metadata_modified", SortOrder::Desc)],
        &[],
    );
    db.load(
        &s,
        &[vec![
            json!({"id": 1, "metadata_modified": "2024-01-01", "value": "A"}),
            json!({"id": 1, "metadata_modified": "2024-01-02", "value": "B"}),
            json!({"id": 2, "metadata_modified": "2024-01-01", "value": "C"}),
            json!({"id": 2, "metadata_modified": "2024-01-01", "value": "D"}),
        ]],
    );
    assert_eq!(
        db.rows("SELECT id, value FROM items ORDER BY id"),
        [[int(1), text("B")], [int(2), text("C")]]
    );
    // A later load replaces the stored records whatever their dates: dlt deduplicates
    // within a load.
    db.load(
        &s,
        &[vec![
            json!({"id": 1, "metadata_modified": "2023-12-31", "value": "older"}),
        ]],
    );
    assert_eq!(
        db.rows("SELECT value FROM items WHERE id = 1"),
        [[text("older")]]
    );
}

#[test]
fn dedup_sort_across_the_pages_of_a_load_and_ascending() {
    let mut db = Db::new();
    let s = merge(&["id"], vec![sorted("lsn", SortOrder::Desc)], &[]);
    db.load(
        &s,
        &[
            vec![json!({"id": 1, "lsn": 5, "v": "five"})],
            vec![json!({"id": 1, "lsn": 3, "v": "three"})],
            vec![json!({"id": 1, "lsn": 9, "v": "nine", "tags": ["t"]})],
            vec![json!({"id": 1, "lsn": 9, "v": "nine again"})],
        ],
    );
    assert_eq!(db.rows("SELECT v FROM items"), [[text("nine")]]);
    assert_eq!(db.rows("SELECT value FROM items__tags"), [[text("t")]]);

    let mut db = Db::new();
    let s = merge(&["id"], vec![sorted("price", SortOrder::Asc)], &[]);
    db.load(
        &s,
        &[
            vec![json!({"id": 1, "price": "10.50"})],
            vec![
                json!({"id": 1, "price": "9.75"}),
                json!({"id": 1, "price": null}),
            ],
        ],
    );
    assert_eq!(db.rows("SELECT price FROM items"), [[text("9.75")]]);
}

#[test]
fn dedup_sort_picks_first_then_hard_delete_decides() {
    // dlt's example: id 1 loads the record with lsn 3; id 2 loads nothing, its latest
    // record is a delete.
    let mut db = Db::new();
    let s = merge(
        &["id"],
        vec![deleted("deleted_flag"), sorted("lsn", SortOrder::Desc)],
        &[],
    );
    db.load(
        &s,
        &[
            vec![
                json!({"id": 1, "val": "foo", "lsn": 1, "deleted_flag": null}),
                json!({"id": 1, "val": "baz", "lsn": 3, "deleted_flag": null}),
                json!({"id": 1, "val": "bar", "lsn": 2, "deleted_flag": true}),
            ],
            vec![
                json!({"id": 2, "val": "foo", "lsn": 1, "deleted_flag": false}),
                json!({"id": 2, "lsn": 2, "deleted_flag": true}),
            ],
        ],
    );
    assert_eq!(
        db.rows("SELECT id, val, lsn FROM items ORDER BY id"),
        [[int(1), text("baz"), int(3)]]
    );
}

#[test]
fn a_record_marked_deleted_needs_only_its_key_and_the_mark() {
    // `name` may not be null, but a delete carries no name.
    let mut name = hint("name");
    name.nullable = Some(false);
    let mut db = Db::new();
    let s = merge(&["id"], vec![deleted("deleted"), name], &[]);
    db.load(
        &s,
        &[vec![
            json!({"id": 1, "name": "a"}),
            json!({"id": 2, "name": "b"}),
        ]],
    );
    db.load(&s, &[vec![json!({"id": 1, "deleted": true})]]);
    assert_eq!(db.rows("SELECT id FROM items"), [[int(2)]]);
    let id = db.sink.begin(&s).unwrap();
    let err = db
        .sink
        .write_page(id, &[json!({"id": 3, "deleted": false})], "{}")
        .unwrap_err()
        .to_string();
    assert!(err.contains("has no value for column `name`"), "{err}");
    db.sink.finish(id, Outcome::Failed { error: &err }).unwrap();
}

#[test]
fn insert_only_leaves_stored_records_as_they_are() {
    // dlt's `insert-only` strategy: new keys are inserted, stored ones never updated nor
    // deleted; a record marked deleted is only kept out.
    let mut db = Db::new();
    let mut s = merge(&["id"], vec![deleted("deleted")], &[]);
    s.hints.merge_strategy = Some(sluice_sink::MergeStrategy::InsertOnly);
    db.load(
        &s,
        &[vec![
            json!({"id": 1, "v": "a", "tags": ["t1"]}),
            json!({"id": 2, "v": "b"}),
        ]],
    );
    db.load(
        &s,
        &[
            vec![
                json!({"id": 1, "v": "a2", "tags": ["t2"]}),
                json!({"id": 3, "v": "c"}),
                json!({"id": 4, "v": "d", "deleted": true}),
                json!({"id": 2, "deleted": true}),
            ],
            vec![json!({"id": 3, "v": "c again"})],
        ],
    );
    assert_eq!(
        db.rows("SELECT id, v FROM items ORDER BY id"),
        [
            [int(1), text("a")],
            [int(2), text("b")],
            [int(3), text("c")]
        ]
    );
    assert_eq!(db.rows("SELECT value FROM items__tags"), [[text("t1")]]);
}

#[test]
fn upsert_ids_are_dlt_s_hashes_of_the_key_and_stay_from_load_to_load() {
    // dlt 1.31.0 gives the record with id 1 `_dlt_id` z5jIxXIbUnmbKw and its first tag
    // GDkSJA8BDB4ssw (`get_row_hash`, `get_nested_row_hash`).
    let mut db = Db::new();
    let mut s = merge(&["id"], Vec::new(), &[]);
    s.hints.merge_strategy = Some(sluice_sink::MergeStrategy::Upsert);
    db.load(&s, &[vec![json!({"id": 1, "v": "a", "tags": ["x", "y"]})]]);
    db.load(&s, &[vec![json!({"id": 1, "v": "b", "tags": ["z"]})]]);
    assert_eq!(
        db.rows("SELECT v, _dlt_id FROM items"),
        [[text("b"), text("z5jIxXIbUnmbKw")]]
    );
    assert_eq!(
        db.rows("SELECT value, _dlt_id, _dlt_parent_id, _dlt_root_id FROM items__tags"),
        [[
            text("z"),
            text("GDkSJA8BDB4ssw"),
            text("z5jIxXIbUnmbKw"),
            text("z5jIxXIbUnmbKw")
        ]],
        "the update replaced the child rows, ids and all"
    );
}

#[test]
fn insert_only_ids_reach_the_grandchild_rows() {
    // dlt 1.31.0: the second line of record 1 is wP0RSZqSK0qbmg, its first part
    // RT2iaCOyKncEnw.
    let mut db = Db::new();
    let mut s = merge(&["id"], Vec::new(), &[]);
    s.hints.merge_strategy = Some(sluice_sink::MergeStrategy::InsertOnly);
    db.load(
        &s,
        &[vec![
            json!({"id": 1, "lines": [{"n": 0}, {"n": 1, "parts": ["p"]}]}),
        ]],
    );
    assert_eq!(
        db.rows("SELECT _dlt_id FROM items__lines WHERE n = 1"),
        [[text("wP0RSZqSK0qbmg")]]
    );
    assert_eq!(
        db.rows("SELECT value, _dlt_id, _dlt_parent_id, _dlt_root_id FROM items__lines__parts"),
        [[
            text("p"),
            text("RT2iaCOyKncEnw"),
            text("wP0RSZqSK0qbmg"),
            text("z5jIxXIbUnmbKw")
        ]]
    );
}
