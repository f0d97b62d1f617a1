//! Pages in flight: with `--concurrency N` the host keeps up to N requests of a resource at
//! the server (the mock counts them as they arrive), loads every page in order, shrinks the
//! window when the server answers 429, and loads nothing from pages asked past the end.

use std::time::Duration;

use serde_json::Value;
use sluice_mock_api::{Fault, MockConfig};

use crate::support::{KEY, World};

fn slow_inventory(items: usize, faults: Vec<Fault>, include_total: bool) -> World {
    World::new(MockConfig {
        items,
        latency: Duration::from_millis(25),
        faults,
        include_total,
        ..MockConfig::default()
    })
}

/// Requests the server was answering when each inventory request arrived, in order.
fn concurrency_seen(world: &World) -> Vec<usize> {
    world
        .server
        .requests()
        .iter()
        .map(|r| r.concurrent)
        .collect()
}

fn ids(world: &World) -> Vec<i64> {
    let conn = world.conn();
    let mut stmt = conn
        .prepare("SELECT id FROM inventory_items ORDER BY id")
        .unwrap();
    stmt.query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn pages_in_flight_fill_the_window_and_load_exactly() {
    let world = slow_inventory(3000, Vec::new(), true);
    let config = world.write_config("inventory.json", &world.seed_config());
    world.run(&config, Some(KEY), &["--concurrency", "8"]).ok();
    assert_eq!(ids(&world), (1..=3000).collect::<Vec<_>>());
    let seen = concurrency_seen(&world);
    assert_eq!(seen.len(), 30, "one request a page, none past the total");
    assert_eq!(
        seen[0], 1,
        "the first page goes alone: it tells the page size"
    );
    assert!(
        world.server.max_concurrent() >= 4,
        "at most {} at once: {seen:?}",
        world.server.max_concurrent()
    );

    // One at a time with --concurrency 1.
    let one = slow_inventory(1000, Vec::new(), true);
    let config = one.write_config("inventory.json", &one.seed_config());
    one.run(&config, Some(KEY), &["--concurrency", "1"]).ok();
    assert_eq!(ids(&one).len(), 1000);
    assert_eq!(one.server.max_concurrent(), 1);
}

#[test]
fn a_burst_of_429s_halves_the_window_and_it_grows_back() {
    // The first page is answered 429 twice: the window goes 8 -> 4 -> 2 before any other
    // request is out, then grows by about one per window of answers.
    let world = slow_inventory(6000, vec!["429x2@0:retry-after=0".parse().unwrap()], true);
    let config = world.write_config("inventory.json", &world.seed_config());
    let run = world.run(&config, Some(KEY), &["--concurrency", "8"]);
    run.ok();
    assert_eq!(ids(&world).len(), 6000);
    let seen = concurrency_seen(&world);
    let statuses: Vec<u16> = world.server.requests().iter().map(|r| r.status).collect();
    assert_eq!(&statuses[..3], [429, 429, 200]);
    assert!(
        seen[3..6].iter().all(|&c| c <= 3),
        "right after the burst, at most 2-3 at once: {seen:?}"
    );
    assert!(
        seen[30..].iter().any(|&c| c >= 5),
        "the window grew back: {seen:?}"
    );
}

#[test]
fn pages_asked_past_the_end_load_nothing() {
    // No total: after a full first page, pages are asked ahead until the short page.
    let world = slow_inventory(950, Vec::new(), false);
    let config = world.write_config("inventory.json", &world.seed_config());
    let run = world.run(&config, Some(KEY), &["--concurrency", "8", "--json"]);
    run.ok();
    assert_eq!(ids(&world), (1..=950).collect::<Vec<_>>());
    let summary: Value = serde_json::from_str(&run.stdout).unwrap();
    let resource = &summary["resources"][0];
    assert_eq!(resource["pages"], 10, "{summary}");
    assert_eq!(resource["records"], 950);
    // Rows per table, as the database holds them.
    for table in ["inventory_items", "inventory_items__tags"] {
        assert_eq!(resource["tables"][table], world.count(table), "{summary}");
    }
    let asked = world.server.requests().len();
    assert!(asked > 10, "pages were asked past the end: {asked}");
    let pages: i64 = world
        .conn()
        .query_row("SELECT pages FROM _sluice_loads", [], |r| r.get(0))
        .unwrap();
    assert_eq!(
        pages, 10,
        "only the pages up to the short one are committed"
    );
}
