//! Incremental loading across runs, through `Session`, with a simulated API.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::protocol::{Request, Response};
use crate::session::Session;

const R: &str = "items";

fn q(url: &str, key: &str) -> Option<String> {
    url.split_once('?')?
        .1
        .split('&')
        .find_map(|kv| kv.strip_prefix(&format!("{key}=")).map(str::to_string))
}

/// The API: items with `updated_at >= since` in cursor order, paged by offset/limit.
fn serve(source: &BTreeMap<u64, String>, req: &Request) -> Response {
    let since = q(&req.url, "since").unwrap().replace("%3A", ":");
    let off: usize = q(&req.url, "offset").unwrap().parse().unwrap();
    let lim: usize = q(&req.url, "limit").unwrap().parse().unwrap();
    let mut all: Vec<(&u64, &String)> = source.iter().filter(|(_, at)| **at >= since).collect();
    all.sort_by(|a, b| a.1.cmp(b.1).then(a.0.cmp(b.0)));
    let data: Vec<Value> = all
        .iter()
        .skip(off)
        .take(lim)
        .map(|(id, at)| json!({"id": id, "updated_at": at}))
        .collect();
    Response::json(req.seq, &json!({"data": data, "total": all.len()}))
}

/// One run: merges the loaded rows into `table`; returns the requested `since` values,
/// the rows loaded, and the state of the last page.
fn run(
    config: &str,
    state: &[(String, String)],
    source: &BTreeMap<u64, String>,
    table: &mut BTreeMap<u64, String>,
) -> (Vec<String>, usize, String) {
    let mut s = Session::open(config, state).unwrap();
    let (mut since, mut loaded, mut last_state) = (Vec::new(), 0, String::new());
    while let Some(req) = s.next_requests(R).unwrap().into_iter().next() {
        since.push(q(&req.url, "since").unwrap().replace("%3A", ":"));
        let page = s.on_response(R, serve(source, &req)).unwrap();
        for r in serde_json::from_str::<Vec<Value>>(&page.records).unwrap() {
            loaded += 1;
            let at = r["updated_at"].as_str().unwrap().to_string();
            table.insert(r["id"].as_u64().unwrap(), at);
        }
        last_state = page.state;
        if page.done {
            break;
        }
    }
    (since, loaded, last_state)
}

fn at(day: u32) -> String {
    format!("2024-01-{day:02}T00:00:00Z")
}

fn three_runs(config: &str) {
    let mut source: BTreeMap<u64, String> = [(1, at(2)), (2, at(3)), (3, at(3)), (4, at(5))]
        .into_iter()
        .collect();
    let mut table = BTreeMap::new();

    let (since, loaded, state) = run(config, &[], &source, &mut table);
    assert_eq!(since, vec![at(1), at(1)], "run 1 starts at initial_value");
    assert_eq!(loaded, 4);
    let st: Value = serde_json::from_str(&state).unwrap();
    assert_eq!(
        st["incremental"],
        json!({"last_value": at(5), "unique_hashes": ["[4]"]})
    );

    // A changed record and a new one, one of them at the boundary value.
    source.insert(2, at(7));
    source.insert(5, at(5));
    let saved = vec![(R.to_string(), state)];
    let (since, loaded, state) = run(config, &saved, &source, &mut table);
    assert_eq!(
        since,
        vec![at(5), at(5)],
        "run 2 starts at the saved cursor"
    );
    assert_eq!(loaded, 2, "item 4 at the boundary is not loaded twice");
    let st: Value = serde_json::from_str(&state).unwrap();
    assert_eq!(st["incremental"]["last_value"], json!(at(7)));

    source.insert(6, at(8));
    source.insert(1, at(9));
    let saved = vec![(R.to_string(), state)];
    let (since, loaded, _) = run(config, &saved, &source, &mut table);
    assert_eq!(since, vec![at(7), at(7)]);
    assert_eq!(loaded, 2);
    assert_eq!(table, source, "the table equals the source");
}

#[test]
fn three_runs_endpoint_form_with_start_param() {
    three_runs(
        r#"{"client": {"base_url": "https://api.example.com"},
            "resources": [{"name": "items", "primary_key": "id", "write_disposition": "merge",
              "endpoint": {"path": "/items", "data_selector": "data",
                "paginator": {"type": "offset", "limit": 2},
                "incremental": {"cursor_path": "updated_at", "initial_value": "2024-01-01T00:00:00Z",
                                "start_param": "since"}}}]}"#,
    );
}

#[test]
fn three_runs_dlt_params_form() {
    three_runs(
        r#"{"client": {"base_url": "https://api.example.com"},
            "resources": [{"name": "items", "primary_key": "id",
              "endpoint": {"path": "/items", "data_selector": "data",
                "paginator": {"type": "offset", "limit": 2},
                "params": {"since": {"type": "incremental", "cursor_path": "updated_at",
                                     "initial_value": "2024-01-01T00:00:00Z"}}}}]}"#,
    );
}

#[test]
fn three_runs_placeholder_form() {
    three_runs(
        r#"{"client": {"base_url": "https://api.example.com"},
            "resources": [{"name": "items", "primary_key": "id",
              "endpoint": {"path": "/items", "data_selector": "data",
                "paginator": {"type": "offset", "limit": 2},
                "params": {"since": "{incremental.start_value}"},
                "incremental": {"cursor_path": "updated_at", "initial_value": "2024-01-01T00:00:00Z"}}}]}"#,
    );
}

#[test]
fn bad_saved_state_is_a_state_error() {
    let cfg = r#"{"client": {"base_url": "https://a.io"}, "resources": [{"name": "items",
        "endpoint": {"incremental": {"cursor_path": "u"}}}]}"#;
    let e = Session::open(
        cfg,
        &[(R.into(), r#"{"incremental": {"unique_hashes": 3}}"#.into())],
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "bad saved state: resource \"items\": incremental.unique_hashes: expected a list"
    );
}
