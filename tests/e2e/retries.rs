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

#[test]
fn a_cut_off_or_non_json_2xx_body_is_retried_then_fails_naming_the_position() {
    use crate::support::{Reply, Req, Scenario, id_range, records};
    use serde_json::json;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let cut_once = AtomicUsize::new(0);
    let env = Scenario::new(move |r: &Req| {
        let page = json!({"data": records(r.qn("offset"), r.qn("limit"), 30), "total": 30});
        let text = page.to_string();
        let cut = || Reply {
            body: text.as_bytes()[..text.len() / 2].to_vec(),
            ..Reply::json(json!(null))
        };
        match (r.path.as_str(), r.qn("offset")) {
            // A proxy cuts the second page once; the retry gets it whole.
            ("/items", 10) if cut_once.fetch_add(1, Ordering::SeqCst) == 0 => cut(),
            ("/items", _) => Reply::json(page),
            // Always cut, or an HTML error page with a 200.
            ("/broken", _) => cut(),
            ("/html", _) => Reply::status(200, "<html>gateway hiccup</html>")
                .header("Content-Type", "text/html"),
            _ => Reply::status(404, "{}"),
        }
    })
    .secret("API_KEY", "e2e-Key-cut-7a1");
    let resource = |name: &str| {
        json!({"name": name, "endpoint": {"path": format!("/{name}"), "data_selector": "data",
               "paginator": {"type": "offset", "limit": 10}}})
    };
    let config = json!({
        "client": {"base_url": env.base_url(),
                   "auth": {"type": "api_key", "name": "key", "location": "query",
                            "api_key": {"secret": "api_key"}}},
        "resources": [resource("items"), resource("broken"), resource("html")],
    });
    let run = env.run(&config, &["--max-attempts", "3"]);
    assert_eq!(run.code, Some(1), "{}", run.output());
    assert_eq!(
        env.ids("items"),
        id_range(1, 30),
        "the cut page was fetched again"
    );
    assert!(run.stderr.contains("not valid JSON"), "{}", run.stderr);
    let broken = run
        .stderr
        .lines()
        .find(|l| l.contains("resource `broken` failed"))
        .unwrap_or_else(|| panic!("{}", run.stderr));
    assert!(
        broken.contains("after 3 attempts, the body is not valid JSON")
            && broken.contains("line 1 column")
            && broken.contains("/broken?offset=0&limit=10"),
        "{broken}"
    );
    assert!(
        run.stderr.contains("resource `html` failed"),
        "{}",
        run.stderr
    );
    let broken_requests = env
        .server
        .requests()
        .iter()
        .filter(|r| r.path == "/broken")
        .count();
    assert_eq!(broken_requests, 3, "retried like a transient error");
}
