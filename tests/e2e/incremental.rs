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
