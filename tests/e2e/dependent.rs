//! Dependent resources: a parent list of 30 items (paginated) and a child endpoint per item
//! (`/items/{id}/events`, each chain paginated on its own); exact requests, exact row counts,
//! parent fields copied by `include_from_parent`.

use serde_json::{Value, json};

use crate::support::{Reply, Req, Scenario, id_range, kill_at_random_moments, rec};

const ITEMS: usize = 30;

/// Events of item `i`: 0 to 12 of them, so some chains are empty, some one page, some three.
fn event_count(item: usize) -> usize {
    (item * 7) % 13
}

fn event(item: usize, j: usize) -> Value {
    json!({"id": item * 1000 + j, "item_id": item, "kind": if j.is_multiple_of(2) { "in" } else { "out" }})
}

fn serve(r: &Req) -> Reply {
    let (offset, limit) = (r.qn("offset"), r.qn("limit"));
    let parts: Vec<&str> = r.path.trim_matches('/').split('/').collect();
    match parts.as_slice() {
        ["items"] => {
            let data: Vec<Value> = (offset..(offset + limit).min(ITEMS))
                .map(|i| rec(i + 1))
                .collect();
            Reply::json(json!({"data": data, "total": ITEMS}))
        }
        ["items", id, "events"] => match id.parse::<usize>() {
            Ok(item) if (1..=ITEMS).contains(&item) => {
                let n = event_count(item);
                let data: Vec<Value> = (offset..(offset + limit).min(n))
                    .map(|j| event(item, j))
                    .collect();
                Reply::json(json!({"data": data, "total": n}))
            }
            _ => Reply::status(404, "no such item"),
        },
        _ => Reply::status(404, "no such route"),
    }
}

fn config(base: &str, child_endpoint: Value) -> Value {
    json!({
        "client": {
            "base_url": format!("{base}/"),
            "paginator": {"type": "offset", "limit": 10, "total_path": "total"},
        },
        "resource_defaults": {
            "primary_key": "id",
            "write_disposition": "merge",
            "endpoint": {"data_selector": "data"},
        },
        "resources": [
            {"name": "items", "endpoint": {"path": "items"}},
            {"name": "item_events", "endpoint": child_endpoint, "include_from_parent": ["id", "name"]},
        ],
    })
}

/// Every request the run must make: 3 parent pages, then each item's chain in pages of 5.
fn expected_requests() -> Vec<String> {
    let mut lines: Vec<String> = [0, 10, 20]
        .iter()
        .map(|o| format!("GET /items?limit=10&offset={o}"))
        .collect();
    for item in 1..=ITEMS {
        let pages = event_count(item).div_ceil(5).max(1);
        for p in 0..pages {
            lines.push(format!("GET /items/{item}/events?limit=5&offset={}", p * 5));
        }
    }
    lines.sort();
    lines
}

fn assert_loaded(env: &Scenario) {
    assert_eq!(env.ids("items"), id_range(1, ITEMS as i64));
    let total: usize = (1..=ITEMS).map(event_count).sum();
    assert_eq!(env.ids("item_events").len(), total);
    let mut expected: Vec<i64> = (1..=ITEMS)
        .flat_map(|i| (0..event_count(i)).map(move |j| (i * 1000 + j) as i64))
        .collect();
    expected.sort();
    assert_eq!(env.ids("item_events"), expected);
    // Parent fields, exactly the parent's, on every child row.
    let mismatched: i64 = env.col::<i64>(
        "SELECT count(*) FROM item_events WHERE _items_id IS NOT item_id \
         OR _items_name IS NOT ('item ' || item_id)",
    )[0];
    assert_eq!(mismatched, 0, "every event carries its item's id and name");
    for (item, count) in [(1usize, event_count(1)), (13, 0), (2, event_count(2))] {
        let rows = env.col::<i64>(&format!(
            "SELECT count(*) FROM item_events WHERE _items_id = {item}"
        ))[0];
        assert_eq!(rows as usize, count, "events of item {item}");
    }
}

