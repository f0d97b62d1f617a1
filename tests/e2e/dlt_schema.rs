//! dlt schema parity: configs in the form dlt's documentation writes them, against a real
//! HTTP server on 127.0.0.1, with the tables, columns and rows dlt's documented rules give
//! (relational normalization, snake_case naming, variant columns, hints, contracts). The
//! expected values are written from those rules, and were checked against dlt 1.31's own
//! normalizer on the same records.

use std::sync::{Arc, Mutex};

use rusqlite::types::Value as Sql;
use serde_json::{Value, json};

use crate::support::{Reply, Req, Scenario};

/// A server answering `GET <path>` with `{"data": data[path]}`; the data can change between
/// runs.
pub(crate) fn api(data: Value) -> (Scenario, Arc<Mutex<Value>>) {
    let shared = Arc::new(Mutex::new(data));
    let served = Arc::clone(&shared);
    let env = Scenario::new(move |r: &Req| {
        let data = served.lock().unwrap();
        match data.get(&r.path) {
            Some(records) => Reply::json(json!({"data": records})),
            None => Reply::status(404, "{}"),
        }
    });
    (env, shared)
}

/// The dlt docs' shape: one resource per path, records under `data`, one page each.
pub(crate) fn config(env: &Scenario, defaults: Value, resources: Value) -> Value {
    let mut resources = resources;
    for r in resources.as_array_mut().unwrap() {
        let path = r["endpoint"]["path"].clone();
        r["endpoint"] = json!({"path": path, "data_selector": "data", "paginator": "single_page"});
    }
    json!({"client": {"base_url": env.base_url()}, "resource_defaults": defaults,
           "resources": resources})
}

/// Every row of `sql`, each value as text (`NULL` for null).
pub(crate) fn rows(env: &Scenario, sql: &str) -> Vec<Vec<String>> {
    let conn = env.conn();
    let mut stmt = conn.prepare(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
    let n = stmt.column_count();
    stmt.query_map([], |r| {
        (0..n)
            .map(|i| {
                Ok(match r.get::<_, Sql>(i)? {
                    Sql::Null => "NULL".to_string(),
                    Sql::Integer(v) => v.to_string(),
                    Sql::Real(v) => format!("{v:?}"),
                    Sql::Text(v) => v,
                    Sql::Blob(v) => format!("{v:?}"),
                })
            })
            .collect()
    })
    .unwrap()
    .collect::<Result<_, _>>()
    .unwrap()
}

/// The columns of `table` in order, with their declared types.
fn columns(env: &Scenario, table: &str) -> Vec<String> {
    rows(
        env,
        &format!("SELECT name || ' ' || type FROM pragma_table_info('{table}') ORDER BY cid"),
    )
    .into_iter()
    .map(|r| r[0].clone())
    .collect()
}

/// The data tables of the database (not sluice's own), sorted.
fn tables(env: &Scenario) -> Vec<String> {
    env.col(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '_sluice_%' ORDER BY name",
    )
}

fn strs(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_string()).collect()
}

pub(crate) fn table(v: &[&[&str]]) -> Vec<Vec<String>> {
    v.iter().map(|r| strs(r)).collect()
}

#[test]
fn child_tables_of_scalars_and_of_objects() {
    let (env, _) = api(json!({"/orders": [
        {"id": 1, "tags": ["new", "gift"], "lines": [{"sku": "A", "qty": 2}, {"sku": "B", "qty": 1}]},
        {"id": 2, "tags": [], "lines": [{"sku": "C", "qty": 5}]},
    ]}));
    let cfg = config(
        &env,
        json!({"primary_key": "id", "write_disposition": "append"}),
        json!([{"name": "orders", "endpoint": {"path": "/orders"}}]),
    );
    env.run(&cfg, &[]).ok();
    assert_eq!(tables(&env), ["orders", "orders__lines", "orders__tags"]);
    assert_eq!(
        columns(&env, "orders"),
        ["id BIGINT", "_dlt_load_id TEXT", "_dlt_id TEXT"],
        "no column for the lists"
    );
    assert_eq!(
        columns(&env, "orders__tags"),
        [
            "value TEXT",
            "_dlt_parent_id TEXT",
            "_dlt_list_idx BIGINT",
            "_dlt_id TEXT"
        ]
    );
    assert_eq!(
        rows(
            &env,
            "SELECT o.id, t.value, t._dlt_list_idx FROM orders__tags t \
             JOIN orders o ON o._dlt_id = t._dlt_parent_id ORDER BY 1, 3"
        ),
        table(&[&["1", "new", "0"], &["1", "gift", "1"]]),
        "one row per element; the empty list gives none"
    );
    assert_eq!(
        rows(
            &env,
            "SELECT o.id, l.sku, l.qty, l._dlt_list_idx FROM orders__lines l \
             JOIN orders o ON o._dlt_id = l._dlt_parent_id ORDER BY 1, 4"
        ),
        table(&[
            &["1", "A", "2", "0"],
            &["1", "B", "1", "1"],
            &["2", "C", "5", "0"]
        ])
    );
    let ids: Vec<String> = env.col(
        "SELECT _dlt_id FROM orders UNION ALL SELECT _dlt_id FROM orders__tags \
         UNION ALL SELECT _dlt_id FROM orders__lines",
    );
    let unique: std::collections::BTreeSet<&String> = ids.iter().collect();
    assert_eq!((ids.len(), unique.len()), (7, 7), "every _dlt_id is unique");
}

