//! dlt's `scd2` merge strategy against a real SQLite file: versions valid from and to,
//! row hashes as dlt computes them, insert-only child tables, the strategy's options, and
//! a load resumed into its staging tables.

mod common;

use common::{Db, spec, text};
use rusqlite::types::Value as Sql;
use serde_json::{Value, json};
use sluice_sink::{MergeStrategy, Outcome, Scd2, Sink, TableHints, TableSpec, WriteDisposition};

fn scd2(pk: &[&str], options: Scd2, merge_key: &[&str]) -> TableSpec {
    let mut s = spec("items", pk, WriteDisposition::Merge);
    s.hints = TableHints {
        merge_strategy: Some(MergeStrategy::Scd2(options)),
        merge_key: merge_key.iter().map(|k| k.to_string()).collect(),
        ..TableHints::default()
    };
    s
}

fn columns(db: &Db, table: &str) -> Vec<String> {
    db.rows(&format!("SELECT name FROM pragma_table_info('{table}')"))
        .into_iter()
        .map(|r| match &r[0] {
            Sql::Text(t) => t.clone(),
            other => panic!("{other:?}"),
        })
        .collect()
}

fn texts(db: &Db, sql: &str) -> Vec<Vec<Option<String>>> {
    db.rows(sql)
        .into_iter()
        .map(|r| {
            r.into_iter()
                .map(|v| match v {
                    Sql::Null => None,
                    Sql::Text(t) => Some(t),
                    Sql::Integer(i) => Some(i.to_string()),
                    other => Some(format!("{other:?}")),
                })
                .collect()
        })
        .collect()
}

fn some(s: &str) -> Option<String> {
    Some(s.to_owned())
}

