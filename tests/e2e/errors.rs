//! Bad input: each a clear error naming the problem, a non-zero exit, no table half-written,
//! and never the key in the output.

use serde_json::{Value, json};

use crate::support::{KEY, World};

fn assert_nothing_loaded(world: &World) {
    assert!(
        !world.has_table("inventory_items"),
        "a data table was created"
    );
}

#[test]
fn a_missing_secret_is_named_and_nothing_is_sent() {
    let world = World::inventory(100);
    let config = world.write_config("inventory.json", &world.seed_config());
    let run = world.run(&config, None, &[]);
    assert_eq!(run.code, Some(1), "{}", run.output());
    assert!(
        run.stderr.contains("api_key") && run.stderr.contains("API_KEY"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("secrets.toml"), "{}", run.stderr);
    assert!(
        world.server.requests().is_empty(),
        "no request without the secret"
    );
    assert!(
        run.stderr
            .lines()
            .next()
            .unwrap_or_default()
            .contains("api_key"),
        "the first line names the secret: {}",
        run.stderr
    );
    assert!(!run.stderr.contains("loading"), "{}", run.stderr);
    assert!(
        !world.dir.path().join("out.db").exists(),
        "nothing happens: no database, no ledger row"
    );
}

#[test]
fn a_wrong_key_fails_with_the_401_and_loads_nothing() {
    let world = World::inventory(100);
    let config = world.write_config("inventory.json", &world.seed_config());
    let run = world.run(&config, Some("not-the-key"), &[]);
    assert_eq!(run.code, Some(1), "{}", run.output());
    assert!(run.stderr.contains("401"), "{}", run.stderr);
    assert!(
        !run.output().contains("not-the-key"),
        "the wrong key is a secret too:\n{}",
        run.output()
    );
    assert_nothing_loaded(&world);
    assert_eq!(world.server.requests().len(), 1, "a 401 is not retried");
}

fn config_error(mutate: impl FnOnce(&mut Value)) -> (World, crate::support::Run) {
    let world = World::inventory(100);
    let mut config = world.seed_config();
    mutate(&mut config);
    let path = world.write_config("inventory.json", &config);
    let run = world.run(&path, Some(KEY), &[]);
    assert_eq!(
        run.code,
        Some(2),
        "a config error exits with 2:\n{}",
        run.output()
    );
    assert!(
        world.server.requests().is_empty(),
        "a bad config sends nothing"
    );
    assert!(!world.db().exists(), "a bad config creates no database");
    (world, run)
}

#[test]
fn an_unknown_paginator_type_names_the_key_and_suggests_the_right_one() {
    let (_, run) =
        config_error(|c| c["resources"][0]["endpoint"]["paginator"]["type"] = json!("ofset"));
    assert!(
        run.stderr.contains("resources[0].endpoint.paginator.type"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("\"ofset\"") && run.stderr.contains("offset"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_missing_base_url_is_named() {
    let (_, run) = config_error(|c| {
        c["client"].as_object_mut().unwrap().remove("base_url");
    });
    assert!(run.stderr.contains("client.base_url"), "{}", run.stderr);
}

#[test]
fn an_unreadable_config_file_is_named() {
    let world = World::inventory(1);
    let path = world.dir.path().join("broken.json");
    std::fs::write(&path, "{ \"client\": ").unwrap();
    let run = world.run(&path, Some(KEY), &[]);
    assert_ne!(run.code, Some(0));
    assert!(run.stderr.contains("broken.json"), "{}", run.stderr);
}

/// Every invalid config: exit 2 before any request, the key path and what was expected named.
#[test]
fn every_config_error_names_the_key_path_before_any_request() {
    type Mutate = fn(&mut Value);
    let cases: Vec<(&str, Mutate, &[&str])> = vec![
        (
            "near-miss key",
            |c| c["resources"][0]["endpoint"]["data_selecter"] = json!("data"),
            &[
                "resources[0].endpoint.data_selecter",
                "did you mean \"data_selector\"",
            ],
        ),
        (
            "near-miss key in resource_defaults",
            |c| c["resource_defaults"]["primary_keys"] = json!("id"),
            &[
                "resource_defaults.primary_keys",
                "did you mean \"primary_key\"",
            ],
        ),
        (
            "wrong type",
            |c| c["resources"][0]["endpoint"]["paginator"]["limit"] = json!("lots"),
            &["resources[0].endpoint.paginator.limit"],
        ),
        (
            "unknown auth type",
            |c| c["client"]["auth"]["type"] = json!("oauth"),
            &["client.auth.type", "\"oauth\""],
        ),
        (
            "unknown write_disposition",
            |c| c["resources"][0]["write_disposition"] = json!("upsert"),
            &["resources[0].write_disposition", "\"upsert\""],
        ),
        (
            "unknown paginator shorthand",
            |c| c["resources"][0]["endpoint"]["paginator"] = json!("header_links"),
            &[
                "resources[0].endpoint.paginator",
                "did you mean \"header_link\"",
            ],
        ),
        (
            "unknown response action",
            |c| {
                c["resources"][0]["endpoint"]["response_actions"] =
                    json!([{"status_code": 404, "action": "skip"}])
            },
            &[
                "resources[0].endpoint.response_actions[0].action",
                "\"skip\"",
            ],
        ),
        (
            "incremental without cursor_path",
            |c| {
                c["resources"][0]["endpoint"]["incremental"] =
                    json!({"initial_value": "2024-01-01T00:00:00Z"})
            },
            &["resources[0].endpoint.incremental", "cursor_path"],
        ),
        (
            "placeholder naming no resource",
            |c| c["resources"][0]["endpoint"]["path"] = json!("/v1/{resources.nope.id}/x"),
            &["resources[0].endpoint.path", "nope"],
        ),
    ];
    let mut failures = Vec::new();
    for (name, mutate, needles) in cases {
        let result = std::panic::catch_unwind(|| {
            let (_, run) = config_error(mutate);
            for needle in needles {
                assert!(
                    run.stderr.contains(needle),
                    "names {needle:?}:\n{}",
                    run.stderr
                );
            }
        });
        if let Err(panic) = result {
            let message = panic.downcast_ref::<String>().cloned().unwrap_or_default();
            failures.push(format!("=== {name}\n{message}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} config error cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn a_config_file_that_cannot_be_used_exits_2_naming_it() {
    let world = World::inventory(10);
    let dir = world.dir.path();
    std::fs::write(dir.join("list.json"), "[1, 2]").unwrap();
    std::fs::write(dir.join("broken.json"), "{\"client\": ").unwrap();
    std::fs::write(dir.join("broken.yaml"), "client: [").unwrap();
    for (file, needle) in [
        ("missing.json", "cannot read config"),
        ("list.json", "the top level must be an object"),
        ("broken.json", "is not valid JSON"),
        ("broken.yaml", "broken.yaml"),
    ] {
        let run = world.run(&dir.join(file), Some(KEY), &[]);
        assert_eq!(run.code, Some(2), "{file}: {}", run.output());
        let first = run.stderr.lines().next().unwrap_or_default();
        assert!(
            first.contains(needle) && first.contains(file),
            "{file}: {first}"
        );
    }
    assert!(world.server.requests().is_empty());
    assert!(!dir.join("out.db").exists(), "no database for a bad config");
}

#[test]
fn counts_that_make_no_sense_are_refused() {
    let world = World::inventory(10);
    let config = world.write_config("inventory.json", &world.seed_config());
    for flag in ["--max-pages", "--max-attempts", "--concurrency"] {
        let run = world.run(&config, Some(KEY), &[flag, "0"]);
        assert_eq!(run.code, Some(2), "{flag} 0: {}", run.output());
        assert!(run.stderr.contains(flag), "{}", run.stderr);
    }
    assert!(world.server.requests().is_empty());
}

#[test]
fn a_log_gets_a_progress_line_every_progress_every_seconds() {
    // 20 pages one at a time, 20 ms each: about 0.4 s.
    let world = World::new(sluice_mock_api::MockConfig {
        items: 2000,
        latency: std::time::Duration::from_millis(20),
        ..sluice_mock_api::MockConfig::default()
    });
    let path = world.write_config("inventory.json", &world.seed_config());
    let every = ["--concurrency", "1", "--progress-every", "0.05"];
    let run = world.run(&path, Some(KEY), &every);
    run.ok();
    let lines: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.contains(" records/s (") && l.starts_with("inventory_items: "))
        .collect();
    assert!(lines.len() >= 3, "{}", run.stderr);
    // Each says how far the resource got, further each time.
    let records: Vec<u64> = lines
        .iter()
        .map(|l| {
            assert!(l.ends_with(" of 2000)"), "{l}");
            l["inventory_items: ".len()..]
                .split(' ')
                .next()
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("{l}"))
        })
        .collect();
    assert!(records.windows(2).all(|w| w[0] < w[1]), "{records:?}");
    assert!(records.iter().all(|&r| r > 0 && r <= 2000), "{records:?}");
    // By default (every 10 s) a run this short prints none; 0 prints none either.
    for extra in [&["--concurrency", "1"][..], &["--progress-every", "0"]] {
        std::fs::remove_file(world.dir.path().join("out.db")).unwrap();
        let run = world.run(&path, Some(KEY), extra);
        run.ok();
        assert!(!run.stderr.contains("records/s"), "{}", run.stderr);
    }
}

#[test]
fn quiet_prints_the_summary_and_warnings_only() {
    let world = World::inventory(150);
    // No data_selector: the connector finds `data` and says so at info level.
    let mut config = world.seed_config();
    config["resources"][0]["endpoint"]
        .as_object_mut()
        .unwrap()
        .remove("data_selector");
    let path = world.write_config("inventory.json", &config);
    let loud = world.run(&path, Some(KEY), &[]);
    loud.ok();
    assert!(
        loud.stderr.contains("data_selector not set"),
        "{}",
        loud.stderr
    );
    std::fs::remove_file(world.dir.path().join("out.db")).unwrap();
    let quiet = world.run(&path, Some(KEY), &["-q"]);
    quiet.ok();
    assert!(quiet.stderr.trim().is_empty(), "{}", quiet.stderr);
    assert!(quiet.stdout.contains("inventory_items"), "{}", quiet.stdout);
}

#[test]
fn a_database_in_a_missing_directory_and_a_file_that_is_not_wasm_say_so_once() {
    let world = World::inventory(10);
    let config = world.write_config("inventory.json", &world.seed_config());
    let into = |db: &std::path::Path| {
        let (config, db) = (config.to_str().unwrap(), db.to_str().unwrap());
        world.sluice(
            &["run", "--config", config, "--db", db],
            &[("API_KEY", Some(KEY))],
        )
    };
    let run = into(&world.dir.path().join("no-such-dir/x.db"));
    assert_eq!(run.code, Some(1), "{}", run.output());
    let first = run.stderr.lines().next().unwrap_or_default().to_string();
    assert!(
        first.contains("no-such-dir") && first.contains("does not exist"),
        "{first}"
    );
    assert_eq!(first.matches("os error").count(), 0, "{first}");

    // A file that is not a database: named once, with SQLite's reason once.
    let garbage = world.dir.path().join("notes.db");
    std::fs::write(&garbage, "shopping list: ".repeat(20)).unwrap();
    let run = into(&garbage);
    assert_eq!(run.code, Some(1), "{}", run.output());
    let first = run.stderr.lines().next().unwrap_or_default().to_string();
    assert_eq!(
        first,
        format!(
            "error: cannot open database {}: file is not a database",
            garbage.display()
        ),
        "{}",
        run.stderr
    );
    assert_eq!(
        std::fs::read_to_string(&garbage).unwrap(),
        "shopping list: ".repeat(20),
        "the file is left as it was"
    );

    let bogus = world.dir.path().join("bogus.wasm");
    std::fs::write(&bogus, "not a component").unwrap();
    let run = world.run(
        &config,
        Some(KEY),
        &["--connector", bogus.to_str().unwrap()],
    );
    assert_eq!(run.code, Some(1), "{}", run.output());
    assert_eq!(run.stderr.lines().count(), 1, "one line: {}", run.stderr);
    assert!(
        run.stderr.contains("is not a WebAssembly component"),
        "{}",
        run.stderr
    );
    assert!(world.server.requests().is_empty());
}

#[test]
fn a_response_or_page_past_its_limit_fails_naming_the_flag() {
    use crate::support::{Reply, Req, Scenario, one_page_config};
    // 2 MiB of records in one answer.
    let env = Scenario::new(|_: &Req| {
        let big: Vec<Value> = (0..20_000)
            .map(|i| json!({"id": i, "pad": "x".repeat(90)}))
            .collect();
        Reply::json(json!({"data": big}))
    });
    let config = one_page_config(&env.base_url());
    let run = env.run(&config, &["--max-response-mb", "1", "--max-attempts", "1"]);
    assert_eq!(run.code, Some(1), "{}", run.output());
    let error = run
        .stderr
        .lines()
        .find(|l| l.starts_with("error: resource"))
        .unwrap_or_default();
    assert!(
        error.contains("larger than 1 MiB (--max-response-mb)"),
        "{}",
        run.stderr
    );
    assert!(!env.has_table("items"));
    // The answer fits, but the page of records the connector makes of it does not.
    let run = env.run(&config, &["--max-response-mb", "4", "--max-page-mb", "1"]);
    assert_eq!(run.code, Some(1), "{}", run.output());
    assert!(
        run.stderr
            .contains("a page of 2.1 MiB of records, more than 1 MiB (--max-page-mb)"),
        "{}",
        run.stderr
    );
    assert!(!env.has_table("items"));
    // Within the limit it loads.
    env.run(&config, &["--max-response-mb", "4"]).ok();
    assert_eq!(env.ids("items").len(), 20_000);
}
