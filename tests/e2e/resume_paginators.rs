//! Resume, paginator by paginator: for each paginator whose position can be written down, a
//! real server of 45 records in pages of 10 fails page 3 until it is mended; the first run
//! commits pages 1-2 and fails, the next one asks for pages 3, 4 and 5 only, and the table
//! holds every record once (`append`: a page loaded twice would show).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::{Value, json};

use crate::support::{Reply, Req, Scenario, id_range, records};

const RECORDS: usize = 45;
const PAGES: usize = 5;
/// The page that fails while the server is broken.
const BROKEN: usize = 3;

/// One paginator: its endpoint config, how the server reads the page a request asks for,
/// and the page's answer.
struct Case {
    name: &'static str,
    endpoint: Value,
    page: fn(&Req) -> usize,
    answer: fn(usize) -> Reply,
}

fn data(page: usize) -> Value {
    records((page - 1) * 10, 10, RECORDS)
}

fn cursor(page: usize) -> Option<String> {
    (page < PAGES).then(|| format!("c{}", page * 10))
}

/// The page a cursor `c<N>` points at (no cursor: page 1).
fn page_of_cursor(c: Option<&str>) -> usize {
    c.and_then(|c| c.strip_prefix('c'))
        .and_then(|n| n.parse::<usize>().ok())
        .map_or(1, |n| n / 10 + 1)
}

fn page_param(r: &Req) -> usize {
    r.qn("page").max(1)
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "offset",
            endpoint: json!({"path": "/items", "data_selector": "data",
                "paginator": {"type": "offset", "limit": 10, "total_path": "total"}}),
            page: |r| r.qn("offset") / 10 + 1,
            answer: |p| Reply::json(json!({"data": data(p), "total": RECORDS})),
        },
        Case {
            name: "offset in a POST body",
            endpoint: json!({"path": "/items", "method": "POST", "json": {"q": "all"},
                "data_selector": "data",
                "paginator": {"type": "offset", "limit": 10, "total_path": "total",
                              "offset_body_path": "paging.offset", "limit_body_path": "paging.size"}}),
            page: |r| r.json()["paging"]["offset"].as_u64().unwrap_or(0) as usize / 10 + 1,
            answer: |p| Reply::json(json!({"data": data(p), "total": RECORDS})),
        },
        Case {
            name: "page_number",
            endpoint: json!({"path": "/items", "data_selector": "data",
                "paginator": {"type": "page_number", "base_page": 1, "total_path": "total_pages"}}),
            page: page_param,
            answer: |p| Reply::json(json!({"data": data(p), "total_pages": PAGES})),
        },
        Case {
            name: "page_number in a POST body",
            endpoint: json!({"path": "/items", "method": "POST", "json": {"q": "all"},
                "data_selector": "data",
                "paginator": {"type": "page_number", "base_page": 1, "total_path": "total_pages",
                              "page_body_path": "page"}}),
            page: |r| r.json()["page"].as_u64().unwrap_or(1) as usize,
            answer: |p| Reply::json(json!({"data": data(p), "total_pages": PAGES})),
        },
        Case {
            name: "cursor",
            endpoint: json!({"path": "/items", "data_selector": "items",
                "paginator": {"type": "cursor", "cursor_path": "next", "cursor_param": "cursor"}}),
            page: |r| page_of_cursor(r.q("cursor")),
            answer: |p| Reply::json(json!({"items": data(p), "next": cursor(p)})),
        },
        Case {
            name: "cursor in a POST body",
            endpoint: json!({"path": "/items", "method": "POST", "json": {"size": 10},
                "data_selector": "hits",
                "paginator": {"type": "cursor", "cursor_path": "next", "cursor_body_path": "cursor"}}),
            page: |r| page_of_cursor(r.json()["cursor"].as_str()),
            answer: |p| Reply::json(json!({"hits": data(p), "next": cursor(p)})),
        },
        Case {
            name: "header_cursor",
            endpoint: json!({"path": "/items", "paginator": {"type": "header_cursor",
                "cursor_key": "X-Next-Cursor", "cursor_param": "after"}}),
            page: |r| page_of_cursor(r.q("after")),
            answer: |p| {
                let reply = Reply::json(data(p));
                match cursor(p) {
                    Some(c) => reply.header("X-Next-Cursor", &c),
                    None => reply,
                }
            },
        },
        Case {
            name: "json_link",
            endpoint: json!({"path": "/items", "data_selector": "data",
                "paginator": {"type": "json_link", "next_url_path": "paging.next"}}),
            page: page_param,
            answer: |p| {
                let next = (p < PAGES).then(|| format!("/items?page={}", p + 1));
                Reply::json(json!({"data": data(p), "paging": {"next": next}}))
            },
        },
        Case {
            name: "header_link",
            endpoint: json!({"path": "/items", "paginator": "header_link"}),
            page: page_param,
            answer: |p| {
                let reply = Reply::json(data(p));
                if p < PAGES {
                    reply.header("Link", &format!("</items?page={}>; rel=\"next\"", p + 1))
                } else {
                    reply
                }
            },
        },
    ]
}