#[test]
fn lists_inside_lists_and_inside_list_items() {
    let (env, _) = api(json!({"/grids": [
        {"id": 1, "matrix": [[1, 2], [3]], "bins": [{"n": 1, "sizes": ["S", "M"]}]},
    ]}));
    let cfg = config(
        &env,
        json!({}),
        json!([{"name": "grids", "endpoint": {"path": "/grids"}}]),
    );
    env.run(&cfg, &[]).ok();
    assert_eq!(
        tables(&env),
        [
            "grids",
            "grids__bins",
            "grids__bins__sizes",
            "grids__matrix",
            "grids__matrix__list"
        ]
    );
    // A list in a list: a row per inner list, its elements under `list`.
    assert_eq!(
        rows(
            &env,
            "SELECT m._dlt_list_idx, l.value, l._dlt_list_idx FROM grids__matrix__list l \
             JOIN grids__matrix m ON m._dlt_id = l._dlt_parent_id ORDER BY 1, 3"
        ),
        table(&[&["0", "1", "0"], &["0", "2", "1"], &["1", "3", "0"]])
    );
    assert_eq!(
        rows(
            &env,
            "SELECT b.n, s.value FROM grids__bins__sizes s \
             JOIN grids__bins b ON b._dlt_id = s._dlt_parent_id ORDER BY s._dlt_list_idx"
        ),
        table(&[&["1", "S"], &["1", "M"]])
    );
}

#[test]
fn max_table_nesting_0_1_and_2() {
    let record = json!({"id": 1, "w": {"code": "W1", "geo": {"lat": 1.5}},
                        "tags": ["a"], "bins": [{"n": 1, "sub": [7]}]});
    for (nesting, want_tables, want_root) in [
        (
            0,
            vec!["items"],
            vec![
                "id BIGINT",
                "w JSON",
                "tags JSON",
                "bins JSON",
                "_dlt_load_id TEXT",
                "_dlt_id TEXT",
            ],
        ),
        (
            1,
            vec!["items", "items__bins", "items__tags"],
            vec![
                "id BIGINT",
                "w__code TEXT",
                "w__geo JSON",
                "_dlt_load_id TEXT",
                "_dlt_id TEXT",
            ],
        ),
        (
            2,
            vec!["items", "items__bins", "items__bins__sub", "items__tags"],
            vec![
                "id BIGINT",
                "w__code TEXT",
                "w__geo__lat DOUBLE",
                "_dlt_load_id TEXT",
                "_dlt_id TEXT",
            ],
        ),
    ] {
        let (env, _) = api(json!({"/items": [record.clone()]}));
        let cfg = config(
            &env,
            json!({"max_table_nesting": nesting}),
            json!([{"name": "items", "endpoint": {"path": "/items"}}]),
        );
        env.run(&cfg, &[]).ok();
        assert_eq!(tables(&env), want_tables, "max_table_nesting {nesting}");
        assert_eq!(
            columns(&env, "items"),
            want_root,
            "max_table_nesting {nesting}"
        );
        if nesting == 1 {
            // Inside a child table (level 1) objects and lists stay JSON.
            assert_eq!(
                rows(&env, "SELECT n, sub FROM items__bins"),
                table(&[&["1", "[7]"]])
            );
        }
        if nesting == 0 {
            assert_eq!(
                rows(&env, "SELECT w, bins FROM items"),
                table(&[&[
                    r#"{"code":"W1","geo":{"lat":1.5}}"#,
                    r#"[{"n":1,"sub":[7]}]"#
                ]])
            );
        }
    }
}

