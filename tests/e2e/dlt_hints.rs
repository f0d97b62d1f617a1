//! dlt's hints of `sluice:connector@0.3.0` through the whole engine: the merge hints
//! `hard_delete` and `dedup_sort` (a CDC-style API whose second sync marks records deleted
//! and repeats a key), `nested_hints` (the child tables' own columns and contract) and the
//! `insert-only` merge strategy.

use serde_json::json;

use crate::dlt_schema::{api, config, rows, table};

#[test]
fn hard_delete_and_dedup_sort_as_in_dlt() {
    let (env, data) = api(json!({"/items": [
        {"id": 1, "name": "bolt", "lsn": 1, "deleted": false, "tags": ["a"]},
        {"id": 2, "name": "nut", "lsn": 1, "deleted": false, "tags": ["b", "c"]},
        {"id": 3, "name": "gear", "lsn": 1, "deleted": null},
    ]}));
    let cfg = config(
        &env,
        json!({"primary_key": "id",
               "write_disposition": {"disposition": "merge", "strategy": "delete-insert",
                                     "deduplicated": false}}),
        json!([{"name": "items",
                "columns": {"deleted": {"hard_delete": true}, "lsn": {"dedup_sort": "desc"}},
                "endpoint": {"path": "/items"}}]),
    );
    env.run(&cfg, &[]).ok();
    assert_eq!(
        rows(&env, "SELECT id, name FROM items ORDER BY id"),
        table(&[&["1", "bolt"], &["2", "nut"], &["3", "gear"]])
    );
    *data.lock().unwrap() = json!({"/items": [
        {"id": 2, "deleted": true},
        {"id": 3, "name": "gear v3", "lsn": 3},
        {"id": 3, "name": "gear v2", "lsn": 2},
        {"id": 4, "name": "washer", "lsn": 1},
    ]});
    let run = env.run(&cfg, &[]);
    run.ok();
    assert_eq!(
        rows(&env, "SELECT id, name, lsn FROM items ORDER BY id"),
        table(&[
            &["1", "bolt", "1"],
            &["3", "gear v3", "3"],
            &["4", "washer", "1"]
        ])
    );
    assert_eq!(
        rows(&env, "SELECT value FROM items__tags ORDER BY value"),
        table(&[&["a"]]),
        "the deleted record's tags went with it"
    );
}

#[test]
fn nested_hints_type_a_child_table_and_freeze_it_alone() {
    // dlt's docs example: the price of each purchase as a decimal, the purchases' columns
    // frozen (from the second load on, as a contract applies), the customers' not.
    let (env, data) = api(json!({"/customers": [
        {"id": 1, "name": "simon", "purchases": [{"id": 1, "name": "apple", "price": "1.50"}]},
    ]}));
    let cfg = config(
        &env,
        json!({"primary_key": "id", "write_disposition": "merge"}),
        json!([{"name": "customers",
                "nested_hints": {"purchases": {
                    "columns": {"price": {"data_type": "decimal"}},
                    "schema_contract": {"columns": "freeze"}}},
                "endpoint": {"path": "/customers"}}]),
    );
    env.run(&cfg, &[]).ok();
    assert_eq!(
        rows(
            &env,
            "SELECT price, typeof(price) FROM customers__purchases"
        ),
        table(&[&["1.5", "real"]])
    );
    *data.lock().unwrap() = json!({"/customers": [
        {"id": 2, "name": "violet", "city": "london",
         "purchases": [{"id": 1, "name": "banana", "price": "1.70"}]},
    ]});
    env.run(&cfg, &[]).ok();
    *data.lock().unwrap() = json!({"/customers": [
        {"id": 3, "purchases": [{"id": 1, "price": "2.50", "coupon": "X"}]},
    ]});
    let run = env.run(&cfg, &[]);
    assert_eq!(run.code, Some(1), "{}", run.output());
    assert!(
        run.stderr.contains("would add column `coupon`"),
        "{}",
        run.stderr
    );
    assert_eq!(
        rows(&env, "SELECT id, city FROM customers ORDER BY id"),
        table(&[&["1", "NULL"], &["2", "london"]]),
        "the root table evolved (city); the failed page wrote nothing"
    );
}

#[test]
fn the_insert_only_strategy_keeps_stored_records_as_they_are() {
    let (env, data) = api(json!({"/events": [
        {"event_id": 1, "kind": "open"},
        {"event_id": 2, "kind": "click"},
    ]}));
    let cfg = config(
        &env,
        json!({}),
        json!([{"name": "events", "primary_key": "event_id",
                "write_disposition": {"disposition": "merge", "strategy": "insert-only"},
                "endpoint": {"path": "/events"}}]),
    );
    env.run(&cfg, &[]).ok();
    *data.lock().unwrap() = json!({"/events": [
        {"event_id": 2, "kind": "CHANGED"},
        {"event_id": 3, "kind": "close"},
    ]});
    env.run(&cfg, &[]).ok();
    assert_eq!(
        rows(&env, "SELECT event_id, kind FROM events ORDER BY event_id"),
        table(&[&["1", "open"], &["2", "click"], &["3", "close"]])
    );
}
