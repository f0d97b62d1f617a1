use serde_json::json;

use super::*;

fn cfg(v: Value) -> IncrementalConfig {
    IncrementalConfig::parse(Obj::new("inc", &v).unwrap(), false).unwrap()
}

fn ids(records: &[Value]) -> Vec<i64> {
    records.iter().map(|r| r["id"].as_i64().unwrap()).collect()
}

fn rec(id: i64, at: &str) -> Value {
    json!({"id": id, "updated_at": at})
}

fn key(r: &Value) -> String {
    record_key(r, &["id".to_string()])
}

#[test]
fn parses_with_dlt_defaults_and_errors_name_keys() {
    let c = cfg(json!({"cursor_path": "updated_at", "initial_value": "2024-01-01T00:00:00Z"}));
    assert!(c.max && c.start_closed && !c.end_closed);
    assert_eq!(c.on_missing, Missing::Raise);
    assert_eq!(c.row_order_asc, None);
    let bad = json!({"cursor_path": "updated_at", "last_value_func": "maxx"});
    let e = IncrementalConfig::parse(
        Obj::new("resources[0].endpoint.incremental", &bad).unwrap(),
        false,
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "resources[0].endpoint.incremental.last_value_func: unknown value \"maxx\" (expected one of: max, min; did you mean \"max\"?)"
    );
    let bad = json!({"cursor_path": "a", "initial_value": {"x": 1}});
    let e = IncrementalConfig::parse(Obj::new("i", &bad).unwrap(), false).unwrap_err();
    assert_eq!(
        e.to_string(),
        "i.initial_value: expected a string or a number, found an object"
    );
    let bad = json!({"cursor_path": "a", "initial_value": 1, "end_value": "x"});
    let e = IncrementalConfig::parse(Obj::new("i", &bad).unwrap(), false).unwrap_err();
    assert_eq!(
        e.to_string(),
        "i.end_value: cannot compare a number with a string"
    );
    let bad = json!({"type": "incremental", "cursor_path": "a", "start_param": "since"});
    let e = IncrementalConfig::parse(Obj::new("p", &bad).unwrap(), true).unwrap_err();
    assert!(
        e.to_string().starts_with("p.start_param: unknown key"),
        "{e}"
    );
}

#[test]
fn first_run_keeps_from_initial_value_and_tracks_the_boundary() {
    let mut t = Tracker::new(
        cfg(json!({"cursor_path": "updated_at", "initial_value": "2024-01-02"})),
        None,
    )
    .unwrap();
    let page = vec![
        rec(1, "2024-01-01T00:00:00Z"),
        rec(2, "2024-01-02T00:00:00Z"),
        rec(3, "2024-01-05T00:00:00Z"),
        rec(4, "2024-01-05T00:00:00.000Z"),
        rec(5, "2024-01-03T00:00:00Z"),
    ];
    let f = t.filter(200, page, &key).unwrap();
    assert_eq!(ids(&f.records), vec![2, 3, 4, 5]);
    assert!(!f.past_range);
    assert_eq!(
        t.state().unwrap(),
        json!({"last_value": "2024-01-05T00:00:00Z", "unique_hashes": ["[3]", "[4]"]})
    );
}

#[test]
fn next_run_starts_from_saved_value_and_drops_boundary_duplicates() {
    let saved = json!({"last_value": "2024-01-05T00:00:00Z", "unique_hashes": ["[3]", "[4]"]});
    let mut t = Tracker::new(
        cfg(json!({"cursor_path": "updated_at", "initial_value": "2024-01-01"})),
        Some(&saved),
    )
    .unwrap();
    assert_eq!(
        t.value(crate::placeholder::IncValue::Start),
        Some(json!("2024-01-05T00:00:00Z"))
    );
    let page = vec![
        rec(3, "2024-01-05T00:00:00Z"),
        rec(4, "2024-01-05T00:00:00Z"),
        rec(6, "2024-01-05T00:00:00Z"),
        rec(7, "2024-01-04T00:00:00Z"),
        rec(8, "2024-01-06T00:00:00Z"),
    ];
    let f = t.filter(200, page, &key).unwrap();
    assert_eq!(ids(&f.records), vec![6, 8]);
    assert_eq!(
        t.state().unwrap(),
        json!({"last_value": "2024-01-06T00:00:00Z", "unique_hashes": ["[8]"]})
    );
    // Nothing new: the saved boundary is kept as it was.
    let mut t = Tracker::new(cfg(json!({"cursor_path": "updated_at"})), Some(&saved)).unwrap();
    let f = t
        .filter(200, vec![rec(3, "2024-01-05T00:00:00Z")], &key)
        .unwrap();
    assert!(f.records.is_empty());
    assert_eq!(t.state().unwrap(), saved);
}

