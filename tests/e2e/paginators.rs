//! ONE table-driven suite: for each paginator (and each trap of issue 3) a real server on
//! 127.0.0.1 serving that style, a run of the real `sluice` binary, and assertions on the
//! EXACT requests made (method, path, decoded query, canonical JSON body) and the rows loaded.
//!
//! Every case runs (each inside `catch_unwind`); the test fails at the end listing every
//! failing case, so one report shows the whole state of paginator parity.

use std::panic::{AssertUnwindSafe, catch_unwind};

use serde_json::{Value, json};

use crate::paginator_servers::*;
use crate::support::{Reply, Req, Scenario, id_range};

/// What a case must end with.
enum Outcome {
    /// Exit 0 and exactly these ids in the table.
    Loaded(Vec<i64>),
    /// Exit 1, the output names each needle, and the pages committed before the failure are
    /// kept: the table holds one of `kept` (a guard may stop on the response that repeats or
    /// before loading it; both keep every earlier page).
    Failed {
        needles: &'static [&'static str],
        kept: Vec<Vec<i64>>,
    },
}

struct Case {
    name: &'static str,
    /// The endpoint config of resource `items`.
    endpoint: Value,
    serve: fn(&Req) -> Reply,
    /// Expected requests, each as `Req::line()`, in order.
    requests: Vec<String>,
    outcome: Outcome,
    /// Substrings the run's log must contain (e.g. the detected paginator).
    log: &'static [&'static str],
    extra_args: &'static [&'static str],
}

fn case(name: &'static str, endpoint: Value, serve: fn(&Req) -> Reply) -> Case {
    Case {
        name,
        endpoint,
        serve,
        requests: Vec::new(),
        outcome: Outcome::Loaded(Vec::new()),
        log: &[],
        extra_args: &[],
    }
}

impl Case {
    fn requests<S: AsRef<str>>(mut self, requests: &[S]) -> Case {
        self.requests = requests.iter().map(|r| r.as_ref().to_string()).collect();
        self
    }
    fn loads(mut self, ids: Vec<i64>) -> Case {
        self.outcome = Outcome::Loaded(ids);
        self
    }
    fn fails(mut self, needles: &'static [&'static str], kept: Vec<Vec<i64>>) -> Case {
        self.outcome = Outcome::Failed { needles, kept };
        self
    }
    fn logs(mut self, log: &'static [&'static str]) -> Case {
        self.log = log;
        self
    }
    fn args(mut self, args: &'static [&'static str]) -> Case {
        self.extra_args = args;
        self
    }
}

fn config(base: &str, endpoint: &Value) -> Value {
    json!({
        "client": {"base_url": base},
        "resources": [{
            "name": "items",
            "primary_key": "id",
            "write_disposition": "merge",
            "endpoint": endpoint,
        }],
    })
}

fn off(offsets: &[usize]) -> Vec<String> {
    offsets
        .iter()
        .map(|o| format!("GET /items?limit=10&offset={o}"))
        .collect()
}

