//! A page larger than the sink flattens at once (`sluice_sink::PART_BYTES` of records'
//! text) goes through the engine in parts, yet commits whole or not at all: a bad record
//! late in it leaves nothing of the page, names its index in the page, and the next run
//! resumes at that page.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::{Value, json};

use crate::support::{Reply, Req, Scenario};

#[test]
fn a_page_in_parts_commits_whole_and_a_bad_record_in_a_late_part_leaves_none_of_it() {
    let broken = Arc::new(AtomicBool::new(true));
    let serving = Arc::clone(&broken);
    let env = Scenario::new(move |r: &Req| {
        let page: usize = r.q("page").and_then(|p| p.parse().ok()).unwrap_or(1);
        let (from, count) = if page == 1 { (0, 10) } else { (10, 20_000) };
        let records: Vec<Value> = (from..from + count)
            .map(|i| {
                if i == 15_010 && serving.load(Ordering::SeqCst) {
                    json!("not an object")
                } else {
                    json!({"id": i, "name": format!("item {i} {}", "x".repeat(100)),
                           "tags": [format!("a{i}"), format!("b{i}")]})
                }
            })
            .collect();
        Reply::json(json!({"data": records, "total_pages": 2}))
    });
    let config = json!({"client": {"base_url": env.base_url()},
                        "resource_defaults": {"primary_key": "id", "write_disposition": "merge"},
                        "resources": [{"name": "items", "endpoint": {"path": "/items",
                            "data_selector": "data",
                            "paginator": {"type": "page_number", "base_page": 1,
                                          "total_path": "total_pages"}}}]});
    let run = env.run(&config, &["--concurrency", "1"]);
    assert_eq!(run.code, Some(1), "{}", run.output());
    assert!(
        run.stderr
            .contains("record 15000 of the page is a JSON string, not an object"),
        "{}",
        run.stderr
    );
    assert_eq!(env.ids("items").len(), 10, "page 1 only: nothing of page 2");
    assert_eq!(env.count("items__tags"), 20);

    broken.store(false, Ordering::SeqCst);
    let run = env.run(&config, &[]);
    run.ok();
    assert!(run.stdout.contains("resumed at page 2"), "{}", run.stdout);
    assert_eq!(env.ids("items"), (0..20_010).collect::<Vec<i64>>());
    assert_eq!(env.count("items__tags"), 40_020);
}
