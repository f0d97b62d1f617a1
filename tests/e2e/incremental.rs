//! Incremental loading across runs: the cursor's last value is saved with each committed
//! page, the next run asks only from it (`updated_since=` asserted on every request), the
//! record at the boundary is not loaded twice, and the final table equals the source.

use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

use crate::support::{Reply, Req, Scenario};

/// Minute `m` of 2024-03-01 as an RFC 3339 timestamp (sorts as text).
fn t(m: u32) -> String {
    format!("2024-03-01T{:02}:{:02}:00Z", m / 60, m % 60)
}

const INITIAL: &str = "2024-01-01T00:00:00Z";

type Source = Arc<Mutex<Vec<Value>>>;

fn order(id: u32, name: &str, minute: u32) -> Value {
    json!({"id": id, "name": name, "updated_at": t(minute)})
}

/// `GET /orders?updated_since=X&limit=L&offset=O`: orders with `updated_at >= X` (inclusive,
/// like most APIs), oldest first, with a total.
fn serve(source: &Source, r: &Req) -> Reply {
    let since = r.q("updated_since").unwrap_or("").to_string();
    let mut matching: Vec<Value> = source
        .lock()
        .unwrap()
        .iter()
        .filter(|o| o["updated_at"].as_str().unwrap_or("") >= since.as_str())
        .cloned()
        .collect();
    matching.sort_by(|a, b| {
        (a["updated_at"].as_str(), a["id"].as_u64())
            .cmp(&(b["updated_at"].as_str(), b["id"].as_u64()))
    });
    let (offset, limit) = (r.qn("offset"), r.qn("limit"));
    let page: Vec<Value> = matching.iter().skip(offset).take(limit).cloned().collect();
    Reply::json(json!({"data": page, "total": matching.len()}))
}

fn config(base: &str, disposition: &str) -> Value {
    json!({
        "client": {"base_url": base},
        "resources": [{
            "name": "orders",
            "primary_key": "id",
            "write_disposition": disposition,
            "endpoint": {
                "path": "/orders",
                "data_selector": "data",
                "params": {"updated_since": "{incremental.start_value}"},
                "paginator": {"type": "offset", "limit": 10},
                "incremental": {
                    "cursor_path": "updated_at",
                    "initial_value": INITIAL,
                    "last_value_func": "max",
                },
            },
        }],
    })
}

fn env_with(source: &Source) -> Scenario {
    let s = Arc::clone(source);
    Scenario::new(move |r: &Req| serve(&s, r))
}

/// The `updated_since` values of the requests since `from`, and how many requests.
fn since_values(env: &Scenario, from: usize) -> Vec<String> {
    env.server.requests()[from..]
        .iter()
        .map(|r| r.q("updated_since").unwrap_or("<none>").to_string())
        .collect()
}