fn cases() -> Vec<Case> {
    vec![
        case("single_page", json!({"path": "items", "paginator": {"type": "single_page"}}), plain_list)
            .requests(&["GET /items"])
            .loads(id_range(1, 7)),
        case("offset with total", json!({"path": "/items", "data_selector": "data",
                "paginator": {"type": "offset", "limit": 10}}), offset_total)
            .requests(&off(&[0, 10, 20]))
            .loads(id_range(1, 25)),
        case("offset short page, no total", json!({"path": "/items", "data_selector": "data",
                "paginator": {"type": "offset", "limit": 10, "total_path": null}}), offset_25)
            .requests(&off(&[0, 10, 20]))
            .loads(id_range(1, 25)),
        case("offset empty page, no total", json!({"path": "/items", "data_selector": "data",
                "paginator": {"type": "offset", "limit": 10, "total_path": null,
                              "stop_after_empty_page": true}}), offset_20)
            .requests(&off(&[0, 10, 20]))
            .loads(id_range(1, 20)),
        case("offset has_more false", json!({"path": "/items", "data_selector": "data",
                "paginator": {"type": "offset", "limit": 10, "total_path": null,
                              "has_more_path": "has_more"}}), offset_has_more)
            .requests(&off(&[0, 10]))
            .loads(id_range(1, 20)),
        case("offset maximum_offset (exclusive, as dlt)", json!({"path": "/items", "data_selector": "data",
                "paginator": {"type": "offset", "limit": 10, "total_path": null,
                              "maximum_offset": 20}}), offset_50)
            .requests(&off(&[0, 10]))
            .loads(id_range(1, 20)),
        case("offset custom params and total_path", json!({"path": "/items", "data_selector": "data",
                "paginator": {"type": "offset", "limit": 10, "offset_param": "skip",
                              "limit_param": "take", "total_path": "meta.count"}}), skip_take)
            .requests(&["GET /items?skip=0&take=10", "GET /items?skip=10&take=10"])
            .loads(id_range(1, 15)),
        case("TRAP offset: server caps the page size below limit", json!({"path": "/items",
                "data_selector": "data", "paginator": {"type": "offset", "limit": 10}}), offset_capped)
            .requests(&off(&[0, 5, 10, 15, 20]))
            .loads(id_range(1, 25))
            .logs(&["limit 10"]),
        case("page_number with total pages", json!({"path": "/items", "data_selector": "data",
                "paginator": {"type": "page_number", "base_page": 1, "page_param": "p",
                              "total_path": "total_pages"}}), pages_total)
            .requests(&["GET /items?p=1", "GET /items?p=2", "GET /items?p=3"])
            .loads(id_range(1, 25)),
        case("page_number base 0, empty page, no total", json!({"path": "/items", "data_selector": "data",
                "paginator": {"type": "page_number", "total_path": null}}), pages_20_base0)
            .requests(&["GET /items?page=0", "GET /items?page=1", "GET /items?page=2"])
            .loads(id_range(1, 20)),
        case("page_number maximum_page (exclusive, as dlt)", json!({"path": "/items",
                "data_selector": "data", "paginator": {"type": "page_number", "base_page": 1,
                "maximum_page": 3, "total_path": null}}), pages_50_base1)
            .requests(&["GET /items?page=1", "GET /items?page=2"])
            .loads(id_range(1, 20)),
        case("TRAP page_number: identical page repeated", json!({"path": "/items",
                "data_selector": "data", "paginator": {"type": "page_number", "total_path": null}}), same_page)
            .requests(&["GET /items?page=0", "GET /items?page=1"])
            .fails(&["items"], vec![id_range(1, 10)]),
        case("cursor", json!({"path": "/items", "data_selector": "items",
                "paginator": {"type": "cursor", "cursor_path": "cursors.next", "cursor_param": "cursor"}}),
                cursor_api)
            .requests(&["GET /items", "GET /items?cursor=c10", "GET /items?cursor=c20"])
            .loads(id_range(1, 25)),
        case("TRAP cursor repeated", json!({"path": "/items", "data_selector": "items",
                "paginator": {"type": "cursor", "cursor_path": "cursors.next"}}), cursor_repeats)
            .requests(&["GET /items", "GET /items?cursor=c10"])
            .fails(&["items", "c10"], vec![id_range(1, 10), id_range(1, 20)]),
        case("TRAP page ceiling (--max-pages 3)", json!({"path": "/items", "data_selector": "items",
                "paginator": {"type": "cursor", "cursor_path": "cursors.next"}}), cursor_endless)
            .args(&["--max-pages", "3"])
            .requests(&["GET /items", "GET /items?cursor=c10", "GET /items?cursor=c20"])
            .fails(&["items", "3 pages"], vec![id_range(1, 30)]),
        case("cursor in a POST JSON body", json!({"path": "/search", "method": "POST",
                "json": {"query": "all", "size": 10}, "data_selector": "hits",
                "paginator": {"type": "cursor", "cursor_path": "next_cursor", "cursor_body_path": "cursor"}}),
                search_api)
            .requests(&[
                r#"POST /search {"query":"all","size":10}"#,
                r#"POST /search {"cursor":"c10","query":"all","size":10}"#,
                r#"POST /search {"cursor":"c20","query":"all","size":10}"#,
            ])
            .loads(id_range(1, 25)),
        case("json_link relative next URLs (link params only)", json!({"path": "/items",
                "params": {"per_page": 10}, "data_selector": "data",
                "paginator": {"type": "json_link", "next_url_path": "paging.next"}}), json_link_relative)
            .requests(&["GET /items?per_page=10", "GET /items?page=2", "GET /items?page=3"])
            .loads(id_range(1, 25)),
        case("json_link absolute next URLs (default next_url_path)", json!({"path": "/items",
                "data_selector": "data", "paginator": {"type": "json_link"}}), json_link_absolute)
            .requests(&["GET /items", "GET /items?page=2", "GET /items?page=3"])
            .loads(id_range(1, 25)),
        case("TRAP json_link repeated next URL", json!({"path": "/items", "data_selector": "data",
                "paginator": "json_link"}), json_link_repeats)
            .requests(&["GET /items", "GET /items?page=2"])
            .fails(&["items", "page=2"], vec![id_range(1, 10), id_range(1, 20)]),
        case("header_link (string shorthand)", json!({"path": "/items", "paginator": "header_link"}),
                header_link_api)
            .requests(&["GET /items", "GET /items?page=2", "GET /items?page=3"])
            .loads(id_range(1, 25)),
        case("header_cursor", json!({"path": "/items", "paginator": {"type": "header_cursor",
                "cursor_key": "X-Next-Cursor", "cursor_param": "after"}}), header_cursor_api)
            .requests(&["GET /items", "GET /items?after=c10", "GET /items?after=c20"])
            .loads(id_range(1, 25)),
        case("auto-detected: Link header -> header_link", json!({"path": "/items"}), header_link_api)
            .requests(&["GET /items", "GET /items?page=2", "GET /items?page=3"])
            .loads(id_range(1, 25))
            .logs(&["header_link"]),
        case("auto-detected: next + results -> json_link, data_selector results",
                json!({"path": "/items"}), drf_style)
            .requests(&["GET /items", "GET /items?page=2", "GET /items?page=3"])
            .loads(id_range(1, 25))
            .logs(&["json_link", "results"]),
        case("auto-detected: a bare list -> single_page", json!({"path": "/items"}), plain_list)
            .requests(&["GET /items"])
            .loads(id_range(1, 7))
            .logs(&["single_page"]),
        case("data_selector $.results[*]", json!({"path": "/items", "data_selector": "$.results[*]",
                "paginator": "single_page"}), results_wrapped)
            .requests(&["GET /items"])
            .loads(id_range(1, 7)),
        case("TRAP null data path on the last page", json!({"path": "/items", "data_selector": "data",
                "paginator": {"type": "offset", "limit": 10, "total_path": null}}), last_null)
            .requests(&off(&[0, 10, 20]))
            .loads(id_range(1, 20)),
        case("TRAP missing data path on the last page", json!({"path": "/items", "data_selector": "data",
                "paginator": {"type": "offset", "limit": 10, "total_path": null}}), last_missing)
            .requests(&off(&[0, 10, 20]))
            .loads(id_range(1, 20)),
        case("TRAP 204 is an empty page", json!({"path": "/items", "data_selector": "data",
                "paginator": {"type": "offset", "limit": 10, "total_path": null}}), last_204)
            .requests(&off(&[0, 10, 20]))
            .loads(id_range(1, 20)),
        case("TRAP empty body is an empty page", json!({"path": "/items", "data_selector": "data",
                "paginator": {"type": "offset", "limit": 10, "total_path": null}}), last_empty_body)
            .requests(&off(&[0, 10, 20]))
            .loads(id_range(1, 20)),
        case("TRAP error payload with HTTP 200 is reported", json!({"path": "/items",
                "data_selector": "data", "paginator": {"type": "offset", "limit": 10}}), error_payload)
            .requests(&off(&[0, 10]))
            .fails(&["items", "daily quota exhausted"], vec![id_range(1, 10)]),
        case("response_actions: status_code 404 ignore", json!({"path": "/items", "data_selector": "data",
                "paginator": {"type": "offset", "limit": 10},
                "response_actions": [{"status_code": 404, "action": "ignore"}]}), second_404)
            .requests(&off(&[0, 10]))
            .loads(id_range(1, 10)),
        case("response_actions: content ignore", json!({"path": "/items", "data_selector": "data",
                "paginator": {"type": "offset", "limit": 10},
                "response_actions": [{"content": "not found", "action": "ignore"}]}), second_not_found)
            .requests(&off(&[0, 10]))
            .loads(id_range(1, 10)),
        case("without response_actions a 404 fails the run", json!({"path": "/items",
                "data_selector": "data", "paginator": {"type": "offset", "limit": 10}}), second_404)
            .requests(&off(&[0, 10]))
            .fails(&["404"], vec![id_range(1, 10)]),
    ]
}

