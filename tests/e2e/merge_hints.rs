//! dlt's merge hints `hard_delete` and `dedup_sort` through the whole engine: a CDC-style
//! API whose second sync marks records deleted and repeats a key.

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
