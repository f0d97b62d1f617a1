//! `--parallel-resources N` and dlt's `parallelized`: groups of resources (a resource and
//! those made from its records) load side by side, each group in order and on its own; a
//! group that fails leaves the others whole, and the summary lists every resource in the
//! config's order.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::{Reply, Req, Scenario};

/// Each route answers after 500 ms: `/items` two records, `/items/{id}/details` one,
/// `/broken` 404, any other one page of three records.
fn serve(r: &Req) -> Reply {
    let slow = Duration::from_millis(500);
    let parts: Vec<&str> = r.path.trim_matches('/').split('/').collect();
    let reply = match parts.as_slice() {
        ["items"] => Reply::json(json!({"data": [{"id": 1}, {"id": 2}]})),
        ["items", id, "details"] => {
            Reply::json(json!({"data": [{"id": format!("d{id}"), "item": id}]}))
        }
        ["broken"] => Reply::status(404, "no such route"),
        [name] => Reply::json(
            json!({"data": (0..3).map(|i| json!({"id": i, "from": name}))
            .collect::<Vec<Value>>()}),
        ),
        _ => Reply::status(404, "no such route"),
    };
    reply.after(slow)
}

fn resource(name: &str) -> Value {
    json!({"name": name, "endpoint": {"path": name}})
}

fn config(base: &str, resources: Vec<Value>) -> Value {
    json!({
        "client": {"base_url": format!("{base}/"), "paginator": "single_page"},
        "resource_defaults": {"primary_key": "id", "endpoint": {"data_selector": "data"}},
        "resources": resources,
    })
}

/// The resource names of the summary's lines, in order.
fn summary_order(stdout: &str, names: &[&str]) -> Vec<String> {
    stdout
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|w| names.contains(w))
        .map(str::to_string)
        .collect()
}

#[test]
fn independent_resources_load_side_by_side() {
    let names = ["a", "b", "c", "d"];
    let resources = names.iter().map(|n| resource(n)).collect::<Vec<_>>();
    for (parallel, expected) in [("1", 1), ("4", 4)] {
        let env = Scenario::new(serve);
        let run = env.run(
            &config(&env.base_url(), resources.clone()),
            &["--parallel-resources", parallel],
        );
        assert_eq!(run.code, Some(0), "{}", run.output());
        // One at a time, or all four at once (each answer takes 500 ms).
        let most = env.server.max_concurrent();
        match expected {
            1 => assert_eq!(most, 1),
            _ => assert!(most >= 3, "at most {most} requests at once"),
        }
        for name in names {
            assert_eq!(env.count(name), 3, "{name}");
        }
        assert_eq!(summary_order(&run.stdout, &names), names);
    }
}

#[test]
fn a_group_keeps_its_order_and_a_failed_group_leaves_the_others_whole() {
    let env = Scenario::new(serve);
    let details = json!({
        "name": "details",
        "endpoint": {"path": "items/{resources.items.id}/details"},
    });
    let resources = vec![
        resource("items"),
        details,
        resource("broken"),
        resource("other"),
    ];
    let run = env.run(
        &config(&env.base_url(), resources),
        &["--parallel-resources", "3"],
    );
    assert_eq!(run.code, Some(1), "{}", run.output());
    let names = ["items", "details", "broken", "other"];
    assert_eq!(summary_order(&run.stdout, &names), names);
    let status = |name: &str| {
        run.stdout
            .lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .unwrap_or_default()
            .to_string()
    };
    for (name, expected) in [
        ("items", "completed"),
        ("details", "completed"),
        ("broken", "failed"),
        ("other", "completed"),
    ] {
        assert_eq!(status(name), expected, "{}", run.stdout);
    }
    assert_eq!(env.count("items"), 2);
    assert_eq!(env.count("details"), 2);
    assert_eq!(env.count("other"), 3);
    // The child's requests follow its parent's answer; the other groups did not wait.
    let lines = env.server.lines();
    let parent = lines.iter().position(|l| l == "GET /items").unwrap();
    let first_child = lines.iter().position(|l| l.contains("/details")).unwrap();
    assert!(parent < first_child, "{lines:?}");
    assert!(env.server.max_concurrent() >= 2, "{lines:?}");
}