#[test]
fn end_value_and_row_order_stop_paging() {
    let c =
        cfg(json!({"cursor_path": "n", "initial_value": 10, "end_value": 20, "row_order": "asc"}));
    let mut t = Tracker::new(c, None).unwrap();
    let page: Vec<Value> = [9, 10, 15, 19, 20, 21]
        .iter()
        .map(|n| json!({"id": n, "n": n}))
        .collect();
    let f = t.filter(200, page, &key).unwrap();
    assert_eq!(ids(&f.records), vec![10, 15, 19]);
    assert!(f.past_range, "asc past end_value stops");
    assert_eq!(t.state(), None, "a backfill with end_value keeps no state");

    let c = cfg(json!({"cursor_path": "n", "initial_value": 10, "row_order": "desc"}));
    let mut t = Tracker::new(c, None).unwrap();
    let f = t
        .filter(
            200,
            vec![json!({"id": 1, "n": 12}), json!({"id": 2, "n": 8})],
            &key,
        )
        .unwrap();
    assert_eq!(ids(&f.records), vec![1]);
    assert!(f.past_range);

    let c = cfg(json!({"cursor_path": "n", "initial_value": 10, "last_value_func": "min"}));
    let mut t = Tracker::new(c, None).unwrap();
    let f = t
        .filter(
            200,
            vec![
                json!({"id": 1, "n": 12}),
                json!({"id": 2, "n": 8}),
                json!({"id": 3, "n": 5}),
            ],
            &key,
        )
        .unwrap();
    assert_eq!(ids(&f.records), vec![2, 3]);
    assert_eq!(t.state().unwrap()["last_value"], json!(5));
}

#[test]
fn missing_cursor_raises_or_follows_the_setting() {
    let mut t = Tracker::new(cfg(json!({"cursor_path": "meta.updated"})), None).unwrap();
    let e = t.filter(200, vec![json!({"id": 1})], &key).unwrap_err();
    assert!(
        e.to_string()
            .contains("incremental cursor \"meta.updated\": a record has no value"),
        "{e}"
    );
    let mut t = Tracker::new(
        cfg(json!({"cursor_path": "u", "on_cursor_value_missing": "include"})),
        None,
    )
    .unwrap();
    assert_eq!(
        t.filter(200, vec![json!({"id": 1})], &key)
            .unwrap()
            .records
            .len(),
        1
    );
    let mut t = Tracker::new(
        cfg(json!({"cursor_path": "u", "on_cursor_value_missing": "exclude"})),
        None,
    )
    .unwrap();
    assert!(
        t.filter(200, vec![json!({"id": 1})], &key)
            .unwrap()
            .records
            .is_empty()
    );
}

#[test]
fn record_keys_are_stable() {
    assert_eq!(fnv_hex(""), "cbf29ce484222325");
    assert_eq!(fnv_hex("a"), "af63dc4c8601ec8c");
    let r = json!({"a": 1, "b": 2});
    assert_eq!(record_key(&r, &[]), fnv_hex("{\"a\":1,\"b\":2}"));
    assert_eq!(record_key(&r, &["b".into(), "a".into()]), "[2,1]");
    let e = Tracker::new(cfg(json!({"cursor_path": "u"})), Some(&json!([1]))).unwrap_err();
    assert_eq!(e, Error::State("incremental: expected an object".into()));
}

