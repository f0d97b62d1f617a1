//! After an unfinished load. One that starts it over instead of continuing it (the resource
//! feeds others, which need every parent record again; `--restart`) fetches again from where
//! that load began: under `append`, what the unfinished load inserted is deleted first, so
//! no record is stored twice. One whose every page committed is finished, with no request.

use serde_json::{Value, json};

use crate::support::{KEY, World};

/// `config` with every resource under `append` and no primary key (dlt's defaults).
fn appending(mut config: Value) -> Value {
    config["resource_defaults"] = json!({"write_disposition": "append"});
    config
}

#[test]
fn an_append_parent_that_starts_over_for_its_children_stores_each_record_once() {
    let (world, _) = World::with_fault(1000, "503x1@500");
    let example = world.write_example("inventory_movements.json");
    let config: Value = serde_json::from_str(&std::fs::read_to_string(&example).unwrap()).unwrap();
    let config = world.write_config("movements.json", &appending(config));
    let first = world.run(&config, Some(KEY), &["--max-attempts", "1"]);
    assert_eq!(first.code, Some(1), "{}", first.output());
    assert_eq!(world.count("inventory_items"), 500, "pages 1-5 committed");

    let second = world.run(&config, Some(KEY), &[]);
    second.ok();
    assert!(
        second.stderr.contains("loading from page 1 again"),
        "{}",
        second.stderr
    );
    let said = "started over: the unfinished load's 500 records deleted first";
    assert!(second.stdout.contains(said), "{}", second.stdout);
    // Each item once, with its tags once; every item's movements once.
    world.assert_items_loaded(1000, 0);
    let movements = (1..=1000).flat_map(sluice_mock_api::movements).count() as i64;
    assert!(movements > 1000);
    assert_eq!(world.count("movements"), movements);
    assert_eq!(world.distinct_ids("movements"), movements);
}

#[test]
fn restart_of_an_unfinished_append_load_stores_each_record_once() {
    let (world, _) = World::with_fault(1000, "503x1@500");
    let config = world.write_config("append.json", &appending(world.seed_config()));
    let first = world.run(&config, Some(KEY), &["--max-attempts", "1"]);
    assert_eq!(first.code, Some(1), "{}", first.output());
    assert_eq!(world.count("inventory_items"), 500);

    let second = world.run(&config, Some(KEY), &["--restart"]);
    second.ok();
    world.assert_items_loaded(1000, 0);
    let said = "started over: the unfinished load's 500 records deleted first";
    assert!(second.stdout.contains(said), "{}", second.stdout);
    let json = world.run(&config, Some(KEY), &["--json"]);
    let summary: Value = serde_json::from_str(&json.ok().stdout).unwrap();
    assert_eq!(summary["resources"][0]["discarded_records"], json!(0));
    assert_eq!(
        world.count("inventory_items"),
        2000,
        "a completed load is not undone"
    );
}

#[test]
fn an_append_load_whose_endpoint_changed_starts_over_storing_each_record_once() {
    let (world, _) = World::with_fault(1000, "503x1@500");
    let mut seed = appending(world.seed_config());
    let config = world.write_config("append.json", &seed);
    let first = world.run(&config, Some(KEY), &["--max-attempts", "1"]);
    assert_eq!(first.code, Some(1), "{}", first.output());
    assert_eq!(world.count("inventory_items"), 500);

    // Another page size: the saved position means nothing to it.
    seed["resources"][0]["endpoint"]["paginator"]["limit"] = json!(50);
    let config = world.write_config("append.json", &seed);
    let second = world.run(&config, Some(KEY), &[]);
    second.ok();
    assert!(second.stderr.contains("changed"), "{}", second.stderr);
    world.assert_items_loaded(1000, 0);
}

#[test]
fn a_load_whose_every_page_committed_is_finished_by_the_next_run_without_a_request() {
    let world = World::inventory(1000);
    let config = world.write_config("append.json", &appending(world.seed_config()));
    world.run(&config, Some(KEY), &[]).ok();
    // As when the process ends after the last page committed and before the load was
    // finished: the ledger has the load `running` (a dead holder's), its last page recorded.
    let marked = world
        .conn()
        .execute(
            "UPDATE _sluice_loads SET status = 'running', finished_at = NULL WHERE fetched = 1",
            [],
        )
        .unwrap();
    assert_eq!(marked, 1);
    world.server.clear_requests();
    let run = world.run(&config, Some(KEY), &[]);
    run.ok();
    assert!(world.server.requests().is_empty(), "nothing to fetch");
    assert!(run.stdout.contains("resumed at page 11"), "{}", run.stdout);
    assert!(run.stderr.contains("finishing it"), "{}", run.stderr);
    world.assert_items_loaded(1000, 0);
    let statuses: Vec<String> =
        world.col("SELECT status || ' ' || pages FROM _sluice_loads ORDER BY load_id");
    assert_eq!(statuses, ["interrupted 10", "completed 0"]);

    // The next run is a new load: under append it appends again.
    world.run(&config, Some(KEY), &[]).ok();
    assert_eq!(world.count("inventory_items"), 2000);
}