#[test]
fn ctrl_c_ends_the_loads_in_flight_skips_the_rest_and_exits_130() {
    let names = ["a", "b", "c", "d"];
    let resources = names.iter().map(|n| resource(n)).collect::<Vec<_>>();
    for parallel in ["1", "2"] {
        let env = Scenario::new(serve);
        let path = env.write_config("config.json", &config(&env.base_url(), resources.clone()));
        let child = env.spawn_run(&path, &["--parallel-resources", parallel], &[]);
        let started = std::time::Instant::now();
        while env.server.requests().is_empty() {
            assert!(started.elapsed() < Duration::from_secs(30), "no request");
            std::thread::sleep(Duration::from_millis(2));
        }
        let status = crate::support::interrupt(child);
        assert_eq!(status.code(), Some(130), "--parallel-resources {parallel}");
        // The pages in flight were answered and committed; what had not started is skipped.
        let statuses: Vec<(String, String)> = env
            .conn()
            .prepare("SELECT resource, status FROM _sluice_loads ORDER BY resource")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(statuses.len(), 4, "{statuses:?}");
        let completed = statuses.iter().filter(|(_, s)| s == "completed").count();
        let skipped = statuses.iter().filter(|(_, s)| s == "skipped").count();
        assert!(completed >= 1 && completed + skipped == 4, "{statuses:?}");
        for (name, status) in &statuses {
            if status == "completed" {
                assert_eq!(env.count(name), 3);
            }
        }
    }
}

/// When each route's request arrived.
type Arrivals = Arc<Mutex<Vec<(String, Instant)>>>;

/// How long [`serve_tracking`] takes to answer: long enough that resources loading side by
/// side are surely answered at the same time however slowly their sessions start.
const HELD: Duration = Duration::from_millis(1500);

/// Answers one page of three records after [`HELD`], noting when each request arrived.
fn serve_tracking(arrivals: &Arrivals) -> impl Fn(&Req) -> Reply + Send + Sync + 'static {
    let arrivals = Arc::clone(arrivals);
    move |r: &Req| {
        let name = r.path.trim_matches('/').to_string();
        arrivals.lock().unwrap().push((name, Instant::now()));
        Reply::json(json!({"data": (0..3).map(|i| json!({"id": i})).collect::<Vec<Value>>()}))
            .after(HELD)
    }
}

/// The routes whose requests were answered at the same time (arrived less than [`HELD`]
/// apart), as sorted pairs. Requests sent one after the other arrive further apart.
fn overlaps(arrivals: &Arrivals) -> BTreeSet<(String, String)> {
    let seen = arrivals.lock().unwrap().clone();
    let mut pairs = BTreeSet::new();
    for (i, (x, tx)) in seen.iter().enumerate() {
        for (y, ty) in &seen[i + 1..] {
            let apart = ty.saturating_duration_since(*tx);
            if apart < HELD {
                pairs.insert((x.min(y).clone(), x.max(y).clone()));
            }
        }
    }
    pairs
}

#[test]
fn resources_marked_parallelized_load_side_by_side_as_in_dlt() {
    // `a` and `b` take the default `parallelized`: they load side by side (dlt's pool of
    // workers). `c` and `d` are unmarked: one after the other, beside `a` and `b` (dlt's
    // main thread). `--parallel-resources 1` overrides the marks.
    let mut resources: Vec<Value> = ["a", "b"].iter().map(|n| resource(n)).collect();
    for name in ["c", "d"] {
        let mut r = resource(name);
        r["parallelized"] = json!(false);
        resources.push(r);
    }
    let config_of = |base: &str| {
        let mut c = config(base, resources.clone());
        c["resource_defaults"]["parallelized"] = json!(true);
        c
    };
    for flag in [None, Some("1")] {
        let arrivals = Arrivals::default();
        let env = Scenario::new(serve_tracking(&arrivals));
        let extra: Vec<&str> = flag
            .map(|n| vec!["--parallel-resources", n])
            .unwrap_or_default();
        let run = env.run(&config_of(&env.base_url()), &extra);
        assert_eq!(run.code, Some(0), "{}", run.output());
        for name in ["a", "b", "c", "d"] {
            assert_eq!(env.count(name), 3, "{name}");
        }
        let pairs = overlaps(&arrivals);
        let pair = |x: &str, y: &str| pairs.contains(&(x.to_string(), y.to_string()));
        match flag {
            None => {
                assert!(pair("a", "b"), "{pairs:?}");
                assert!(pair("a", "c") && pair("b", "c"), "{pairs:?}");
                assert!(!pair("c", "d"), "{pairs:?}");
            }
            Some(_) => assert!(pairs.is_empty(), "{pairs:?}"),
        }
    }
}
