//! A page too large to flatten at once goes in parts ([`Normalizer::parts`]): its rows never
//! all exist at once, yet it commits whole or not at all, with its state, as any page.

mod common;

use common::{Db, spec};
use sluice_sink::{NormalizedPage, Outcome, PART_BYTES, Sink, SinkError, WriteDisposition};

/// The JSON array text of records `ids`, each with a list (a child table), about 200 bytes
/// each; `missing_key_at`: the id whose record has no `id`.
fn page_text(ids: std::ops::Range<usize>, missing_key_at: Option<usize>) -> (String, u32) {
    let records: Vec<String> = ids
        .clone()
        .map(|i| {
            let key = if Some(i) == missing_key_at {
                String::new()
            } else {
                format!(r#""id": {i}, "#)
            };
            format!(
                r#"{{{key}"name": "item {i} {}", "tags": ["a{i}", "b{i}"]}}"#,
                "x".repeat(120)
            )
        })
        .collect();
    (format!("[{}]", records.join(", ")), ids.len() as u32)
}

fn parts_of(
    db: &mut Db,
    load: sluice_sink::LoadId,
    text: String,
    count: u32,
    state: &str,
) -> Vec<NormalizedPage> {
    let mut normalizer = db.sink.normalizer(load).unwrap();
    normalizer
        .parts(text, count, state.into())
        .collect::<Result<Vec<_>, _>>()
        .unwrap()
}

#[test]
fn a_large_page_in_parts_commits_whole_with_its_state() {
    let mut db = Db::new();
    let s = spec("items", &["id"], WriteDisposition::Append);
    let load = db.sink.begin(&s).unwrap();
    let (text, count) = page_text(0..20_000, None);
    assert!(text.len() > 3 * PART_BYTES);
    let mut normalizer = db.sink.normalizer(load).unwrap();
    let small = normalizer.parts(page_text(0..3, None).0, 3, "{\"p\":0}".into());
    let small: Vec<NormalizedPage> = small.collect::<Result<_, _>>().unwrap();
    assert_eq!(small.len(), 1, "a small page is one whole part");
    assert!(!small[0].is_part());
    db.sink.write_normalized(load, &small).unwrap();

    let parts: Vec<NormalizedPage> = normalizer
        .parts(text, count, "{\"p\":1}".into())
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(parts.len() >= 4, "{} parts", parts.len());
    assert_eq!(parts.iter().map(|p| p.count()).sum::<u32>(), count);
    assert!(parts.iter().all(|p| p.text_len() <= PART_BYTES + 2));
    assert!(
        parts[..parts.len() - 1]
            .iter()
            .all(NormalizedPage::continues)
    );
    assert_eq!(parts.last().unwrap().state(), "{\"p\":1}");
    // Every part but the last leaves the page open: nothing of it is visible yet.
    for part in &parts[..parts.len() - 1] {
        db.sink
            .write_normalized(load, std::slice::from_ref(part))
            .unwrap();
        assert_eq!(db.count("items"), 3);
    }
    db.sink
        .write_normalized(load, std::slice::from_ref(parts.last().unwrap()))
        .unwrap();
    assert_eq!(db.count("items"), 20_003);
    assert_eq!(db.count("items__tags"), 40_006);
    let summary = db.sink.finish(load, Outcome::Completed).unwrap();
    assert_eq!((summary.pages, summary.rows), (2, 20_003));
    let ledger = db.rows(r#"SELECT pages, rows FROM "_sluice_loads""#);
    assert_eq!(
        ledger,
        [[
            rusqlite::types::Value::Integer(2),
            rusqlite::types::Value::Integer(20_003)
        ]]
    );
    assert_eq!(common::latest(db.sink.states().unwrap())[0].1, "{\"p\":1}");
}

#[test]
fn a_part_that_fails_undoes_its_page_and_names_the_record_in_the_page() {
    let mut db = Db::new();
    let s = spec("items", &["id"], WriteDisposition::Merge);
    db.load(&s, &[vec![serde_json::json!({"id": 1, "name": "kept"})]]);
    let load = db.sink.begin(&s).unwrap();
    let (text, count) = page_text(0..20_000, Some(15_000));
    let parts = parts_of(&mut db, load, text, count, "{\"p\":9}");
    let failing = parts
        .iter()
        .position(|p| p.first() + p.count() as usize > 15_000)
        .unwrap();
    assert!(failing > 0);
    for part in &parts[..failing] {
        db.sink
            .write_normalized(load, std::slice::from_ref(part))
            .unwrap();
    }
    let (k, e) = db
        .sink
        .write_normalized(load, std::slice::from_ref(&parts[failing]))
        .unwrap_err();
    assert_eq!(k, 0);
    assert!(
        matches!(e, SinkError::MissingPrimaryKey { index: 15_000, .. }),
        "{e}"
    );
    db.sink
        .finish(load, Outcome::Failed { error: "x" })
        .unwrap();
    assert_eq!(db.count("items"), 1, "nothing of the page");
    assert!(!db.table_exists("items__tags"));
    assert_eq!(
        common::latest(db.sink.states().unwrap())[0].1,
        "{\"page\":0}"
    );
}

#[test]
fn a_load_that_ends_between_parts_or_another_load_that_writes_undoes_the_open_page() {
    let mut db = Db::new();
    let s = spec("items", &["id"], WriteDisposition::Append);
    let other = spec("other", &[], WriteDisposition::Append);
    let (text, count) = page_text(0..10_000, None);

    // Interrupted between parts.
    let load = db.sink.begin(&s).unwrap();
    let parts = parts_of(&mut db, load, text.clone(), count, "{}");
    db.sink.write_normalized(load, &parts[..1]).unwrap();
    let summary = db.sink.finish(load, Outcome::Interrupted).unwrap();
    assert_eq!((summary.pages, summary.rows), (0, 0));
    assert!(!db.table_exists("items"));

    // Another load writes while a page is open (its load failed between parts): the open
    // page is undone, and its later parts are refused.
    let load = db.sink.begin(&s).unwrap();
    let parts = parts_of(&mut db, load, text, count, "{}");
    db.sink.write_normalized(load, &parts[..1]).unwrap();
    let second = db.sink.begin(&other).unwrap();
    db.sink
        .write_page(second, &[serde_json::json!({"a": 1})], "{}")
        .unwrap();
    db.sink.finish(second, Outcome::Completed).unwrap();
    assert_eq!(db.count("other"), 1);
    assert!(!db.table_exists("items"));
    let (_, e) = db.sink.write_normalized(load, &parts[1..2]).unwrap_err();
    assert!(matches!(e, SinkError::PartOrder { .. }), "{e}");
}