/// Runs one case; `Err` says what went wrong.
fn check(case: &Case) -> Result<(), String> {
    let broken = Arc::new(AtomicBool::new(true));
    let (page, answer) = (case.page, case.answer);
    let flag = broken.clone();
    let scenario = Scenario::new(move |r| {
        let p = page(r);
        if p == BROKEN && flag.load(Ordering::SeqCst) {
            return Reply::status(503, "down for maintenance");
        }
        answer(p)
    });
    let config = json!({
        "client": {"base_url": scenario.base_url()},
        "resources": [{"name": "items", "primary_key": "id", "write_disposition": "append",
                       "endpoint": case.endpoint}],
    });
    let pages = |from: usize| -> Vec<usize> {
        scenario.server.requests()[from..]
            .iter()
            .map(page)
            .collect()
    };
    // One request at a time: the failure then comes right after pages 1-2 committed.
    let args = ["--max-attempts", "1", "--concurrency", "1"];
    let first = scenario.run(&config, &args);
    if first.code != Some(1) || pages(0) != [1, 2, 3] {
        return Err(format!(
            "first run: exit {:?}, pages {:?}\n{}",
            first.code,
            pages(0),
            first.output()
        ));
    }
    broken.store(false, Ordering::SeqCst);
    let before = scenario.server.requests().len();
    // The next run with pages in flight (the default 8): the predictable paginators ask
    // for pages 3-5 at once, the others one after the other; none asks for 1 or 2 again.
    let second = scenario.run(&config, &["--max-attempts", "1"]);
    let mut again = pages(before);
    again.sort_unstable();
    if second.code != Some(0) || again != [3, 4, 5] {
        return Err(format!(
            "second run: exit {:?}, pages {:?} (expected 3, 4 and 5)\n{}",
            second.code,
            pages(before),
            second.output()
        ));
    }
    if !second.stdout.contains("resumed at page 3") {
        return Err(format!("no \"resumed at page 3\":\n{}", second.stdout));
    }
    let ids = scenario.ids("items");
    if ids != id_range(1, RECORDS as i64) {
        return Err(format!("rows: {ids:?}"));
    }
    Ok(())
}

#[test]
fn every_resumable_paginator_continues_at_the_page_after_the_last_committed_one() {
    let failures: Vec<String> = cases()
        .iter()
        .filter_map(|c| check(c).err().map(|e| format!("{}: {e}", c.name)))
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn a_merge_key_load_resumed_mid_key_keeps_every_run_s_rows() {
    // 30 readings of 3 days in pages of 5: a day spans two pages, and the run fails between
    // them. The next run's rows for that day join the first run's (one load), and the rows
    // of the earlier load for those days are replaced.
    let broken = Arc::new(AtomicBool::new(false));
    let flag = broken.clone();
    let generation = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let served = generation.clone();
    let scenario = Scenario::new(move |r| {
        let offset = r.qn("offset");
        if offset == 15 && flag.load(Ordering::SeqCst) {
            return Reply::status(503, "down");
        }
        let g = served.load(Ordering::SeqCst);
        let rows: Vec<Value> = (offset..(offset + 5).min(30))
            .map(|i| json!({"day": format!("d{}", i / 10), "n": i, "g": g}))
            .collect();
        Reply::json(json!({"data": rows, "total": 30}))
    });
    let config = json!({
        "client": {"base_url": scenario.base_url()},
        "resources": [{"name": "readings", "write_disposition": "merge", "merge_key": "day",
            "endpoint": {"path": "/r", "data_selector": "data",
                         "paginator": {"type": "offset", "limit": 5, "total_path": "total"}}}],
    });
    scenario.run(&config, &[]).ok();
    generation.store(1, Ordering::SeqCst);
    broken.store(true, Ordering::SeqCst);
    let args = ["--max-attempts", "1", "--concurrency", "1"];
    let first = scenario.run(&config, &args);
    assert_eq!(first.code, Some(1), "{}", first.output());
    broken.store(false, Ordering::SeqCst);
    let second = scenario.run(&config, &args);
    second.ok();
    assert!(
        second.stdout.contains("resumed at page 4"),
        "{}",
        second.stdout
    );
    let rows: Vec<(i64, i64)> = scenario
        .col::<String>("SELECT n || ',' || g FROM readings ORDER BY n")
        .iter()
        .map(|t| {
            let (n, g) = t.split_once(',').unwrap();
            (n.parse().unwrap(), g.parse().unwrap())
        })
        .collect();
    assert_eq!(rows, (0..30).map(|n| (n, 1)).collect::<Vec<_>>());
}
