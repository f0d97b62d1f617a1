//! Both forms of a page carry the same records: the guest's JSON text and its typed rows
//! both turn back into the inventory items the mock API serves.

use serde_json::Value;
use sluice_bench::{Cell, Guest, compile, engine, json_to_values, rows_to_values};
use sluice_mock_api::item;

fn items(n: u64) -> Vec<Value> {
    (1..=n).map(|id| item(id, 0)).collect()
}

/// The record without its `null` members: rows leave null cells out.
fn without_nulls(v: &Value) -> Value {
    match v {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn guest_with(records: &[Value]) -> Guest {
    let engine = engine().unwrap();
    let component = compile(&engine).unwrap();
    let mut guest = Guest::new(&engine, &component).unwrap();
    assert_eq!(guest.load(records).unwrap() as usize, records.len());
    guest
}

#[test]
fn json_page_parses_back_to_the_items() {
    let all = items(1000);
    let mut guest = guest_with(&all);
    for n in [0u32, 1, 100, 1000] {
        let text = guest.page_json(n).unwrap();
        assert_eq!(guest.json_only(n).unwrap() as usize, text.len());
        assert_eq!(json_to_values(&text).unwrap(), all[..n as usize]);
    }
    // Asking past the end gives what there is.
    assert_eq!(
        json_to_values(&guest.page_json(5000).unwrap())
            .unwrap()
            .len(),
        1000
    );
}

#[test]
fn rows_page_converts_back_to_the_items() {
    let all = items(1000);
    let mut guest = guest_with(&all);
    for n in [1u32, 100, 1000] {
        let rows = guest.page_rows(n).unwrap();
        assert_eq!(rows.values.len(), n as usize);
        let cells: usize = rows.values.iter().map(Vec::len).sum();
        assert_eq!(guest.rows_only(n).unwrap() as usize, cells);
        let back = rows_to_values(rows).unwrap();
        let expected: Vec<Value> = all[..n as usize].iter().map(without_nulls).collect();
        assert_eq!(back, expected);
    }
}

#[test]
fn rows_have_one_column_per_key_and_typed_cells() {
    let all = items(1000);
    let mut guest = guest_with(&all);
    let rows = guest.page_rows(1000).unwrap();
    assert_eq!(
        rows.columns,
        [
            "id",
            "sku",
            "name",
            "category",
            "price",
            "quantity",
            "tags",
            "warehouse",
            "updated_at",
            "discontinued"
        ]
    );
    // In the order first seen: item 1 has no `discontinued`, a later one has.
    assert!(all[0].get("discontinued").is_none());
    let first = &rows.values[0];
    assert!(matches!(first[0], Cell::Integer(1)));
    assert!(matches!(&first[1], Cell::Text(s) if s == "SKU-00001"));
    assert!(matches!(first[4], Cell::Float(_)));
    assert!(matches!(first[6], Cell::Json(_)));
    // Keys some items lack are null in their rows, never missing.
    assert!(rows.values.iter().all(|r| r.len() == rows.columns.len()));
    let lacking_quantity = all.iter().filter(|v| v.get("quantity").is_none()).count();
    let null_quantity = rows
        .values
        .iter()
        .filter(|r| matches!(r[5], Cell::Null))
        .count();
    assert!(lacking_quantity > 0);
    assert_eq!(null_quantity, lacking_quantity);
}

#[test]
fn non_object_records_become_a_value_column() {
    let records = vec![
        serde_json::json!(1),
        serde_json::json!({"value": "x", "b": true}),
    ];
    let mut guest = guest_with(&records);
    let rows = guest.page_rows(2).unwrap();
    assert_eq!(rows.columns, ["value", "b"]);
    assert!(matches!(rows.values[0][0], Cell::Integer(1)));
    assert!(matches!(rows.values[0][1], Cell::Null));
    assert!(matches!(&rows.values[1][0], Cell::Text(s) if s == "x"));
}

#[test]
fn peak_memory_grows_with_the_page() {
    let all = items(1000);
    let mut guest = guest_with(&all);
    let loaded = guest.peak_memory();
    assert!(loaded >= 64 * 1024, "{loaded}");
    let text = guest.page_json(1000).unwrap();
    // The text lived in guest memory before it was copied out.
    assert!(guest.peak_memory() >= text.len());
    assert!(guest.peak_memory() >= loaded);
}

#[test]
fn the_heap_is_counted_and_freed_after_each_call() {
    let all = items(1000);
    let mut guest = guest_with(&all);
    guest.heap_reset().unwrap();
    let (before, peak) = guest.heap().unwrap();
    assert_eq!(peak, before);
    assert!(before > 0, "the kept records live on the heap");
    let text = guest.page_json(1000).unwrap();
    let (after, peak) = guest.heap().unwrap();
    assert_eq!(after, before, "post-return freed the text");
    assert!(
        peak - before >= text.len() as u64,
        "{} < {}",
        peak - before,
        text.len()
    );
    guest.heap_reset().unwrap();
    let rows = guest.page_rows(1000).unwrap();
    let (after, peak) = guest.heap().unwrap();
    assert_eq!(after, before, "post-return freed the rows");
    // At least the canonical cells (16 bytes each) were laid out in guest memory.
    assert!(peak - before >= 16 * 10 * rows.values.len() as u64);
}