/// `(id, [tag values])` for each record, through `_dlt_parent_id`.
fn tags_by_id(env: &Scenario, root: &str) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for r in rows(
        env,
        &format!(
            "SELECT r.id, t.value FROM {root} r LEFT JOIN {root}__tags t \
             ON t._dlt_parent_id = r._dlt_id ORDER BY r.id, t._dlt_list_idx"
        ),
    ) {
        if out.last().is_none_or(|(id, _)| *id != r[0]) {
            out.push((r[0].clone(), Vec::new()));
        }
        if r[1] != "NULL" {
            out.last_mut().unwrap().1.push(r[1].clone());
        }
    }
    out
}

#[test]
fn merge_over_two_syncs_where_lists_grow_shrink_and_empty() {
    let (env, data) = api(json!({"/items": [
        {"id": 1, "tags": ["a", "b"]}, {"id": 2, "tags": ["c", "d", "e"]}, {"id": 3, "tags": ["f"]},
    ]}));
    let cfg = config(
        &env,
        json!({"primary_key": "id", "write_disposition": "merge"}),
        json!([{"name": "items", "endpoint": {"path": "/items"}}]),
    );
    env.run(&cfg, &[]).ok();
    *data.lock().unwrap() = json!({"/items": [
        {"id": 1, "tags": ["a", "b", "x"]}, {"id": 2, "tags": ["c"]}, {"id": 3, "tags": []},
        {"id": 4, "tags": ["n"]},
    ]});
    env.run(&cfg, &[]).ok();
    assert_eq!(
        tags_by_id(&env, "items"),
        [
            ("1".to_string(), strs(&["a", "b", "x"])),
            ("2".to_string(), strs(&["c"])),
            ("3".to_string(), vec![]),
            ("4".to_string(), strs(&["n"])),
        ]
    );
    assert_eq!(env.count("items__tags"), 5, "no stale child rows");
    assert_eq!(
        rows(
            &env,
            "SELECT count(*) FROM items__tags t WHERE t._dlt_root_id NOT IN (SELECT _dlt_id FROM items) \
             OR t._dlt_parent_id NOT IN (SELECT _dlt_id FROM items)"
        ),
        table(&[&["0"]]),
        "no orphans"
    );
    assert!(columns(&env, "items__tags").contains(&"_dlt_root_id TEXT".to_string()));
}

#[test]
fn append_and_replace_with_child_tables() {
    let records = json!([{"id": 1, "tags": ["a"]}, {"id": 2, "tags": ["b", "c"]}]);
    let (env, data) = api(json!({"/log": records.clone(), "/catalog": records}));
    let cfg = config(
        &env,
        json!({"primary_key": "id"}),
        json!([
            {"name": "log", "write_disposition": "append", "endpoint": {"path": "/log"}},
            {"name": "catalog", "write_disposition": "replace", "endpoint": {"path": "/catalog"}},
        ]),
    );
    env.run(&cfg, &[]).ok();
    *data.lock().unwrap() = json!({"/log": [{"id": 3, "tags": ["d"]}],
                                   "/catalog": [{"id": 9, "tags": ["z"]}]});
    env.run(&cfg, &[]).ok();
    assert_eq!(
        (env.count("log"), env.count("log__tags")),
        (3, 4),
        "append keeps both runs"
    );
    assert_eq!(
        tags_by_id(&env, "catalog"),
        [("9".to_string(), strs(&["z"]))],
        "replace replaces the child table too"
    );
    assert_eq!(env.count("catalog__tags"), 1);
}

#[test]
fn names_follow_dlts_snake_case() {
    let (env, _) = api(json!({"/catalog": [{
        "id": 1, "Unit Price ($)": 9.5, "updatedAt": "2024-05-01", "SKU-Code": "A",
        "a+b": 1, "e-mail@work": "x", "colour|color": "red", "100%": true, "": "blank",
        "trailing__": 2, "HTTPCode": 200, "Ship To": {"Zip Code": "123"},
        "Line Items": [{"camelCaseKey": 1}],
    }]}));
    let cfg = config(
        &env,
        json!({}),
        json!([{"name": "Product Catalog", "endpoint": {"path": "/catalog"}}]),
    );
    env.run(&cfg, &[]).ok();
    assert_eq!(
        tables(&env),
        ["product_catalog", "product_catalog__line_items"]
    );
    let names: Vec<String> = columns(&env, "product_catalog")
        .into_iter()
        .map(|c| c.split(' ').next().unwrap().to_string())
        .collect();
    assert_eq!(
        names,
        [
            "id",
            "unit_pricex",
            "updated_at",
            "sku_code",
            "axb",
            "e_mailawork",
            "colourlcolor",
            "_100x",
            "_empty",
            "trailingxx",
            "http_code",
            "ship_to__zip_code",
            "_dlt_load_id",
            "_dlt_id"
        ]
    );
    assert_eq!(
        columns(&env, "product_catalog__line_items")[0],
        "camel_case_key BIGINT"
    );
}

