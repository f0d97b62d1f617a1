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

    // A new column plus a value that does not fit its column (a variant column, as dlt
    // makes) on a merge table keeps the upsert working.
    db.load(
        &s,
        &[vec![
            json!({"sku": "A", "qty": 1.5, "loc": "x", "extra": 1}),
            json!({"sku": "D", "qty": 4}),
        ]],
    );
    assert_eq!(db.count("stock"), 4);
    assert_eq!(
        db.rows("SELECT qty, qty__v_double, extra FROM stock WHERE sku='A'"),
        [[Sql::Null, Sql::Real(1.5), Sql::Integer(1)]]
    );
    db.load(&s, &[vec![json!({"sku": "A", "qty": 9})]]);
    assert_eq!(db.count("stock"), 4);
    assert_eq!(
        db.rows("SELECT qty, qty__v_double, extra FROM stock WHERE sku='A'"),
        [[Sql::Integer(9), Sql::Null, Sql::Null]]
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
    assert!(!db.table_exists("_sluice_staging__catalog"));

    // Second run: while it runs the old table is what readers see.
    let id = db.sink.begin(&s).unwrap();
    db.sink
        .write_page(id, &[json!({"id": 10, "name": "new"})], r#"{"v":2}"#)
        .unwrap();
    db.sink
        .write_page(id, &[json!({"id": 11, "name": "newer"})], r#"{"v":3}"#)
        .unwrap();
    assert_eq!(db.count("catalog"), 3);
    assert_eq!(db.count("_sluice_staging__catalog"), 2);
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
    assert!(!db.table_exists("_sluice_staging__catalog"));
    let names: Vec<String> = db
        .sink
        .columns("catalog")
        .unwrap()
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(
        names,
        ["id", "name", "_dlt_load_id", "_dlt_id"],
        "column metadata moved with the swap"
    );
    assert!(
        db.sink
            .columns("_sluice_staging__catalog")
            .unwrap()
            .is_empty()
    );
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
        db.count("_sluice_staging__catalog"),
        1,
        "staged pages kept for a resume"
    );
    assert_eq!(db.sink.columns("catalog").unwrap().len(), 4);
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
        assert!(!db.table_exists("_sluice_staging__never"), "{d:?}");
    }
}

/// `(id, [tag values in list order])` for every record, read through the child table's links.
fn tags_of(db: &Db, table: &str) -> Vec<(i64, Vec<String>)> {
    let rows = db.rows(&format!(
        "SELECT r.id, t.value FROM {table} r LEFT JOIN {table}__tags t ON t._dlt_parent_id = r._dlt_id \
         ORDER BY r.id, t._dlt_list_idx"
    ));
    let mut out: Vec<(i64, Vec<String>)> = Vec::new();
    for row in rows {
        let Sql::Integer(id) = row[0] else {
            panic!("{row:?}")
        };
        if out.last().is_none_or(|(last, _)| *last != id) {
            out.push((id, Vec::new()));
        }
        if let Sql::Text(t) = &row[1] {
            out.last_mut().unwrap().1.push(t.clone());
        }
    }
    out
}

#[test]
fn merge_replaces_the_child_rows_of_each_merged_record() {
    let mut db = Db::new();
    let s = spec("items", &["id"], Merge);
    db.load(
        &s,
        &[vec![
            json!({"id": 1, "tags": ["a", "b"]}),
            json!({"id": 2, "tags": ["c"]}),
            json!({"id": 3, "tags": ["d", "e"]}),
        ]],
    );
    // 1 grows, 2 empties, 3 shrinks (and appears twice in the page: the last one wins).
    db.load(
        &s,
        &[vec![
            json!({"id": 3, "tags": ["x", "y", "z"]}),
            json!({"id": 1, "tags": ["a", "b", "f"]}),
            json!({"id": 2, "tags": []}),
            json!({"id": 3, "tags": ["d"]}),
        ]],
    );
    let s_ = |v: &[&str]| v.iter().map(|t| (*t).to_owned()).collect::<Vec<_>>();
    assert_eq!(
        tags_of(&db, "items"),
        [(1, s_(&["a", "b", "f"])), (2, vec![]), (3, s_(&["d"]))]
    );
    let orphans = db.rows(
        "SELECT COUNT(*) FROM items__tags t WHERE NOT EXISTS \
         (SELECT 1 FROM items r WHERE r._dlt_id = t._dlt_root_id)",
    );
    assert_eq!(orphans, [[Sql::Integer(0)]], "no orphans");
    assert_eq!(db.count("items__tags"), 4);
}

