//! dlt's row hash: under the `scd2` merge strategy a record's `_dlt_id` is a hash of the
//! whole record (dlt's `get_row_hash(row)`), so a record that did not change keeps its id
//! from load to load and a changed one gets a new id. dlt hashes the record's JSON as orjson
//! writes it with sorted keys, compact, leaving out its top-level `_dlt` fields: the same
//! text is written here from the record's JSON, and hashed as `key_ids` hashes keys.

use serde_json::Value;

use crate::flatten::RowId;

/// The row hash of each record of a page (`records`: the JSON array text), in order; `None`
/// when the text is not an array of objects (flattening the page then names the problem).
pub(crate) fn of_page(records: &str) -> Option<Vec<RowId>> {
    let records: Vec<serde_json::Map<String, Value>> = serde_json::from_str(records).ok()?;
    Some(records.iter().map(of_record).collect())
}

/// The row hash of one record.
pub(crate) fn of_record(record: &serde_json::Map<String, Value>) -> RowId {
    let mut fields: Vec<(&String, &Value)> = record
        .iter()
        .filter(|(k, _)| !k.starts_with("_dlt"))
        .collect();
    fields.sort_by(|a, b| a.0.cmp(b.0));
    let mut out = String::with_capacity(256);
    out.push('{');
    for (i, (k, v)) in fields.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_string(&mut out, k);
        out.push(':');
        write_value(&mut out, v);
    }
    out.push('}');
    crate::key_ids::digest(out.as_bytes())
}

/// Writes `v` as orjson does with `OPT_SORT_KEYS`: keys sorted (by code point, which is the
/// order of their UTF-8 bytes), no spaces.
fn write_value(out: &mut String, v: &Value) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        // As orjson writes numbers: integers as they are, floats in their shortest form
        // that reads back the same (`0.1`, `100.0`, `1e+20`, `1e-7`). (An integer `-0`
        // reads as the float `-0.0` here and as the integer `0` in Python: the one number
        // whose hash differs from dlt's.)
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => write_string(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut fields: Vec<(&String, &Value)> = map.iter().collect();
            fields.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (k, v)) in fields.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(out, k);
                out.push(':');
                write_value(out, v);
            }
            out.push('}');
        }
    }
}

/// A JSON string as orjson escapes it: `"`, `\` and control characters (`\n`, `\t`, …,
/// else `\u00XX`), everything else as it is. serde_json escapes the same way.
fn write_string(out: &mut String, s: &str) {
    out.push_str(&Value::from(s).to_string());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash(text: &str) -> String {
        let record: serde_json::Map<String, Value> = serde_json::from_str(text).unwrap();
        of_record(&record).as_str().to_owned()
    }

    #[test]
    fn hashes_as_dlt_hashes_a_record() {
        // dlt 1.31.0: `get_row_hash(json.loads(line))` of each line.
        assert_eq!(
            hash(r#"{"id": 1, "name": "a", "tags": ["x", "y"], "meta": {"z": 1, "b": null}}"#),
            "lX/5zLE9gvt/3g"
        );
        // Floats, escapes, a `_dlt` field left out, a big integer.
        assert_eq!(
            hash(
                r#"{"b": 1e20, "a": 0.1, "c": 1e-7, "d": 100.0, "e": "\u0001\n\u001f\u007f\u00fc\"\\/", "_dlt_x": 5, "f": true, "h": 1.5e300, "i": 12345678901234567, "j": -0.0, "k": 1E2, "l": 123456789012345678.0}"#
            ),
            "kAyuNQL56BzlbQ"
        );
    }

    #[test]
    fn equal_records_hash_alike_whatever_their_key_order_and_changed_ones_do_not() {
        let a = hash(r#"{"id": 1, "q": [1, {"y": 2, "x": 1}]}"#);
        assert_eq!(a, hash(r#"{"q": [1, {"x": 1, "y": 2}], "id": 1}"#));
        assert_ne!(a, hash(r#"{"q": [1, {"x": 1, "y": 3}], "id": 1}"#));
        assert_ne!(a, hash(r#"{"q": [{"x": 1, "y": 2}, 1], "id": 1}"#));
    }

    #[test]
    fn a_page_that_is_not_an_array_of_objects_has_no_hashes() {
        assert_eq!(of_page(r#"[{"a": 1}, {"a": 2}]"#).map(|h| h.len()), Some(2));
        assert!(of_page(r#"[{"a": 1}, 2]"#).is_none());
        assert!(of_page("{").is_none());
    }
}
