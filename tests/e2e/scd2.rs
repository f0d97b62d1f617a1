//! dlt's `scd2` merge strategy through the whole engine, over real HTTP: the versions, row
//! hashes and child rows dlt 1.31 (duckdb) gives for the same records, the strategy's
//! options, and a load that fails midway, leaves the table as it was, and is resumed.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::json;

use crate::dlt_schema::{api, config, rows, table};
use crate::support::{Reply, Req, Scenario};

fn scd2(options: serde_json::Value) -> serde_json::Value {
    let mut wd = json!({"disposition": "merge", "strategy": "scd2"});
    wd.as_object_mut()
        .unwrap()
        .extend(options.as_object().unwrap().clone());
    json!({"primary_key": "id", "write_disposition": wd})
}

#[test]
fn versions_and_row_hashes_as_dlt_gives_them() {
    let (env, data) = api(json!({"/items": [
        {"id": 1, "name": "a", "tags": ["x", "y"]},
        {"id": 2, "name": "b", "tags": []},
    ]}));
    let cfg = config(
        &env,
        scd2(json!({})),
        json!([{"name": "items", "endpoint": {"path": "/items"}}]),
    );
    let path = env.write_config("check.json", &cfg);
    let check = env.sluice(&["check", "--config", path.to_str().unwrap()], &[]);
    assert!(
        check.stdout.contains("disposition: merge (scd2)"),
        "{}",
        check.output()
    );
    env.run(&cfg, &[]).ok();
    assert_eq!(
        rows(
            &env,
            "SELECT name FROM pragma_table_info('items') ORDER BY cid"
        ),
        table(&[
            &["_dlt_valid_from"],
            &["_dlt_valid_to"],
            &["id"],
            &["name"],
            &["_dlt_load_id"],
            &["_dlt_id"]
        ])
    );
    *data.lock().unwrap() = json!({"/items": [
        {"id": 1, "name": "a2", "tags": ["x", "y"]},
        {"id": 3, "name": "c", "tags": ["z"]},
    ]});
    env.run(&cfg, &[]).ok();
    // The second load's boundary retires a and b and begins a2 and c.
    let to = "(SELECT MAX(_dlt_valid_from) FROM items)";
    assert_eq!(
        rows(
            &env,
            &format!(
                "SELECT id, name, _dlt_id, _dlt_valid_to IS NULL, _dlt_valid_to = {to} \
                 FROM items ORDER BY id, _dlt_valid_from"
            )
        ),
        table(&[
            &["1", "a", "vyO6DMrO2p4mGQ", "0", "1"],
            &["1", "a2", "7Kheu3ndSDIIgQ", "1", "NULL"],
            &["2", "b", "YZei3Qd6SPJQuQ", "0", "1"],
            &["3", "c", "LAQwoztbu3Mf+w", "1", "NULL"],
        ])
    );
    assert_eq!(
        rows(
            &env,
            "SELECT value, _dlt_parent_id, _dlt_id FROM items__tags ORDER BY rowid"
        ),
        table(&[
            &["x", "vyO6DMrO2p4mGQ", "LXx59bWEnkjE+Q"],
            &["y", "vyO6DMrO2p4mGQ", "8+4ubmybygSEdA"],
            &["x", "7Kheu3ndSDIIgQ", "kfK3isYM+ZAWDA"],
            &["y", "7Kheu3ndSDIIgQ", "V765bg2QCaCfUw"],
            &["z", "LAQwoztbu3Mf+w", "rTjE4NCBaui+jA"],
        ])
    );
}