#[test]
fn two_keys_that_become_one_name_fail_the_page_instead_of_overwriting() {
    let (env, _) = api(json!({"/items": [{"id": 1, "updatedAt": "a", "updated_at": "b"}]}));
    let cfg = config(
        &env,
        json!({}),
        json!([{"name": "items", "endpoint": {"path": "/items"}}]),
    );
    let run = env.run(&cfg, &[]);
    assert_eq!(run.code, Some(1), "{}", run.output());
    assert!(
        run.stderr
            .contains("two keys that both become column `updated_at`"),
        "{}",
        run.stderr
    );
    assert!(!env.has_table("items"));
}

#[test]
fn null_only_fields_and_null_objects_create_no_column() {
    let (env, _) = api(json!({"/items": [
        {"id": 1, "note": null, "warehouse": null},
        {"id": 2, "note": null, "warehouse": {"id": 7, "city": "Oslo"}},
        {"id": 3, "note": null},
    ]}));
    let cfg = config(
        &env,
        json!({}),
        json!([{"name": "items", "endpoint": {"path": "/items"}}]),
    );
    env.run(&cfg, &[]).ok();
    assert_eq!(
        columns(&env, "items"),
        [
            "id BIGINT",
            "_dlt_load_id TEXT",
            "_dlt_id TEXT",
            "warehouse__id BIGINT",
            "warehouse__city TEXT"
        ]
    );
    assert_eq!(
        rows(&env, "SELECT id, warehouse__city FROM items ORDER BY id"),
        table(&[&["1", "NULL"], &["2", "Oslo"], &["3", "NULL"]])
    );
}

#[test]
fn a_type_conflict_lands_in_a_variant_column() {
    let (env, data) = api(json!({"/items": [{"id": 1, "price": 9.5, "qty": 3}]}));
    let cfg = config(
        &env,
        json!({"primary_key": "id", "write_disposition": "merge"}),
        json!([{"name": "items", "endpoint": {"path": "/items"}}]),
    );
    env.run(&cfg, &[]).ok();
    *data.lock().unwrap() = json!({"/items": [
        {"id": 2, "price": "call us", "qty": "4"},
        {"id": 3, "price": 1, "qty": 2.5},
    ]});
    env.run(&cfg, &[]).ok();
    assert_eq!(
        columns(&env, "items"),
        [
            "id BIGINT",
            "price DOUBLE",
            "qty BIGINT",
            "_dlt_load_id TEXT",
            "_dlt_id TEXT",
            "price__v_text TEXT",
            "qty__v_double DOUBLE"
        ]
    );
    assert_eq!(
        rows(
            &env,
            "SELECT id, price, price__v_text, qty, qty__v_double FROM items ORDER BY id"
        ),
        table(&[
            &["1", "9.5", "NULL", "3", "NULL"],
            &["2", "NULL", "call us", "4", "NULL"],
            &["3", "1.0", "NULL", "NULL", "2.5"],
        ])
    );
}

#[test]
fn table_name_and_column_hints() {
    let (env, data) = api(json!({"/items": [
        {"id": 1, "price": 19.99, "updated_at": "2024-05-01T12:00:00Z", "sku": "A"},
    ]}));
    let cfg = config(
        &env,
        json!({"primary_key": "id", "write_disposition": "merge"}),
        json!([{"name": "items", "table_name": "catalog_items",
                "columns": {"price": {"data_type": "decimal", "nullable": false},
                            "updated_at": {"data_type": "text"},
                            "discount": {"data_type": "double"}},
                "endpoint": {"path": "/items"}}]),
    );
    env.run(&cfg, &[]).ok();
    assert_eq!(tables(&env), ["catalog_items"]);
    assert_eq!(
        columns(&env, "catalog_items"),
        [
            "price DECIMAL NOT NULL",
            "updated_at TEXT",
            "discount DOUBLE",
            "id BIGINT NOT NULL",
            "sku TEXT",
            "_dlt_load_id TEXT NOT NULL",
            "_dlt_id TEXT NOT NULL"
        ]
        .map(|c| c.replace(" NOT NULL", ""))
    );
    assert_eq!(
        rows(
            &env,
            "SELECT updated_at, typeof(updated_at) FROM catalog_items"
        ),
        table(&[&["2024-05-01T12:00:00Z", "text"]]),
        "the text hint keeps the original string"
    );
    // A record without a value for a `nullable: false` column fails, naming its key.
    *data.lock().unwrap() = json!({"/items": [{"id": 1, "price": 5}, {"id": 17, "sku": "B"}]});
    let run = env.run(&cfg, &[]);
    assert_eq!(run.code, Some(1), "{}", run.output());
    assert!(
        run.stderr
            .contains("record 1 (id = 17) has no value for column `price`"),
        "{}",
        run.stderr
    );
    assert_eq!(
        rows(&env, "SELECT id, price FROM catalog_items"),
        table(&[&["1", "19.99"]]),
        "the failed page wrote nothing"
    );
}

