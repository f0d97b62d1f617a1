//! Transactions, state checkpoints and the load ledger.

mod common;

use common::{Db, latest, spec, text};
use rusqlite::types::Value as Sql;
use serde_json::json;
use sluice_sink::{LoadId, Outcome, Sink, SinkError, SqliteSink, WriteDisposition::*};

#[test]
fn bad_record_rolls_back_its_whole_page_including_state() {
    let mut db = Db::new();
    let s = spec("orders", &["id"], Merge);
    let id = db.sink.begin(&s).unwrap();
    db.sink
        .write_page(id, &[json!({"id": 1, "v": "a"})], r#"{"cursor":"1"}"#)
        .unwrap();
    let bad = [
        json!({"id": 2, "v": "b", "new_col": 1}),
        json!({"v": "c", "token": "s3cr3t-value"}),
        json!({"id": 4}),
    ];
    let err = db
        .sink
        .write_page(id, &bad, r#"{"cursor":"4"}"#)
        .unwrap_err();
    assert!(
        matches!(&err, SinkError::MissingPrimaryKey { table, index: 1, key } if table == "orders" && key == "id"),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(
        !msg.contains("s3cr3t") && !format!("{err:?}").contains("s3cr3t"),
        "{msg}"
    );
    assert!(
        msg.contains("orders") && msg.contains("record 1") && msg.contains("`id`"),
        "{msg}"
    );
    let null_key = [json!({"id": null})];
    assert!(matches!(
        db.sink.write_page(id, &null_key, "{}"),
        Err(SinkError::MissingPrimaryKey { index: 0, .. })
    ));
    let not_object = [json!({"id": 5}), json!([1])];
    let err = db.sink.write_page(id, &not_object, "{}").unwrap_err();
    assert!(
        err.to_string().contains("record 1") && err.to_string().contains("array"),
        "{err}"
    );

    assert_eq!(
        db.count("orders"),
        1,
        "nothing of the bad pages was written"
    );
    assert_eq!(
        db.sink.columns("orders").unwrap().len(),
        4,
        "no DDL from the bad page (id plus dlt's _dlt_load_id and _dlt_id)"
    );
    assert_eq!(
        latest(db.sink.states().unwrap()),
        [("orders".to_owned(), r#"{"cursor":"1"}"#.to_owned())]
    );
    // The load can go on after a rejected page.
    db.sink
        .write_page(id, &[json!({"id": 2, "v": "b"})], r#"{"cursor":"2"}"#)
        .unwrap();
    let summary = db.sink.finish(id, Outcome::Completed).unwrap();
    assert_eq!((summary.rows, summary.pages), (2, 2));
    assert_eq!(
        db.rows("SELECT rows, pages FROM _sluice_loads"),
        [[Sql::Integer(2), Sql::Integer(2)]]
    );
}

#[test]
fn bad_first_page_creates_no_table() {
    let mut db = Db::new();
    let id = db.sink.begin(&spec("t", &["id"], Append)).unwrap();
    assert!(db.sink.write_page(id, &[json!({"x": 1})], "{}").is_err());
    assert!(!db.table_exists("t"));
    assert!(latest(db.sink.states().unwrap()).is_empty());
}

#[test]
fn state_roundtrips_across_reopen() {
    let mut db = Db::new();
    db.load(
        &spec("a", &[], Append),
        &[vec![json!({"x": 1})], vec![json!({"x": 2})]],
    );
    db.load(&spec("b", &["k"], Merge), &[vec![json!({"k": 1})]]);
    let busy = SqliteSink::open(&db.path).unwrap_err();
    assert!(matches!(busy, SinkError::Busy { .. }), "{busy}");
    let said = busy.to_string();
    assert!(
        said.contains(&format!("pid {}", std::process::id())),
        "{said}"
    );
    // Dropping the holder releases the database.
    db.sink = SqliteSink::open_in_memory().unwrap();
    let mut reopened = SqliteSink::open(&db.path).unwrap();
    let states = latest(reopened.states().unwrap());
    assert_eq!(
        states,
        [
            ("a".to_owned(), r#"{"page":1}"#.to_owned()),
            ("b".to_owned(), r#"{"page":0}"#.to_owned())
        ]
    );
    // Schema metadata survives too: a reopened sink keeps evolving the same table.
    let id = reopened.begin(&spec("a", &[], Append)).unwrap();
    reopened
        .write_page(id, &[json!({"x": 3, "y": "new"})], r#"{"page":9}"#)
        .unwrap();
    reopened.finish(id, Outcome::Completed).unwrap();
    assert_eq!(
        db.rows("SELECT x, y FROM a ORDER BY x"),
        [
            [Sql::Integer(1), Sql::Null],
            [Sql::Integer(2), Sql::Null],
            [Sql::Integer(3), text("new")]
        ]
    );
    assert_eq!(
        db.inspect()
            .query_row("PRAGMA journal_mode", [], |r| r.get::<_, String>(0))
            .unwrap(),
        "wal"
    );
}

#[test]
fn ledger_tracks_rows_pages_and_status() {
    let mut db = Db::new();
    let id = db.sink.begin(&spec("Items", &["id"], Append)).unwrap();
    let running = db.rows(&format!(
        "SELECT resource, table_name, status, finished_at FROM _sluice_loads WHERE load_id = {}",
        id.0
    ));
    assert_eq!(
        running,
        [[text("Items"), text("items"), text("running"), Sql::Null]]
    );
    assert!(!db.table_exists("items"), "begin creates no data table");
    db.sink
        .write_page(id, &[json!({"id": 1}), json!({"id": 2})], "{}")
        .unwrap();
    db.sink.write_page(id, &[json!({"id": 3})], "{}").unwrap();
    let summary = db.sink.finish(id, Outcome::Completed).unwrap();
    assert_eq!(summary.load_id, id);
    assert_eq!(
        (
            summary.resource.as_str(),
            summary.rows,
            summary.pages,
            summary.status.as_str()
        ),
        ("Items", 3, 2, "completed")
    );
    let row = db.rows(&format!("SELECT status, rows, pages, error, finished_at IS NOT NULL, started_at FROM _sluice_loads WHERE load_id = {}", id.0));
    assert_eq!(
        row[0][..5],
        [
            text("completed"),
            Sql::Integer(3),
            Sql::Integer(2),
            Sql::Null,
            Sql::Integer(1)
        ]
    );
    let Sql::Text(started) = &row[0][5] else {
        panic!("started_at: {:?}", row[0][5])
    };
    assert!(started.ends_with('Z') && started.contains('T'), "{started}");

    let second = db.sink.begin(&spec("Items", &["id"], Append)).unwrap();
    assert!(second.0 > id.0);
    db.sink
        .write_page(second, &[json!({"id": 4})], "{}")
        .unwrap();
    let failed = db
        .sink
        .finish(second, Outcome::Failed { error: "timeout" })
        .unwrap();
    assert_eq!((failed.status.as_str(), failed.rows), ("failed", 1));
    assert_eq!(
        db.count("items"),
        4,
        "append pages of a failed load stay committed"
    );
    assert!(
        matches!(db.sink.finish(second, Outcome::Completed), Err(SinkError::UnknownLoad(LoadId(n))) if n == second.0)
    );
    assert!(matches!(
        db.sink.write_page(LoadId(999), &[], "{}"),
        Err(SinkError::UnknownLoad(_))
    ));
}

#[test]
fn many_rows_load_in_pages() {
    let mut db = Db::new();
    let pages: Vec<Vec<_>> = (0..20)
        .map(|p| (0..1000).map(|i| json!({"id": p * 1000 + i, "name": format!("item {i}"), "price": 1.5, "meta": {"w": i}})).collect())
        .collect();
    let started = std::time::Instant::now();
    db.load(&spec("bulk", &["id"], Merge), &pages);
    eprintln!("20k merged rows in {:?}", started.elapsed());
    assert_eq!(db.count("bulk"), 20_000);
    assert_eq!(
        db.rows("SELECT SUM(meta__w) FROM bulk"),
        [[Sql::Integer(20 * 999 * 1000 / 2)]]
    );
}

#[test]
fn in_memory_sink_loads_and_reports() {
    let mut sink = SqliteSink::open_in_memory().unwrap();
    let id = sink.begin(&spec("mem", &["id"], Merge)).unwrap();
    sink.write_page(
        id,
        &[json!({"id": 1, "v": 1}), json!({"id": 1, "v": 2})],
        r#"{"n":1}"#,
    )
    .unwrap();
    let summary = sink.finish(id, Outcome::Completed).unwrap();
    assert_eq!((summary.rows, summary.pages), (2, 1));
    let cols = sink.columns("mem").unwrap();
    assert_eq!(cols.len(), 4);
    assert!(cols[0].primary_key && !cols[0].nullable);
    assert!(!cols[1].primary_key && cols[1].nullable);
    assert_eq!(
        latest(sink.states().unwrap()),
        [("mem".to_owned(), r#"{"n":1}"#.to_owned())]
    );
    assert!(sink.columns("nope").unwrap().is_empty());
}

#[test]
fn database_error_mid_page_rolls_back_ddl_rows_and_state() {
    let mut db = Db::new();
    let dup = vec![json!({"id": 1, "v": "a"}), json!({"id": 1, "v": "b"})];
    db.load(&spec("dups", &["id"], Append), &[dup]);
    let before = latest(db.sink.states().unwrap());
    let id = db.sink.begin(&spec("dups", &["id"], Merge)).unwrap();
    // The ALTER TABLE for `extra` runs first; the unique index then fails on the duplicates.
    let err = db
        .sink
        .write_page(id, &[json!({"id": 2, "extra": 1})], r#"{"merged":true}"#)
        .unwrap_err();
    assert!(
        matches!(&err, SinkError::Database { table, .. } if table == "dups"),
        "{err:?}"
    );
    let names: Vec<String> = db
        .sink
        .columns("dups")
        .unwrap()
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(
        names,
        ["id", "v", "_dlt_load_id", "_dlt_id"],
        "metadata rolled back"
    );
    let declared = db.rows("SELECT name FROM pragma_table_info('dups')");
    assert_eq!(declared.len(), 4, "ALTER TABLE rolled back");
    assert_eq!(db.count("dups"), 2);
    assert_eq!(latest(db.sink.states().unwrap()), before);
    let summary = db
        .sink
        .finish(id, Outcome::Failed { error: "index" })
        .unwrap();
    assert_eq!((summary.rows, summary.pages), (0, 0));
}

#[test]
fn a_page_given_as_text_loads_like_parsed_records_and_bad_text_writes_nothing() {
    let mut db = Db::new();
    let s = spec("orders", &["id"], Merge);
    let id = db.sink.begin(&s).unwrap();
    let page = r#"[{"id": 1, "v": "a\"b", "at": "2024-05-01", "n": {"x": 2}},
                   {"id": 2, "v": "plain", "tags": ["t"]}]"#;
    assert_eq!(
        db.sink.write_page_text(id, page, 2, r#"{"p":1}"#).unwrap(),
        2
    );
    assert_eq!(
        db.rows("SELECT id, v, at, n__x FROM orders ORDER BY id"),
        [
            [
                Sql::Integer(1),
                text("a\"b"),
                text("2024-05-01"),
                Sql::Integer(2),
            ],
            [Sql::Integer(2), text("plain"), Sql::Null, Sql::Null],
        ]
    );
    assert_eq!(
        db.rows(
            "SELECT t.value, t._dlt_list_idx FROM orders__tags t \
             JOIN orders o ON o._dlt_id = t._dlt_parent_id AND o._dlt_id = t._dlt_root_id \
             WHERE o.id = 2"
        ),
        [[text("t"), Sql::Integer(0)]]
    );
    for (bad, count, needle) in [
        (r#"[{"id": 3}]"#, 2, "it holds 1"),
        (r#"[{"id": 3}, "#, 2, "JSON array of 2 records"),
        (
            r#"[{"id": 3}, 4]"#,
            2,
            "record 1 of the page is a JSON number",
        ),
        (r#"[{"v": "no key"}]"#, 1, "primary key `id`"),
    ] {
        let err = db.sink.write_page_text(id, bad, count, "{}").unwrap_err();
        assert!(err.to_string().contains(needle), "{bad}: {err}");
    }
    assert_eq!(
        db.count("orders"),
        2,
        "nothing of the bad pages was written"
    );
    assert_eq!(
        latest(db.sink.states().unwrap()),
        [("orders".to_owned(), r#"{"p":1}"#.to_owned())]
    );
}

#[test]
fn a_group_of_pages_commits_together_and_a_bad_page_keeps_the_ones_before_it() {
    use sluice_sink::PageText;
    let mut db = Db::new();
    let s = spec("grouped", &["id"], Merge);
    let id = db.sink.begin(&s).unwrap();
    let page = |records: &'static str, count: u32, state: &'static str| PageText {
        records,
        count,
        state,
    };
    let pages = [
        page(r#"[{"id": 1, "tags": ["a"]}]"#, 1, r#"{"p":1}"#),
        page(r#"[{"id": 2, "tags": ["b"]}]"#, 1, r#"{"p":2}"#),
        page(r#"[{"id": 3}, 4]"#, 2, r#"{"p":3}"#),
        page(r#"[{"id": 5}]"#, 1, r#"{"p":4}"#),
    ];
    let (k, err) = db.sink.write_pages_text(id, &pages).unwrap_err();
    assert_eq!(k, 2, "{err}");
    assert!(err.to_string().contains("record 1"), "{err}");
    assert_eq!(
        db.count("grouped"),
        2,
        "the pages before the bad one are written"
    );
    assert_eq!(db.count("grouped__tags"), 2);
    assert_eq!(
        latest(db.sink.states().unwrap()),
        [("grouped".to_owned(), r#"{"p":2}"#.to_owned())]
    );
    assert_eq!(
        db.sink.write_pages_text(id, &pages[3..]).unwrap(),
        1,
        "the load goes on after"
    );
    let summary = db.sink.finish(id, Outcome::Completed).unwrap();
    assert_eq!((summary.rows, summary.pages), (3, 3));
    assert_eq!(
        summary.tables,
        [("grouped".to_owned(), 3), ("grouped__tags".to_owned(), 2)]
    );
}

#[test]
fn pages_normalized_on_another_thread_are_written_in_order() {
    let mut db = Db::new();
    let id = db.sink.begin(&spec("threaded", &["id"], Merge)).unwrap();
    let mut normalizer = db.sink.normalizer(id).unwrap();
    // One normalizer a load: taken once, and the text path refuses the load's pages after.
    let again = db.sink.normalizer(id).unwrap_err().to_string();
    assert!(again.contains("taken elsewhere"), "{again}");
    let refused = db.sink.write_page_text(id, "[]", 0, "{}").unwrap_err();
    assert!(refused.to_string().contains("taken elsewhere"), "{refused}");
    let pages = std::thread::spawn(move || {
        (0..3)
            .map(|p| {
                let records = format!(r#"[{{"id": {p}, "tags": ["a", "b"]}}, {{"id": 9}}]"#);
                normalizer
                    .normalize(records, 2, format!(r#"{{"p":{p}}}"#))
                    .unwrap()
            })
            .collect::<Vec<_>>()
    })
    .join()
    .unwrap();
    assert_eq!((pages[1].count(), pages[1].state()), (2, r#"{"p":1}"#));
    assert_eq!(db.sink.write_normalized(id, &pages).unwrap(), 6);
    let summary = db.sink.finish(id, Outcome::Completed).unwrap();
    assert_eq!((summary.rows, summary.pages), (6, 3));
    // Record 9 came three times: merged into one row, its (absent) tags with it.
    assert_eq!(db.count("threaded"), 4);
    assert_eq!(db.count("threaded__tags"), 6);
    assert_eq!(
        latest(db.sink.states().unwrap()),
        [("threaded".to_owned(), r#"{"p":2}"#.to_owned())]
    );
    // `_dlt_id`s increase page after page, as when the sink normalizes itself.
    let ids: Vec<String> = db
        .rows(r#"SELECT _dlt_id FROM threaded__tags ORDER BY rowid"#)
        .into_iter()
        .map(|r| match &r[0] {
            Sql::Text(s) => s.clone(),
            other => panic!("{other:?}"),
        })
        .collect();
    let mut sorted = ids.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(ids, sorted, "unique and increasing in write order");
    assert_eq!(ids.len(), 6);
}

#[test]
fn a_page_that_does_not_normalize_names_the_record() {
    let mut db = Db::new();
    let id = db.sink.begin(&spec("bad", &[], Append)).unwrap();
    let mut normalizer = db.sink.normalizer(id).unwrap();
    let err = normalizer
        .normalize(r#"[{"id": 1}, "two"]"#.into(), 2, "{}".into())
        .unwrap_err()
        .to_string();
    assert!(err.contains("record 1"), "{err}");
    let err = normalizer
        .normalize(r#"[{"id": 1}]"#.into(), 2, "{}".into())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("not a JSON array of 2 records: it holds 1"),
        "{err}"
    );
}

#[test]
fn the_wal_stays_bounded_and_is_folded_in_when_the_sink_closes() {
    let mut db = Db::new();
    let id = db.sink.begin(&spec("big", &["id"], Merge)).unwrap();
    let wal = std::path::PathBuf::from(format!("{}-wal", db.path.display()));
    let filler = "x".repeat(2000);
    let mut largest = 0;
    // ~24 MB of rows: past the writer's own checkpoint threshold (4000 pages, 16 MiB) more
    // than once, so the WAL must have been copied and started over to stay smaller.
    for p in 0..60 {
        let records: Vec<serde_json::Value> = (0..200)
            .map(|i| json!({"id": p * 200 + i, "text": filler}))
            .collect();
        db.sink.write_page(id, &records, "{}").unwrap();
        largest = largest.max(std::fs::metadata(&wal).map_or(0, |m| m.len()));
    }
    db.sink.finish(id, Outcome::Completed).unwrap();
    assert!(largest > 0, "the database is in WAL mode");
    assert!(
        largest < 20 << 20,
        "the WAL grew to {largest} bytes: it is never started over"
    );
    let Db { path, sink, _dir } = db;
    drop(sink);
    assert_eq!(
        std::fs::metadata(&wal).map_or(0, |m| m.len()),
        0,
        "the last connection folds the WAL into the database"
    );
    let conn = rusqlite::Connection::open(&path).unwrap();
    let n: i64 = conn
        .query_row("SELECT COUNT(*) FROM big", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 12_000);
}
