//! `sluice spec` and `sluice check`: the schema as JSON, validation without loading, and one
//! page per resource with `--connect`, never creating a database.

use serde_json::{Value, json};

use crate::support::{KEY, Run, World, connector};

fn sluice(world: &World, args: &[&str], key: Option<&str>) -> Run {
    let connector = connector();
    let mut args = args.to_vec();
    if let Some(connector) = &connector
        && args.first() != Some(&"mock-api")
    {
        args.extend(["--connector", connector.as_str()]);
    }
    world.sluice(&args, &[("API_KEY", key)])
}

fn check(world: &World, config: &Value, extra: &[&str], key: Option<&str>) -> Run {
    let path = world.write_config("config.json", config);
    let path = path.to_str().expect("utf-8 temp path").to_string();
    let mut args = vec!["check", "--config", path.as_str()];
    args.extend_from_slice(extra);
    sluice(world, &args, key)
}

#[test]
fn spec_prints_the_config_json_schema() {
    let world = World::inventory(1);
    let run = sluice(&world, &["spec"], None);
    run.ok();
    let schema: Value = serde_json::from_str(&run.stdout).expect("spec prints JSON");
    let properties = schema["properties"]
        .as_object()
        .expect("a `properties` object");
    assert!(properties.contains_key("client"), "{}", run.stdout);
    assert!(properties.contains_key("resources"), "{}", run.stdout);
    assert!(run.stdout.contains("\n  "), "pretty-printed");
    // dlt's table hints and endpoint-level auth are described.
    let defaults = &properties["resource_defaults"]["properties"];
    for key in [
        "table_name",
        "columns",
        "merge_key",
        "schema_contract",
        "max_table_nesting",
    ] {
        assert!(
            defaults.get(key).is_some(),
            "resource_defaults.{key}: {}",
            run.stdout
        );
    }
    let columns = defaults["columns"].to_string();
    assert!(
        columns.contains("decimal") && columns.contains("nullable"),
        "{columns}"
    );
    assert!(
        run.stdout
            .contains("credentials of this endpoint instead of client.auth")
    );
}

#[test]
fn check_lists_the_seed_resources_without_sending_anything() {
    let world = World::inventory(50);
    let run = check(&world, &world.seed_config(), &[], Some(KEY));
    run.ok();
    assert!(run.stdout.contains("inventory_items"), "{}", run.stdout);
    assert!(run.stdout.contains("merge"), "{}", run.stdout);
    assert!(!run.stdout.contains("parallelized"), "{}", run.stdout);
    assert!(
        world.server.requests().is_empty(),
        "check without --connect sends nothing"
    );
    assert!(!world.db().exists());
    // A resource the config marks `parallelized` says so.
    let mut marked = world.seed_config();
    marked["resource_defaults"]["parallelized"] = serde_json::json!(true);
    let run = check(&world, &marked, &[], Some(KEY));
    run.ok();
    let line = run.stdout.lines().find(|l| l.contains("inventory_items"));
    assert!(
        line.is_some_and(|l| l.ends_with("  parallelized")),
        "{}",
        run.stdout
    );
    // A merge strategy other than the default says which.
    let mut insert_only = world.seed_config();
    insert_only["resource_defaults"]["write_disposition"] =
        serde_json::json!({"disposition": "merge", "strategy": "insert-only"});
    let run = check(&world, &insert_only, &[], Some(KEY));
    run.ok();
    assert!(
        run.stdout.contains("disposition: merge (insert-only)"),
        "{}",
        run.stdout
    );
}

#[test]
fn check_names_a_bad_paginator_key_and_exits_2() {
    let world = World::inventory(10);
    let mut config = world.seed_config();
    config["resources"][0]["endpoint"]["paginator"] = json!({"type": "no_such_paginator"});
    let run = check(&world, &config, &[], Some(KEY));
    assert_eq!(run.code, Some(2), "{}", run.output());
    assert!(run.stderr.contains("paginator"), "{}", run.stderr);
    assert!(run.stderr.contains("no_such_paginator"), "{}", run.stderr);
    assert!(world.server.requests().is_empty());
}

