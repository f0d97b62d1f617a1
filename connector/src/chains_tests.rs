//! Chains of a dependent resource running ahead: held records, the bound, and positions
//! that resume exactly.

use super::*;
use serde_json::json;

use crate::chains_api::{Api, ids as child_ids};
use crate::protocol::{Page, Request, Response};
use crate::session::Session;

fn recs(values: &[i64]) -> Records {
    Records {
        text: serde_json::to_string(values).unwrap(),
        count: values.len(),
    }
}

#[test]
fn records_append_as_one_array() {
    let mut r = Records::default();
    r.append(&recs(&[]));
    assert_eq!(r, Records::default());
    r.append(&recs(&[1, 2]));
    r.append(&recs(&[]));
    r.append(&Records {
        text: " [ 3 ,4 ] ".into(),
        count: 2,
    });
    assert_eq!(r.count, 4);
    let v: Value = serde_json::from_str(&r.text).unwrap();
    assert_eq!(v, json!([1, 2, 3, 4]));
}

fn row(number: u64) -> Row {
    Row {
        values: vec![("id".into(), Some(json!(number)))],
        status: 200,
        number,
    }
}

#[test]
fn completing_a_chain_hands_over_the_complete_lanes_after_it() {
    let start = crate::paginator::PaginatorConfig::SinglePage.start();
    let mut chains = Chains {
        current: Some(row(1)),
        answered: true,
        ..Chains::default()
    };
    for (n, pages, done) in [
        (2, &[20, 21][..], true),
        (3, &[30][..], false),
        (4, &[40][..], true),
    ] {
        let mut lane = Lane::new(row(n), start.clone(), Guard::default());
        for p in pages {
            lane.hold(recs(&[*p]), false);
        }
        lane.done = done;
        chains.lanes.push_back(lane);
    }
    let (mut paginator, mut guard) = (start.clone(), Guard::default());
    let mut out = recs(&[10]);
    chains.complete_current(&mut paginator, &mut guard, &mut out);
    let v: Value = serde_json::from_str(&out.text).unwrap();
    assert_eq!(
        v,
        json!([10, 20, 21, 30]),
        "chain 3 is not complete: 4 waits"
    );
    assert_eq!(chains.finished, 2);
    assert_eq!(chains.current.as_ref().map(|r| r.number), Some(3));
    assert!(chains.answered, "chain 3 had a page answered");
    assert_eq!(chains.lanes.len(), 1);
    assert!(!chains.may_hold_more(|_| false), "no page size known yet");
    chains.answered_page(MAX_HELD_BYTES / 2);
    assert!(
        chains.may_hold_more(|_| false),
        "one page held, one more asked for"
    );
    assert!(
        !chains.may_hold_more(|_| true),
        "one held, one in flight, one more: too many bytes"
    );
}

/// A parent of `PARENTS` records; parent `n` has `(n * 7) % 13` children, 4 a page with no
/// total, so chains are empty, one page or several.
const PARENTS: u64 = 40;

fn children_of(n: u64) -> u64 {
    (n * 7) % 13
}

fn api() -> Api {
    Api {
        children: (1..=PARENTS).map(children_of).collect(),
        per_page: 4,
        with_total: false,
    }
}

/// Drives `name` like the host (see [`Api::drive`]). Returns the pages, the requests' URLs
/// and the most in flight at once; no request may be out when a page says done.
fn drive(
    s: &mut Session,
    name: &str,
    window: usize,
    max: usize,
) -> (Vec<Page>, Vec<String>, usize) {
    let driven = api().drive(s, name, window, max);
    assert_eq!(driven.out_at_done, 0, "done with requests in flight");
    (driven.pages, driven.urls, driven.most)
}

/// The children's pages of a run with `window` in flight, after the parent's.
fn children_run(
    state: &[(String, String)],
    window: usize,
    max: usize,
) -> (Vec<Page>, Vec<String>, usize) {
    let mut s = Session::open(&api().config(), state).unwrap();
    drive(&mut s, "parents", 1, usize::MAX);
    drive(&mut s, "children", window, max)
}

fn urls(sent: &[String]) -> Vec<String> {
    let mut v = sent.to_vec();
    v.sort();
    v
}

#[test]
fn multi_page_chains_of_different_parents_go_out_together_and_load_in_parent_order() {
    let (seq_pages, seq_sent, seq_most) = children_run(&[], 1, usize::MAX);
    assert_eq!(seq_most, 1);
    let expected: Vec<u64> = (1..=PARENTS)
        .flat_map(|n| (0..children_of(n)).map(move |j| n * 100 + j))
        .collect();
    assert_eq!(child_ids(&seq_pages), expected);
    let (pages, sent, most) = children_run(&[], 8, usize::MAX);
    assert_eq!(most, 8, "chains of several parents in flight at once");
    assert_eq!(
        child_ids(&pages),
        expected,
        "records in parent order, each once"
    );
    assert_eq!(urls(&sent), urls(&seq_sent), "the same requests");
    assert_eq!(pages.iter().filter(|p| p.done).count(), 1);
    assert!(pages.last().unwrap().done);
    // Every page's position is a prefix: the chains done never go back.
    let mut done = 0;
    for p in &pages[..pages.len() - 1] {
        let state: Value = serde_json::from_str(&p.state).unwrap();
        let now = state["resume"]["chain"]["done"].as_u64().unwrap();
        assert!(now >= done, "{now} after {done}");
        done = now;
    }
}

