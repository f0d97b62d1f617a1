//! Test support: an API of parents and their children's pages, and a driver that answers a
//! dependent resource's requests the way the host does (for `chains_tests` and
//! `chains_props`).

use std::collections::VecDeque;

use serde_json::{Value, json};

use crate::protocol::{Page, Request, Response};
use crate::session::Session;

/// The API: parent `n` (1-based) has `children[n - 1]` children, `per_page` a page, with or
/// without `total_pages`.
#[derive(Debug, Clone)]
pub(crate) struct Api {
    pub(crate) children: Vec<u64>,
    pub(crate) per_page: u64,
    pub(crate) with_total: bool,
}

impl Api {
    pub(crate) fn config(&self) -> String {
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

    pub(crate) fn answer(&self, req: &Request) -> Response {
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

    pub(crate) fn expected(&self) -> Vec<u64> {
        (1..=self.children.len() as u64)
            .flat_map(|n| (0..self.children[n as usize - 1]).map(move |j| n * 100 + j))
            .collect()
    }

    /// The children's pages (at most `max`) and requests of a run resuming `state`, with
    /// up to `window` requests out, answered in the order planned (as the host does).
    pub(crate) fn run(&self, state: &[(String, String)], window: usize, max: usize) -> Driven {
        let mut s = Session::open(&self.config(), state).unwrap();
        self.drive(&mut s, "parents", 1, usize::MAX);
        self.drive(&mut s, "children", window, max)
    }

    /// Drives resource `name` of `s` like the host: up to `window` requests out, answers
    /// handed back in the order planned, until a page says done or `max` pages.
    pub(crate) fn drive(&self, s: &mut Session, name: &str, window: usize, max: usize) -> Driven {
        let mut driven = Driven::default();
        let mut out: VecDeque<Request> = VecDeque::new();
        while driven.pages.len() < max {
            while out.len() < window {
                let Some(req) = s.next_requests(name).unwrap().into_iter().next() else {
                    break;
                };
                driven.urls.push(req.url.clone());
                out.push_back(req);
            }
            driven.most = driven.most.max(out.len());
            let Some(req) = out.pop_front() else { break };
            let page = s.on_response(name, self.answer(&req)).unwrap();
            let done = page.done;
            driven.pages.push(page);
            if done {
                driven.out_at_done = out.len();
                break;
            }
        }
        driven
    }
}

/// What a drive saw.
#[derive(Debug, Default)]
pub(crate) struct Driven {
    pub(crate) pages: Vec<Page>,
    /// The URL of every request, in the order planned.
    pub(crate) urls: Vec<String>,
    /// The most requests out at once.
    pub(crate) most: usize,
    /// Requests still out when a page said done.
    pub(crate) out_at_done: usize,
}

/// The child ids of `pages`, checking each record carries its own parent's id.
pub(crate) fn ids(pages: &[Page]) -> Vec<u64> {
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

pub(crate) fn number(page: &Page, pointer: &str) -> u64 {
    let state: Value = serde_json::from_str(&page.state).unwrap();
    state.pointer(pointer).and_then(Value::as_u64).unwrap_or(0)
}