#[test]
fn append_and_replace_with_child_tables() {
    let mut db = Db::new();
    let page = vec![
        json!({"id": 1, "tags": ["a"]}),
        json!({"id": 2, "tags": ["b", "c"]}),
    ];
    let append = spec("log", &[], Append);
    db.load(&append, std::slice::from_ref(&page));
    db.load(&append, std::slice::from_ref(&page));
    assert_eq!(
        (db.count("log"), db.count("log__tags")),
        (4, 6),
        "append keeps both"
    );
    assert!(
        db.sink
            .columns("log__tags")
            .unwrap()
            .iter()
            .all(|c| c.name != "_dlt_root_id"),
        "_dlt_root_id only under merge"
    );

    let replace = spec("cat", &["id"], Replace);
    db.load(&replace, std::slice::from_ref(&page));
    db.load(&replace, &[vec![json!({"id": 9, "tags": ["z"]})]]);
    let s_ = |v: &[&str]| v.iter().map(|t| (*t).to_owned()).collect::<Vec<_>>();
    assert_eq!(tags_of(&db, "cat"), [(9, s_(&["z"]))]);
    // A replace whose records have no list any more empties the child table too.
    db.load(&replace, &[vec![json!({"id": 10})]]);
    assert_eq!((db.count("cat"), db.count("cat__tags")), (1, 0));
    assert!(!db.table_exists("_sluice_staging__cat__tags"));
}

#[test]
fn a_field_a_later_record_lacks_is_null_in_its_row() {
    // Rows are bound value by value into cached multi-row statements: a column a record has
    // no value for must come out NULL, not the value the statement held before.
    for disposition in [Append, Merge] {
        let mut db = Db::new();
        let id = db
            .sink
            .begin(&spec("sparse", &["id"], disposition))
            .unwrap();
        db.sink
            .write_page(id, &[json!({"id": 1, "x": "a", "n": 5})], "{}")
            .unwrap();
        db.sink
            .write_page(id, &[json!({"id": 2}), json!({"id": 3, "n": null})], "{}")
            .unwrap();
        db.sink
            .write_page(id, &[json!({"id": 4, "x": "b"})], "{}")
            .unwrap();
        db.sink.finish(id, Outcome::Completed).unwrap();
        assert_eq!(
            db.rows("SELECT id, x, n FROM sparse ORDER BY id"),
            [
                vec![Sql::Integer(1), text("a"), Sql::Integer(5)],
                vec![Sql::Integer(2), Sql::Null, Sql::Null],
                vec![Sql::Integer(3), Sql::Null, Sql::Null],
                vec![Sql::Integer(4), text("b"), Sql::Null],
            ],
            "{disposition:?}"
        );
    }
}

#[test]
fn merge_within_one_load_replaces_the_child_rows_of_an_earlier_page_at_every_depth() {
    let mut db = Db::new();
    let s = spec("items", &["id"], Merge);
    db.load(
        &s,
        &[
            // Page 1 creates the child tables (and a grandchild table).
            vec![
                json!({"id": 1, "tags": ["a", "b"], "parts": [{"n": 1, "subs": ["x", "y"]}]}),
                json!({"id": 2, "tags": ["c"]}),
            ],
            // Page 2 brings a child table of its own.
            vec![json!({"id": 3, "notes": ["n1"], "tags": ["d"]})],
            // Page 3 repeats the keys of pages 1 and 2 with emptied or shorter lists.
            vec![
                json!({"id": 1, "tags": [], "parts": [{"n": 2, "subs": []}]}),
                json!({"id": 3, "notes": [], "tags": ["e"]}),
            ],
        ],
    );
    let s_ = |v: &[&str]| v.iter().map(|t| (*t).to_owned()).collect::<Vec<_>>();
    assert_eq!(
        tags_of(&db, "items"),
        [(1, vec![]), (2, s_(&["c"])), (3, s_(&["e"]))]
    );
    assert_eq!(db.count("items__notes"), 0, "a child table made mid-load");
    assert_eq!(db.count("items__parts"), 1);
    assert_eq!(db.count("items__parts__subs"), 0, "grandchild rows too");
    for child in [
        "items__tags",
        "items__notes",
        "items__parts",
        "items__parts__subs",
    ] {
        let orphans = db.rows(&format!(
            "SELECT COUNT(*) FROM {child} t WHERE NOT EXISTS \
             (SELECT 1 FROM items r WHERE r._dlt_id = t._dlt_root_id)"
        ));
        assert_eq!(orphans, [[Sql::Integer(0)]], "no orphans in {child}");
    }
}
