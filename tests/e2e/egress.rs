//! Egress by address: a hostname that leads to a loopback address the config does not name
//! is refused, on the first hop and on a redirect, proven by a canary listener on another
//! loopback address (127.0.0.2) that must see no connection; `--allow-private-network`
//! lets it through. Nothing here connects outside 127.0.0.0/8; other ranges are unit-tested
//! on parsed addresses (transport `dns.rs`).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::json;

use crate::support::{RawListener, Reply, Req, Scenario, id_range, records};

/// A listener on 127.0.0.2 that counts the connections it accepts (and closes them).
struct Canary {
    seen: Arc<AtomicUsize>,
    listener: RawListener,
}

impl Canary {
    fn start() -> Canary {
        let seen = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&seen);
        let listener = RawListener::start("127.0.0.2", move |_, _| {
            counter.fetch_add(1, Ordering::SeqCst);
        });
        Canary { seen, listener }
    }

    fn connections(&self) -> usize {
        self.seen.load(Ordering::SeqCst)
    }
}

#[test]
fn a_hostname_leading_to_an_unnamed_loopback_address_is_refused_first_hop_and_redirect() {
    let canary = Canary::start();
    let target = format!("http://canary.test:{}/items", canary.listener.port);
    let to = target.clone();
    let env = Scenario::new(move |r: &Req| match r.path.as_str() {
        "/items" => Reply::json(json!({"data": records(0, 3, 3)})),
        "/hop" => Reply::status(302, "").header("Location", &to),
        _ => Reply::status(404, "{}"),
    });
    let endpoint =
        |path: &str| json!({"path": path, "data_selector": "data", "paginator": "single_page"});
    let config = json!({
        "client": {"base_url": env.base_url()},
        "resources": [
            {"name": "items", "endpoint": endpoint("/items")},
            {"name": "direct", "endpoint": endpoint(&target)},
            {"name": "hop", "endpoint": endpoint("/hop")},
        ],
    });
    let allow = format!("canary.test:{}", canary.listener.port);
    let args = [
        "--allow-host",
        &allow,
        "--resolve",
        "canary.test=127.0.0.2",
        "--max-attempts",
        "1",
    ];
    let run = env.run(&config, &args);
    assert_eq!(run.code, Some(1), "{}", run.output());
    assert_eq!(
        env.ids("items"),
        id_range(1, 3),
        "the named address still works"
    );
    for resource in ["direct", "hop"] {
        let line = run
            .stderr
            .lines()
            .find(|l| l.contains(&format!("resource `{resource}` failed")))
            .unwrap_or_else(|| panic!("{}", run.stderr));
        assert!(
            line.contains("host \"canary.test\" resolves to 127.0.0.2, a loopback address the config does not name"),
            "{line}"
        );
    }
    assert_eq!(canary.connections(), 0, "the canary saw no connection");

    // --allow-private-network lets the name lead there.
    let mut open = args.to_vec();
    open.push("--allow-private-network");
    let run = env.run(&config, &open);
    assert_eq!(
        run.code,
        Some(1),
        "the canary answers nothing: {}",
        run.output()
    );
    assert!(canary.connections() >= 1, "{}", run.output());
    drop(canary);
}

#[test]
fn a_hostname_base_url_leading_to_loopback_needs_the_flag() {
    let env = Scenario::new(|r: &Req| Reply::json(json!({"data": records(r.qn("offset"), 2, 2)})));
    let base = env.base_url().replace("127.0.0.1", "api.test");
    let config = json!({
        "client": {"base_url": base},
        "resources": [{"name": "items", "endpoint": {"path": "/items", "data_selector": "data",
                                                     "paginator": "single_page"}}],
    });
    let args = ["--resolve", "api.test=127.0.0.1", "--max-attempts", "1"];
    let run = env.run(&config, &args);
    assert_eq!(run.code, Some(1), "{}", run.output());
    assert!(
        run.stderr
            .contains("host \"api.test\" resolves to 127.0.0.1, a loopback address"),
        "{}",
        run.stderr
    );
    assert!(env.server.requests().is_empty(), "nothing was sent");
    let mut open = args.to_vec();
    open.push("--allow-private-network");
    env.run(&config, &open).ok();
    assert_eq!(env.ids("items"), id_range(1, 2));
}
