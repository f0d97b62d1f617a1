//! A load that starts an unfinished one over instead of continuing it (the resource feeds
//! others, which need every parent record again; `--restart`) fetches again from where that
//! load began: under `append`, what the unfinished load inserted is deleted first, so no
//! record is stored twice.

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

    // A completed append load is not undone by the next run: it appends again.
    world.run(&config, Some(KEY), &[]).ok();
    assert_eq!(world.count("inventory_items"), 2000);
}