/// The two loads of the comparison with dlt 1.31.0 (duckdb), with the same records: the
/// same columns, versions, row hashes and child rows (dlt also inserts a record twice when
/// a load holds it twice).
#[test]
fn versions_retire_and_begin_as_in_dlt_with_its_row_hashes() {
    let mut db = Db::new();
    let s = scd2(&["id"], Scd2::default(), &[]);
    db.load(
        &s,
        &[vec![
            json!({"id": 1, "name": "a", "tags": ["x", "y"]}),
            json!({"id": 2, "name": "b", "tags": []}),
        ]],
    );
    assert_eq!(
        columns(&db, "items"),
        [
            "_dlt_valid_from",
            "_dlt_valid_to",
            "id",
            "name",
            "_dlt_load_id",
            "_dlt_id"
        ]
    );
    assert_eq!(
        columns(&db, "items__tags"),
        ["value", "_dlt_parent_id", "_dlt_list_idx", "_dlt_id"]
    );
    let first = texts(&db, "SELECT DISTINCT _dlt_valid_from FROM items");
    assert_eq!(first.len(), 1);
    let b1 = first[0][0].clone().unwrap();
    assert!(b1.ends_with("+00:00") && b1.len() == 32, "{b1}");

    db.load(
        &s,
        &[
            vec![json!({"id": 1, "name": "a2", "tags": ["x", "y"]})],
            vec![
                json!({"id": 3, "name": "c", "tags": ["z"]}),
                json!({"id": 3, "name": "c", "tags": ["z"]}),
            ],
        ],
    );
    let b2 = texts(&db, "SELECT MAX(_dlt_valid_from) FROM items")[0][0].clone();
    assert!(b2 > Some(b1.clone()));
    let versions = texts(
        &db,
        "SELECT id, name, _dlt_id, _dlt_valid_from, _dlt_valid_to FROM items \
         ORDER BY id, _dlt_valid_from, _dlt_id",
    );
    let b1 = Some(b1);
    assert_eq!(
        versions,
        [
            vec![
                some("1"),
                some("a"),
                some("vyO6DMrO2p4mGQ"),
                b1.clone(),
                b2.clone()
            ],
            vec![
                some("1"),
                some("a2"),
                some("7Kheu3ndSDIIgQ"),
                b2.clone(),
                None
            ],
            vec![
                some("2"),
                some("b"),
                some("YZei3Qd6SPJQuQ"),
                b1.clone(),
                b2.clone()
            ],
            vec![
                some("3"),
                some("c"),
                some("LAQwoztbu3Mf+w"),
                b2.clone(),
                None
            ],
            vec![
                some("3"),
                some("c"),
                some("LAQwoztbu3Mf+w"),
                b2.clone(),
                None
            ],
        ]
    );
    assert_eq!(
        texts(
            &db,
            "SELECT value, _dlt_parent_id, _dlt_id FROM items__tags ORDER BY value, _dlt_list_idx, rowid"
        ),
        [
            [some("x"), some("vyO6DMrO2p4mGQ"), some("LXx59bWEnkjE+Q")],
            [some("x"), some("7Kheu3ndSDIIgQ"), some("kfK3isYM+ZAWDA")],
            [some("y"), some("vyO6DMrO2p4mGQ"), some("8+4ubmybygSEdA")],
            [some("y"), some("7Kheu3ndSDIIgQ"), some("V765bg2QCaCfUw")],
            [some("z"), some("LAQwoztbu3Mf+w"), some("rTjE4NCBaui+jA")],
            [some("z"), some("LAQwoztbu3Mf+w"), some("rTjE4NCBaui+jA")],
        ]
    );

    // Unchanged records change nothing; a retired version that comes back is a new
    // version with the same hash, and its child rows are not written twice.
    db.load(
        &s,
        &[vec![
            json!({"id": 1, "name": "a2", "tags": ["x", "y"]}),
            json!({"id": 3, "name": "c", "tags": ["z"]}),
            json!({"id": 1, "name": "a", "tags": ["x", "y"]}),
        ]],
    );
    assert_eq!(db.count("items"), 6);
    assert_eq!(
        texts(
            &db,
            "SELECT COUNT(*) FROM items WHERE _dlt_id = 'vyO6DMrO2p4mGQ' AND _dlt_valid_to IS NULL"
        ),
        [[some("1")]]
    );
    assert_eq!(db.count("items__tags"), 6);
    assert_eq!(
        texts(
            &db,
            "SELECT COUNT(*) FROM items WHERE _dlt_valid_to IS NULL"
        ),
        [[some("4")]],
        "a2, both c and the returned a; b stays retired"
    );
    assert!(!db.table_exists("_sluice_staging__items"));
    assert!(!db.table_exists("_sluice_staging__items__tags"));

    // A load without records retires nothing (dlt has nothing to merge then).
    db.load(&s, &[vec![]]);
    assert_eq!(
        texts(
            &db,
            "SELECT COUNT(*) FROM items WHERE _dlt_valid_to IS NULL"
        ),
        [[some("4")]]
    );
    assert!(!db.table_exists("_sluice_staging__items"));
}