#[test]
fn check_names_a_missing_secret_and_exits_1() {
    let world = World::inventory(10);
    let run = check(&world, &world.seed_config(), &["--connect"], None);
    assert_eq!(run.code, Some(1), "{}", run.output());
    assert!(run.stderr.contains("api_key"), "{}", run.stderr);
    assert!(run.stdout.contains("inventory_items"), "{}", run.stdout);
    assert!(
        world.server.requests().is_empty(),
        "no request without the secret"
    );
}

#[test]
fn check_connect_fetches_one_page_and_creates_no_database() {
    let world = World::inventory(250);
    let run = check(
        &world,
        &world.seed_config(),
        &["--connect", "--db", "out.db"],
        Some(KEY),
    );
    run.ok();
    assert_eq!(world.server.requests().len(), 1, "one page, one request");
    assert!(
        run.stdout
            .contains("first page: 100 records into table inventory_items"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("warehouse__code"), "{}", run.stdout);
    assert!(
        run.stdout.contains("child tables: inventory_items__tags"),
        "{}",
        run.stdout
    );
    assert!(!world.db().exists(), "check --connect writes no database");
    let files: Vec<_> = std::fs::read_dir(world.dir.path())
        .expect("read dir")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(files, ["config.json"], "nothing but the config in the dir");
}

#[test]
fn check_connect_shows_the_hinted_table_and_types() {
    let world = World::inventory(50);
    let mut config = world.seed_config();
    config["resources"][0]["table_name"] = json!("Catalog Items");
    config["resources"][0]["columns"] = json!({"price": {"data_type": "decimal"},
                                               "updated_at": {"data_type": "text"}});
    let run = check(&world, &config, &["--connect"], Some(KEY));
    run.ok();
    assert!(
        run.stdout.contains(
            "into table catalog_items; columns: price decimal, updated_at text, id bigint"
        ),
        "{}",
        run.stdout
    );
    // Constraints shape nothing: a tag column no tag has, hinted not nullable, passes.
    config["resources"][0]["nested_hints"] =
        json!({"tags": {"columns": {"label": {"data_type": "text", "nullable": false}}}});
    let run = check(&world, &config, &["--connect"], Some(KEY));
    run.ok();
    // Under scd2 the table has dlt's validity columns first.
    config["resources"][0]["write_disposition"] =
        json!({"disposition": "merge", "strategy": "scd2", "row_version_column_name": "rev"});
    let run = check(&world, &config, &["--connect"], Some(KEY));
    run.ok();
    assert!(
        run.stdout.contains("disposition: merge (scd2)")
            && run.stdout.contains(
                "columns: price decimal, updated_at text, _dlt_valid_from timestamp, _dlt_valid_to timestamp, id bigint"
            ),
        "{}",
        run.stdout
    );
}

#[test]
fn the_host_page_ceiling_stops_a_resource_and_names_it() {
    let world = World::inventory(1000);
    let config = world.write_config("config.json", &world.seed_config());
    let run = world.run(&config, Some(KEY), &["--max-pages", "3"]);
    assert_eq!(run.code, Some(1), "{}", run.output());
    assert!(run.stderr.contains("inventory_items"), "{}", run.stderr);
    assert!(run.stderr.contains("more than 3 pages"), "{}", run.stderr);
    assert_eq!(
        world.server.requests().len(),
        3,
        "no request past the ceiling"
    );
    let status: String = world
        .conn()
        .query_row("SELECT status FROM _sluice_loads", [], |r| r.get(0))
        .expect("ledger row");
    assert_eq!(status, "failed");
}

#[test]
fn check_warns_about_a_literal_secret_naming_its_key_but_not_about_a_user_name() {
    let world = World::inventory(10);
    let mut config = world.seed_config();
    config["client"]["auth"] = json!({"type": "bearer", "token": "literal-T0KEN"});
    let run = check(&world, &config, &[], None);
    run.ok();
    assert!(
        run.stderr
            .contains("client.auth.token: a secret is written literally"),
        "{}",
        run.stderr
    );
    assert!(!run.output().contains("literal-T0KEN"), "{}", run.output());

    config["client"]["auth"] = json!({"type": "http_basic", "username": "reader",
                                      "password": {"secret": "api_key"}});
    let run = check(&world, &config, &[], Some(KEY));
    run.ok();
    assert!(!run.stderr.contains("written literally"), "{}", run.stderr);
    assert!(world.server.requests().is_empty());
}