#[test]
fn incremental_primary_key_chooses_the_dedup_fields_and_empty_turns_dedup_off() {
    let c = cfg(json!({"cursor_path": "updated_at", "primary_key": "sku",
                       "allow_external_schedulers": true}));
    assert_eq!(c.primary_key, Some(vec!["sku".to_string()]));
    assert_eq!(cfg(json!({"cursor_path": "a"})).primary_key, None);
    let p = json!({"type": "incremental", "cursor_path": "a", "primary_key": ["x", "y"],
                   "allow_external_schedulers": false});
    let c = IncrementalConfig::parse(Obj::new("p", &p).unwrap(), true).unwrap();
    assert_eq!(c.primary_key, Some(vec!["x".to_string(), "y".to_string()]));
    let bad = json!({"type": "incremental", "cursor_path": "a", "primary_key": [1]});
    let e = IncrementalConfig::parse(Obj::new("p", &bad).unwrap(), true).unwrap_err();
    assert_eq!(
        e.to_string(),
        "p.primary_key[0]: expected a string, found a number"
    );
    let bad = json!({"cursor_path": "a", "allow_external_schedulers": "yes"});
    let e = IncrementalConfig::parse(Obj::new("i", &bad).unwrap(), false).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("i.allow_external_schedulers: expected a boolean")
    );

    // Without deduplication the boundary's records come again on the next run, and the
    // state keeps no keys of them (dlt's `primary_key=()`).
    let at = "2024-01-05T00:00:00Z";
    let off = json!({"cursor_path": "updated_at", "primary_key": []});
    let mut first = Tracker::new(cfg(off.clone()), None).unwrap();
    let page = vec![rec(1, "2024-01-01T00:00:00Z"), rec(2, at), rec(3, at)];
    assert_eq!(
        ids(&first.filter(200, page.clone(), &key).unwrap().records),
        [1, 2, 3]
    );
    let state = first.state().unwrap();
    assert_eq!(state, json!({"last_value": at, "unique_hashes": []}));
    let mut next = Tracker::new(cfg(off), Some(&state)).unwrap();
    assert_eq!(
        ids(&next.filter(200, page.clone(), &key).unwrap().records),
        [2, 3]
    );
    // With deduplication (the default), the same page on the next run loads nothing again.
    let on = json!({"cursor_path": "updated_at"});
    let mut first = Tracker::new(cfg(on.clone()), None).unwrap();
    first.filter(200, page.clone(), &key).unwrap();
    let mut next = Tracker::new(cfg(on), Some(&first.state().unwrap())).unwrap();
    assert!(next.filter(200, page, &key).unwrap().records.is_empty());
}

#[test]
fn lag_starts_the_next_run_before_the_saved_last_value() {
    use crate::placeholder::IncValue;
    let config = json!({"cursor_path": "updated_at", "initial_value": "2024-01-01T00:00:00Z",
                        "lag": 3600});
    let saved = json!({"last_value": "2024-03-01T10:00:00Z", "unique_hashes": ["[1]"]});
    let mut t = Tracker::new(cfg(config.clone()), Some(&saved)).unwrap();
    assert_eq!(
        t.value(IncValue::Start),
        Some(json!("2024-03-01T09:00:00Z"))
    );
    assert_eq!(t.value(IncValue::Last), Some(json!("2024-03-01T09:00:00Z")));
    let page = vec![
        rec(5, "2024-03-01T08:59:59Z"),
        rec(2, "2024-03-01T09:30:00Z"),
        rec(1, "2024-03-01T10:00:00Z"),
    ];
    // The window's records load again, the one at the saved last value too (as in dlt).
    assert_eq!(ids(&t.filter(200, page, &key).unwrap().records), [2, 1]);
    assert_eq!(
        t.state().unwrap(),
        saved,
        "the saved last value does not go back"
    );
    // The first run has nothing to lag; an end_value (a backfill) turns lag off.
    let first = Tracker::new(cfg(config.clone()), None).unwrap();
    assert_eq!(
        first.value(IncValue::Start),
        Some(json!("2024-01-01T00:00:00Z"))
    );
    let mut backfill = config.clone();
    backfill["end_value"] = json!("2024-06-01T00:00:00Z");
    let t = Tracker::new(cfg(backfill), Some(&saved)).unwrap();
    assert_eq!(
        t.value(IncValue::Start),
        Some(json!("2024-03-01T10:00:00Z"))
    );
    // A cursor lag cannot move fails the run, naming it.
    let words = json!({"last_value": "abc", "unique_hashes": []});
    let e = Tracker::new(cfg(config), Some(&words)).unwrap_err();
    assert!(
        e.to_string().contains("incremental.lag: lag moves numbers"),
        "{e}"
    );
    let bad = json!({"cursor_path": "a", "lag": -1});
    let e = IncrementalConfig::parse(Obj::new("i", &bad).unwrap(), false).unwrap_err();
    assert_eq!(
        e.to_string(),
        "i.lag: expected a non-negative number, found a number"
    );
}