#[test]
fn the_options_name_the_columns_the_boundary_and_the_active_timestamp() {
    let mut db = Db::new();
    let options = |boundary: &str| Scd2 {
        valid_from: "ValidFrom".into(),
        valid_to: "ValidTo".into(),
        active_record_timestamp: Some("9999-12-31T00:00:00+00:00".into()),
        boundary_timestamp: Some(boundary.into()),
        row_version_column: Some("version".into()),
    };
    let at = |t: &str| -> Value { json!(t) };
    // The column names are normalized, as dlt normalizes them (`ValidFrom`: `valid_from`).
    // With a natural key (`merge_key`), only the keys the load has retire absent versions.
    let s = scd2(&[], options("2024-01-01T00:00:00+00:00"), &["region"]);
    db.load(
        &s,
        &[vec![
            json!({"id": 1, "region": "eu", "version": "v1"}),
            json!({"id": 2, "region": "eu", "version": "v1"}),
            json!({"id": 3, "region": "us", "version": "v1"}),
        ]],
    );
    let s = scd2(&[], options("2024-02-01T00:00:00+00:00"), &["region"]);
    db.load(
        &s,
        // The row version decides: a changed field under the same version is no new version.
        // Its child rows are written, without a parent row, as dlt writes them (their ids
        // derive from the record's `_dlt_id`, new in every load when it is no hash).
        &[vec![
            json!({"id": 1, "region": "eu", "version": "v1", "note": at("x"), "tags": ["t"]}),
        ]],
    );
    assert_eq!(db.count("items__tags"), 1);
    assert_eq!(
        texts(
            &db,
            "SELECT id, version, valid_from, valid_to FROM items ORDER BY id, valid_from"
        ),
        [
            [
                some("1"),
                some("v1"),
                some("2024-01-01T00:00:00+00:00"),
                some("9999-12-31T00:00:00+00:00")
            ],
            [
                some("2"),
                some("v1"),
                some("2024-01-01T00:00:00+00:00"),
                some("9999-12-31T00:00:00+00:00")
            ],
            [
                some("3"),
                some("v1"),
                some("2024-01-01T00:00:00+00:00"),
                some("9999-12-31T00:00:00+00:00")
            ],
        ],
        "id 2 shares its version with id 1: nothing retires, nothing is new"
    );
    let s = scd2(&[], options("2024-03-01T00:00:00+00:00"), &["region"]);
    db.load(
        &s,
        &[vec![
            json!({"id": 1, "region": "eu", "version": "v1", "note": at("x"), "tags": ["t"]}),
        ]],
    );
    assert_eq!(
        db.count("items__tags"),
        2,
        "dlt's quirk: the unchanged record's tags again"
    );
    db.load(
        &s,
        &[vec![json!({"id": 1, "region": "eu", "version": "v2"})]],
    );
    assert_eq!(
        texts(
            &db,
            "SELECT id, version, valid_from, valid_to FROM items ORDER BY id, valid_from"
        ),
        [
            [
                some("1"),
                some("v1"),
                some("2024-01-01T00:00:00+00:00"),
                some("2024-03-01T00:00:00+00:00")
            ],
            [
                some("1"),
                some("v2"),
                some("2024-03-01T00:00:00+00:00"),
                some("9999-12-31T00:00:00+00:00")
            ],
            [
                some("2"),
                some("v1"),
                some("2024-01-01T00:00:00+00:00"),
                some("2024-03-01T00:00:00+00:00")
            ],
            [
                some("3"),
                some("v1"),
                some("2024-01-01T00:00:00+00:00"),
                some("9999-12-31T00:00:00+00:00")
            ],
        ],
        "eu's absent versions retire, us (not in the load) keeps its own"
    );
}

#[test]
fn a_record_without_its_row_version_fails_its_page() {
    let mut db = Db::new();
    let options = Scd2 {
        row_version_column: Some("version".into()),
        ..Scd2::default()
    };
    let s = scd2(&[], options, &[]);
    let id = db.sink.begin(&s).unwrap();
    let e = db
        .sink
        .write_page(id, &[json!({"id": 1})], "{}")
        .unwrap_err();
    assert!(
        common::chain(&e).contains("version"),
        "{}",
        common::chain(&e)
    );
}