#[test]
fn a_concurrent_dependent_load_resumes_exactly_from_every_committed_page() {
    let (full, _, _) = children_run(&[], 8, usize::MAX);
    let all = child_ids(&full);
    for k in 1..full.len() {
        let (first, _, _) = children_run(&[], 8, k);
        let state = first.last().unwrap().state.clone();
        let (rest, _, _) = children_run(&[("children".into(), state)], 8, usize::MAX);
        let mut ids = child_ids(&first);
        ids.extend(child_ids(&rest));
        assert_eq!(ids, all, "cut after {k} pages: every record once, in order");
        let resumed: Value = serde_json::from_str(&rest[0].state).unwrap();
        assert_eq!(
            resumed["pages"].as_u64().unwrap(),
            k as u64 + 1,
            "the resumed load counts on from page {k}"
        );
    }
}

#[test]
fn chains_ahead_are_bounded_by_the_pages_they_may_hold() {
    // A window far larger than the bound: the chains ahead stop at MAX_HELD pages.
    let (pages, _, most) = children_run(&[], 1000, usize::MAX);
    assert_eq!(
        most,
        1 + MAX_HELD,
        "the current chain and the pages held ahead"
    );
    let expected: Vec<u64> = (1..=PARENTS)
        .flat_map(|n| (0..children_of(n)).map(move |j| n * 100 + j))
        .collect();
    assert_eq!(child_ids(&pages), expected);
}

#[test]
fn chains_that_send_the_moving_last_value_stay_one_at_a_time() {
    // `{incremental.last_value}` moves with every page's records: a chain planned ahead
    // would send another value than dlt, which plans it after the chains before it.
    let mut cfg: Value = serde_json::from_str(&api().config()).unwrap();
    cfg["resources"][1]["endpoint"]["params"] = json!({"since": "{incremental.last_value}"});
    cfg["resources"][1]["endpoint"]["incremental"] =
        json!({"cursor_path": "id", "initial_value": 0});
    let mut s = Session::open(&cfg.to_string(), &[]).unwrap();
    drive(&mut s, "parents", 1, usize::MAX);
    let (pages, sent, most) = drive(&mut s, "children", 8, usize::MAX);
    assert_eq!(most, 1, "one chain at a time");
    let expected: Vec<u64> = (1..=PARENTS)
        .flat_map(|n| (0..children_of(n)).map(move |j| n * 100 + j))
        .collect();
    assert_eq!(child_ids(&pages), expected);
    // Each chain's first request carries the last value of the chains before it.
    let first_of_2 = sent.iter().position(|u| u.contains("/p/2/c")).unwrap();
    assert!(
        sent[first_of_2].contains(&format!("since={}", 100 + children_of(1) - 1)),
        "{}",
        sent[first_of_2]
    );
}

#[test]
fn chains_ahead_hold_a_bounded_number_of_bytes() {
    // Pages of ~3 MiB: chains ahead may hold or ask for only as many as fit in
    // MAX_HELD_BYTES, so a page handing held records over stays within a page plus that.
    const BIG: usize = 3 << 20;
    let cfg = json!({"client": {"base_url": "https://api.example.com"},
        "resources": [
            {"name": "parents", "endpoint": {"path": "/p", "paginator": "single_page"}},
            {"name": "children", "endpoint": {"path": "/p/{resources.parents.id}/c",
                "data_selector": "data",
                "paginator": {"type": "page_number", "base_page": 1, "total_path": "pages"}}}]});
    let mut s = Session::open(&cfg.to_string(), &[]).unwrap();
    let respond = |req: &Request, body: Value| Response::json(req.seq, &body);
    let parent = s.next_requests("parents").unwrap().remove(0);
    let parents: Vec<Value> = (1..=10).map(|n| json!({"id": n})).collect();
    s.on_response("parents", respond(&parent, json!(parents)))
        .unwrap();
    let filler = "x".repeat(BIG);
    let (mut out, mut pages, mut most) = (VecDeque::new(), Vec::new(), 0);
    loop {
        while out.len() < 8 {
            let Some(req) = s.next_requests("children").unwrap().into_iter().next() else {
                break;
            };
            out.push_back(req);
        }
        most = most.max(out.len());
        let Some(req) = out.pop_front() else { break };
        let page_no: u64 = req.url.rsplit('=').next().unwrap().parse().unwrap();
        let n: u64 = req.url.split('/').nth(4).unwrap().parse().unwrap();
        let body = json!({"data": [{"id": n * 10 + page_no, "blob": filler}], "pages": 2});
        let page = s.on_response("children", respond(&req, body)).unwrap();
        let done = page.done;
        pages.push(page);
        if done {
            break;
        }
    }
    assert!(most > 1, "chains ahead still run");
    assert!(most <= 1 + MAX_HELD_BYTES / BIG, "{most} in flight");
    let largest = pages.iter().map(|p| p.records.len()).max().unwrap();
    assert!(
        largest <= BIG + 100 + MAX_HELD_BYTES,
        "a page of {largest} bytes"
    );
    let ids: Vec<u64> = pages
        .iter()
        .flat_map(|p| serde_json::from_str::<Vec<Value>>(&p.records).unwrap())
        .map(|r| r["id"].as_u64().unwrap())
        .collect();
    let expected: Vec<u64> = (1..=10).flat_map(|n| [n * 10 + 1, n * 10 + 2]).collect();
    assert_eq!(ids, expected);
}
