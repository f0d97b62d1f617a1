//! The guest of `sluice-bench`: keeps a page of records as `serde_json::Value`s, as the
//! connector holds them after selection, and returns them either as one JSON array text or
//! as typed rows (see `bench/wit/bench.wit`).
#![allow(unsafe_code)]

use std::cell::RefCell;
use std::collections::HashMap;

use serde_json::Value;

mod heap;

#[global_allocator]
static ALLOCATOR: heap::Counting = heap::Counting;

wit_bindgen::generate!({
    world: "bench",
    path: "../wit",
});

use exports::sluice::bench::page::{Cell, Guest, Rows};

/// The component's export.
#[derive(Debug)]
struct Component;

thread_local! {
    /// The records kept by `load`.
    static KEPT: RefCell<Vec<Value>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` on the first `n` kept records.
fn with_page<T>(n: u32, f: impl FnOnce(&[Value]) -> T) -> T {
    KEPT.with(|kept| {
        let kept = kept.borrow();
        let n = (n as usize).min(kept.len());
        f(&kept[..n])
    })
}

/// The page as one JSON array text, as the connector builds `page.records`.
fn to_json(records: &[Value]) -> String {
    serde_json::to_string(records).unwrap_or_else(|_| "[]".to_string())
}

/// The page as typed rows. Columns are the top-level keys in the order first seen; a key
/// a record lacks is `null`. A record that is not an object becomes one `value` column,
/// as dlt wraps it.
fn to_rows(records: &[Value]) -> Rows {
    let mut columns: Vec<String> = Vec::new();
    let mut index: HashMap<&str, usize> = HashMap::new();
    for record in records {
        match record {
            Value::Object(map) => {
                for key in map.keys() {
                    if !index.contains_key(key.as_str()) {
                        index.insert(key.as_str(), columns.len());
                        columns.push(key.clone());
                    }
                }
            }
            _ => {
                if !index.contains_key("value") {
                    index.insert("value", columns.len());
                    columns.push("value".to_string());
                }
            }
        }
    }
    let values = records
        .iter()
        .map(|record| {
            let mut row = vec![Cell::Null; columns.len()];
            match record {
                Value::Object(map) => {
                    for (key, value) in map {
                        if let Some(&j) = index.get(key.as_str()) {
                            row[j] = cell(value);
                        }
                    }
                }
                other => {
                    if let Some(&j) = index.get("value") {
                        row[j] = cell(other);
                    }
                }
            }
            row
        })
        .collect();
    Rows { columns, values }
}

fn cell(value: &Value) -> Cell {
    match value {
        Value::Null => Cell::Null,
        Value::Bool(b) => Cell::Boolean(*b),
        Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => Cell::Integer(i),
            // An integer past i64 keeps its digits rather than losing them to a float.
            (None, _) if n.is_u64() => Cell::Json(n.to_string()),
            (None, Some(f)) => Cell::Float(f),
            (None, None) => Cell::Json(n.to_string()),
        },
        Value::String(s) => Cell::Text(s.clone()),
        nested => Cell::Json(nested.to_string()),
    }
}

impl Guest for Component {
    fn load(records: String) -> u32 {
        let parsed = match serde_json::from_str::<Value>(&records) {
            Ok(Value::Array(items)) => items,
            _ => Vec::new(),
        };
        let count = u32::try_from(parsed.len()).unwrap_or(u32::MAX);
        KEPT.with(|kept| *kept.borrow_mut() = parsed);
        count
    }

    fn page_json(n: u32) -> String {
        with_page(n, to_json)
    }

    fn page_rows(n: u32) -> Rows {
        with_page(n, to_rows)
    }

    fn json_only(n: u32) -> u32 {
        let text = with_page(n, to_json);
        u32::try_from(text.len()).unwrap_or(u32::MAX)
    }

    fn rows_only(n: u32) -> u32 {
        let rows = with_page(n, to_rows);
        let cells: usize = rows.values.iter().map(Vec::len).sum();
        u32::try_from(cells).unwrap_or(u32::MAX)
    }

    fn heap() -> (u64, u64) {
        heap::usage()
    }

    fn heap_reset() {
        heap::reset();
    }
}

export!(Component);
