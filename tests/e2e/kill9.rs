//! `kill -9` at random moments during syncs of the mock inventory API, for each write
//! disposition, then one run to the end: the tables equal the source value by value, no
//! load is left running, and all the runs together sent at most 1.5x the requests of one
//! clean run.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::json;
use sluice_mock_api::{MockConfig, item};

use crate::support::{KEY, Run, World, kill_at_random_moments};

/// Items of the mock; 400 pages of 100 for the seed config.
const ITEMS: u64 = 40_000;
const PAGES: f64 = 400.0;
/// Runs started and killed; at least 10 must die mid-sync.
const KILLS: usize = 12;

/// The mock (5 ms a page) and the seed config with `disposition`.
fn world(disposition: &str) -> (World, PathBuf) {
    let world = World::new(MockConfig {
        items: ITEMS as usize,
        latency: Duration::from_millis(5),
        ..MockConfig::default()
    });
    let mut seed = world.seed_config();
    seed["resource_defaults"]["write_disposition"] = json!(disposition);
    let config = world.write_config("inventory.json", &seed);
    (world, config)
}

/// One clean sync of the items as they are, then ~10% of them change upstream (the
/// mock's generation 1); the server's request log starts afresh.
fn sync_then_change_upstream(world: &World, config: &Path) {
    world.run(config, Some(KEY), &[]).ok();
    world.server.set_generation(1);
    world.server.clear_requests();
}

/// Starts [`KILLS`] runs and kills each at a random moment: after 1 to `max_more` more
/// requests reached the server, plus 0-9 ms. Returns how many died mid-sync (at least 10).
fn kill_runs(world: &World, config: &Path, max_more: u64) -> usize {
    let killed = kill_at_random_moments(
        KILLS,
        max_more,
        || world.spawn_run(config, &[], &[("API_KEY", Some(KEY))]),
        || world.server.requests().len() as u64,
    );
    assert!(killed >= 10, "only {killed} runs were killed mid-sync");
    killed
}

/// One run to the end; no load is left running, and the requests since the server's log
/// was last cleared are at most 1.5x a clean run's.
fn finish(world: &World, config: &Path, killed: usize) -> Run {
    let last = world.run(config, Some(KEY), &[]);
    last.ok();
    let running: i64 = world
        .conn()
        .query_row(
            "SELECT count(*) FROM _sluice_loads WHERE status = 'running'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(running, 0, "no load is left running");
    let total = world.server.requests().len() as f64;
    assert!(
        total <= 1.5 * PAGES,
        "{total} requests over all runs; one clean run sends {PAGES}"
    );
    // Each kill loses the pages in flight (up to --concurrency, 8) and those fetched but
    // not committed yet (queued for the normalize and write stages).
    eprintln!("{killed} kills, {total} requests in all (a clean run: {PAGES})");
    last
}

#[test]
fn kill_9_at_random_moments_then_one_run_to_the_end() {
    let (world, config) = world("merge");
    let killed = kill_runs(&world, &config, 40);
    finish(&world, &config, killed);
    world.assert_items_loaded(ITEMS, 0);
}

#[test]
fn kill_9_during_an_append_loads_every_record_exactly_once() {
    // Append has no key to absorb a page loaded twice: only committing each page with its
    // position keeps the rows exact across kills.
    let (world, config) = world("append");
    let killed = kill_runs(&world, &config, 40);
    finish(&world, &config, killed);
    world.assert_items_loaded(ITEMS, 0);
}

#[test]
fn kill_9_during_a_merge_then_one_run_to_the_end() {
    // A first sync, then 10% of the items change upstream and the merge sync is killed:
    // every page commits its upserts, the child rows they replace and its position
    // together, so the end is the new source exactly, without stale tags.
    let (world, config) = world("merge");
    sync_then_change_upstream(&world, &config);
    let changed = (1..=ITEMS).filter(|&id| item(id, 1) != item(id, 0)).count();
    assert!(changed >= 1000, "the source changed: {changed} items");
    let killed = kill_runs(&world, &config, 25);
    finish(&world, &config, killed);
    world.assert_items_loaded(ITEMS, 1);
}

#[test]
fn kill_9_during_a_replace_keeps_the_old_tables_until_one_run_swaps_in_the_new() {
    // Replace stages its pages and resumes into the staging tables: while the runs are
    // killed the tables keep the last completed load whole; the run that ends swaps in
    // exactly the new source.
    let (world, config) = world("replace");
    sync_then_change_upstream(&world, &config);
    let killed = kill_runs(&world, &config, 25);
    if killed == KILLS {
        world.assert_items_loaded(ITEMS, 0);
    }
    let last = finish(&world, &config, killed);
    assert!(last.stdout.contains("resumed at page"), "{}", last.stdout);
    world.assert_items_loaded(ITEMS, 1);
    let staged: i64 = world
        .conn()
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE name LIKE '_sluice_staging%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(staged, 0, "the staging tables are gone after the swap");
}