fn table(env: &Scenario) -> Vec<(i64, String, String)> {
    let conn = env.conn();
    let mut stmt = conn
        .prepare("SELECT id, name, updated_at FROM orders ORDER BY id")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

fn source_rows(source: &Source) -> Vec<(i64, String, String)> {
    let mut rows: Vec<(i64, String, String)> = source
        .lock()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["id"].as_i64().unwrap(),
                o["name"].as_str().unwrap().to_string(),
                o["updated_at"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    rows.sort();
    rows
}

fn loaded_rows(env: &Scenario) -> Vec<i64> {
    env.col("SELECT rows FROM _sluice_loads WHERE resource = 'orders' ORDER BY load_id")
}

fn edit(source: &Source, id: u32, name: &str, minute: u32) {
    let mut s = source.lock().unwrap();
    match s.iter_mut().find(|o| o["id"] == json!(id)) {
        Some(o) => *o = order(id, name, minute),
        None => s.push(order(id, name, minute)),
    }
}

#[test]
fn three_runs_request_only_from_the_saved_cursor_and_end_equal_to_the_source() {
    let source: Source = Arc::new(Mutex::new(
        (1..=25)
            .map(|i| order(i, &format!("order {i}"), i))
            .collect(),
    ));
    let env = env_with(&source);
    let config = config(&env.base_url(), "merge");

    // Run 1: everything from the initial value, in three pages.
    env.run(&config, &[]).ok();
    assert_eq!(since_values(&env, 0), vec![INITIAL; 3]);
    assert_eq!(env.server.requests().len(), 3);
    assert_eq!(table(&env), source_rows(&source));

    // Upstream: two orders change, three are new. Order 25 stays at the boundary value.
    edit(&source, 3, "order 3 (edited)", 30);
    edit(&source, 7, "order 7 (edited)", 31);
    for id in 26..=28 {
        edit(&source, id, &format!("order {id}"), id + 6);
    }
    let before = env.server.requests().len();
    env.run(&config, &[]).ok();
    assert_eq!(
        since_values(&env, before),
        vec![t(25)],
        "run 2 asks from run 1's last value only"
    );
    assert_eq!(table(&env), source_rows(&source));

    // Upstream again: order 26 changes, order 29 is new; order 28 sits at the boundary.
    edit(&source, 26, "order 26 (edited)", 40);
    edit(&source, 29, "order 29", 41);
    let before = env.server.requests().len();
    env.run(&config, &[]).ok();
    assert_eq!(since_values(&env, before), vec![t(34)]);
    assert_eq!(
        table(&env),
        source_rows(&source),
        "final table equals the source"
    );

    // The boundary record each run got again (25, then 28) was not loaded again.
    assert_eq!(loaded_rows(&env), vec![25, 5, 2]);
}

#[test]
fn the_boundary_record_is_not_appended_twice() {
    let source: Source = Arc::new(Mutex::new(
        (1..=12)
            .map(|i| order(i, &format!("order {i}"), i))
            .collect(),
    ));
    let env = env_with(&source);
    let config = config(&env.base_url(), "append");
    env.run(&config, &[]).ok();
    env.run(&config, &[]).ok();
    assert_eq!(since_values(&env, 2), vec![t(12)], "run 2 asks from 12");
    assert_eq!(
        env.ids("orders"),
        (1..=12).collect::<Vec<i64>>(),
        "no duplicate of order 12"
    );
    edit(&source, 13, "order 13", 13);
    env.run(&config, &[]).ok();
    assert_eq!(since_values(&env, 3), vec![t(12)]);
    assert_eq!(env.ids("orders"), (1..=13).collect::<Vec<i64>>());
}

#[test]
fn incremental_primary_key_picks_what_tells_boundary_records_apart() {
    // Two orders share the last minute, and one of them changes its name (not its minute)
    // before the next run. The resource has no primary key, so by default a record is told
    // apart by its whole content: the renamed one loads again. `incremental.primary_key:
    // "id"` tells them apart by id: neither loads again. `[]` (dlt's "no deduplication"):
    // both load again.
    for (key, rows_per_run) in [
        (None, [3, 1]),
        (Some(json!("id")), [3, 0]),
        (Some(json!([])), [3, 2]),
    ] {
        let source: Source = Arc::new(Mutex::new(vec![
            order(1, "first", 1),
            order(2, "second", 2),
            order(3, "third", 2),
        ]));
        let env = env_with(&source);
        let mut config = config(&env.base_url(), "append");
        let resource = &mut config["resources"][0];
        resource.as_object_mut().unwrap().remove("primary_key");
        if let Some(key) = &key {
            resource["endpoint"]["incremental"]["primary_key"] = key.clone();
        }
        env.run(&config, &[]).ok();
        edit(&source, 3, "third, renamed", 2);
        env.run(&config, &[]).ok();
        assert_eq!(since_values(&env, 1), vec![t(2)], "{key:?}");
        assert_eq!(loaded_rows(&env), rows_per_run, "{key:?}");
    }
}

#[test]
fn lag_asks_again_for_the_window_before_the_saved_cursor() {
    // dlt's attribution window: with `lag: 300` (seconds) the second run asks from five
    // minutes before the last value it saved, and merges what the window holds again.
    let source: Source = Arc::new(Mutex::new(
        (1..=12)
            .map(|i| order(i, &format!("order {i}"), i))
            .collect(),
    ));
    let env = env_with(&source);
    let mut config = config(&env.base_url(), "merge");
    config["resources"][0]["endpoint"]["incremental"]["lag"] = json!(300);
    env.run(&config, &[]).ok();
    let first = env.server.requests().len();
    assert_eq!(since_values(&env, 0), vec![INITIAL.to_string(); first]);
    edit(&source, 9, "order 9, updated late", 9);
    env.run(&config, &[]).ok();
    assert_eq!(since_values(&env, first), vec![t(7)]);
    assert_eq!(loaded_rows(&env), [12, 6]);
    assert_eq!(table(&env), source_rows(&source));
}

#[test]
fn end_value_bounds_the_records_loaded() {
    let source: Source = Arc::new(Mutex::new(
        (1..=20)
            .map(|i| order(i, &format!("order {i}"), i))
            .collect(),
    ));
    let env = env_with(&source);
    let mut config = config(&env.base_url(), "merge");
    config["resources"][0]["endpoint"]["incremental"]["end_value"] = json!(t(11));
    env.run(&config, &[]).ok();
    // dlt: records in [initial_value, end_value) are kept.
    assert_eq!(env.ids("orders"), (1..=10).collect::<Vec<i64>>());
}
