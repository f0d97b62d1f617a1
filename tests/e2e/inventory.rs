//! The seed config, end to end: rows, types, nulls, requests, merge on a second run.

use std::collections::HashMap;

use serde_json::Value;
use sluice_mock_api::item;

use crate::support::{KEY, World};

fn column_types(world: &World) -> HashMap<String, String> {
    let conn = world.conn();
    let mut stmt = conn
        .prepare("SELECT name, type FROM pragma_table_info('inventory_items')")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn seed_config_syncs_every_item_with_typed_nullable_columns() {
    let world = World::inventory(2500);
    let config = world.write_config("inventory.json", &world.seed_config());
    let run = world.run(&config, Some(KEY), &[]);
    run.ok();
    assert!(
        run.stdout.contains("inventory_items") && run.stdout.contains("2500 records"),
        "{}",
        run.stdout
    );

    assert_eq!(world.count("inventory_items"), 2500);
    assert_eq!(world.distinct_ids("inventory_items"), 2500);

    let types = column_types(&world);
    for (column, expected) in [
        ("id", "BIGINT"),
        ("sku", "TEXT"),
        ("name", "TEXT"),
        ("quantity", "BIGINT"),
        ("price", "DOUBLE"),
        ("category", "TEXT"),
        ("warehouse__code", "TEXT"),
        ("warehouse__city", "TEXT"),
        ("updated_at", "TIMESTAMP"),
        ("discontinued", "BOOLEAN"),
    ] {
        assert_eq!(
            types.get(column).map(String::as_str),
            Some(expected),
            "column {column}: {types:?}"
        );
    }

    // Nulls exactly where the source left data out.
    let source: Vec<Value> = (1..=2500).map(|id| item(id, 0)).collect();
    let missing = |field: &str| {
        source
            .iter()
            .filter(|i| i.get(field).is_none_or(Value::is_null))
            .count() as i64
    };
    for (column, field) in [
        ("quantity", "quantity"),
        ("category", "category"),
        ("warehouse__code", "warehouse"),
    ] {
        let nulls: i64 = world
            .conn()
            .query_row(
                &format!("SELECT count(*) FROM inventory_items WHERE \"{column}\" IS NULL"),
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert!(missing(field) > 0, "the mock leaves some {field} out");
        assert_eq!(nulls, missing(field), "NULLs in {column}");
    }

    // A row equals its source item; its tags are rows of the child table, as in dlt.
    let probe = &source[41];
    let (name, price): (String, f64) = world
        .conn()
        .query_row(
            "SELECT name, price FROM inventory_items WHERE id = 42",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(name, probe["name"].as_str().unwrap());
    assert!((price - probe["price"].as_f64().unwrap()).abs() < 1e-9);
    assert!(
        !types.contains_key("tags"),
        "lists are child tables: {types:?}"
    );
    let tags_of = |id: i64| -> Vec<String> {
        let conn = world.conn();
        let mut stmt = conn
            .prepare(
                "SELECT t.value FROM inventory_items__tags t \
                 JOIN inventory_items i ON i._dlt_id = t._dlt_parent_id \
                 WHERE i.id = ?1 ORDER BY t._dlt_list_idx",
            )
            .unwrap();
        stmt.query_map([id], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    for (i, item) in source.iter().enumerate() {
        let want: Vec<String> = item["tags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap().to_owned())
            .collect();
        assert_eq!(tags_of(i as i64 + 1), want, "tags of item {}", i + 1);
    }
    let tag_rows: usize = source
        .iter()
        .map(|i| i["tags"].as_array().unwrap().len())
        .sum();
    assert_eq!(world.count("inventory_items__tags"), tag_rows as i64);
    assert!(
        run.stdout.lines().any(|l| {
            let words: Vec<&str> = l.split_whitespace().collect();
            words == ["inventory_items__tags", &tag_rows.to_string(), "rows"]
        }),
        "the summary counts rows per table: {}",
        run.stdout
    );

    // Every request carried the key and asked for pages of 100.
    let requests = world.server.requests();
    assert_eq!(
        requests.len(),
        25,
        "2,500 items in pages of 100 with a total: 25 requests"
    );
    let mut offsets = Vec::new();
    for (i, r) in requests.iter().enumerate() {
        let q: HashMap<_, _> = r.query.iter().cloned().collect();
        assert_eq!(
            q.get("api_key").map(String::as_str),
            Some(KEY),
            "request {i} lacks the key"
        );
        assert_eq!(q.get("limit").map(String::as_str), Some("100"));
        offsets.push(q["offset"].parse::<usize>().unwrap());
        assert_eq!(r.status, 200);
    }
    // Pages go out several at a time, each once.
    offsets.sort_unstable();
    assert_eq!(offsets, (0..25).map(|i| i * 100).collect::<Vec<_>>());
    world.assert_db_has_no_secret();
}

#[test]
fn second_run_after_upstream_changes_updates_rows_in_place() {
    let world = World::inventory(2500);
    let config = world.write_config("inventory.json", &world.seed_config());
    world.run(&config, Some(KEY), &[]).ok();
    world.server.set_generation(1);
    world.run(&config, Some(KEY), &[]).ok();

    assert_eq!(world.count("inventory_items"), 2500);
    let mut changed = 0;
    let conn = world.conn();
    for id in 1..=2500i64 {
        let (before, after) = (item(id as u64, 0), item(id as u64, 1));
        let name: String = conn
            .query_row(
                "SELECT name FROM inventory_items WHERE id = ?1",
                [id],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(name, after["name"].as_str().unwrap(), "item {id}");
        if before != after {
            changed += 1;
        }
    }
    assert!(
        changed > 100,
        "the mock changes a real share of items ({changed})"
    );
    let loads: Vec<(String, i64)> = conn
        .prepare("SELECT status, rows FROM _sluice_loads ORDER BY load_id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        loads,
        vec![
            ("completed".to_string(), 2500),
            ("completed".to_string(), 2500)
        ]
    );
    world.assert_db_has_no_secret();
}

#[test]
fn toml_and_yaml_configs_run_like_json() {
    for file in ["inventory.toml", "inventory.yaml"] {
        let world = World::inventory(250);
        let path = world.write_example(file);
        world.run(&path, Some(KEY), &[]).ok();
        assert_eq!(world.count("inventory_items"), 250, "{file}");
    }
}

#[test]
fn secret_is_read_from_dlt_secrets_toml_next_to_the_config() {
    let world = World::inventory(120);
    let config = world.write_config("inventory.json", &world.seed_config());
    std::fs::create_dir(world.dir.path().join(".dlt")).unwrap();
    std::fs::write(
        world.dir.path().join(".dlt/secrets.toml"),
        format!("api_key = \"{KEY}\"\n"),
    )
    .unwrap();
    world.run(&config, None, &[]).ok();
    assert_eq!(world.count("inventory_items"), 120);
    world.assert_db_has_no_secret();
}

#[test]
fn a_second_run_loads_the_compiled_component_from_the_cache() {
    let world = World::inventory(10);
    let config = world.write_config("inventory.json", &world.seed_config());
    let cache = world.dir.path().join("cache");
    let cache_arg = cache.to_str().unwrap();
    let first = world.run(&config, Some(KEY), &["--cache-dir", cache_arg]);
    assert!(
        !first.ok().stdout.contains("loaded from cache"),
        "{}",
        first.stdout
    );
    assert!(
        std::fs::read_dir(&cache).unwrap().next().is_some(),
        "the cache holds the compiled component"
    );
    let second = world.run(&config, Some(KEY), &["--cache-dir", cache_arg]);
    assert!(
        second.ok().stdout.contains("loaded from cache"),
        "{}",
        second.stdout
    );
}

#[test]
fn the_movements_example_loads_each_items_chain_of_pages_concurrently() {
    let world = World::new(sluice_mock_api::MockConfig {
        items: 150,
        latency: std::time::Duration::from_millis(5),
        ..sluice_mock_api::MockConfig::default()
    });
    let path = world.write_example("inventory_movements.json");
    let run = world.run(&path, Some(KEY), &["--concurrency", "8"]);
    run.ok();
    // Exactly the API's movements, each carrying its item's sku.
    let conn = world.conn();
    let mut stmt = conn
        .prepare(
            "SELECT id, item_id, kind, quantity, _inventory_items_sku FROM movements ORDER BY id",
        )
        .unwrap();
    let got: Vec<(i64, i64, String, i64, String)> = stmt
        .query_map([], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let expected: Vec<(i64, i64, String, i64, String)> = (1..=150)
        .flat_map(sluice_mock_api::movements)
        .map(|m| {
            let item_id = m["item_id"].as_u64().unwrap();
            (
                m["id"].as_i64().unwrap(),
                item_id as i64,
                m["kind"].as_str().unwrap().to_string(),
                m["quantity"].as_i64().unwrap(),
                item(item_id, 0)["sku"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(got.len(), expected.len());
    assert_eq!(got, expected);
    // One request per page of each chain (at least one per item), several chains at once.
    let pages: usize = (1..=150u64)
        .map(|i| (i % 12).div_ceil(5).max(1) as usize)
        .sum();
    let requests = world.server.requests();
    let movement_requests = requests
        .iter()
        .filter(|r| r.path.ends_with("/movements"))
        .count();
    assert_eq!(movement_requests, pages);
    assert!(
        world.server.max_concurrent() >= 4,
        "at most {} requests at once",
        world.server.max_concurrent()
    );
}
