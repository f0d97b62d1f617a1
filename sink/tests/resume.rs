//! Unfinished loads: their pages and positions stay, the next load resumes them, a dead
//! process's `running` loads become `interrupted`, skipped resources are recorded.

mod common;

use common::{Db, spec, text};
use rusqlite::types::Value as Sql;
use serde_json::json;
use sluice_sink::{Outcome, Sink, SqliteSink, WriteDisposition::*};

fn page(ids: std::ops::Range<i64>) -> Vec<serde_json::Value> {
    ids.map(|i| json!({"id": i, "v": i * 10})).collect()
}

#[test]
fn a_failed_merge_load_is_resumed_and_counts_its_pages_on() {
    let mut db = Db::new();
    let s = spec("items", &["id"], Merge);
    let id = db.sink.begin(&s).unwrap();
    db.sink.write_page(id, &page(0..3), r#"{"p":1}"#).unwrap();
    db.sink.write_page(id, &page(3..6), r#"{"p":2}"#).unwrap();
    db.sink
        .finish(id, Outcome::Failed { error: "HTTP 503" })
        .unwrap();

    let saved = db.sink.states().unwrap();
    assert_eq!(saved.len(), 1);
    assert_eq!(saved[0].latest, r#"{"p":2}"#);
    assert_eq!(saved[0].completed, None, "never completed");
    let unfinished = saved[0].unfinished.clone().expect("unfinished");
    assert_eq!((unfinished.load_id, unfinished.pages), (id, 2));

    let second = db.sink.resume(&s, &unfinished).unwrap();
    db.sink
        .write_page(second, &page(6..9), r#"{"p":3}"#)
        .unwrap();
    db.sink.finish(second, Outcome::Interrupted).unwrap();
    let saved = db.sink.states().unwrap();
    let unfinished = saved[0].unfinished.clone().expect("still unfinished");
    assert_eq!(unfinished.pages, 3, "pages of the whole chain");

    let third = db.sink.resume(&s, &unfinished).unwrap();
    db.sink
        .write_page(third, &page(9..10), r#"{"done":1}"#)
        .unwrap();
    db.sink.finish(third, Outcome::Completed).unwrap();
    let saved = db.sink.states().unwrap();
    assert_eq!(saved[0].unfinished, None);
    assert_eq!(saved[0].completed.as_deref(), Some(r#"{"done":1}"#));
    assert_eq!(db.count("items"), 10);
    assert_eq!(
        db.rows("SELECT status, first_page, pages FROM _sluice_loads ORDER BY load_id"),
        [
            [text("failed"), Sql::Integer(1), Sql::Integer(2)],
            [text("interrupted"), Sql::Integer(3), Sql::Integer(1)],
            [text("completed"), Sql::Integer(4), Sql::Integer(1)],
        ]
    );
}

#[test]
fn a_replace_load_resumes_into_its_staging_table_and_swaps_at_the_end() {
    let mut db = Db::new();
    let s = spec("catalog", &["id"], Replace);
    db.load(&s, &[page(100..105)]);
    let id = db.sink.begin(&s).unwrap();
    db.sink.write_page(id, &page(0..3), r#"{"p":1}"#).unwrap();
    db.sink
        .finish(id, Outcome::Failed { error: "timeout" })
        .unwrap();
    assert_eq!(db.count("catalog"), 5, "the old table is untouched");

    let saved = db.sink.states().unwrap();
    assert_eq!(saved[0].latest, r#"{"p":1}"#);
    assert_eq!(saved[0].completed.as_deref(), Some(r#"{"page":0}"#));
    let unfinished = saved[0].unfinished.clone().expect("resumable");

    // A resumed load that fails before its first page stays resumable.
    let empty = db.sink.resume(&s, &unfinished).unwrap();
    db.sink
        .finish(empty, Outcome::Failed { error: "again" })
        .unwrap();
    let unfinished = db.sink.states().unwrap()[0]
        .unfinished
        .clone()
        .expect("still resumable");
    assert_eq!(unfinished.pages, 1);

    let id = db.sink.resume(&s, &unfinished).unwrap();
    db.sink.write_page(id, &page(3..6), r#"{"p":2}"#).unwrap();
    db.sink.finish(id, Outcome::Completed).unwrap();
    assert_eq!(
        db.rows("SELECT id FROM catalog ORDER BY id"),
        (0..6).map(|i| [Sql::Integer(i)]).collect::<Vec<_>>()
    );
    assert!(!db.table_exists("_sluice_staging__catalog"));
    let saved = db.sink.states().unwrap();
    assert_eq!(saved[0].latest, r#"{"p":2}"#);
    assert_eq!(saved[0].unfinished, None);
}

#[test]
fn a_fresh_replace_load_drops_what_an_unfinished_one_staged() {
    let mut db = Db::new();
    let s = spec("catalog", &["id"], Replace);
    let id = db.sink.begin(&s).unwrap();
    db.sink.write_page(id, &page(0..3), r#"{"p":1}"#).unwrap();
    db.sink.finish(id, Outcome::Interrupted).unwrap();
    db.load(&s, &[page(7..8)]);
    assert_eq!(db.rows("SELECT id FROM catalog"), [[Sql::Integer(7)]]);
    assert_eq!(db.sink.states().unwrap()[0].unfinished, None);
}

#[test]
fn loads_left_running_by_a_dead_holder_become_interrupted() {
    let mut db = Db::new();
    let s = spec("items", &["id"], Append);
    let id = db.sink.begin(&s).unwrap();
    db.sink.write_page(id, &page(0..2), r#"{"p":1}"#).unwrap();
    // The holder goes away without finishing (as a killed process would).
    db.sink = SqliteSink::open_in_memory().unwrap();
    let mut next = SqliteSink::open(&db.path).unwrap();
    assert_eq!(next.reclaimed(), 1);
    assert_eq!(
        db.rows("SELECT status FROM _sluice_loads"),
        [[text("interrupted")]]
    );
    let saved = next.states().unwrap();
    assert_eq!(saved[0].unfinished.as_ref().map(|u| u.pages), Some(1));
    let holder = db.rows("SELECT pid FROM _sluice_lease");
    assert_eq!(holder, [[Sql::Integer(i64::from(std::process::id()))]]);
}

#[test]
fn a_skipped_resource_is_in_the_ledger_with_its_reason() {
    let mut db = Db::new();
    db.sink
        .skip(&spec("Comments", &["id"], Merge), "parent `issues` failed")
        .unwrap();
    assert_eq!(
        db.rows("SELECT resource, table_name, status, error FROM _sluice_loads"),
        [[
            text("Comments"),
            text("comments"),
            text("skipped"),
            text("parent `issues` failed")
        ]]
    );
    assert!(db.sink.states().unwrap().is_empty());
}

#[test]
fn a_resumed_merge_key_load_keeps_the_rows_its_first_runs_wrote() {
    // A merge key spans the pages of one load: the rows an interrupted run wrote for a key
    // belong to the same load as those the resuming runs write for it, so they stay (only
    // earlier loads' rows are replaced), and a record's `_dlt_load_id` is the load's, the
    // one of the run that began it.
    let mut db = Db::new();
    let mut s = spec("daily", &[], Merge);
    s.hints.merge_key = vec!["day".into()];
    db.load(&s, &[vec![json!({"day": "d1", "v": 0, "tags": ["old"]})]]);
    let day = |v: i64| json!({"day": "d1", "v": v, "tags": [format!("t{v}")]});
    let first = db.sink.begin(&s).unwrap();
    db.sink.write_page(first, &[day(1)], r#"{"p":1}"#).unwrap();
    db.sink.finish(first, Outcome::Interrupted).unwrap();
    let unfinished = db.sink.states().unwrap()[0].unfinished.clone().unwrap();
    let second = db.sink.resume(&s, &unfinished).unwrap();
    db.sink.write_page(second, &[day(2)], r#"{"p":2}"#).unwrap();
    db.sink
        .finish(second, Outcome::Failed { error: "503" })
        .unwrap();
    let unfinished = db.sink.states().unwrap()[0].unfinished.clone().unwrap();
    let third = db.sink.resume(&s, &unfinished).unwrap();
    db.sink
        .write_page(third, &[day(3)], r#"{"done":1}"#)
        .unwrap();
    db.sink.finish(third, Outcome::Completed).unwrap();
    assert_eq!(
        db.rows("SELECT v, _dlt_load_id FROM daily ORDER BY v"),
        [
            [Sql::Integer(1), text(&first.0.to_string())],
            [Sql::Integer(2), text(&first.0.to_string())],
            [Sql::Integer(3), text(&first.0.to_string())],
        ]
    );
    assert_eq!(
        db.rows("SELECT value FROM daily__tags ORDER BY value"),
        [[text("t1")], [text("t2")], [text("t3")]]
    );
}

/// Records with child rows two levels down: `items__tags` and `items__tags__sub`.
fn nested(ids: std::ops::Range<i64>) -> Vec<serde_json::Value> {
    ids.map(|i| json!({"id": i, "tags": [{"t": i, "sub": [i, i + 1]}]}))
        .collect()
}

#[test]
fn an_append_load_started_over_deletes_what_the_unfinished_one_inserted_and_its_state() {
    let mut db = Db::new();
    let s = spec("items", &[], Append);
    db.load(&s, &[nested(0..2)]);
    // An unfinished load of two runs: pages 1 and 2, in two runs.
    let first = db.sink.begin(&s).unwrap();
    db.sink
        .write_page(first, &nested(10..13), r#"{"p":1}"#)
        .unwrap();
    db.sink
        .finish(first, Outcome::Failed { error: "HTTP 503" })
        .unwrap();
    let unfinished = db.sink.states().unwrap()[0].unfinished.clone().unwrap();
    let second = db.sink.resume(&s, &unfinished).unwrap();
    db.sink
        .write_page(second, &nested(13..15), r#"{"p":2}"#)
        .unwrap();
    db.sink.finish(second, Outcome::Interrupted).unwrap();
    assert_eq!(db.count("items"), 7);
    assert_eq!(db.count("items__tags__sub"), 14);
    let unfinished = db.sink.states().unwrap()[0].unfinished.clone().unwrap();
    assert_eq!(unfinished.pages, 2);

    // Started over, it fails before its first page: what the unfinished load wrote is gone
    // and nothing is left to resume (its rows could not be resumed from).
    let over = db.sink.restart(&s, &unfinished).unwrap();
    let ended = db.sink.finish(over, Outcome::Failed { error: "HTTP 500" });
    assert_eq!(ended.unwrap().discarded, 5, "the records of both runs");
    assert_eq!(db.count("items"), 2, "the completed load's rows stay");
    assert_eq!(db.count("items__tags"), 2);
    assert_eq!(db.count("items__tags__sub"), 4);
    let saved = db.sink.states().unwrap();
    assert_eq!(saved[0].unfinished, None);
    assert_eq!(
        saved[0].latest, r#"{"page":0}"#,
        "the completed load's state"
    );

    // The load that runs again writes every row once.
    let again = db.sink.begin(&s).unwrap();
    db.sink
        .write_page(again, &nested(10..15), r#"{"p":1}"#)
        .unwrap();
    db.sink.finish(again, Outcome::Completed).unwrap();
    assert_eq!(
        db.rows("SELECT id FROM items ORDER BY id"),
        [0, 1, 10, 11, 12, 13, 14].map(|i| vec![Sql::Integer(i)])
    );
    assert_eq!(
        db.rows(
            "SELECT s.value FROM items__tags__sub s JOIN items__tags t ON s._dlt_parent_id = t._dlt_id \
             JOIN items i ON t._dlt_parent_id = i._dlt_id ORDER BY 1"
        )
        .len(),
        14,
        "every grandchild row belongs to a stored record"
    );
    assert_eq!(db.count("items__tags__sub"), 14);
}

#[test]
fn a_load_started_over_before_any_completed_leaves_no_state_and_a_keyed_one_keeps_its_rows() {
    let mut db = Db::new();
    let s = spec("events", &[], Append);
    let first = db.sink.begin(&s).unwrap();
    db.sink
        .write_page(first, &nested(0..3), r#"{"p":1}"#)
        .unwrap();
    db.sink.finish(first, Outcome::Interrupted).unwrap();
    let unfinished = db.sink.states().unwrap()[0].unfinished.clone().unwrap();
    let over = db.sink.restart(&s, &unfinished).unwrap();
    assert!(db.sink.states().unwrap().is_empty(), "no state before it");
    db.sink
        .write_page(over, &nested(0..3), r#"{"p":1}"#)
        .unwrap();
    db.sink.finish(over, Outcome::Completed).unwrap();
    assert_eq!(db.count("events"), 3);
    assert_eq!(db.count("events__tags"), 3);

    // Under merge by primary key the rows are replaced by key: they stay until they are.
    let m = spec("stock", &["id"], Merge);
    let first = db.sink.begin(&m).unwrap();
    db.sink
        .write_page(first, &nested(0..3), r#"{"p":1}"#)
        .unwrap();
    db.sink.finish(first, Outcome::Interrupted).unwrap();
    let saved = db.sink.states().unwrap();
    let unfinished = saved.iter().find(|s| s.resource == "stock").unwrap();
    let over = db
        .sink
        .restart(&m, unfinished.unfinished.as_ref().unwrap())
        .unwrap();
    assert_eq!(db.count("stock"), 3);
    db.sink
        .write_page(over, &nested(0..3), r#"{"p":1}"#)
        .unwrap();
    db.sink.finish(over, Outcome::Completed).unwrap();
    assert_eq!(db.count("stock"), 3);
    assert_eq!(db.count("stock__tags"), 3);
}

#[test]
fn a_replace_load_whose_last_page_committed_is_finished_without_fetching_anything() {
    let mut db = Db::new();
    let s = spec("catalog", &["id"], Replace);
    db.load(&s, &[page(100..105)]);
    let id = db.sink.begin(&s).unwrap();
    let mut normalizer = db.sink.normalizer(id).unwrap();
    let text = |ids| serde_json::to_string(&page(ids)).unwrap();
    let first = normalizer
        .normalize(text(0..3), 3, r#"{"p":1}"#.into())
        .unwrap();
    let mut last = normalizer
        .normalize(text(3..5), 2, r#"{"p":2}"#.into())
        .unwrap();
    last.set_last();
    db.sink.write_normalized(id, &[first]).unwrap();
    let saved = db.sink.states().unwrap();
    assert!(
        !saved[0].unfinished.as_ref().unwrap().fetched,
        "a page follows"
    );
    db.sink.write_normalized(id, &[last]).unwrap();
    // The process ends before the swap.
    db.sink = SqliteSink::open_in_memory().unwrap();
    let mut next = SqliteSink::open(&db.path).unwrap();
    assert_eq!(db.count("catalog"), 5, "the old table, whole");
    let unfinished = next.states().unwrap()[0].unfinished.clone().unwrap();
    assert_eq!((unfinished.pages, unfinished.fetched), (2, true));

    // Finishing it swaps in what every page staged.
    let again = next.resume(&s, &unfinished).unwrap();
    next.finish(again, Outcome::Completed).unwrap();
    assert_eq!(
        db.rows("SELECT id FROM catalog ORDER BY id"),
        (0..5).map(|i| vec![Sql::Integer(i)]).collect::<Vec<_>>()
    );
    let saved = next.states().unwrap();
    assert_eq!(saved[0].unfinished, None);
    assert_eq!(saved[0].latest, r#"{"p":2}"#);
}
