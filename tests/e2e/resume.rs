//! The load engine across runs: a run that did not complete continues at the page after
//! its last committed one; `kill -9` at any moment loses nothing and re-sends little; one
//! writer per database; resources independent of each other; `--json`.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sluice_mock_api::MockConfig;

use crate::support::{KEY, Reply, Scenario, World, interrupt};

fn offsets(world: &World) -> Vec<u64> {
    world
        .server
        .requests()
        .iter()
        .filter_map(|r| r.query.iter().find(|(k, _)| k == "offset"))
        .map(|(_, v)| v.parse().unwrap())
        .collect()
}

fn ledger(world: &World) -> Vec<(String, i64, i64)> {
    let conn = world.conn();
    let mut stmt = conn
        .prepare("SELECT status, first_page, pages FROM _sluice_loads ORDER BY load_id")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn a_failed_run_is_resumed_at_the_page_after_its_last_committed_one() {
    let (world, config) = World::with_fault(2500, "503x3@1200");
    let first = world.run(&config, Some(KEY), &[]);
    assert_eq!(first.code, Some(1), "{}", first.output());
    assert_eq!(world.count("inventory_items"), 1200);

    world.server.clear_requests();
    let second = world.run(&config, Some(KEY), &[]);
    second.ok();
    let sent = offsets(&world);
    assert_eq!(sent[0], 1200, "continued at the failed page: {sent:?}");
    assert_eq!(sent.len(), 13, "offsets 1200..=2400, once each: {sent:?}");
    assert!(
        second.stdout.contains("resumed at page 13"),
        "{}",
        second.stdout
    );
    world.assert_items_loaded(2500, 0);
    assert_eq!(
        ledger(&world),
        [("failed".into(), 1, 12), ("completed".into(), 13, 13)]
    );

    // A completed load is not resumed: the next run starts at page 1.
    world.server.clear_requests();
    world.run(&config, Some(KEY), &[]).ok();
    assert_eq!(offsets(&world)[0], 0);
    assert_eq!(offsets(&world).len(), 25);
}

#[test]
fn restart_ignores_the_unfinished_load() {
    let (world, config) = World::with_fault(1000, "503x3@500");
    assert_eq!(world.run(&config, Some(KEY), &[]).code, Some(1));
    world.server.clear_requests();
    let run = world.run(&config, Some(KEY), &["--restart"]);
    run.ok();
    assert!(!run.stdout.contains("resumed"), "{}", run.stdout);
    let mut sent = offsets(&world);
    sent.sort_unstable(); // several pages in flight at once
    assert_eq!(sent, (0..10).map(|p| p * 100).collect::<Vec<_>>());
    assert_eq!(world.count("inventory_items"), 1000);
}

#[test]
fn a_second_run_on_a_held_database_fails_at_once_naming_the_holder() {
    let world = World::new(MockConfig {
        items: 3000,
        latency: Duration::from_millis(50),
        ..MockConfig::default()
    });
    let other = World::new(MockConfig::default());
    let config = world.write_config("inventory.json", &world.seed_config());
    let mut first = world.spawn_run(&config, &[], &[("API_KEY", Some(KEY))]);
    let started = Instant::now();
    while world.server.requests().is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "first run never sent"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    // The same database, another API: the second run must send it nothing.
    let second_config = world.write_config("other.json", &other.seed_config());
    let second = world.run(&second_config, Some(KEY), &[]);
    assert_eq!(second.code, Some(1), "{}", second.output());
    let line = second.stderr.lines().next().unwrap_or_default();
    assert!(line.contains("in use by another sluice run"), "{line}");
    assert!(line.contains(&format!("pid {}", first.id())), "{line}");
    assert!(other.server.requests().is_empty());
    assert!(first.wait().unwrap().success());
    assert_eq!(world.count("inventory_items"), 3000);
}

#[test]
fn json_summary_matches_the_tables() {
    let world = World::inventory(700);
    let config = world.write_config("inventory.json", &world.seed_config());
    let run = world.run(&config, Some(KEY), &["--json"]);
    run.ok();
    let summary: Value = serde_json::from_str(run.stdout.trim()).expect("one JSON object");
    assert_eq!(summary["ok"], true);
    let r = &summary["resources"][0];
    assert_eq!(r["name"], "inventory_items");
    assert_eq!(r["status"], "completed");
    assert_eq!(r["records"], world.count("inventory_items"));
    assert_eq!(r["rows_written"], 700);
    assert_eq!(r["pages"], 7);
    assert_eq!(r["requests"], 7);
}

#[test]
fn a_failing_resource_does_not_stop_the_others() {
    let scenario = Scenario::new(|req| match req.path.as_str() {
        "/broken" => Reply::status(500, "down"),
        "/a" | "/b" | "/d" => Reply::json(json!([{"id": 1}, {"id": 2}])),
        p if p.starts_with("/broken/") => Reply::json(json!([{"id": 9}])),
        _ => Reply::status(404, "no"),
    });
    let config = json!({
        "client": {"base_url": scenario.base_url()},
        "resource_defaults": {"primary_key": "id", "write_disposition": "merge",
                              "endpoint": {"paginator": "single_page"}},
        "resources": ["a", "b", "broken",
            {"name": "child", "endpoint": {"path": "broken/{resources.broken.id}"}},
            "d"]
    });
    let run = scenario.run(&config, &["--json", "--max-attempts", "1"]);
    assert_eq!(run.code, Some(1), "{}", run.output());
    let first = run
        .stderr
        .lines()
        .find(|l| l.starts_with("error:"))
        .unwrap();
    assert!(
        first.contains("resource `broken` failed") && first.contains("500"),
        "{first}"
    );
    let summary: Value = serde_json::from_str(run.stdout.trim()).unwrap();
    let statuses: Vec<(String, String)> = summary["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["name"].as_str().unwrap().to_string(),
                r["status"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let expect = |n: &str, s: &str| (n.to_string(), s.to_string());
    assert_eq!(
        statuses,
        [
            expect("a", "completed"),
            expect("b", "completed"),
            expect("broken", "failed"),
            expect("child", "skipped"),
            expect("d", "completed")
        ]
    );
    assert_eq!(summary["ok"], false);
    let conn = rusqlite::Connection::open(scenario.db()).unwrap();
    let ledger: Vec<(String, String)> = conn
        .prepare("SELECT resource, status FROM _sluice_loads ORDER BY load_id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(ledger, statuses);
    let d: i64 = conn
        .query_row("SELECT count(*) FROM d", [], |r| r.get(0))
        .unwrap();
    assert_eq!(d, 2);
}

/// A cursor API of 50 records in pages of 10 (`next`: `c<start>`) whose page at record 30
/// fails while `broken` is set.
fn cursor_api(broken: std::sync::Arc<std::sync::atomic::AtomicBool>) -> Scenario {
    use std::sync::atomic::Ordering;
    Scenario::new(move |req| {
        let start: u64 = req
            .q("cursor")
            .map_or(0, |c| c.trim_start_matches('c').parse().unwrap());
        if start == 30 && broken.load(Ordering::SeqCst) {
            return Reply::status(503, "down");
        }
        let data: Vec<Value> = (start..start + 10).map(|i| json!({"id": i})).collect();
        let next = (start + 10 < 50).then(|| format!("c{}", start + 10));
        Reply::json(json!({"data": data, "next": next}))
    })
}

#[test]
fn a_cursor_load_resumes_with_the_cursor_of_its_last_committed_page() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let broken = std::sync::Arc::new(AtomicBool::new(true));
    let scenario = cursor_api(broken.clone());
    let config = json!({
        "client": {"base_url": scenario.base_url()},
        "resources": [{"name": "items", "primary_key": "id", "write_disposition": "append",
            "endpoint": {"path": "items", "data_selector": "data",
                         "paginator": {"type": "cursor", "cursor_path": "next"}}}]
    });
    // One request at a time, so the failure comes after the first chain is complete (with
    // chains fetched ahead it may come before; `dependent.rs` covers that).
    let first = scenario.run(&config, &["--max-attempts", "1", "--concurrency", "1"]);
    assert_eq!(first.code, Some(1), "{}", first.output());
    broken.store(false, Ordering::SeqCst);
    let before = scenario.server.requests().len();
    let second = scenario.run(&config, &["--concurrency", "1"]);
    second.ok();
    let cursors: Vec<Option<String>> = scenario.server.requests()[before..]
        .iter()
        .map(|r| r.q("cursor").map(str::to_string))
        .collect();
    assert_eq!(cursors, [Some("c30".to_string()), Some("c40".to_string())]);
    assert!(
        second.stdout.contains("resumed at page 4"),
        "{}",
        second.stdout
    );
    let conn = rusqlite::Connection::open(scenario.db()).unwrap();
    let ids: Vec<i64> = conn
        .prepare("SELECT id FROM items ORDER BY id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        ids,
        (0..50).collect::<Vec<_>>(),
        "append without duplicates"
    );
}

#[test]
fn a_dependent_load_resumes_in_the_parent_chain_it_stopped_in() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let broken = std::sync::Arc::new(AtomicBool::new(true));
    let flag = broken.clone();
    let scenario = Scenario::new(move |req| {
        if req.path == "/parents" {
            return Reply::json(json!([{"id": 1}, {"id": 2}, {"id": 3}]));
        }
        let parent: u64 = req.path.split('/').nth(2).unwrap().parse().unwrap();
        let page: u64 = req.q("page").map_or(1, |p| p.parse().unwrap());
        if parent == 2 && page == 2 && flag.load(Ordering::SeqCst) {
            return Reply::status(503, "down");
        }
        let items: Vec<Value> = (0..2)
            .map(|i| json!({"id": parent * 100 + page * 10 + i}))
            .collect();
        Reply::json(json!({"items": items, "total_pages": 3}))
    });
    let config = json!({
        "client": {"base_url": scenario.base_url()},
        "resource_defaults": {"primary_key": "id", "write_disposition": "merge"},
        "resources": [
            {"name": "parents", "endpoint": {"path": "parents", "paginator": "single_page"}},
            {"name": "children", "endpoint": {"path": "parents/{resources.parents.id}/items",
                "data_selector": "items",
                "paginator": {"type": "page_number", "base_page": 1, "total_path": "total_pages"}}}]
    });
    // One request at a time, so the failure comes after the first chain is complete (with
    // chains fetched ahead it may come before; `dependent.rs` covers that).
    let first = scenario.run(&config, &["--max-attempts", "1", "--concurrency", "1"]);
    assert_eq!(first.code, Some(1), "{}", first.output());
    broken.store(false, Ordering::SeqCst);
    let before = scenario.server.requests().len();
    let second = scenario.run(&config, &["--concurrency", "1"]);
    second.ok();
    let sent: Vec<String> = scenario.server.requests()[before..]
        .iter()
        .map(|r| format!("{}?page={}", r.path, r.q("page").unwrap_or("-")))
        .collect();
    assert_eq!(
        sent,
        [
            "/parents?page=-",
            "/parents/2/items?page=2",
            "/parents/2/items?page=3",
            "/parents/3/items?page=1",
            "/parents/3/items?page=2",
            "/parents/3/items?page=3",
        ],
        "the parent is read again; the child continues in parent 2's chain at page 2"
    );
    assert!(
        second.stdout.contains("resumed at page 5"),
        "{}",
        second.stdout
    );
    let conn = rusqlite::Connection::open(scenario.db()).unwrap();
    let n: i64 = conn
        .query_row("SELECT count(DISTINCT id) FROM children", [], |r| r.get(0))
        .unwrap();
    let rows: i64 = conn
        .query_row("SELECT count(*) FROM children", [], |r| r.get(0))
        .unwrap();
    assert_eq!(
        (n, rows),
        (18, 18),
        "3 parents x 3 pages x 2 items, once each"
    );
}

#[test]
fn thirty_percent_transient_faults_finish_within_a_few_reruns() {
    const PAGES: usize = 50;
    let world = World::new(MockConfig {
        items: PAGES * 100,
        fault_rate: 0.3,
        ..MockConfig::default()
    });
    let config = world.write_config("inventory.json", &world.seed_config());
    let mut runs = 0;
    loop {
        runs += 1;
        let run = world.run(&config, Some(KEY), &["--max-retry-delay", "0.2"]);
        if run.code == Some(0) {
            break;
        }
        assert_eq!(run.code, Some(1), "{}", run.output());
        assert!(runs < 10, "still failing after {runs} runs");
    }
    world.assert_items_loaded((PAGES * 100) as u64, 0);
    let answered = world
        .server
        .requests()
        .iter()
        .filter(|r| r.status == 200)
        .count();
    let faulted = world.server.requests().len() - answered;
    eprintln!("{runs} runs, {answered} pages answered, {faulted} faults");
    assert!(faulted > PAGES / 5, "the mock injected faults: {faulted}");
    assert!(
        answered as f64 <= 1.5 * PAGES as f64,
        "{answered} pages answered for {PAGES}: pages re-sent"
    );
}

#[test]
fn ctrl_c_finishes_the_pages_in_flight_and_the_next_run_continues() {
    let world = World::new(MockConfig {
        items: 20_000,
        latency: Duration::from_millis(20),
        ..MockConfig::default()
    });
    let config = world.write_config("inventory.json", &world.seed_config());
    let child = world.spawn_run(&config, &[], &[("API_KEY", Some(KEY))]);
    let started = Instant::now();
    while world.server.requests().len() < 30 && started.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(2));
    }
    let status = interrupt(child);
    assert_eq!(
        status.code(),
        Some(130),
        "the exit code of an interrupted run"
    );
    let (state, _, pages) = ledger(&world).pop().unwrap();
    assert_eq!(
        state, "interrupted",
        "the load ends interrupted, not running"
    );
    let kept = world.count("inventory_items");
    assert_eq!(kept, pages * 100, "every committed page, and only those");
    let stderr = world.spawned_stderr();
    let line = format!("inventory_items: interrupted ({pages} pages, {kept} records)");
    assert!(stderr.contains(&line), "{stderr}");
    assert!(pages > 0 && pages < 200, "{pages} pages committed");
    let asked = world.server.requests().len() as i64;
    assert_eq!(
        asked, pages,
        "the pages in flight were answered and committed"
    );

    world.server.clear_requests();
    let run = world.run(&config, Some(KEY), &[]);
    run.ok();
    let next = format!("resumed at page {}", pages + 1);
    assert!(run.stdout.contains(&next), "{}", run.stdout);
    assert_eq!(offsets(&world).iter().min(), Some(&(pages as u64 * 100)));
    world.assert_items_loaded(20_000, 0);
}