#[test]
fn schema_contract_freeze_rejects_a_new_column() {
    let (env, data) = api(json!({"/items": [{"id": 1, "name": "bolt"}]}));
    let cfg = config(
        &env,
        json!({"primary_key": "id", "write_disposition": "merge",
               "schema_contract": {"columns": "freeze"}}),
        json!([{"name": "items", "endpoint": {"path": "/items"}}]),
    );
    env.run(&cfg, &[]).ok();
    *data.lock().unwrap() = json!({"/items": [{"id": 2, "name": "nut", "colour": "red"}]});
    let run = env.run(&cfg, &[]);
    assert_eq!(run.code, Some(1), "{}", run.output());
    assert!(
        run.stderr.contains("would add column `colour`")
            && run
                .stderr
                .contains("schema_contract forbids (columns: freeze)"),
        "{}",
        run.stderr
    );
    assert_eq!(env.ids("items"), [1]);
    // discard_row drops such records and loads the others.
    let discard = config(
        &env,
        json!({"primary_key": "id", "write_disposition": "merge", "schema_contract": "discard_row"}),
        json!([{"name": "items", "endpoint": {"path": "/items"}}]),
    );
    *data.lock().unwrap() = json!({"/items": [{"id": 2, "name": "nut", "colour": "red"},
                                              {"id": 3, "name": "washer"}]});
    env.run(&discard, &[]).ok();
    assert_eq!(env.ids("items"), [1, 3]);
}

#[test]
fn the_summary_counts_what_was_committed_when_a_page_cannot_be_written() {
    // Three pages; once the table is frozen, the third brings a column it lacks.
    let colour = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let served = Arc::clone(&colour);
    let env = Scenario::new(move |r: &Req| {
        let page = r.qn("page");
        let coloured = page == 3 && served.load(std::sync::atomic::Ordering::SeqCst);
        let records: Vec<Value> = (0..5)
            .map(|i| {
                let id = page * 10 + i;
                match coloured {
                    true => json!({"id": id, "name": "nut", "colour": "red"}),
                    false => json!({"id": id, "name": "bolt"}),
                }
            })
            .collect();
        Reply::json(json!({"data": records, "total_pages": 3}))
    });
    let cfg = json!({
        "client": {"base_url": env.base_url()},
        "resource_defaults": {"primary_key": "id", "write_disposition": "merge",
                              "schema_contract": {"columns": "freeze"}},
        "resources": [{"name": "items", "endpoint": {"path": "/items", "data_selector": "data",
            "paginator": {"type": "page_number", "base_page": 1, "total_path": "total_pages"}}}]});
    env.run(&cfg, &[]).ok();
    colour.store(true, std::sync::atomic::Ordering::SeqCst);
    let run = env.run(&cfg, &["--json", "--concurrency", "1"]);
    assert_eq!(run.code, Some(1), "{}", run.output());
    let summary: Value = serde_json::from_str(&run.stdout).expect("--json prints JSON");
    let items = &summary["resources"][0];
    assert_eq!(items["status"], "failed", "{summary}");
    assert!(
        items["error"]
            .as_str()
            .is_some_and(|e| e.contains("would add column `colour`")),
        "{summary}"
    );
    // The two pages written, as the ledger and the table have them; not the third, which
    // was handed on to the write stage but refused.
    let loaded =
        "SELECT COUNT(*) FROM items WHERE _dlt_load_id = (SELECT MAX(_dlt_load_id) FROM items)";
    assert_eq!(rows(&env, loaded), [["10"]]);
    assert_eq!(
        (&items["pages"], &items["records"], &items["rows_written"]),
        (&json!(2), &json!(10), &json!(10)),
        "{summary}"
    );
    assert_eq!(items["tables"], json!({"items": 10}), "{summary}");
    assert!(
        run.stderr.contains("items: failed (2 pages, 10 records)"),
        "{}",
        run.stderr
    );
}