/// A load that stops keeps its versions staged: the table shows nothing of it until the
/// load that resumes it completes, and every version then begins at the first run's start.
#[test]
fn an_interrupted_load_resumes_into_its_staging_tables_and_merges_at_the_end() {
    let mut db = Db::new();
    let s = scd2(&["id"], Scd2::default(), &[]);
    db.load(
        &s,
        &[vec![
            json!({"id": 1, "name": "a"}),
            json!({"id": 2, "name": "b"}),
        ]],
    );
    let before = texts(&db, "SELECT * FROM items ORDER BY id");

    let id = db.sink.begin(&s).unwrap();
    db.sink
        .write_page(
            id,
            &[
                json!({"id": 1, "name": "a"}),
                json!({"id": 3, "name": "c", "tags": [1]}),
            ],
            r#"{"p":1}"#,
        )
        .unwrap();
    db.sink.finish(id, Outcome::Interrupted).unwrap();
    assert_eq!(texts(&db, "SELECT * FROM items ORDER BY id"), before);
    assert!(!db.table_exists("items__tags"));
    let saved = db.sink.states().unwrap();
    assert_eq!(
        saved[0].latest, r#"{"p":1}"#,
        "the position of the staged pages"
    );
    assert_eq!(saved[0].completed.as_deref(), Some(r#"{"page":0}"#));
    let unfinished = saved[0].unfinished.clone().expect("resumable");

    let again = db.sink.resume(&s, &unfinished).unwrap();
    db.sink
        .write_page(again, &[json!({"id": 4, "name": "d"})], r#"{"p":2}"#)
        .unwrap();
    db.sink.finish(again, Outcome::Completed).unwrap();
    assert_eq!(
        texts(
            &db,
            "SELECT id, name, _dlt_valid_to IS NULL FROM items ORDER BY id, _dlt_valid_from"
        ),
        [
            [some("1"), some("a"), some("1")],
            [some("2"), some("b"), some("0")],
            [some("3"), some("c"), some("1")],
            [some("4"), some("d"), some("1")],
        ],
        "b, in neither run, retired; a unchanged"
    );
    assert_eq!(
        texts(
            &db,
            "SELECT COUNT(DISTINCT _dlt_valid_from), COUNT(DISTINCT _dlt_load_id) FROM items WHERE id IN (3, 4)"
        ),
        [[some("1"), some("1")]],
        "one load, one boundary"
    );
    assert_eq!(db.count("items__tags"), 1);
    let saved = db.sink.states().unwrap();
    assert_eq!(saved[0].latest, r#"{"p":2}"#);
    assert_eq!(saved[0].unfinished, None);
    assert!(!db.table_exists("_sluice_staging__items"));
}

/// A load whose records bring a new type keeps the table's columns: the staging table
/// starts from the table's schema, so a text in a number column goes to a variant column.
#[test]
fn staged_versions_keep_the_tables_columns_and_types() {
    let mut db = Db::new();
    let s = scd2(&["id"], Scd2::default(), &[]);
    db.load(&s, &[vec![json!({"id": 1, "qty": 5})]]);
    db.load(&s, &[vec![json!({"id": 1, "qty": "many"})]]);
    assert_eq!(
        db.rows("SELECT qty, qty__v_text FROM items ORDER BY _dlt_valid_from"),
        [[Sql::Integer(5), Sql::Null], [Sql::Null, text("many")]]
    );
}

/// A page large enough to go in parts hashes and stages its versions as small pages do.
#[test]
fn a_page_in_parts_gives_the_versions_small_pages_give() {
    let records: Vec<Value> = (0..12_000)
        .map(|i| json!({"id": i, "name": format!("item {i} {}", "x".repeat(100)), "tags": [i, i + 1]}))
        .collect();
    let s = scd2(&["id"], Scd2::default(), &[]);
    let mut small = Db::new();
    small.load(
        &s,
        &records
            .chunks(100)
            .map(<[Value]>::to_vec)
            .collect::<Vec<_>>(),
    );
    let mut large = Db::new();
    let load = large.sink.begin(&s).unwrap();
    let text = serde_json::to_string(&records).unwrap();
    assert!(text.len() > sluice_sink::PART_BYTES);
    let parts: Vec<_> = large
        .sink
        .normalizer(load)
        .unwrap()
        .parts(text, 12_000, "{}".into())
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(parts.len() > 1);
    for part in &parts {
        large
            .sink
            .write_normalized(load, std::slice::from_ref(part))
            .unwrap();
    }
    large.sink.finish(load, Outcome::Completed).unwrap();
    for sql in [
        "SELECT id, _dlt_id FROM items ORDER BY id",
        "SELECT _dlt_parent_id, _dlt_list_idx, value, _dlt_id FROM items__tags ORDER BY _dlt_id",
    ] {
        let rows = texts(&large, sql);
        assert_eq!(
            rows.len(),
            if sql.contains("tags") { 24_000 } else { 12_000 }
        );
        assert_eq!(rows, texts(&small, sql), "{sql}");
    }
}

#[test]
fn options_whose_columns_coincide_are_refused_before_anything_is_written() {
    let mut db = Db::new();
    for (from, to, version, expected) in [
        ("Valid", "valid", None, "both validity columns are `valid`"),
        (
            "a",
            "b",
            Some("b"),
            "the row version column `b` is a validity column",
        ),
    ] {
        let options = Scd2 {
            valid_from: from.into(),
            valid_to: to.into(),
            row_version_column: version.map(str::to_owned),
            ..Scd2::default()
        };
        let e = db.sink.begin(&scd2(&[], options, &[])).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("table `items`: the scd2 options do not fit: {expected}")
        );
    }
    assert_eq!(db.count("_sluice_loads"), 0);
}