/// Runs `case` with `concurrency` requests in flight at most. One at a time, the requests
/// are exactly the case's; with more, pages predicted ahead may add requests past the end,
/// but every one of the case's is made and the rows are the same.
fn check(case: &Case, concurrency: &str) {
    let env = Scenario::new(case.serve);
    let mut args = vec!["--concurrency", concurrency];
    args.extend_from_slice(case.extra_args);
    let run = env.run(&config(&env.base_url(), &case.endpoint), &args);
    let output = run.output();
    if concurrency == "1" {
        assert_eq!(
            env.server.lines(),
            case.requests,
            "requests made\n--- output:\n{output}"
        );
    } else {
        let mut made = env.server.lines();
        for expected in &case.requests {
            let at = made.iter().position(|m| m == expected);
            let at = at.unwrap_or_else(|| {
                panic!("request {expected:?} not made (concurrency {concurrency})\n--- output:\n{output}")
            });
            made.remove(at);
        }
    }
    match &case.outcome {
        Outcome::Loaded(ids) => {
            assert_eq!(run.code, Some(0), "exit code\n--- output:\n{output}");
            assert_eq!(&env.ids("items"), ids, "rows loaded");
        }
        Outcome::Failed { needles, kept } => {
            assert_eq!(run.code, Some(1), "exit code\n--- output:\n{output}");
            // A loop or a bad record in a 2xx answer is not blamed on the status.
            assert!(
                !run.stderr.contains("bad response (HTTP 2"),
                "a 2xx status is not a bad response:\n{output}"
            );
            for needle in *needles {
                assert!(
                    run.stderr.contains(needle),
                    "the error names {needle:?}:\n{output}"
                );
            }
            let error = run.stderr.lines().rfind(|l| l.contains("error"));
            eprintln!("  {}: {}", case.name, error.unwrap_or(""));
            let ids = env.ids("items");
            assert!(
                kept.contains(&ids),
                "committed pages kept: got ids {ids:?}, expected one of {kept:?}"
            );
        }
    }
    for needle in case.log {
        assert!(
            output.contains(needle),
            "the log names {needle:?}:\n{output}"
        );
    }
    if case.name.contains("caps the page size") {
        let warnings = output
            .lines()
            .filter(|l| l.contains("limit 10") || l.to_lowercase().contains("capped"))
            .count();
        assert_eq!(
            warnings, 1,
            "the capped page size is logged once:\n{output}"
        );
    }
}

#[test]
fn every_paginator_and_trap_makes_exact_requests_and_loads_every_row() {
    let cases = cases();
    let mut failures = Vec::new();
    for (case, concurrency) in cases.iter().flat_map(|c| [(c, "1"), (c, "8")]) {
        match catch_unwind(AssertUnwindSafe(|| check(case, concurrency))) {
            Ok(()) => eprintln!(
                "paginator case ok: {} (concurrency {concurrency})",
                case.name
            ),
            Err(panic) => {
                let message = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                failures.push(format!(
                    "=== {} (concurrency {concurrency})\n{message}",
                    case.name
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} paginator cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