/// Runs the 30-item parent with `child` as the child endpoint and asserts the exact requests
/// and rows.
fn run_child_chains(child: Value) -> Scenario {
    let env = Scenario::new(serve);
    let run = env.run(&config(&env.base_url(), child), &[]);
    run.ok();
    assert_eq!(
        env.server.sorted_lines(),
        expected_requests(),
        "{}",
        run.output()
    );
    assert_loaded(&env);
    env
}

#[test]
fn a_child_chain_per_parent_record_each_paginated() {
    let env = run_child_chains(json!({
        "path": "items/{resources.items.id}/events",
        "paginator": {"type": "offset", "limit": 5, "total_path": "total"},
    }));
    // Each child chain starts after its parent's page was received.
    let lines = env.server.lines();
    let first_child = lines.iter().position(|l| l.contains("/events")).unwrap();
    assert!(first_child >= 1, "{lines:?}");
}

#[test]
fn dlt_resolve_param_form_works_like_the_placeholder() {
    run_child_chains(json!({
        "path": "items/{item_id}/events",
        "params": {"item_id": {"type": "resolve", "resource": "items", "field": "id"}},
        "paginator": {"type": "offset", "limit": 5, "total_path": "total"},
    }));
}

#[test]
fn an_unselected_parent_feeds_its_children_but_gets_no_table() {
    let env = Scenario::new(serve);
    let child = json!({
        "path": "items/{resources.items.id}/events",
        "paginator": {"type": "offset", "limit": 5, "total_path": "total"},
    });
    let mut config = config(&env.base_url(), child);
    config["resources"][0]["selected"] = json!(false);
    let run = env.run(&config, &[]);
    run.ok();
    assert_eq!(env.server.sorted_lines(), expected_requests());
    assert!(
        !env.has_table("items"),
        "an unselected resource is not loaded"
    );
    let total: usize = (1..=ITEMS).map(event_count).sum();
    assert_eq!(env.ids("item_events").len(), total);
}