#[test]
fn ctrl_c_during_a_long_retry_wait_stops_at_once_and_the_next_run_continues() {
    // The page at offset 1000 is answered 429 with `Retry-After: 30`. Ctrl-C while the
    // request waits: it is not tried again, the ten pages before it are committed, and the
    // run ends interrupted without sitting out the wait.
    let (world, config) = World::with_fault(3000, "429x1@1000:retry-after=30");
    let child = world.spawn_run(&config, &[], &[("API_KEY", Some(KEY))]);
    let started = Instant::now();
    while !world.server.requests().iter().any(|r| r.status == 429) {
        assert!(started.elapsed() < Duration::from_secs(30), "no 429 sent");
        std::thread::sleep(Duration::from_millis(5));
    }
    // The retry is announced on stderr once the client starts waiting.
    while !world.spawned_stderr().contains("retry 1 in 30.0s") {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no retry announced"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    let interrupted = Instant::now();
    let status = interrupt(child);
    assert!(
        interrupted.elapsed() < Duration::from_secs(20),
        "the run sat out the 30 s wait: {:?}",
        interrupted.elapsed()
    );
    assert_eq!(
        status.code(),
        Some(130),
        "the exit code of an interrupted run"
    );
    let stderr = world.spawned_stderr();
    assert!(
        stderr.contains("inventory_items: interrupted (10 pages, 1000 records)"),
        "{stderr}"
    );
    assert!(!stderr.contains("retry 2"), "{stderr}");
    let (state, _, pages) = ledger(&world).pop().unwrap();
    assert_eq!((state.as_str(), pages), ("interrupted", 10));
    assert_eq!(world.count("inventory_items"), 1000);
    let at_1000 = offsets(&world).iter().filter(|&&o| o == 1000).count();
    assert_eq!(at_1000, 1, "offset 1000 was not tried again");

    world.server.clear_requests();
    let run = world.run(&config, Some(KEY), &[]);
    run.ok();
    assert!(run.stdout.contains("resumed at page 11"), "{}", run.stdout);
    assert_eq!(offsets(&world).iter().min(), Some(&1000));
    world.assert_items_loaded(3000, 0);
}

#[test]
fn a_page_the_sink_refuses_fails_the_load_after_the_pages_before_it() {
    use std::sync::atomic::{AtomicBool, Ordering};
    // 60 records by offset, 10 a page, all in flight at once: the page at offset 30 holds a
    // record that is not an object while `broken` is set. The normalize stage refuses it;
    // the pages before it are written (some in one group commit with it), none after it.
    let broken = std::sync::Arc::new(AtomicBool::new(true));
    let flag = broken.clone();
    let scenario = Scenario::new(move |req| {
        let offset: u64 = req.q("offset").map_or(0, |o| o.parse().unwrap());
        let mut data: Vec<Value> = (offset..(offset + 10).min(60))
            .map(|i| json!({"id": i, "tags": [i, i + 1]}))
            .collect();
        if offset == 30 && flag.load(Ordering::SeqCst) {
            data[4] = json!("oops");
        }
        Reply::json(json!({"data": data, "total": 60}))
    });
    let config = json!({
        "client": {"base_url": scenario.base_url()},
        "resource_defaults": {"primary_key": "id", "write_disposition": "merge"},
        "resources": [{"name": "items", "endpoint": {"path": "items", "data_selector": "data",
            "paginator": {"type": "offset", "limit": 10, "total_path": "total"}}}]
    });
    let first = scenario.run(&config, &[]);
    assert_eq!(first.code, Some(1), "{}", first.output());
    let error = first
        .stderr
        .lines()
        .find(|l| l.starts_with("error"))
        .unwrap();
    assert!(
        error.contains("record 4 of the page is a JSON string, not an object"),
        "{}",
        first.output()
    );
    let ids = |sql: &str| scenario.col::<i64>(sql);
    assert_eq!(
        ids("SELECT id FROM items ORDER BY id"),
        (0..30).collect::<Vec<_>>()
    );
    assert_eq!(ids("SELECT count(*) FROM items__tags"), [60]);
    broken.store(false, Ordering::SeqCst);
    let before = scenario.server.requests().len();
    let second = scenario.run(&config, &[]);
    second.ok();
    let mut sent: Vec<String> = scenario.server.requests()[before..]
        .iter()
        .map(|r| r.q("offset").unwrap().to_string())
        .collect();
    sent.sort();
    assert_eq!(sent, ["30", "40", "50"], "continued at the refused page");
    assert_eq!(
        ids("SELECT id FROM items ORDER BY id"),
        (0..60).collect::<Vec<_>>()
    );
    assert_eq!(ids("SELECT count(*) FROM items__tags"), [120]);
}
