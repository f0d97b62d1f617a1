//! Property: whatever the parents, the lengths of their chains, the page size and the
//! window, a dependent resource asks no page twice, loads every child record once in parent
//! order, and a load cut after any page resumes exactly where it stopped.

use std::collections::VecDeque;

use proptest::prelude::*;
use serde_json::{Value, json};

use crate::protocol::{Page, Request, Response};
use crate::session::Session;

/// The API: parent `n` (1-based) has `children[n - 1]` children, `per_page` a page, with or
/// without `total_pages`.
#[derive(Debug, Clone)]
struct Api {
    children: Vec<u64>,
    per_page: u64,
    with_total: bool,
}

impl Api {
    fn config(&self) -> String {
        let total = if self.with_total {
            json!("total_pages")
        } else {
            Value::Null
        };
        json!({"client": {"base_url": "https://api.example.com"},
            "resources": [
                {"name": "parents", "endpoint": {"path": "/p", "data_selector": "data",
                    "paginator": {"type": "offset", "limit": 100, "total_path": "total"}}},
                {"name": "children", "include_from_parent": ["id"],
                 "endpoint": {"path": "/p/{resources.parents.id}/c", "data_selector": "data",
                    "paginator": {"type": "page_number", "base_page": 1, "page_param": "page",
                                  "total_path": total}}}]})
        .to_string()
    }

    fn answer(&self, req: &Request) -> Response {
        let (path, query) = req.url.split_once('?').unwrap_or((&req.url, ""));
        let parts: Vec<&str> = path.split('/').collect();
        let body = if parts.len() == 4 {
            let n = self.children.len() as u64;
            let data: Vec<Value> = (1..=n).map(|n| json!({"id": n})).collect();
            json!({"data": data, "total": n})
        } else {
            let n: u64 = parts[4].parse().unwrap();
            let page: u64 = query
                .split('&')
                .find_map(|kv| kv.strip_prefix("page="))
                .unwrap()
                .parse()
                .unwrap();
            let count = self.children[n as usize - 1];
            let from = (page - 1) * self.per_page;
            let to = (from + self.per_page).min(count);
            let data: Vec<Value> = (from..to).map(|j| json!({"id": n * 100 + j})).collect();
            let mut b = json!({"data": data});
            if self.with_total {
                b["total_pages"] = json!(count.div_ceil(self.per_page));
            }
            b
        };
        Response::json(req.seq, &body)
    }

    fn expected(&self) -> Vec<u64> {
        (1..=self.children.len() as u64)
            .flat_map(|n| (0..self.children[n as usize - 1]).map(move |j| n * 100 + j))
            .collect()
    }

    /// The children's pages (at most `max`) and requests of a run resuming `state`, with
    /// up to `window` requests out, answered in the order planned (as the host does).
    fn run(
        &self,
        state: &[(String, String)],
        window: usize,
        max: usize,
    ) -> (Vec<Page>, Vec<String>) {
        let mut s = Session::open(&self.config(), state).unwrap();
        self.drive(&mut s, "parents", 1, usize::MAX);
        self.drive(&mut s, "children", window, max)
    }

    fn drive(
        &self,
        s: &mut Session,
        name: &str,
        window: usize,
        max: usize,
    ) -> (Vec<Page>, Vec<String>) {
        let (mut pages, mut urls) = (Vec::new(), Vec::new());
        let mut out: VecDeque<Request> = VecDeque::new();
        while pages.len() < max {
            while out.len() < window {
                let Some(req) = s.next_requests(name).unwrap().into_iter().next() else {
                    break;
                };
                urls.push(req.url.clone());
                out.push_back(req);
            }
            let Some(req) = out.pop_front() else { break };
            let page = s.on_response(name, self.answer(&req)).unwrap();
            let done = page.done;
            pages.push(page);
            if done {
                break;
            }
        }
        (pages, urls)
    }
}

/// The child ids of `pages`, checking each record carries its own parent's id.
fn ids(pages: &[Page]) -> Vec<u64> {
    let mut out = Vec::new();
    for p in pages {
        let records: Vec<Value> = serde_json::from_str(&p.records).unwrap();
        assert_eq!(records.len(), p.count as usize);
        for r in records {
            let id = r["id"].as_u64().unwrap();
            assert_eq!(r["_parents_id"], json!(id / 100), "its own parent's field");
            out.push(id);
        }
    }
    out
}

fn number(page: &Page, pointer: &str) -> u64 {
    let state: Value = serde_json::from_str(&page.state).unwrap();
    state.pointer(pointer).and_then(Value::as_u64).unwrap_or(0)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn chains_load_every_record_once_in_order_and_resume_from_any_page(
        children in prop::collection::vec(0u64..12, 0..30),
        per_page in 1u64..5,
        with_total in any::<bool>(),
        // Up to past the pages chains ahead may hold (`MAX_HELD`).
        window in 1usize..40,
        cut in any::<prop::sample::Index>(),
    ) {
        let api = Api { children, per_page, with_total };
        let want = api.expected();
        let (pages, urls) = api.run(&[], window, usize::MAX);
        prop_assert_eq!(ids(&pages), want.clone());
        let mut unique = urls.clone();
        unique.sort();
        unique.dedup();
        prop_assert_eq!(unique.len(), urls.len(), "a page asked twice");
        if pages.is_empty() {
            // No parent records: the connector plans nothing and the host ends the resource.
            prop_assert!(api.children.is_empty() && urls.is_empty());
            return Ok(());
        }
        prop_assert!(pages.last().unwrap().done, "the resource ends");
        prop_assert_eq!(pages.iter().filter(|p| p.done).count(), 1);
        // What one chain at a time asks, the window asks too (it may ask more past the end).
        let (_, one_by_one) = api.run(&[], 1, usize::MAX);
        for url in &one_by_one {
            prop_assert!(urls.contains(url), "not asked with a window: {}", url);
        }
        // The chains done only move forward (the last page's state is the completed one).
        let positions = &pages[..pages.len() - 1];
        let done: Vec<u64> = positions.iter().map(|p| number(p, "/resume/chain/done")).collect();
        prop_assert!(done.windows(2).all(|w| w[0] <= w[1]), "{:?}", done);

        // Cut after page k (not the last), resume from its state.
        if pages.len() > 1 {
            let k = 1 + cut.index(pages.len() - 1);
            let (first, _) = api.run(&[], window, k);
            let state = first.last().unwrap().state.clone();
            let (rest, _) = api.run(&[("children".into(), state)], window, usize::MAX);
            let mut all = ids(&first);
            all.extend(ids(&rest));
            prop_assert_eq!(all, want, "cut after {} pages", k);
            prop_assert_eq!(number(&rest[0], "/pages"), k as u64 + 1, "the page count goes on");
        }
    }
}
