//! Transient failures: retried per policy; a request that keeps failing fails the run and
//! keeps what committed pages loaded.

use sluice_mock_api::{Fault, MockConfig};

use crate::support::{KEY, World};

fn faults(specs: &[&str]) -> Vec<Fault> {
    specs.iter().map(|s| s.parse().unwrap()).collect()
}

#[test]
fn answers_429_with_retry_after_and_503_twice_then_complete() {
    let world = World::new(MockConfig {
        items: 2500,
        faults: faults(&["429x2@500:retry-after=1", "503x2@1500"]),
        ..MockConfig::default()
    });
    let config = world.write_config("inventory.json", &world.seed_config());
    let started = std::time::Instant::now();
    let run = world.run(&config, Some(KEY), &[]);
    run.ok();
    assert_eq!(world.count("inventory_items"), 2500);
    // Retry-After: 1 was honoured twice rather than the 0.05 s initial backoff.
    assert!(
        started.elapsed().as_secs_f64() >= 2.0,
        "Retry-After ignored: {:?}",
        started.elapsed()
    );
    let statuses: Vec<(String, u16)> = world
        .server
        .requests()
        .iter()
        .map(|r| {
            (
                r.query
                    .iter()
                    .find(|(k, _)| k == "offset")
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default(),
                r.status,
            )
        })
        .filter(|(_, s)| *s != 200)
        .collect();
    assert_eq!(
        statuses,
        vec![
            ("500".into(), 429),
            ("500".into(), 429),
            ("1500".into(), 503),
            ("1500".into(), 503)
        ]
    );
    assert!(
        run.stderr.contains("HTTP 429") && run.stderr.contains("HTTP 503"),
        "{}",
        run.stderr
    );
    assert!(run.stdout.contains("4 retries"), "{}", run.stdout);
}

#[test]
fn a_request_failing_three_times_fails_the_run_and_keeps_committed_pages() {
    let world = World::new(MockConfig {
        items: 2500,
        faults: faults(&["503x3@1200"]),
        ..MockConfig::default()
    });
    let config = world.write_config("inventory.json", &world.seed_config());
    let run = world.run(&config, Some(KEY), &[]);
    assert_eq!(run.code, Some(1), "{}", run.output());
    assert!(
        run.stderr.contains("inventory_items") && run.stderr.contains("503"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("3 attempts"), "{}", run.stderr);
    assert_eq!(
        world.count("inventory_items"),
        1200,
        "pages before offset 1200 stay committed"
    );
    let (status, error): (String, String) = world
        .conn()
        .query_row("SELECT status, error FROM _sluice_loads", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!(status, "failed");
    assert!(error.contains("503"), "{error}");
    assert_eq!(
        world
            .server
            .requests()
            .iter()
            .filter(|r| r.status == 503)
            .count(),
        3
    );
    world.assert_db_has_no_secret();
}