#[test]
fn options_name_the_columns_and_fix_the_timestamps() {
    let (env, data) = api(json!({"/items": [{"id": 1, "v": 1}, {"id": 2, "v": 1}]}));
    let options = |boundary: &str| {
        scd2(json!({"validity_column_names": ["valid_from", "valid_to"],
                    "active_record_timestamp": "9999-12-31",
                    "boundary_timestamp": boundary}))
    };
    let resources = json!([{"name": "items", "endpoint": {"path": "/items"}}]);
    env.run(
        &config(
            &env,
            options("2024-01-01T01:00:00+01:00"),
            resources.clone(),
        ),
        &[],
    )
    .ok();
    *data.lock().unwrap() = json!({"/items": [{"id": 1, "v": 2}, {"id": 2, "v": 1}]});
    env.run(&config(&env, options("2024-02-01"), resources), &[])
        .ok();
    assert_eq!(
        rows(
            &env,
            "SELECT id, v, valid_from, valid_to FROM items ORDER BY id, valid_from"
        ),
        table(&[
            &[
                "1",
                "1",
                "2024-01-01T00:00:00+00:00",
                "2024-02-01T00:00:00+00:00"
            ],
            &[
                "1",
                "2",
                "2024-02-01T00:00:00+00:00",
                "9999-12-31T00:00:00+00:00"
            ],
            &[
                "2",
                "1",
                "2024-01-01T00:00:00+00:00",
                "9999-12-31T00:00:00+00:00"
            ],
        ])
    );
}

/// Page 2 fails in the first run: its page 1 stays staged, the table shows nothing of the
/// load; the second run asks for page 2 only and merges both pages' versions.
#[test]
fn a_failed_load_leaves_the_table_as_it_was_and_is_resumed() {
    let fail = Arc::new(AtomicBool::new(false));
    let failing = Arc::clone(&fail);
    let generation = Arc::new(std::sync::atomic::AtomicU64::new(1));
    let served = Arc::clone(&generation);
    let env = Scenario::new(move |r: &Req| {
        let page: u64 = r.q("page").and_then(|p| p.parse().ok()).unwrap_or(1);
        if page == 2 && failing.load(Ordering::SeqCst) {
            return Reply::status(500, "{}");
        }
        let g = served.load(Ordering::SeqCst);
        let records: Vec<_> = (0..2)
            .map(|i| json!({"id": (page - 1) * 2 + i, "gen": if i == 0 { g } else { 1 }}))
            .collect();
        Reply::json(json!({"data": records, "total_pages": 2}))
    });
    let cfg = json!({"client": {"base_url": env.base_url()},
                     "resource_defaults": scd2(json!({})),
                     "resources": [{"name": "items", "endpoint": {"path": "/items",
                        "data_selector": "data",
                        "paginator": {"type": "page_number", "base_page": 1,
                                      "total_path": "total_pages"}}}]});
    env.run(&cfg, &["--max-attempts", "1"]).ok();
    let before = rows(&env, "SELECT * FROM items ORDER BY id");
    assert_eq!(before.len(), 4);

    generation.store(2, Ordering::SeqCst);
    fail.store(true, Ordering::SeqCst);
    let failed = env.run(&cfg, &["--max-attempts", "1", "--concurrency", "1"]);
    assert_eq!(failed.code, Some(1), "{}", failed.output());
    assert_eq!(
        rows(&env, "SELECT * FROM items ORDER BY id"),
        before,
        "nothing merged yet"
    );

    fail.store(false, Ordering::SeqCst);
    let seen = env.server.requests().len();
    let resumed = env.run(&cfg, &["--max-attempts", "1"]);
    resumed.ok();
    assert!(
        resumed.stdout.contains("resumed at page 2"),
        "{}",
        resumed.output()
    );
    let pages: Vec<String> = env.server.requests()[seen..]
        .iter()
        .filter_map(|r| r.q("page").map(str::to_string))
        .collect();
    assert_eq!(pages, ["2"]);
    assert_eq!(
        rows(
            &env,
            "SELECT id, gen, _dlt_valid_to IS NULL FROM items ORDER BY id, _dlt_valid_from"
        ),
        table(&[
            &["0", "1", "0"],
            &["0", "2", "1"],
            &["1", "1", "1"],
            &["2", "1", "0"],
            &["2", "2", "1"],
            &["3", "1", "1"],
        ])
    );
    assert_eq!(
        rows(
            &env,
            "SELECT COUNT(DISTINCT _dlt_valid_from) FROM items WHERE gen = 2"
        ),
        table(&[&["1"]]),
        "both runs' versions begin at one boundary"
    );
}