#[test]
fn a_placeholder_naming_a_missing_parent_is_a_config_error_before_any_request() {
    let env = Scenario::new(serve);
    let child = json!({"path": "items/{resources.itmes.id}/events"});
    let run = env.run(&config(&env.base_url(), child), &[]);
    assert_eq!(run.code, Some(2), "{}", run.output());
    assert!(
        run.stderr.contains("resources[1].endpoint.path") && run.stderr.contains("itmes"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("did you mean \"items\""),
        "{}",
        run.stderr
    );
    assert!(env.server.requests().is_empty());
    assert!(!env.db().exists());
}

#[test]
fn a_parent_without_records_leaves_its_child_empty_and_the_run_succeeds() {
    let env = Scenario::new(|r: &Req| match r.path.as_str() {
        "/items" => Reply::json(json!({"data": [], "total": 0})),
        _ => Reply::status(404, "no such route"),
    });
    let child = json!({"path": "items/{resources.items.id}/events"});
    let run = env.run(&config(&env.base_url(), child), &[]);
    run.ok();
    assert_eq!(
        env.server.lines(),
        vec!["GET /items?limit=10&offset=0".to_string()]
    );
    assert!(
        !env.has_table("item_events"),
        "no child rows, no child table"
    );
    let statuses = env.col::<String>("SELECT status FROM _sluice_loads ORDER BY load_id");
    assert_eq!(
        statuses,
        vec!["completed".to_string(), "completed".to_string()]
    );
}

#[test]
fn single_page_chains_of_different_parents_are_fetched_concurrently() {
    // One slow detail request per item: the chains go out together, up to the window.
    let env = Scenario::new(|r: &Req| {
        let parts: Vec<&str> = r.path.trim_matches('/').split('/').collect();
        match parts.as_slice() {
            ["items"] => serve(r),
            ["items", id] => match id.parse::<usize>() {
                Ok(item) => Reply::json(json!({"id": item * 10, "item": item}))
                    .after(std::time::Duration::from_millis(30)),
                Err(_) => Reply::status(404, "no such item"),
            },
            _ => Reply::status(404, "no such route"),
        }
    });
    let child = json!({"path": "items/{resources.items.id}", "paginator": "single_page",
                       "data_selector": "$"});
    let run = env.run(&config(&env.base_url(), child), &["--concurrency", "8"]);
    run.ok();
    let details = env.ids("item_events");
    assert_eq!(
        details,
        (1..=ITEMS as i64).map(|i| i * 10).collect::<Vec<_>>()
    );
    assert!(
        env.server.max_concurrent() >= 4,
        "at most {} detail requests at once",
        env.server.max_concurrent()
    );
    let conn = env.conn();
    let wrong: i64 = conn
        .query_row(
            "SELECT count(*) FROM item_events WHERE _items_id * 10 != id",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(wrong, 0, "each detail row carries its own parent's id");
}

/// The events endpoint, each page 20 ms slow.
fn slow_events(r: &Req) -> Reply {
    let reply = serve(r);
    if r.path.ends_with("/events") {
        reply.after(std::time::Duration::from_millis(20))
    } else {
        reply
    }
}

fn paginated_events() -> Value {
    json!({
        "path": "items/{resources.items.id}/events",
        "paginator": {"type": "offset", "limit": 5, "total_path": "total"},
    })
}

#[test]
fn multi_page_chains_of_different_parents_are_fetched_concurrently() {
    let env = Scenario::new(slow_events);
    let run = env.run(
        &config(&env.base_url(), paginated_events()),
        &["--concurrency", "8"],
    );
    run.ok();
    assert_eq!(
        env.server.sorted_lines(),
        expected_requests(),
        "each page once"
    );
    assert_loaded(&env);
    assert!(
        env.server.max_concurrent() >= 4,
        "at most {} event requests at once",
        env.server.max_concurrent()
    );
    // Records are committed chain by chain, in parent order, as one chain at a time would.
    let order = env.col::<i64>("SELECT _items_id FROM item_events ORDER BY rowid");
    assert!(order.windows(2).all(|w| w[0] <= w[1]), "{order:?}");
}

#[test]
fn an_interrupted_concurrent_dependent_load_resumes_without_loss_or_duplicates() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let broken = std::sync::Arc::new(AtomicBool::new(true));
    let flag = broken.clone();
    // Item 11's second page (of 3) fails until the flag is cleared, while chains of other items
    // are in flight around it.
    let env = Scenario::new(move |r: &Req| {
        if r.path == "/items/11/events" && r.qn("offset") == 5 && flag.load(Ordering::SeqCst) {
            return Reply::status(503, "down");
        }
        slow_events(r)
    });
    let config = config(&env.base_url(), paginated_events());
    let first = env.run(&config, &["--concurrency", "8", "--max-attempts", "1"]);
    assert_eq!(first.code, Some(1), "{}", first.output());
    let committed = env.ids("item_events").len();
    assert!(committed > 0, "the chains before item 11 were committed");
    broken.store(false, Ordering::SeqCst);
    let before = env.server.requests().len();
    let second = env.run(&config, &["--concurrency", "8"]);
    second.ok();
    assert_loaded(&env);
    let all_events: Vec<String> = expected_requests()
        .into_iter()
        .filter(|l| l.contains("/events"))
        .collect();
    let mut again: Vec<String> = env.server.requests()[before..]
        .iter()
        .map(|r| r.line())
        .filter(|l| l.contains("/events"))
        .collect();
    again.sort();
    let mut unique = again.clone();
    unique.dedup();
    assert_eq!(unique, again, "no page asked twice in the second run");
    assert!(again.iter().all(|l| all_events.contains(l)), "{again:?}");
    assert!(
        again.len() < all_events.len(),
        "the second run continued ({} of {} event pages)",
        again.len(),
        all_events.len()
    );
    assert!(
        !again.contains(&"GET /items/1/events?limit=5&offset=0".to_string()),
        "the first item's chain was done: {again:?}"
    );
    assert!(
        second.stdout.contains("resumed at page"),
        "{}",
        second.stdout
    );
}

#[test]
fn kill_9_during_concurrent_chains_then_one_run_to_the_end() {
    use std::time::Duration;
    // 600 parents, each with a chain of 3 pages of 5 events (the last page short), 3 ms a
    // page: 1,800 child requests in a clean run.
    const PARENTS: u64 = 600;
    const CHAIN: u64 = 3;
    let env = Scenario::new(|r: &Req| {
        let parts: Vec<&str> = r.path.trim_matches('/').split('/').collect();
        match parts.as_slice() {
            ["parents"] => Reply::json(json!(
                (1..=PARENTS).map(|i| json!({"id": i})).collect::<Vec<_>>()
            )),
            ["parents", id, "events"] => {
                let parent: u64 = id.parse().unwrap();
                let page: u64 = r.q("page").map_or(1, |p| p.parse().unwrap());
                let n = if page < CHAIN { 5 } else { 2 };
                let data: Vec<Value> = (0..n)
                    .map(|j| json!({"id": parent * 1000 + page * 10 + j}))
                    .collect();
                Reply::json(json!({"data": data, "pages": CHAIN})).after(Duration::from_millis(3))
            }
            _ => Reply::status(404, "no such route"),
        }
    });
    let config = env.write_config(
        "config.json",
        &json!({
            "client": {"base_url": env.base_url()},
            "resource_defaults": {"primary_key": "id", "write_disposition": "merge"},
            "resources": [
                {"name": "parents", "endpoint": {"path": "parents", "paginator": "single_page"}},
                {"name": "events", "endpoint": {"path": "parents/{resources.parents.id}/events",
                    "data_selector": "data",
                    "paginator": {"type": "page_number", "base_page": 1, "total_path": "pages"}}}]
        }),
    );
    let child_requests = |env: &Scenario| {
        env.server
            .requests()
            .iter()
            .filter(|r| r.path.ends_with("/events"))
            .count() as u64
    };
    let killed = kill_at_random_moments(
        10,
        40,
        || env.spawn_run(&config, &["--concurrency", "8"], &[]),
        || child_requests(&env),
    );
    assert!(killed >= 8, "only {killed} runs were killed mid-sync");
    let before = child_requests(&env);
    let last = env.run_file(&config, &["--concurrency", "8"], &[]);
    last.ok();
    assert!(last.stdout.contains("resumed at page"), "{}", last.stdout);
    let expected: Vec<i64> = (1..=PARENTS as i64)
        .flat_map(|p| {
            (1..=CHAIN as i64).flat_map(move |page| {
                let n = if page < CHAIN as i64 { 5 } else { 2 };
                (0..n).map(move |j| p * 1000 + page * 10 + j)
            })
        })
        .collect();
    assert_eq!(env.ids("events"), expected, "every event once");
    assert_eq!(env.count("events"), expected.len() as i64, "no duplicates");
    let running = env.col::<i64>("SELECT count(*) FROM _sluice_loads WHERE status = 'running'");
    assert_eq!(running, [0], "no load is left running");
    // A kill loses the requests in flight, the pages held for chains ahead and those on
    // their way to the database; the rest is continued, not fetched again.
    let total = child_requests(&env);
    let clean = PARENTS * CHAIN;
    assert!(
        total - before < clean,
        "the last run continued: {} child requests",
        total - before
    );
    assert!(
        total as f64 <= 1.5 * clean as f64,
        "{total} child requests over all runs; a clean run sends {clean}, {killed} kills"
    );
    eprintln!("{killed} kills, {total} child requests in all (a clean run: {clean})");
}
